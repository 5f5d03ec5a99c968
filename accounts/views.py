from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import ngettext

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


def locked_out(request, original_response=None, credentials=None):
    """What django-axes answers while an account is locked: a page, or JSON for the API."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = ngettext("Too many failed sign-ins. Try again in %(minutes)d minute.",
                       "Too many failed sign-ins. Try again in %(minutes)d minutes.", minutes) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        # The API's error body ({status, code, detail, errors}), with Retry-After like its throttles.
        response = JsonResponse({"status": 429, "code": "locked_out", "detail": message, "errors": {}}, status=429)
        response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
        return response
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
