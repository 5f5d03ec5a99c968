"""Writes about a person's own account that are not Django's (passwords and sign-in are)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import User


def user_language_set(*, user: User, language: str) -> User:
    """Remember the language a person chose, so pages on any device and their e-mails use it."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user
