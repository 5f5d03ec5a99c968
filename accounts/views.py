from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from accounts import access
from accounts.models import Role
from engagements.selectors import engagement_list

# Where each role starts: its own workspace.
ROLE_HOME = {Role.MANAGER: "dashboard:home", Role.CONSULTANT: "engagements:home", Role.CLIENT: "portal:home"}


@login_required
def home(request):
    """Send each user to their role's workspace; without one, list the engagements they may see."""
    role = access.role_of(request.user)
    if role in ROLE_HOME:
        try:
            return redirect(reverse(ROLE_HOME[role]))
        except NoReverseMatch:
            pass  # that workspace is not installed: fall back to the plain list below
    return render(request, "accounts/home.html", {
        "engagements": engagement_list(user=request.user),
        "role": role,
    })
