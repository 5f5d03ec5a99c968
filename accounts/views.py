import contextlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts import services
from accounts.models import Role, role_of
from accounts.security_log import client_ip, security_event

# Where each role starts: its own workspace.
ROLE_HOME = {Role.MANAGER: "dashboard:home", Role.CONSULTANT: "engagements:home", Role.CLIENT: "portal:home"}


@login_required
def home(request):
    """Send each user to their role's workspace; an account without a role is told why it sees nothing."""
    role = role_of(request.user)
    if role in ROLE_HOME:
        return redirect(ROLE_HOME[role])
    return render(request, "accounts/no_role.html")


@require_POST
def language_set(request):
    """The language menu: Django's ``set_language`` (cookie, redirect), and for a signed-in person
    their choice kept on their account, for their other devices and their e-mails."""
    response = set_language(request)
    if request.user.is_authenticated:
        # An unknown language: set_language ignored it too, and the page simply reloads.
        with contextlib.suppress(ValidationError):
            services.user_language_set(user=request.user, language=request.POST.get("language", ""))
    return response


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


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, rate limited per address and per client; the answer never changes."""

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if services.password_reset_allowed(email=email, ip=client_ip(self.request)):
            return super().form_valid(form)
        security_event("password_reset_throttled", request=self.request, tried=email[:254])
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's new-password step; a reset also revokes the account's API tokens."""

    def form_valid(self, form):
        response = super().form_valid(form)
        revoked = services.user_credentials_revoke(user=form.user)
        security_event("password_reset", request=self.request, user_id=form.user.pk, api_tokens_revoked=revoked)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change; it also revokes the account's API tokens."""

    def form_valid(self, form):
        response = super().form_valid(form)
        revoked = services.user_credentials_revoke(user=form.user)
        security_event("password_changed", request=self.request, user_id=form.user.pk, api_tokens_revoked=revoked)
        return response
