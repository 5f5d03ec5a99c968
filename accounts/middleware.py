import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

SIGNED_IN_AT = "_rapport_signed_in_at"
LAST_SEEN_AT = "_rapport_last_seen_at"
# Refreshing "last seen" on every request would write the session on every request; a minute's
# precision on a 30-minute idle timeout is plenty.
TOUCH_EVERY_SECONDS = 60


@receiver(user_logged_in)
def _remember_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_SEEN_AT] = now


class UserLanguageMiddleware:
    """A signed-in person's chosen language wins over the browser's and the cookie's.

    ``LocaleMiddleware`` runs before authentication, so it can only guess from the cookie and the
    browser; a person who chose a language (``User.language``, saved by the language menu) gets it
    on every device, the way their e-mails are written. Without a choice nothing changes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """End a signed-in session after the idle timeout or the absolute timeout, whichever first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            signed_in_at = session.get(SIGNED_IN_AT, now)
            last_seen_at = session.get(LAST_SEEN_AT, now)
            if (now - last_seen_at > settings.SESSION_IDLE_TIMEOUT
                    or now - signed_in_at > settings.SESSION_ABSOLUTE_TIMEOUT):
                logout(request)  # flushes the session server-side, not only the cookie
                messages.info(request, _("Your session has expired. Please sign in again."))
            else:
                session.setdefault(SIGNED_IN_AT, signed_in_at)
                if now - last_seen_at >= TOUCH_EVERY_SECONDS or LAST_SEEN_AT not in session:
                    session[LAST_SEEN_AT] = now
        return self.get_response(request)


MFA_NOT_NEEDED = "_rapport_mfa_not_needed"


@receiver(user_logged_in)
def _remember_mfa_not_needed(sender, request, user, **kwargs):
    """Decide once per sign-in whether this session can skip the two-factor step, so ordinary
    requests of users without an authenticator pay no query for it."""
    from accounts import mfa

    if request is not None and hasattr(request, "session"):
        request.session[MFA_NOT_NEEDED] = not mfa.mfa_enabled(user) and not mfa.mfa_required(user)


class MfaMiddleware:
    """Hold a signed-in but unverified session at the two-factor step.

    A user with an authenticator must enter a code before anything else; a manager who must use
    two factors and has none is sent to set one up. Only that one step stays open (never the
    other two-factor pages: with the password alone they would let anyone swap the second factor
    for their own), with sign-out, static files and the health check. API requests authenticated
    by session get a 403 instead.
    """

    OPEN_PREFIXES = ("/accounts/logout/", "/static/", "/i18n/", "/healthz", "/favicon.ico")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not user.is_verified()
                and not request.session.get(MFA_NOT_NEEDED)
                and not request.path.startswith(self.OPEN_PREFIXES)):
            from accounts import mfa

            if mfa.mfa_enabled(user):
                step = "accounts:mfa_verify"
            elif mfa.mfa_required(user):
                step = "accounts:mfa_setup"
            else:
                step = None
            if step is not None and request.path != reverse(step):
                if request.path.startswith("/api/"):
                    return JsonResponse({"status": 403, "code": "mfa_required",
                                         "detail": _("Two-factor authentication is required."), "errors": {}},
                                        status=403)
                return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
