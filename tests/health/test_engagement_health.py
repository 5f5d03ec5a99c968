"""Each engagement's latest figures (EngagementHealth): written by scoring, kept by backfills, following flags."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from engagements.models import Session
from health.models import EngagementHealth, Flag, HealthSnapshot
from health.services import (
    engagement_health_refresh,
    flag_acknowledge,
    flag_dismiss,
    flag_resolve,
    flag_snooze,
    score_engagements,
)
from tests import factories
from tests.health.histories import at

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def ago(days):
    return TODAY - dt.timedelta(days=days)


@pytest.fixture
def scored(engagement):
    """An engagement with a few sessions, so scoring has something to score."""
    for days, focus in ((5, "strategy"), (20, "kpi_review"), (40, "advisory")):
        Session.objects.create(engagement=engagement, start=at(ago(days)), duration_minutes=60, focus=focus)
    return engagement


def latest(engagement):
    return EngagementHealth.objects.get(engagement=engagement)


def test_scoring_writes_the_latest_figures_with_the_snapshot(scored):
    factories.HealthSnapshotFactory(engagement=scored, date=ago(30), score=40)
    score_engagements(engagement_ids=[scored.pk], as_of=TODAY)
    snapshot = HealthSnapshot.objects.get(engagement=scored, date=TODAY)
    row = latest(scored)
    assert row.as_of == TODAY
    assert (row.score, row.mode, row.state, row.depth, row.balance, row.days_since_last_session) == (
        snapshot.score, snapshot.mode, snapshot.state, snapshot.depth, snapshot.balance,
        snapshot.days_since_last_session)
    assert row.score_change_30 == pytest.approx(snapshot.score - 40)
    assert row.score_change_90 is None  # no snapshot 90 days before


def test_a_backfill_of_past_dates_does_not_overwrite_newer_figures(scored):
    score_engagements(engagement_ids=[scored.pk], as_of=TODAY)
    before = latest(scored)
    Session.objects.create(engagement=scored, start=at(ago(100)), duration_minutes=600, focus="reporting")
    score_engagements(engagement_ids=[scored.pk], as_of=ago(60))
    after = latest(scored)
    assert HealthSnapshot.objects.get(engagement=scored, date=ago(60)).depth != before.depth
    assert (after.as_of, after.score, after.state, after.depth) == (TODAY, before.score, before.state, before.depth)


def test_scoring_a_later_date_moves_the_figures_forward(scored):
    score_engagements(engagement_ids=[scored.pk], as_of=ago(1))
    score_engagements(engagement_ids=[scored.pk], as_of=TODAY)
    assert latest(scored).as_of == TODAY


def test_a_rerun_of_the_same_date_writes_nothing(scored):
    score_engagements(engagement_ids=[scored.pk], as_of=TODAY)
    if connection.vendor == "postgresql":  # the row version tells whether the row was rewritten
        with connection.cursor() as cursor:
            cursor.execute("SELECT xmin::text FROM health_engagementhealth WHERE engagement_id = %s", [scored.pk])
            first = cursor.fetchone()[0]
        engagement_health_refresh(engagement_ids=[scored.pk], as_of=TODAY)
        with connection.cursor() as cursor:
            cursor.execute("SELECT xmin::text FROM health_engagementhealth WHERE engagement_id = %s", [scored.pk])
            assert cursor.fetchone()[0] == first


def test_the_live_flag_count_follows_what_people_do_with_flags(engagement, manager):
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY)
    low = factories.FlagFactory(engagement=engagement, kind="perception_gap", severity="low")
    medium = factories.FlagFactory(engagement=engagement, kind="cadence_drop", severity="medium")
    high = factories.FlagFactory(engagement=engagement, kind="sponsor_change", severity="high")
    assert (latest(engagement).live_flags, latest(engagement).worst_flag_severity) == (3, 0)

    flag_acknowledge(flag=low, user=manager)
    flag_snooze(flag=medium, user=manager, until=TODAY + dt.timedelta(days=7), reason="After the board meeting")
    assert latest(engagement).live_flags == 3  # still live

    flag_resolve(flag=high, user=manager, action_plan=Flag.ActionPlan.REPAIR, note="Meet the new sponsor")
    assert (latest(engagement).live_flags, latest(engagement).worst_flag_severity) == (2, 1)
    flag_dismiss(flag=medium, user=manager)
    flag_dismiss(flag=low, user=manager)
    assert (latest(engagement).live_flags, latest(engagement).worst_flag_severity) == (0, None)


def test_scoring_counts_the_flags_it_raises_and_resolves(engagement):
    # Nothing for months: cadence drop raised by the run, counted in the same batch.
    Session.objects.create(engagement=engagement, start=at(ago(200)), duration_minutes=60, focus="strategy")
    score_engagements(engagement_ids=[engagement.pk], as_of=TODAY)
    live = Flag.objects.filter(engagement=engagement, status__in=Flag.LIVE_STATUSES).count()
    assert live >= 1
    assert latest(engagement).live_flags == live


def test_filling_from_history_takes_each_engagements_newest_snapshot(engagement):
    other = factories.EngagementFactory()
    HealthSnapshot.objects.bulk_create([
        HealthSnapshot(engagement=engagement, date=ago(90), score=50, algorithm_version=1),
        HealthSnapshot(engagement=engagement, date=ago(3), score=65, algorithm_version=1),
        HealthSnapshot(engagement=engagement, date=ago(33), score=60, algorithm_version=1),
        HealthSnapshot(engagement=other, date=ago(1), score=80, algorithm_version=1),
    ])
    engagement_health_refresh()
    row = latest(engagement)
    assert (row.as_of, row.score, row.score_change_30, row.score_change_90) == (ago(3), 65, 5, None)
    assert latest(other).as_of == ago(1)


def test_the_watch_level_is_copied_with_its_count(engagement):
    item = {"kind": "drift_to_transactional", "since": ago(3).isoformat(), "evidence": {"readouts": 2}}
    HealthSnapshot.objects.create(engagement=engagement, date=ago(1), score=70,
                                  watch=[item, {**item, "kind": "one_sided"}], algorithm_version=2)
    engagement_health_refresh()
    assert (latest(engagement).watch, latest(engagement).watch_count) == ([item, {**item, "kind": "one_sided"}], 2)
    HealthSnapshot.objects.create(engagement=engagement, date=TODAY, score=72, algorithm_version=2)
    engagement_health_refresh(engagement_ids=[engagement.pk], as_of=TODAY)
    assert (latest(engagement).watch, latest(engagement).watch_count) == ([], 0)
