"""Two-factor authentication: set-up, the second sign-in step, recovery codes, managers, API tokens."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp

from accounts import mfa
from accounts.models import Authenticator, RecoveryCode, normalise_recovery_code
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
SIGNED_IN_PAGE = "/accounts/password/change/"


def _code(device, drift=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def _time_passes(user):
    """After a wrong code django-otp makes the next try wait (1 s, then doubling): let it pass."""
    Authenticator.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def _code_unused(user, code):
    """Only hashes are stored: a code is unused while one of them matches it."""
    from django.contrib.auth.hashers import check_password

    return any(check_password(normalise_recovery_code(code), stored)
               for stored in RecoveryCode.objects.filter(device__user=user).values_list("code_hash", flat=True))


def _sign_in(client, user):
    return client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})


@pytest.fixture
def enrolled(consultant):
    """A consultant with a confirmed authenticator and recovery codes."""
    device = Authenticator.objects.create_for(user=consultant, name="phone", confirmed=True)
    codes = mfa._new_recovery_codes(consultant)
    return consultant, device, codes


def test_setting_up_shows_a_qr_code_and_gives_ten_recovery_codes(client, consultant):
    client.force_login(consultant)
    start = client.get(reverse("accounts:mfa_setup"))
    assert b"<svg" not in start.content and not Authenticator.objects.filter(user=consultant).exists()
    page = client.post(reverse("accounts:mfa_setup"), {"step": "start"}, follow=True)
    assert b"<svg" in page.content
    device = Authenticator.objects.get(user=consultant, confirmed=False)
    assert mfa.mfa_secret(device).encode() in page.content

    wrong = client.post(reverse("accounts:mfa_setup"), {"token": "000000" if _code(device) != "000000" else "111111"})
    assert b"does not match" in wrong.content and not mfa.mfa_enabled(consultant)
    _time_passes(consultant)

    done = client.post(reverse("accounts:mfa_setup"), {"token": _code(device)})
    codes = re.findall(rb"<li><code>([a-z0-9-]+)</code></li>", done.content)
    assert len(codes) == 10 and mfa.mfa_enabled(consultant)


def test_signing_in_with_an_authenticator_asks_for_the_code_before_anything_else(client, enrolled):
    user, device, _ = enrolled
    response = _sign_in(client, user)
    assert response.status_code == 302
    held = client.get(SIGNED_IN_PAGE)
    assert held.status_code == 302 and held.url.startswith(reverse("accounts:mfa_verify"))

    wrong_code = "123456" if _code(device) != "123456" else "654321"
    refused = client.post(reverse("accounts:mfa_verify"), {"token": wrong_code})
    assert b"not valid" in refused.content
    assert client.get(SIGNED_IN_PAGE).status_code == 302
    _time_passes(user)

    client.post(reverse("accounts:mfa_verify"), {"token": _code(device), "next": SIGNED_IN_PAGE})
    assert client.get(SIGNED_IN_PAGE).status_code == 200


def test_a_recovery_code_signs_in_once(client, enrolled):
    user, _, codes = enrolled
    _sign_in(client, user)
    client.post(reverse("accounts:mfa_verify"), {"token": codes[0]})
    assert client.get(SIGNED_IN_PAGE).status_code == 200
    assert not _code_unused(user, codes[0])

    client.post(reverse("accounts:logout"))
    _sign_in(client, user)
    again = client.post(reverse("accounts:mfa_verify"), {"token": codes[0]})
    assert b"not valid" in again.content


def test_a_manager_must_set_up_two_factors_when_required(client, manager, settings):
    settings.MFA_REQUIRED_FOR_MANAGERS = True
    _sign_in(client, manager)
    held = client.get(reverse("home"))
    assert held.status_code == 302 and held.url.startswith(reverse("accounts:mfa_setup"))
    api = client.get("/api/v1/engagements/")
    assert api.status_code == 403 and api.json()["code"] == "mfa_required"


def test_a_manager_cannot_turn_two_factors_off_when_required(manager, settings):
    settings.MFA_REQUIRED_FOR_MANAGERS = True
    Authenticator.objects.create_for(user=manager, name="phone", confirmed=True)
    with pytest.raises(Exception, match="Managers must keep"):
        mfa.mfa_disable(user=manager, password=PASSWORD, token="")
    assert mfa.mfa_enabled(manager)


def test_consultants_are_not_forced_when_managers_are(client, consultant, settings):
    settings.MFA_REQUIRED_FOR_MANAGERS = True
    _sign_in(client, consultant)
    assert client.get(SIGNED_IN_PAGE).status_code == 200


def test_the_api_token_needs_the_same_second_factor(client, enrolled):
    user, device, _ = enrolled
    url = "/api/v1/auth/token/"
    missing = client.post(url, {"email": user.email, "password": PASSWORD}, content_type="application/json")
    assert missing.status_code == 401
    wrong = client.post(url, {"email": user.email, "password": PASSWORD, "otp": "000000" if _code(device) != "000000"
                              else "999999"}, content_type="application/json")
    assert wrong.status_code == 401
    _time_passes(user)
    issued = client.post(url, {"email": user.email, "password": PASSWORD, "otp": _code(device)},
                         content_type="application/json")
    assert issued.status_code == 201 and issued.json()["token"]


def test_a_manager_without_two_factors_gets_no_api_token_when_required(client, manager, settings):
    settings.MFA_REQUIRED_FOR_MANAGERS = True
    response = client.post("/api/v1/auth/token/", {"email": manager.email, "password": PASSWORD},
                           content_type="application/json")
    assert response.status_code == 403
