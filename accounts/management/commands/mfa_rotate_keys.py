"""Re-encrypt every authenticator seed with the first key of MFA_ENCRYPTION_KEYS.

Rotation: put the new key first in MFA_ENCRYPTION_KEYS (keep the old one after it), restart, run
this command, then remove the old key. Safe to run twice; seeds already under the first key are
simply encrypted again.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import encryption
from accounts.models import Authenticator


class Command(BaseCommand):
    help = "Re-encrypt two-factor seeds with the first key of MFA_ENCRYPTION_KEYS (after adding a new key)."

    def handle(self, *args, **options):
        done = 0
        with transaction.atomic():
            for device in Authenticator.objects.select_for_update().only("id", "encrypted_key").iterator():
                device.encrypted_key = encryption.rotate(device.encrypted_key)
                device.save(update_fields=["encrypted_key"])
                done += 1
        self.stdout.write(f"Re-encrypted {done} authenticator seed(s) with the first key.")
