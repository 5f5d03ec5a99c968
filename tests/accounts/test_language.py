"""A person's language: chosen once in the menu, kept on the account, used on every device and in e-mails."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from dashboard.tasks import weekly_digests
from engagements.models import Milestone
from engagements.services import milestone_set_status
from health import evidence, notifications
from portal import services as portal_services
from portal import tasks as portal_tasks
from tests import factories
from tests.dashboard.conftest import TODAY

pytestmark = pytest.mark.django_db


def _choose(client, language):
    return client.post(reverse("set_language"), {"language": language, "next": reverse("engagements:home")})


def test_the_language_a_person_chooses_is_kept_on_their_account(client, consultant):
    client.force_login(consultant)
    response = _choose(client, "fr")
    assert response.status_code == 302 and response["Location"] == reverse("engagements:home")
    consultant.refresh_from_db()
    assert consultant.language == "fr"

    # Another browser, with no language cookie and an English Accept-Language: still French.
    laptop = Client(HTTP_ACCEPT_LANGUAGE="en")
    laptop.force_login(consultant)
    page = laptop.get(reverse("engagements:home")).content.decode()
    assert 'lang="fr"' in page and "Mes missions" in page

    _choose(laptop, "en")
    consultant.refresh_from_db()
    assert consultant.language == "en"
    assert 'lang="en"' in client.get(reverse("engagements:home")).content.decode()


def test_without_a_choice_the_browser_decides(client, consultant):
    client.force_login(consultant)
    page = client.get(reverse("engagements:home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="fr"' in page
    consultant.refresh_from_db()
    assert consultant.language == ""


def test_an_unknown_language_changes_nothing(client, consultant):
    client.force_login(consultant)
    assert _choose(client, "xx").status_code == 302
    consultant.refresh_from_db()
    assert consultant.language == ""


def test_signed_out_the_menu_only_sets_the_cookie(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("accounts:login")})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_the_language_menu_takes_only_posts(client, consultant):
    client.force_login(consultant)
    assert client.get(reverse("set_language"), {"language": "fr"}).status_code == 405


def test_a_high_flag_notice_is_written_in_each_recipients_language(consultant, manager):
    manager.language = "fr"
    manager.save()
    engagement = factories.EngagementFactory(lead=consultant, client__name="Helios")
    flag = factories.FlagFactory(engagement=engagement, kind="drift_to_transactional", severity="high",
                                 evidence={"window": ["2026-09-03", "2026-12-01"], "sessions_window": 4,
                                           "depth_window": 0.2})
    assert notifications.notify_flags_raised([flag.pk]) == 2
    by_person = {message.to[0]: message for message in mail.outbox}
    french, english = by_person[manager.email], by_person[consultant.email]
    assert "Glissement vers le transactionnel" in french.subject
    assert "Drift to transactional" in english.subject
    # The numbers as health.evidence labels them in each language (French writes "20 %").
    for message, language in ((french, "fr"), (english, "en")):
        with translation.override(language):
            details = dict(evidence.evidence_details(flag.kind, flag.evidence))
            sessions = gettext("Sessions, last 90 days")
        assert f"- {sessions}: 4" in message.body
    assert "20\u202f%" in french.body and "20%" in english.body
    assert details[sessions] == "4"


def test_the_weekly_digest_is_written_in_the_managers_language(manager):
    manager.language = "fr"
    manager.save()
    english_manager = factories.ManagerFactory(email="en@firm.example")
    assert weekly_digests(today=TODAY) == 2
    by_person = {message.to[0]: message for message in mail.outbox}
    assert "Nouvelles alertes" in by_person[manager.email].body
    assert "New flags" in by_person[english_manager.email].body


def test_a_client_writing_in_french_emails_the_consultant_in_english(client, client_user, consultant, engagement,
                                                                     django_capture_on_commit_callbacks):
    consultant.language = "en"
    consultant.save()
    client_user.language = "fr"
    client_user.save()
    milestone = factories.MilestoneFactory(engagement=engagement, title="Pilot launch", shared_with_client=True,
                                           consultant_owner=consultant)
    client.force_login(client_user)
    page = client.get(reverse("portal:milestone", args=[milestone.pk])).content.decode()
    assert 'lang="fr"' in page
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:milestone_comment", args=[milestone.pk]),
                               {"text": "Pouvez-vous préciser ?", "form_token": token})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[consultant.email]]
    assert "commented on “Pilot launch”" in mail.outbox[0].subject


def test_status_notices_reach_each_client_contact_in_their_language(client_user, engagement, consultant,
                                                                    django_capture_on_commit_callbacks):
    client_user.language = "fr"
    client_user.save()
    colleague = factories.ClientUserFactory(contact__client=engagement.client, email="colleague@acme.example")
    milestone = factories.MilestoneFactory(engagement=engagement, title="Pilot launch", shared_with_client=True,
                                           status=Milestone.Status.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        portal_tasks.send_status_notifications()  # first sight: remembered
        milestone_set_status(milestone=milestone, status=Milestone.Status.DONE)
        assert portal_tasks.send_status_notifications() == 1
    by_person = {message.to[0]: message for message in mail.outbox}
    assert "« Pilot launch » est maintenant" in by_person[client_user.email].subject
    assert "“Pilot launch” is now done" in by_person[colleague.email].subject


def test_a_pulse_is_asked_in_the_contacts_language(client_user, engagement, consultant,
                                                   django_capture_on_commit_callbacks):
    client_user.language = "fr"
    client_user.save()
    without_account = factories.ContactFactory(client=engagement.client, email="noaccount@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        portal_services.pulse_send(engagement=engagement, contacts=[client_user.contact, without_account],
                                   requested_by=consultant)
    by_person = {message.to[0]: message for message in mail.outbox}
    assert by_person[client_user.contact.email].subject.startswith("Deux minutes sur notre collaboration")
    assert by_person["noaccount@acme.example"].subject.startswith("Two minutes on our collaboration")
