"""Single-use, expiring links: portal invitations and e-mailed feedback pulses.

Built on Django's password-reset token machinery (an HMAC of the object's state with our own
salt). The hash covers the object's id, its addressee and when it was sent, so resending an
invitation kills the previous link. Whether a link is still usable (not accepted, not revoked,
not answered, not expired) is then checked on the object itself, so the page can say plainly
which of these happened; a forged or mangled link never gets that far.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(moment) -> int:
    """A datetime as whole microseconds since the epoch: the same whichever time zone it was read in."""
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


class _ObjectTokenGenerator(PasswordResetTokenGenerator):
    """A password-reset style token for any object; expiry is the object's own date, not the setting."""

    def check_token(self, obj, token) -> bool:
        if not (obj and token) or len(token) > 64:
            return False
        try:
            ts_b36, _hash = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return False
        return any(constant_time_compare(self._make_token_with_timestamp(obj, timestamp, secret), token)
                   for secret in [self.secret, *self.secret_fallbacks])


class InvitationTokenGenerator(_ObjectTokenGenerator):
    key_salt = "portal.tokens.InvitationTokenGenerator"

    def _make_hash_value(self, invitation, timestamp):
        return f"{invitation.pk}|{invitation.contact_id}|{invitation.email}|{_micros(invitation.sent_at)}|{timestamp}"


class PulseTokenGenerator(_ObjectTokenGenerator):
    key_salt = "portal.tokens.PulseTokenGenerator"

    def _make_hash_value(self, pulse, timestamp):
        return f"{pulse.pk}|{pulse.contact_id}|{pulse.engagement_id}|{_micros(pulse.sent_at)}|{timestamp}"


invitation_tokens = InvitationTokenGenerator()
pulse_tokens = PulseTokenGenerator()


def encode_pk(pk: int) -> str:
    return urlsafe_base64_encode(force_bytes(pk))


def decode_pk(uidb64: str) -> int | None:
    try:
        return int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
