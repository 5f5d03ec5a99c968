"""The demo portfolio: built once, with the logins and the stories the README promises.

One test builds it (seeding scores a year of history, a few seconds) and checks everything. Its
history is dated relative to the day it is built, and `make run` may happen on any day: so the
stories are checked on the day the other tests use (DEMO_NOW), at a month end, and on a 29th of
February a year later, each with the clock pinned, never on "whatever today is".
"""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

import access
from accounts.models import User
from clients.models import Client
from engagements.models import Engagement, Milestone, Session
from health.models import Flag, HealthSnapshot
from health.selectors import latest_snapshots
from tests.conftest import DEMO_NOW

pytestmark = pytest.mark.django_db


def _story(title):
    engagement = Engagement.objects.get(title=title)
    snapshot = latest_snapshots(engagement_ids=[engagement.pk])[engagement.pk]
    flags = set(Flag.objects.filter(engagement=engagement, status__in=Flag.LIVE_STATUSES)
                .values_list("kind", flat=True))
    return snapshot, flags


@pytest.mark.parametrize("built_on", [DEMO_NOW, dt.datetime(2027, 5, 31, 18, tzinfo=dt.UTC),
                                      dt.datetime(2028, 2, 29, 7, tzinfo=dt.UTC)], ids=lambda d: d.date().isoformat())
def test_seed_demo_builds_the_portfolio_once_with_its_stories(capsys, built_on):
    with time_machine.travel(built_on, tick=True):
        _builds_the_portfolio_once_with_its_stories(capsys)


def _builds_the_portfolio_once_with_its_stories(capsys):
    call_command("seed_demo")
    counts = (Client.objects.count(), Engagement.objects.count(), Session.objects.count(),
              Milestone.objects.count(), HealthSnapshot.objects.count())
    assert counts[:2] == (8, 15) and counts[2] > 300 and counts[4] > 1000

    call_command("seed_demo")
    assert (Client.objects.count(), Engagement.objects.count(), Session.objects.count(),
            Milestone.objects.count(), HealthSnapshot.objects.count()) == counts
    assert "already present" in capsys.readouterr().out

    # The demo logins, their roles and what they see.
    consultant = User.objects.get(email="consultant@example.com")
    manager = User.objects.get(email="manager@example.com")
    client_user = User.objects.get(email="client@example.com")
    for user in (consultant, manager, client_user):
        assert user.check_password("rapport-demo")
    assert (consultant.role, manager.role, client_user.role) == ("consultant", "manager", "client")
    assert access.engagements_for(manager).count() == 15
    assert access.engagements_for(consultant).count() == 7
    assert set(access.engagements_for(client_user).values_list("client__name", flat=True)) == {"Northwind Retail"}
    assert access.milestones_for(client_user).filter(approval_requested=True).exists()

    # Helios: a new CMO became sponsor 80 days ago and the relationship slid to KPI reviews.
    helios = Client.objects.get(name="Helios Energy")
    assert helios.contacts.get(is_sponsor=True).title == "Chief Marketing Officer"
    snapshot, flags = _story("Brand positioning")
    assert snapshot.state == "transactional"
    assert {"drift_to_transactional", "sponsor_change"} <= flags

    snapshot, flags = _story("Omnichannel strategy")
    assert (snapshot.mode, snapshot.state, flags) == ("co_production", "consultative", set())
    assert _story("Network optimisation")[0].mode == "expert_led"
    assert _story("Claims process redesign")[0].mode == "client_led"
    assert "cadence_drop" in _story("Sustainability roadmap")[1]
    assert "feedback_decline" in _story("Patient experience")[1]
    assert "perception_gap" in _story("Supplier programme")[1]
    assert "milestone_slippage" in _story("Digital front door")[1]
    # Only the drifted relationship and the client-led one are transactional.
    titles = dict(Engagement.objects.values_list("pk", "title"))
    transactional = {titles[pk] for pk, s in latest_snapshots(engagement_ids=list(titles)).items()
                     if s.state == "transactional"}
    assert transactional == {"Brand positioning", "Claims process redesign"}
