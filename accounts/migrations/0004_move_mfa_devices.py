"""Move existing two-factor devices out of django-otp's tables, where their secrets are in clear.

Authenticator seeds are re-encrypted with MFA_ENCRYPTION_KEYS; recovery codes are hashed (only
a hash is kept from now on, so going back cannot restore them: the reverse keeps the
authenticators and drops the codes, which users then renew from the two-factor page).
"""

from django.db import migrations


def move_devices(apps, schema_editor):
    from django.contrib.auth.hashers import make_password

    from accounts import encryption
    from accounts.models import normalise_recovery_code

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    Authenticator = apps.get_model("accounts", "Authenticator")
    RecoveryCodeSet = apps.get_model("accounts", "RecoveryCodeSet")
    RecoveryCode = apps.get_model("accounts", "RecoveryCode")
    for device in TOTPDevice.objects.all():
        Authenticator.objects.create(
            user_id=device.user_id, name=device.name, confirmed=device.confirmed,
            encrypted_key=encryption.encrypt(bytes.fromhex(device.key)), step=device.step, t0=device.t0,
            digits=device.digits, tolerance=device.tolerance, drift=device.drift, last_t=device.last_t,
            throttling_failure_timestamp=device.throttling_failure_timestamp,
            throttling_failure_count=device.throttling_failure_count, last_used_at=device.last_used_at)
    for device in StaticDevice.objects.prefetch_related("token_set"):
        codes = RecoveryCodeSet.objects.create(
            user_id=device.user_id, name=device.name, confirmed=device.confirmed,
            throttling_failure_timestamp=device.throttling_failure_timestamp,
            throttling_failure_count=device.throttling_failure_count, last_used_at=device.last_used_at)
        RecoveryCode.objects.bulk_create([
            RecoveryCode(device=codes, code_hash=make_password(normalise_recovery_code(token.token)))
            for token in device.token_set.all()])
    TOTPDevice.objects.all().delete()
    StaticDevice.objects.all().delete()


def move_authenticators_back(apps, schema_editor):
    from accounts import encryption

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    Authenticator = apps.get_model("accounts", "Authenticator")
    for device in Authenticator.objects.all():
        TOTPDevice.objects.create(
            user_id=device.user_id, name=device.name, confirmed=device.confirmed,
            key=encryption.decrypt(device.encrypted_key).hex(), step=device.step, t0=device.t0,
            digits=device.digits, tolerance=device.tolerance, drift=device.drift, last_t=device.last_t)
    Authenticator.objects.all().delete()
    apps.get_model("accounts", "RecoveryCodeSet").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_mfa_secrets_at_rest"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(move_devices, move_authenticators_back)]
