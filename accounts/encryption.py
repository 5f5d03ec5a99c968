"""Encryption at rest for two-factor secrets (authenticator seeds): Fernet from ``cryptography``.

Keys come from ``MFA_ENCRYPTION_KEYS`` (config/settings.py): the first encrypts, every one
decrypts (``MultiFernet``), so a key can be rotated without downtime: add the new key in front,
run ``manage.py mfa_rotate_keys`` (re-encrypts every seed with it), then remove the old key.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.MFA_ENCRYPTION_KEYS))


def encrypt(data: bytes) -> str:
    return _current().encrypt(data).decode()


def decrypt(token: str) -> bytes:
    """Raises ``cryptography.fernet.InvalidToken`` when no configured key fits."""
    return _current().decrypt(token.encode())


def rotate(token: str) -> str:
    """The same secret, encrypted with the first key."""
    return _current().rotate(token.encode()).decode()
