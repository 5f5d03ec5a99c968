"""Two-factor secrets at rest (audit F11): recovery codes hashed, authenticator seeds encrypted
with a key from the environment, keys rotated by a command, existing devices moved by a migration."""

import base64
import importlib
import io
import re

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.models import Authenticator

pytestmark = pytest.mark.django_db
CODES = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


def _code_for(key: bytes, drift=0) -> str:
    return f"{totp(key, step=30, t0=0, digits=6, drift=drift):06d}"


def _whole_database() -> str:
    """Every row of every table, as text: what a stolen backup would show."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  (our own table names)
            rows.extend(str(row) for row in cursor.fetchall())
    return "\n".join(rows).lower()


def test_neither_the_seed_nor_the_recovery_codes_are_stored_in_clear(client, consultant):
    client.force_login(consultant)
    page = client.post(reverse("accounts:mfa_setup"), {"step": "start"}, follow=True).content.decode()
    secret = re.search(r'<code class="mfa-secret">([A-Z2-7]+)</code>', page).group(1)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    done = client.post(reverse("accounts:mfa_setup"), {"step": "confirm", "token": _code_for(key)})
    codes = CODES.findall(done.content.decode())
    assert len(codes) == 10

    stored = _whole_database()
    for form in (secret.lower(), key.hex()):
        assert form not in stored
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
    # Still usable: the app's next code, and each recovery code once.
    assert mfa.mfa_verify(user=consultant, token=_code_for(key, drift=1)) is not None
    assert mfa.mfa_verify(user=consultant, token=codes[0]) is not None
    assert mfa.mfa_verify(user=consultant, token=codes[0]) is None


def test_seeds_are_encrypted_with_the_first_key_and_a_new_key_can_take_over(consultant, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.MFA_ENCRYPTION_KEYS = [old_key]
    device = Authenticator.objects.create_for(user=consultant, name="phone", confirmed=True)
    seed = device.bin_key
    assert Fernet(old_key).decrypt(device.encrypted_key.encode()) == seed

    settings.MFA_ENCRYPTION_KEYS = [new_key, old_key]  # step 1: the new key first, the old one still read
    assert Authenticator.objects.get(pk=device.pk).bin_key == seed
    call_command("mfa_rotate_keys", stdout=io.StringIO())
    settings.MFA_ENCRYPTION_KEYS = [new_key]              # step 2: the old key removed
    assert Authenticator.objects.get(pk=device.pk).bin_key == seed
    assert mfa.mfa_verify(user=consultant, token=_code_for(seed)) is not None
    settings.MFA_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(InvalidToken):
        Authenticator.objects.get(pk=device.pk).bin_key  # noqa: B018


def test_the_migration_moves_existing_devices_out_of_the_clear(consultant):
    old = TOTPDevice.objects.create(user=consultant, name="phone", confirmed=True, last_t=5)
    static = StaticDevice.objects.create(user=consultant, name="backup", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd2345")
    migration = importlib.import_module("accounts.migrations.0004_move_mfa_devices")
    migration.move_devices(apps, None)

    assert not TOTPDevice.objects.exists() and not StaticToken.objects.exists()
    [moved] = Authenticator.objects.filter(user=consultant)
    assert (moved.bin_key, moved.confirmed, moved.last_t, moved.name) == (old.bin_key, True, 5, "phone")
    assert "abcd2345" not in _whole_database() and old.key not in _whole_database()
    assert mfa.mfa_verify(user=consultant, token="ABCD 2345") is not None   # typed as people type
    assert mfa.mfa_verify(user=consultant, token="abcd2345") is None        # and only once
