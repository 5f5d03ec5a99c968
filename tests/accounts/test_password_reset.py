"""Password resets and changes: e-mails are rate limited (audit F9), and a new password revokes
the account's API tokens (audit: a token issued before a reset kept working)."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from api.models import ApiToken
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
RESET = "/accounts/password/reset/"
NEW_PASSWORD = "a-brand-new-passphrase-42"


def test_twenty_five_requests_for_one_address_send_a_bounded_number_of_e_mails(client, consultant):
    responses = [client.post(RESET, {"email": consultant.email}, REMOTE_ADDR=f"10.3.0.{index}")
                 for index in range(25)]
    assert len(mail.outbox) == 3
    # Every answer is the same "sent" page, so the limit reveals nothing about the address.
    assert {(r.status_code, r.url) for r in responses} == {(302, reverse("accounts:password_reset_done"))}


def test_one_client_cannot_send_e_mails_to_twenty_five_addresses(client):
    users = [factories.ConsultantFactory(email=f"person{index}@firm.example") for index in range(25)]
    for user in users:
        client.post(RESET, {"email": user.email}, REMOTE_ADDR="10.4.4.4")
    assert len(mail.outbox) == 10
    other = client.post(RESET, {"email": users[-1].email}, REMOTE_ADDR="10.5.5.5")
    assert other.status_code == 302 and len(mail.outbox) == 11


def test_the_limit_ignores_the_addresss_case(client, consultant):
    for index in range(6):
        client.post(RESET, {"email": consultant.email.upper() if index % 2 else consultant.email},
                    REMOTE_ADDR=f"10.3.1.{index}")
    assert len(mail.outbox) == 3


def _token_works(key):
    return Client().get("/api/v1/engagements/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_a_password_reset_revokes_the_api_tokens(client, consultant):
    _, key = ApiToken.objects.issue(user=consultant, name="issued by whoever knew the password")
    assert _token_works(key)
    client.post(RESET, {"email": consultant.email})
    link = re.search(r"/accounts/password/reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body).group(0)
    form_url = client.get(link).url  # Django swaps the token for a session value, then redirects
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert not _token_works(key) and not ApiToken.objects.filter(user=consultant).exists()
    assert b"were revoked" in client.get(done.url).content


def test_a_password_change_revokes_the_api_tokens(client, consultant, other_consultant):
    _, key = ApiToken.objects.issue(user=consultant)
    _, someone_elses = ApiToken.objects.issue(user=other_consultant)
    client.force_login(consultant)
    done = client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert not _token_works(key) and _token_works(someone_elses)


def test_a_password_set_in_the_back_office_revokes_the_api_tokens(client, consultant):
    admin = factories.ManagerFactory(email="root@firm.example", is_staff=True, is_superuser=True)
    _, key = ApiToken.objects.issue(user=consultant)
    client.force_login(admin)
    response = client.post(reverse("admin:auth_user_password_change", args=[consultant.pk]),
                           {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302
    assert not _token_works(key)
