"""Two-factor authentication (TOTP with recovery codes), on django-otp.

A user has MFA once they confirm a TOTP device; they then also hold ten single-use recovery
codes (a static device). Managers must set it up when ``MFA_REQUIRED_FOR_MANAGERS`` is on (the
production default); everyone else may. A session counts as verified once a code was entered in
it; ``accounts.middleware.MfaMiddleware`` holds an unverified session at the verify or set-up
page, and the API token endpoint asks for the same code.

Changing the factors themselves (new recovery codes, a new phone, turning two-factor off) takes a
code given in that very request, on top of a verified session: a password alone, or a browser
left signed in, must not be enough to swap the second factor for one the intruder holds.
"""

from __future__ import annotations

import base64
import io
import secrets

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Authenticator, RecoveryCode, RecoveryCodeSet, Role, User

RECOVERY_CODES = 10
# Ten characters from 31 that cannot be mistaken for one another (no 0/o, 1/l/i): about 50 bits,
# stored as salted password hashes. Shown as "abcde-fgh23"; typed with or without the dash.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10


def mfa_enabled(user: User) -> bool:
    """Whether the user has a confirmed authenticator app."""
    return user.is_authenticated and Authenticator.objects.filter(user=user, confirmed=True).exists()


def mfa_required(user: User) -> bool:
    """Whether the user must use two factors: managers, when the setting says so."""
    return settings.MFA_REQUIRED_FOR_MANAGERS and user.is_authenticated and user.role == Role.MANAGER


def _require_fresh_code(*, user: User, token: str) -> None:
    """Refuse unless ``token`` is a valid code (authenticator or recovery code) of the user."""
    if mfa_verify(user=user, token=token) is None:
        raise ValidationError({"token": _("That code is not valid. Use the newest code from your app, or a "
                                          "recovery code.")})


def mfa_start_enrolment(*, user: User, token: str = "") -> Authenticator:
    """A new, unconfirmed authenticator for the user (replacing any earlier unconfirmed one).

    A user who already has one must give a code from it (or a recovery code): moving to a new
    phone is changing the second factor. The confirmed authenticator stays until the new one is
    confirmed."""
    if mfa_enabled(user):
        _require_fresh_code(user=user, token=token)
    with transaction.atomic():
        Authenticator.objects.filter(user=user, confirmed=False).delete()
        return Authenticator.objects.create_for(user=user, name=_("Authenticator app"), confirmed=False)


def mfa_pending_device(*, user: User) -> Authenticator | None:
    return Authenticator.objects.filter(user=user, confirmed=False).order_by("-id").first()


def mfa_qr_svg(device: Authenticator) -> str:
    """The device's otpauth:// URL as an inline SVG QR code (no image library needed)."""
    # config_url carries the issuer (settings.OTP_TOTP_ISSUER) and the account's e-mail.
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg"):]


def mfa_secret(device: Authenticator) -> str:
    """The shared secret in base32, for typing into an app that cannot scan."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def mfa_confirm_enrolment(*, user: User, device: Authenticator, token: str) -> list[str]:
    """Confirm the authenticator with a code from it; returns fresh recovery codes (shown once)."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError(_("Start the set-up again."))
    if not device.verify_token((token or "").strip().replace(" ", "")):
        raise ValidationError({"token": _("That code does not match. Check the time on your phone and try the "
                                          "newest code.")})
    with transaction.atomic():
        Authenticator.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return _new_recovery_codes(user)


def _random_recovery_code() -> str:
    while True:
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        if not code.isdigit():  # an all-digit code would be taken for an app's code (mfa_verify)
            return f"{code[:5]}-{code[5:]}"


def _new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes, returned to be shown once; only their hashes are stored."""
    RecoveryCodeSet.objects.filter(user=user).delete()
    device = RecoveryCodeSet.objects.create(user=user, name=_("Recovery codes"), confirmed=True)
    codes = [_random_recovery_code() for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create([RecoveryCode(device=device, code_hash=make_password(code.replace("-", "")))
                                      for code in codes])
    return codes


def mfa_regenerate_recovery_codes(*, user: User, token: str) -> list[str]:
    """Replace the user's recovery codes, given a current code; the old ones stop working."""
    if not mfa_enabled(user):
        raise ValidationError(_("Set up two-factor authentication first."))
    _require_fresh_code(user=user, token=token)
    with transaction.atomic():
        return _new_recovery_codes(user)


def mfa_verify(*, user: User, token: str):
    """The device that accepts this code (authenticator or a recovery code, used up), or None."""
    token = (token or "").strip().replace(" ", "")
    if not token:
        return None
    # An app's code is all digits, a recovery code is not: each is tried only where it could
    # match, so using a recovery code does not count as a wrong app code (which slows the next try).
    if token.isdigit():
        devices = [device for device in Authenticator.objects.filter(user=user, confirmed=True)
                   if len(token) == device.digits]
    else:
        devices = list(RecoveryCodeSet.objects.filter(user=user, confirmed=True))
    with transaction.atomic():
        for device in devices:
            allowed, _details = device.verify_is_allowed()
            if allowed and device.verify_token(token):
                return device
    return None


def mfa_disable(*, user: User, password: str, token: str) -> None:
    """Remove the user's second factor, given their password and a current code; refused when
    their role requires one."""
    if mfa_required(user):
        raise ValidationError(_("Managers must keep two-factor authentication."))
    if not mfa_enabled(user):
        return
    # The password first, so a wrong one does not use up a recovery code.
    if not user.check_password(password or ""):
        raise ValidationError({"password": _("That is not your password.")})
    _require_fresh_code(user=user, token=token)
    with transaction.atomic():
        Authenticator.objects.filter(user=user).delete()
        RecoveryCodeSet.objects.filter(user=user).delete()
