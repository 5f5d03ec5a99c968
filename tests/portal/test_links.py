"""E-mailed links: invitations and pulses are single-use, expiring, and say so plainly when they are not usable."""

import datetime as dt
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from api.models import ApiToken
from clients.services import contact_deactivate
from feedback.models import FeedbackResponse
from portal import services
from portal.models import Invitation
from tests import factories

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-enough-secret-42"


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/portal/\S+/)", message.body).group(1)


@pytest.fixture
def invited(consultant, engagement, django_capture_on_commit_callbacks):
    contact = factories.ContactFactory(client=engagement.client, name="Nina New", email="nina@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(contact=contact, invited_by=consultant, base_url="https://rapport.example")
    assert mail.outbox[-1].to == ["nina@acme.example"] and "https://rapport.example/portal/" in mail.outbox[-1].body
    return contact, _link(mail.outbox[-1])


def test_accepting_an_invitation_sets_the_password_signs_in_and_the_link_is_then_used(client, invited):
    contact, link = invited
    page = client.get(link, follow=True)
    assert page.status_code == 200 and "Welcome, Nina New" in page.content.decode()
    response = client.post(link, {"password1": "short", "password2": "short"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    response = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("portal:home")
    contact.refresh_from_db()
    assert contact.user.check_password(NEW_PASSWORD) and contact.user.email == "nina@acme.example"
    assert client.get(reverse("portal:home")).status_code == 200
    client.logout()
    response = client.get(link, follow=True)
    assert response.status_code == 410 and "already been used" in response.content.decode()
    assert client.post(link, {"password1": "x" + NEW_PASSWORD, "password2": "x" + NEW_PASSWORD}).status_code == 410
    contact.user.refresh_from_db()
    assert contact.user.check_password(NEW_PASSWORD)


def test_an_expired_invitation_says_so(client, invited):
    contact, link = invited
    Invitation.objects.filter(contact=contact).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(link, follow=True)
    assert response.status_code == 410 and "has expired" in response.content.decode()


def test_resending_kills_the_previous_link_and_revoking_kills_the_new_one(client, invited,
                                                                         django_capture_on_commit_callbacks):
    contact, old_link = invited
    invitation = contact.portal_invitations.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_resend(invitation=invitation)
    new_link = _link(mail.outbox[-1])
    assert new_link != old_link
    assert client.get(old_link, follow=True).status_code == 404
    assert client.get(new_link, follow=True).status_code == 200
    services.invitation_revoke(invitation=invitation)
    response = client.get(new_link, follow=True)
    assert response.status_code == 410 and "withdrawn" in response.content.decode()


def test_a_forged_or_mangled_invitation_link_is_not_valid(client, invited):
    contact, link = invited
    token = link.rstrip("/").rsplit("/", 1)[1]
    # Change the token's last two characters to two others (a fixed "00" changed nothing when the
    # token already ended in "00", about one run in 256).
    mangled = token[:-2] + ("11" if token.endswith("00") else "00")
    assert mangled != token
    for bad in (link.replace(token, mangled), link.replace(link.split("/")[3], "Zm9v"), "/portal/invitation/x/1-abc/"):
        response = client.get(bad)
        assert response.status_code == 404 and "This link is not valid" in response.content.decode()


def test_a_contact_who_left_cannot_accept_and_cannot_be_invited(client, invited, consultant):
    contact, link = invited
    contact_deactivate(contact=contact)
    assert client.get(link, follow=True).status_code == 404
    with pytest.raises(Exception, match="left the company"):
        services.invitation_send(contact=contact, invited_by=consultant)


def test_removing_access_after_acceptance_deactivates_the_user(client, invited):
    contact, link = invited
    client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    services.invitation_revoke(invitation=contact.portal_invitations.get())
    assert not User.objects.get(email="nina@acme.example").is_active
    assert client.get(reverse("portal:home")).status_code == 302


def test_an_account_reopened_by_a_new_invitation_keeps_no_api_token_of_its_old_password(
        client, invited, consultant, django_capture_on_commit_callbacks):
    contact, link = invited
    client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    user = User.objects.get(email="nina@acme.example")
    _, key = ApiToken.objects.issue(user=user, name="issued by whoever knew the old password")
    services.invitation_revoke(invitation=contact.portal_invitations.get())
    contact.refresh_from_db()
    # Access given back later: a new invitation, a new password, the account active again.
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(contact=contact, invited_by=consultant, base_url="https://rapport.example")
    client.logout()
    response = client.post(_link(mail.outbox[-1]), {"password1": "x" + NEW_PASSWORD, "password2": "x" + NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.check_password("x" + NEW_PASSWORD)
    assert Client().get("/api/v1/engagements/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert not ApiToken.objects.filter(user=user).exists()


def test_an_email_already_used_by_another_account_cannot_be_invited(engagement, consultant):
    contact = factories.ContactFactory(client=engagement.client, email=consultant.email)
    with pytest.raises(Exception, match="Another account"):
        services.invitation_send(contact=contact, invited_by=consultant)


# --- Pulse links -------------------------------------------------------------------------------

@pytest.fixture
def pulse_link(engagement, consultant, django_capture_on_commit_callbacks):
    contact = factories.ContactFactory(client=engagement.client, email="tom@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        [pulse] = services.pulse_send(engagement=engagement, contacts=[contact], requested_by=consultant)
    return pulse, _link(mail.outbox[-1])


def test_a_pulse_link_is_answered_without_signing_in_and_only_once(client, pulse_link):
    pulse, link = pulse_link
    assert client.get(link, follow=True).status_code == 200
    response = client.post(link, {"rating": "2", "involvement": "3", "nps": "6", "comment": "Too many reports"})
    assert "Thank you" in response.content.decode()
    assert SESSION_KEY not in client.session                      # the link signs nobody in
    assert client.get(reverse("portal:home")).status_code == 302
    answer = FeedbackResponse.objects.get(request=pulse)
    assert (answer.rating, answer.respondent_contact) == (2, pulse.contact)
    response = client.post(link, {"rating": "5", "involvement": "5"})
    assert response.status_code == 410 and "already been answered" in response.content.decode()
    assert FeedbackResponse.objects.count() == 1


def test_an_expired_pulse_link_says_so(client, pulse_link):
    pulse, link = pulse_link
    type(pulse).objects.filter(pk=pulse.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.get(link, follow=True)
    assert response.status_code == 410 and "has expired" in response.content.decode()


def test_a_pulse_link_opens_that_pulse_only(client, pulse_link, engagement):
    pulse, link = pulse_link
    other = factories.PulseRequestFactory(engagement=engagement)
    _prefix, uid, token, _ = link.rsplit("/", 3)
    other_uid = link.replace(uid, services.encode_pk(other.pk))
    assert client.get(other_uid, follow=True).status_code == 404
    assert client.post(other_uid, {"rating": "1", "involvement": "1"}).status_code == 404
    assert not FeedbackResponse.objects.exists()


def test_a_pulse_link_of_a_contact_who_left_no_longer_works(client, pulse_link):
    pulse, link = pulse_link
    contact_deactivate(contact=pulse.contact)
    assert client.get(link, follow=True).status_code == 404
