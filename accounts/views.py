from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts import access
from engagements.selectors import engagement_list


@login_required
def home(request):
    """Where everyone lands after signing in: the engagements their role lets them see."""
    engagements = engagement_list(user=request.user)
    return render(request, "accounts/home.html", {
        "engagements": engagements,
        "role": access.role_of(request.user),
    })
