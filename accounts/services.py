"""Writes about a person's own account that are not Django's (passwords and sign-in are)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.signals import password_changed


def user_language_set(*, user: User, language: str) -> User:
    """Remember the language a person chose, so pages on any device and their e-mails use it."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def user_credentials_revoke(*, user: User) -> int:
    """Revoke every credential issued with the user's old password, after a password reset or change
    (the API's tokens: the API app listens to ``password_changed``). Returns how many there were."""
    return sum(count or 0 for _receiver, count in password_changed.send(sender=User, user=user))


def password_reset_allowed(*, email: str, ip: str | None) -> bool:
    """Count one password-reset request; False once the address or the client asked too often.

    Each counter is a fixed window in the cache (``PASSWORD_RESET_LIMITS``). Requests for
    addresses without an account count the same, so the answer reveals nothing."""
    from django.core.cache import cache

    allowed = True
    address = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()
    for scope, value in (("email", address), ("ip", ip or "unknown")):
        limit, window = settings.PASSWORD_RESET_LIMITS[scope]
        key = f"password-reset:{scope}:{value}"
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        allowed = allowed and count <= limit
    return allowed
