import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Shown in listings so a person can tell their tokens apart; far too short to guess the rest.
TOKEN_PREFIX_LENGTH = 8


def hash_token_key(key: str) -> str:
    """Keys are 256 random bits, so a plain SHA-256 is enough: there is nothing to brute-force."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def issue(self, *, user, name: str = "") -> tuple["ApiToken", str]:
        """Create a token for ``user``; returns it with the clear key, which is never stored."""
        key = secrets.token_urlsafe(32)
        token = self.create(user=user, name=name, prefix=key[:TOKEN_PREFIX_LENGTH], key_hash=hash_token_key(key))
        return token, key


class ApiToken(models.Model):
    """A personal API token. A user may hold several (one per integration) and revoke each one.

    Only a hash of the key is stored, so a leaked database does not leak working credentials.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True,
                            help_text=_("What the token is for, e.g. 'CRM sync'."))
    prefix = models.CharField(_("prefix"), max_length=TOKEN_PREFIX_LENGTH)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name or _('token')} ({self.prefix}…)"
