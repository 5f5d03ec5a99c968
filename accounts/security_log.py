"""Security events as structured log lines (logger ``rapport.security``), never with secrets.

Sign-ins, sign-outs, failed sign-ins and attempts to reach another tenant's objects. Each line
carries the event name, the user id or the e-mail tried, and the client address.
"""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from config import proxy

logger = logging.getLogger("rapport.security")


def client_ip(request) -> str | None:
    """The client's address, as the trusted proxy (if any) forwarded it (config.proxy)."""
    return proxy.client_ip(request)


def security_event(event: str, *, request=None, **fields) -> None:
    """Log one security event; ``fields`` must never contain a password, token or secret."""
    logger.info(event, extra={"event": event, "ip": client_ip(request),
                              "path": getattr(request, "path", None), **fields})


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    security_event("login", request=request, user_id=user.pk)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    security_event("logout", request=request, user_id=getattr(user, "pk", None))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django already masks the password in ``credentials``; keep only who was tried.
    tried = credentials.get("username") or credentials.get("email")
    security_event("login_failed", request=request, tried=str(tried)[:254] if tried else None)


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    security_event("lockout", request=request, tried=str(username)[:254] if username else None)
