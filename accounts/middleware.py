import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
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
