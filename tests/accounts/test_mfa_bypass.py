"""The second factor cannot be bypassed, replaced or removed with the password alone (audit F1).

The audit's three reproductions, through the pages and the API token endpoint: (a) new recovery
codes, (b) a new authenticator replacing the victim's, (c) turning two-factor off, each with only
the password. Then the step-up rules for a session that did give its second factor.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp

from accounts import mfa
from accounts.models import Authenticator, RecoveryCode, RecoveryCodeSet, normalise_recovery_code
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
CODES = re.compile(rb"<li><code>([a-z0-9-]+)</code></li>")


def _code(device, drift=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def _time_passes(user):
    """After a wrong code django-otp makes the next try wait (1 s, then doubling): let it pass."""
    for model in (Authenticator, RecoveryCodeSet):
        model.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def _code_unused(user, code):
    """Only hashes are stored: a code is unused while one of them matches it."""
    from django.contrib.auth.hashers import check_password

    return any(check_password(normalise_recovery_code(code), stored)
               for stored in RecoveryCode.objects.filter(device__user=user).values_list("code_hash", flat=True))


def _sign_in(client, user):
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def _verified(client, user, device):
    _sign_in(client, user)
    client.post(reverse("accounts:mfa_verify"), {"token": _code(device)})
    assert client.get(reverse("accounts:mfa")).status_code == 200


def _api_token(user, otp):
    """The token endpoint as an integration calls it: no session, e-mail, password and code."""
    return Client().post(TOKEN, {"email": user.email, "password": PASSWORD, "otp": otp},
                       content_type="application/json")


def _held_at_verify(response):
    return response.status_code == 302 and response.url.startswith(reverse("accounts:mfa_verify"))


@pytest.fixture
def victim_manager(manager, settings):
    settings.MFA_REQUIRED_FOR_MANAGERS = True
    device = Authenticator.objects.create_for(user=manager, name="phone", confirmed=True)
    return manager, device, mfa._new_recovery_codes(manager)


@pytest.fixture
def victim_consultant(consultant):
    device = Authenticator.objects.create_for(user=consultant, name="phone", confirmed=True)
    return consultant, device, mfa._new_recovery_codes(consultant)


# --- (a) new recovery codes with the password alone ----------------------------------------------

def test_a_password_alone_cannot_make_new_recovery_codes(client, victim_manager):
    user, device, codes = victim_manager
    _sign_in(client, user)
    response = client.post(reverse("accounts:mfa_recovery_codes"))
    assert _held_at_verify(response)
    assert not CODES.findall(response.content)
    assert all(_code_unused(user, code) for code in codes)
    # The verify step and the dashboard stay closed to the codes the intruder hoped for.
    assert _held_at_verify(client.get(reverse("dashboard:home")))


def test_a_password_alone_cannot_get_an_api_token_through_new_recovery_codes(client, victim_manager):
    user, device, codes = victim_manager
    _sign_in(client, user)
    client.post(reverse("accounts:mfa_recovery_codes"))
    assert _api_token(user, otp="").status_code == 401
    assert RecoveryCode.objects.filter(device__user=user).count() == len(codes)
    # The victim's own codes are the only ones that work.
    assert _api_token(user, otp=codes[0]).status_code == 201


# --- (b) a new authenticator replacing the victim's --------------------------------------------

def test_a_password_alone_cannot_see_or_replace_the_authenticator(client, victim_manager):
    user, device, _ = victim_manager
    _sign_in(client, user)
    page = client.get(reverse("accounts:mfa_setup"))
    assert _held_at_verify(page)
    started = client.post(reverse("accounts:mfa_setup"), {"step": "start"})
    assert _held_at_verify(started)
    assert list(Authenticator.objects.filter(user=user)) == [device]
    # The victim's own phone still signs them in, on the pages and the API.
    victim = Client()
    _verified(victim, user, device)
    assert _api_token(user, otp=_code(device, drift=1)).status_code == 201


def test_a_get_on_setup_never_creates_or_replaces_a_device(client, victim_consultant):
    user, device, _ = victim_consultant
    _verified(client, user, device)
    page = client.get(reverse("accounts:mfa_setup"))
    assert page.status_code == 200 and b"<svg" not in page.content
    assert list(Authenticator.objects.filter(user=user)) == [device]


# --- (c) turning two-factor off with the password alone -----------------------------------------

def test_a_password_alone_cannot_turn_two_factor_off(client, victim_consultant):
    user, device, _ = victim_consultant
    _sign_in(client, user)
    response = client.post(reverse("accounts:mfa_disable"), {"disable-password": PASSWORD})
    assert _held_at_verify(response)
    assert mfa.mfa_enabled(user)
    assert _held_at_verify(client.get(reverse("engagements:home")))
    missing = _api_token(user, otp="")
    assert missing.status_code == 401 and missing.json()["code"] == "mfa_required"


# --- Every two-factor page but the verify step is closed until the code is given ------------------

@pytest.mark.parametrize("name", ["accounts:mfa", "accounts:mfa_setup", "accounts:mfa_recovery_codes",
                                  "accounts:mfa_disable"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_every_two_factor_page_answers_with_the_verify_step(client, victim_consultant, name, method):
    user, _, _ = victim_consultant
    _sign_in(client, user)
    assert _held_at_verify(getattr(client, method)(reverse(name)))


def test_a_session_signed_in_before_the_authenticator_was_added_is_held_too(client, consultant):
    """The middleware lets such a session through; the two-factor pages check for themselves."""
    _sign_in(client, consultant)
    Authenticator.objects.create_for(user=consultant, name="phone added elsewhere", confirmed=True)
    assert _held_at_verify(client.get(reverse("accounts:mfa_setup")))
    assert _held_at_verify(client.post(reverse("accounts:mfa_disable"), {"disable-password": PASSWORD}))


# --- With the second factor given: changing it asks for a code again ----------------------------

def test_new_recovery_codes_need_a_code_in_the_form(client, victim_consultant):
    user, device, codes = victim_consultant
    _verified(client, user, device)
    refused = client.post(reverse("accounts:mfa_recovery_codes"), {"codes-token": ""})
    assert refused.status_code == 400 and not CODES.findall(refused.content)
    wrong = client.post(reverse("accounts:mfa_recovery_codes"), {"codes-token": "zzzzzzzz"})
    assert wrong.status_code == 400 and b"not valid" in wrong.content
    _time_passes(user)
    renewed = client.post(reverse("accounts:mfa_recovery_codes"), {"codes-token": codes[0]})
    assert renewed.status_code == 200 and len(CODES.findall(renewed.content)) == 10
    assert not _code_unused(user, codes[1])


def test_moving_to_a_new_phone_needs_a_code_and_keeps_the_old_one_until_confirmed(client, victim_consultant):
    user, device, codes = victim_consultant
    _verified(client, user, device)
    refused = client.post(reverse("accounts:mfa_setup"), {"step": "start", "current-token": "12"})
    assert refused.status_code == 400 and b"<svg" not in refused.content
    assert not Authenticator.objects.filter(user=user, confirmed=False).exists()
    _time_passes(user)

    started = client.post(reverse("accounts:mfa_setup"), {"step": "start", "current-token": codes[0]}, follow=True)
    assert b"<svg" in started.content
    new = Authenticator.objects.get(user=user, confirmed=False)
    assert mfa.mfa_verify(user=user, token=_code(device, drift=1)) == device  # the old phone still works

    client.post(reverse("accounts:mfa_setup"), {"step": "confirm", "token": _code(new)})
    assert list(Authenticator.objects.filter(user=user)) == [Authenticator.objects.get(pk=new.pk, confirmed=True)]


def test_a_new_phone_started_in_another_session_cannot_be_confirmed_here(client, victim_consultant):
    user, device, codes = victim_consultant
    other = Client()
    _verified(other, user, device)
    other.post(reverse("accounts:mfa_setup"), {"step": "start", "current-token": codes[0]})
    new = Authenticator.objects.get(user=user, confirmed=False)

    client.force_login(user)  # a second session, also verified below
    client.post(reverse("accounts:mfa_verify"), {"token": codes[1]})
    client.post(reverse("accounts:mfa_setup"), {"step": "confirm", "token": _code(new)})
    assert Authenticator.objects.get(pk=device.pk).confirmed and not Authenticator.objects.get(pk=new.pk).confirmed


def test_turning_two_factor_off_needs_the_password_and_a_code(client, victim_consultant):
    user, device, codes = victim_consultant
    _verified(client, user, device)
    no_password = client.post(reverse("accounts:mfa_disable"), {"disable-password": "wrong", "disable-token": codes[0]})
    assert no_password.status_code == 400 and mfa.mfa_enabled(user)
    assert _code_unused(user, codes[0])  # a wrong password uses up no code
    no_code = client.post(reverse("accounts:mfa_disable"), {"disable-password": PASSWORD, "disable-token": ""})
    assert no_code.status_code == 400 and mfa.mfa_enabled(user)
    _time_passes(user)
    done = client.post(reverse("accounts:mfa_disable"), {"disable-password": PASSWORD, "disable-token": codes[0]})
    assert done.status_code == 302 and not mfa.mfa_enabled(user)
    assert _api_token(user, otp="").status_code == 201
