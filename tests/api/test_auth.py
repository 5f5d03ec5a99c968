"""Tokens: obtained with e-mail and password, sent as `Authorization: Token …`, listed and revoked;
session auth for the browser, with CSRF; throttling of the token endpoint and anonymous calls."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken, hash_token_key
from tests.factories import PASSWORD

TOKEN_URL = reverse("api:token-obtain")


def obtain(api, email, password=PASSWORD, **extra):
    return api.post(TOKEN_URL, {"email": email, "password": password, **extra}, format="json")


def test_token_is_issued_for_good_credentials_and_stored_hashed(api, consultant):
    response = obtain(api, "Consultant@Firm.example", name="CRM sync")
    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == consultant and token.name == "CRM sync"
    assert token.key_hash == hash_token_key(body["token"]) and body["token"] not in token.key_hash
    assert body["prefix"] == body["token"][:8]


def test_token_authenticates_requests_and_a_user_may_hold_several(api, consultant, engagement):
    first = obtain(api, consultant.email).json()["token"]
    second = obtain(api, consultant.email).json()["token"]
    for key in (first, second):
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = api.get(reverse("api:engagement-list"))
        assert response.status_code == 200
        assert [e["id"] for e in response.json()["results"]] == [engagement.pk]
    assert ApiToken.objects.filter(user=consultant).count() == 2


def test_wrong_password_unknown_user_and_inactive_user_get_the_same_401(api, consultant):
    inactive = type(consultant).objects.create_user(email="gone@firm.example", password=PASSWORD,
                                                   is_consultant=True, is_active=False)
    bodies = [obtain(api, consultant.email, "wrong-password"), obtain(api, "nobody@firm.example"),
              obtain(api, inactive.email)]
    assert {r.status_code for r in bodies} == {401}
    assert len({r.content for r in bodies}) == 1
    assert not ApiToken.objects.exists()


def test_token_request_without_fields_is_a_400_with_field_errors(api):
    response = api.post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "password"}


def test_user_lists_only_their_tokens_without_keys_and_revokes_one(api, consultant, manager):
    key = obtain(api, consultant.email).json()["token"]
    other = obtain(api, consultant.email).json()
    obtain(api, manager.email)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    listed = api.get(reverse("api:token-list")).json()["results"]
    assert len(listed) == 2 and all("token" not in t and "key_hash" not in t for t in listed)

    assert api.delete(reverse("api:token-detail", kwargs={"pk": other["id"]})).status_code == 204
    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Token {other['token']}")
    response = revoked.get(reverse("api:engagement-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_deactivated_user_token_stops_working(api, consultant):
    key = obtain(api, consultant.email).json()["token"]
    consultant.is_active = False
    consultant.save()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api:engagement-list")).status_code == 401


def test_anonymous_request_gets_401_with_the_error_body(api):
    response = api.get(reverse("api:session-list"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_session_auth_works_for_the_browser_and_enforces_csrf(consultant, engagement):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(consultant)
    assert browser.get(reverse("api:engagement-list")).status_code == 200
    response = browser.patch(reverse("api:engagement-detail", kwargs={"pk": engagement.pk}), {"title": "X"},
                             format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.fixture
def low_rates(monkeypatch):
    # The throttle classes read their rates once, at import; patch them for the test.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "token": "2/minute"})


def test_token_endpoint_is_throttled(api, consultant, low_rates):
    statuses = [obtain(api, consultant.email, "wrong-password").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    response = obtain(api, consultant.email)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_anonymous_requests_are_throttled(api, low_rates):
    statuses = [api.get(reverse("api:docs")).status_code for _ in range(4)]
    assert statuses[-1] == 429
