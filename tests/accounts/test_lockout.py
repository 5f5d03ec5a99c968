"""Login lockout (django-axes): ten failures lock for 15 minutes, on every login path."""

import datetime as dt
import logging

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


def _fail(client, email, times, ip="10.0.0.1"):
    for _ in range(times):
        client.post(LOGIN, {"username": email, "password": "not-it-at-all"}, REMOTE_ADDR=ip)


def _expire_lockouts():
    """Time travel: make every recorded failure 16 minutes old."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= dt.timedelta(minutes=16)
        attempt.save(update_fields=["attempt_time"])


def test_nine_failures_still_let_the_right_password_in(client, consultant):
    _fail(client, consultant.email, 9)
    response = client.post(LOGIN, {"username": consultant.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302


def test_ten_failures_lock_the_account_even_for_the_right_password(client, consultant, caplog):
    caplog.set_level(logging.INFO, logger="rapport.security")
    _fail(client, consultant.email, 10)
    response = client.post(LOGIN, {"username": consultant.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert b"Too many failed sign-ins. Try again in 15 minutes." in response.content
    assert "_auth_user_id" not in client.session
    assert any(getattr(r, "event", None) == "lockout" for r in caplog.records)


def test_the_lockout_ends_after_15_minutes(client, consultant):
    _fail(client, consultant.email, 10)
    _expire_lockouts()
    response = client.post(LOGIN, {"username": consultant.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302


def test_ten_failures_from_one_address_lock_that_address_for_every_account(client, consultant, manager):
    for index in range(10):
        client.post(LOGIN, {"username": f"guess{index}@firm.example", "password": "nope-nope-nope"},
                    REMOTE_ADDR="10.6.6.6")
    blocked = client.post(LOGIN, {"username": manager.email, "password": PASSWORD}, REMOTE_ADDR="10.6.6.6")
    elsewhere = client.post(LOGIN, {"username": manager.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    assert (blocked.status_code, elsewhere.status_code) == (429, 302)


@pytest.fixture
def _no_api_throttle(monkeypatch):
    """The token endpoint's own rate limit (10/minute) would answer before the lockout does."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"token": "1000/minute", "anon": "1000/minute"})


@pytest.mark.usefixtures("_no_api_throttle")
def test_the_api_token_endpoint_counts_failures_and_locks_too(client):
    user = factories.ConsultantFactory(email="api@firm.example")
    statuses = [client.post(TOKEN, {"email": user.email, "password": "wrong-password"},
                            content_type="application/json").status_code for _ in range(10)]
    assert statuses == [401] * 9 + [429]  # the tenth failure is the one that locks
    response = client.post(TOKEN, {"email": user.email, "password": PASSWORD}, content_type="application/json")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed sign-ins")


@pytest.mark.usefixtures("_no_api_throttle")
def test_failures_on_the_api_also_lock_the_login_page(client):
    user = factories.ConsultantFactory(email="both@firm.example")
    for _ in range(10):
        client.post(TOKEN, {"email": user.email, "password": "wrong-password"}, content_type="application/json",
                    REMOTE_ADDR="10.1.1.1")
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD},
                           REMOTE_ADDR="10.2.2.2")
    assert response.status_code == 429


def test_signing_in_as_oneself_does_not_wipe_the_addresss_failures(client, consultant, client_user):
    """Audit F2: 9 guesses at a victim, one good sign-in as oneself, again: the address still locks.

    Before, a success reset every failure of the address, so any account holder (a client
    contact included) could guess others' passwords forever, 9 at a time."""
    attacker, victim, ip = client_user, consultant, "10.6.6.7"
    guesses = 0
    locked = False
    for _round in range(3):
        for _ in range(9):
            response = client.post(LOGIN, {"username": victim.email, "password": "guess-guess"}, REMOTE_ADDR=ip)
            if response.status_code == 429:
                locked = True
                break
            guesses += 1
        if locked:
            break
        client.post(LOGIN, {"username": attacker.email, "password": PASSWORD}, REMOTE_ADDR=ip)
        client.post(reverse("accounts:logout"), REMOTE_ADDR=ip)
    assert locked and guesses <= 10
    # The victim's account counts those guesses too, from anywhere.
    elsewhere = client.post(LOGIN, {"username": victim.email, "password": "guess"}, REMOTE_ADDR="10.7.7.7")
    assert elsewhere.status_code == 429


def test_a_good_sign_in_still_clears_ones_own_failures(client, consultant):
    _fail(client, consultant.email, 9)
    assert client.post(LOGIN, {"username": consultant.email, "password": PASSWORD},
                       REMOTE_ADDR="10.0.0.1").status_code == 302
    client.post(reverse("accounts:logout"))
    _fail(client, consultant.email, 5, ip="10.0.0.2")
    assert client.post(LOGIN, {"username": consultant.email, "password": PASSWORD},
                       REMOTE_ADDR="10.0.0.2").status_code == 302


def test_changing_the_case_of_the_address_does_not_buy_more_guesses(client, consultant):
    for index in range(10):
        variant = "".join(c.upper() if (index >> i) & 1 else c for i, c in enumerate(consultant.email))
        client.post(LOGIN, {"username": variant, "password": "guess-guess"}, REMOTE_ADDR=f"10.8.0.{index}")
    response = client.post(LOGIN, {"username": consultant.email, "password": PASSWORD}, REMOTE_ADDR="10.8.1.1")
    assert response.status_code == 429
