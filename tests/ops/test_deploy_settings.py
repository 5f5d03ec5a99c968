"""Production settings, checked in a subprocess with a production environment, and the headers,
cookies, hashing and session timeouts that follow from them."""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from accounts import middleware as session_middleware
from tests import factories
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SIGNED_IN_PAGE = "/accounts/password/change/"  # 200 when signed in, a redirect to login otherwise
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "rapport.example.com",
    "DATABASE_URL": "postgres://rapport@db.invalid:5432/rapport",
    "MFA_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
}


def _run(args, env):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "SESSION_"))}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
                          timeout=120)


def _production_settings(**extra_env):
    code = ("import django, json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
            "django.setup(); from django.conf import settings as s; print(json.dumps({n: getattr(s, n, None) for n in "
            "['DEBUG', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
            "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SECURE_PROXY_SSL_HEADER', "
            "'PASSWORD_HASHERS', 'SESSION_IDLE_TIMEOUT', 'SESSION_ABSOLUTE_TIMEOUT']}))")
    result = _run(["-c", code], {**PRODUCTION_ENV, **extra_env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_passes_with_no_warning_under_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 silenced" in result.stdout


def test_production_turns_on_https_hsts_and_secure_cookies():
    values = _production_settings()
    assert values["DEBUG"] is False and values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["PASSWORD_HASHERS"][0].endswith("Argon2PasswordHasher")
    assert (values["SESSION_IDLE_TIMEOUT"], values["SESSION_ABSOLUTE_TIMEOUT"]) == (30 * 60, 12 * 60 * 60)


def test_behind_a_proxy_the_forwarded_proto_header_is_trusted_only_when_asked():
    values = _production_settings(DJANGO_BEHIND_PROXY="1", DJANGO_SECURE_SSL_REDIRECT="0")
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is False


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get(reverse("accounts:login"))
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_session_cookie_is_http_only(client, consultant):
    response = client.post(reverse("accounts:login"), {"username": consultant.email, "password": PASSWORD})
    assert response.cookies["sessionid"]["httponly"]


@pytest.mark.django_db
def test_new_passwords_are_hashed_with_argon2id_at_owasp_parameters(settings):
    settings.PASSWORD_HASHERS = ["accounts.hashers.RapportArgon2PasswordHasher"]
    user = factories.UserFactory(password="a-long-enough-password")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in user.password
    assert user.check_password("a-long-enough-password")


@pytest.mark.django_db
def test_hashes_with_other_argon2_parameters_still_verify_and_are_upgraded(settings):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    settings.PASSWORD_HASHERS = ["accounts.hashers.RapportArgon2PasswordHasher"]
    old = Argon2PasswordHasher()
    user = factories.UserFactory()
    user.password = old.encode("a-long-enough-password", old.salt())  # Django's default, m=102400
    user.save()
    assert user.check_password("a-long-enough-password")  # verifies, then re-hashes
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password


class _Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock(1_800_000_000)
    monkeypatch.setattr(session_middleware.time, "time", fake)
    return fake


def _sign_in(client, user):
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_session_idle_for_more_than_30_minutes_is_ended(client, consultant, clock):
    _sign_in(client, consultant)
    clock.now += 29 * 60
    assert client.get(SIGNED_IN_PAGE).status_code == 200  # still signed in; the visit refreshes "last seen"
    clock.now += 29 * 60
    assert client.get(SIGNED_IN_PAGE).status_code == 200
    clock.now += 31 * 60
    response = client.get(SIGNED_IN_PAGE)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_session_ends_12_hours_after_sign_in_even_when_active(client, consultant, clock):
    _sign_in(client, consultant)
    for _ in range(12 * 3):  # a request every 20 minutes for twelve hours
        clock.now += 20 * 60
        assert client.get(SIGNED_IN_PAGE).status_code == 200
    clock.now += 20 * 60
    response = client.get(SIGNED_IN_PAGE)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_logout_kills_the_session_server_side(client, consultant):
    _sign_in(client, consultant)
    session_key = client.session.session_key
    client.post(reverse("accounts:logout"))
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()


@pytest.mark.django_db
def test_a_password_change_signs_out_the_other_sessions(client, consultant):
    from django.test import Client

    other_device = Client()
    _sign_in(other_device, consultant)
    _sign_in(client, consultant)
    new_password = "another-long-passphrase-42"
    response = client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    assert client.get(SIGNED_IN_PAGE).status_code == 200  # the device that changed it stays signed in
    other = other_device.get(SIGNED_IN_PAGE)
    assert other.status_code == 302 and other.url.startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_deactivating_a_user_ends_their_sessions(client, consultant):
    _sign_in(client, consultant)
    consultant.is_active = False
    consultant.save()
    response = client.get(SIGNED_IN_PAGE)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
