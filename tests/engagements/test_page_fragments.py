"""The engagement page's cards come from a cache keyed on what they show (content_cached): a change
to anything a card shows is on the next page, whoever made it and however; the CSRF token in a
cached card is always the viewer's own; the log form's start is always the current minute."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from clients.models import Contact
from engagements.models import Milestone, Session
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cards_yet():
    caches["fragments"].clear()


def page(client, engagement) -> str:
    response = client.get(reverse("engagements:detail", args=[engagement.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_cards_show_changes_made_behind_the_applications_back(client, consultant, engagement):
    contact = factories.ContactFactory(client=engagement.client, name="Ada Client")
    session = factories.SessionFactory(engagement=engagement, client_attendees=[contact], notes="First **notes**")
    milestone = factories.MilestoneFactory(engagement=engagement, title="Pilot plan", client_owner=contact)
    factories.MilestoneCommentFactory(milestone=milestone, author=consultant, text="Looks good")
    client.force_login(consultant)
    first = page(client, engagement)
    assert "Pilot plan" in first and "Ada Client" in first and "<strong>notes</strong>" in first
    assert caches["fragments"]._cache, "the cards were stored"

    # Plain UPDATEs: no signal, no version moved, no service called.
    Milestone.objects.filter(pk=milestone.pk).update(title="Pilot plan, second go")
    Contact.objects.filter(pk=contact.pk).update(name="Ada Renamed")
    Session.objects.filter(pk=session.pk).update(notes="Second *notes*")
    User.objects.filter(pk=consultant.pk).update(full_name="Camille Renamed")
    factories.MilestoneCommentFactory(milestone=milestone, text="A second comment")
    second = page(client, engagement)
    assert "Pilot plan, second go" in second and "Pilot plan<" not in second
    assert "Ada Renamed" in second and "Ada Client" not in second
    assert "<em>notes</em>" in second and "<strong>notes</strong>" not in second
    assert "Camille Renamed" in second and "A second comment" in second and "2 comments" in second


def test_a_cached_card_carries_the_viewers_own_csrf_token(consultant, other_consultant):
    engagement = factories.EngagementFactory(lead=consultant, team=[other_consultant])
    milestone = factories.MilestoneFactory(engagement=engagement, status="agreed")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(consultant)
    second.force_login(other_consultant)
    page(first, engagement)  # renders and stores the card
    html = page(second, engagement)  # the same card, from the cache
    card = html[html.index(f'id="milestone-{milestone.pk}"'):]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', card).group(1)
    response = second.post(reverse("engagements:milestone_status", args=[milestone.pk]),
                           {"csrfmiddlewaretoken": token, "status": "in_progress", "version": milestone.version})
    assert response.status_code == 302  # not 403: the token is valid for this viewer
    milestone.refresh_from_db()
    assert milestone.status == "in_progress"


def test_the_log_forms_start_is_the_current_minute_on_every_visit(client, consultant, engagement):
    client.force_login(consultant)
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 15, tzinfo=dt.UTC), tick=False):
        assert 'value="2026-03-10T09:15"' in page(client, engagement)
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 47, tzinfo=dt.UTC), tick=False):
        html = page(client, engagement)  # the fields come from the cache this time
        assert 'value="2026-03-10T09:47"' in html and "1901-01-01" not in html


def test_flag_cards_show_changes_made_behind_the_applications_back(client, consultant, manager, engagement):
    from health.models import Flag, FlagEvent

    flag = factories.FlagFactory(engagement=engagement)
    client.force_login(consultant)
    first = page(client, engagement)
    assert "Acknowledge</button>" in first and "Nadia Newcomer" not in first
    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.ACKNOWLEDGED)
    FlagEvent.objects.create(flag=flag, created_at=timezone.now(), actor=consultant,
                             action=FlagEvent.Action.NOTE, note="Spoke to the sponsor")
    second = page(client, engagement)
    assert "Acknowledge</button>" not in second and "Spoke to the sponsor" in second
    # A manager's card has the owner menu, with whoever joined since.
    client.force_login(manager)
    assert "Assign</button>" in page(client, engagement)
    factories.ConsultantFactory(full_name="Nadia Newcomer")
    assert "Nadia Newcomer" in page(client, engagement)


def test_the_health_card_and_the_break_form_follow_changes_made_behind_the_applications_back(
        client, consultant, engagement):
    from health.models import HealthSnapshot

    snapshot = factories.HealthSnapshotFactory(engagement=engagement, date=timezone.localdate(), score=81.0)
    client.force_login(consultant)
    first = page(client, engagement)
    assert 'class="score-number">81<' in first and "On a planned break" not in first
    assert 'name="break-starts_on"' in first  # the empty break form, now cached
    HealthSnapshot.objects.filter(pk=snapshot.pk).update(score=42.0)
    factories.PlannedBreakFactory(engagement=engagement, starts_on=timezone.localdate() - dt.timedelta(days=1),
                                  ends_on=timezone.localdate() + dt.timedelta(days=5))
    second = page(client, engagement)
    assert 'class="score-number">42<' in second and "On a planned break until" in second
    assert 'name="break-starts_on"' in second
