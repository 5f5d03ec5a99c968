"""Closing an engagement resolves its live flags: a closed engagement is no longer scored, so they
would never wake or auto-resolve and would stay in the managers' queue for good."""

import datetime as dt
import importlib

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from engagements.models import Engagement
from engagements.services import engagement_close, engagement_update
from health.models import EngagementHealth, Flag, FlagEvent, HealthSnapshot
from health.services import flag_dismiss, flag_resolve, rescore_engagement, score_engagements
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LIVE_KINDS = ("cadence_drop", "one_sided", "sponsor_change")


@pytest.fixture
def flagged(engagement, manager):
    """The engagement scored, with an open, an acknowledged and a snoozed flag, and two a person closed."""
    factories.HealthSnapshotFactory(engagement=engagement)
    live = [factories.FlagFactory(engagement=engagement, kind=kind, status=status, snoozed_until=until)
            for kind, status, until in zip(LIVE_KINDS, ("open", "acknowledged", "snoozed"),
                                           (None, None, TODAY + dt.timedelta(days=30)), strict=True)]
    resolved = flag_resolve(flag=factories.FlagFactory(engagement=engagement, kind="perception_gap"), user=manager,
                            action_plan=Flag.ActionPlan.REPAIR, note="Calibrated our self-assessment")
    dismissed = flag_dismiss(flag=factories.FlagFactory(engagement=engagement, kind="milestone_slippage"),
                             user=manager, note="Dates moved by the client")
    return live, [resolved, dismissed]


def close(engagement, **kwargs):
    return engagement_close(engagement=engagement, reason=Engagement.ClosureReason.BUDGET,
                            retrospective="Good work, priorities changed.", **kwargs)


def test_closing_resolves_the_live_flags_with_a_note_and_an_event_each(engagement, consultant, flagged):
    live, _closed = flagged
    assert EngagementHealth.objects.get(engagement=engagement).live_flags == 3

    close(engagement, closed_by=consultant)

    note = "Resolved when the engagement was closed (Budget or priorities changed)."
    for flag in live:
        flag.refresh_from_db()
        assert (flag.status, flag.resolved_by, flag.resolution_note, flag.episode_ended_on) == (
            Flag.Status.RESOLVED, consultant, note, TODAY)
        assert flag.resolved_at is not None
        assert [(e.action, e.actor, e.note) for e in FlagEvent.objects.filter(flag=flag)] == [
            (FlagEvent.Action.RESOLVED, consultant, note)]
    health = EngagementHealth.objects.get(engagement=engagement)
    assert (health.live_flags, health.worst_flag_severity) == (0, None)


def test_flags_a_person_already_closed_are_left_alone(engagement, consultant, flagged):
    _live, closed = flagged
    before = [(model_to_dict(f), list(FlagEvent.objects.filter(flag=f))) for f in closed]

    close(engagement, closed_by=consultant)

    assert [(model_to_dict(Flag.objects.get(pk=f.pk)), list(FlagEvent.objects.filter(flag=f)))
            for f in closed] == before


def test_other_engagements_flags_stay_live(engagement, consultant, flagged):
    elsewhere = factories.FlagFactory()
    close(engagement, closed_by=consultant)
    elsewhere.refresh_from_db()
    assert elsewhere.status == Flag.Status.OPEN and not FlagEvent.objects.filter(flag=elsewhere).exists()


def test_without_a_known_closer_the_flags_are_resolved_by_nobody(engagement, flagged):
    live, _closed = flagged
    close(engagement)
    assert set(Flag.objects.filter(pk__in=[f.pk for f in live]).values_list("status", "resolved_by")) == {
        (Flag.Status.RESOLVED, None)}
    assert set(FlagEvent.objects.filter(flag__in=live).values_list("action", "actor")) == {
        (FlagEvent.Action.RESOLVED, None)}


def test_a_refused_close_leaves_the_flags_live(engagement, flagged):
    live, _closed = flagged
    with pytest.raises(ValidationError):
        engagement_close(engagement=engagement, reason=Engagement.ClosureReason.BUDGET, retrospective=" ")
    assert all(f.is_live for f in Flag.objects.filter(pk__in=[f.pk for f in live]))


def closing_cost(live_flags: int) -> int:
    engagement = factories.EngagementFactory()
    factories.HealthSnapshotFactory(engagement=engagement)
    for kind in Flag.Kind.values[:live_flags]:
        factories.FlagFactory(engagement=engagement, kind=kind)
    with CaptureQueriesContext(connection) as queries:
        close(engagement)
    assert Flag.objects.filter(engagement=engagement, status=Flag.Status.RESOLVED).count() == live_flags
    return len(queries)


def test_closing_costs_the_same_queries_whatever_the_number_of_flags():
    assert closing_cost(1) == closing_cost(len(Flag.Kind.values))


def test_closed_from_the_page_the_flags_leave_the_managers_queue(client, consultant, manager, engagement, flagged):
    live, _closed = flagged
    client.force_login(manager)
    queue = reverse("dashboard:flags")
    assert {f.pk for f in client.get(queue, {"status": "live"}).context["page"].object_list} == {f.pk for f in live}

    client.force_login(consultant)
    response = client.post(reverse("engagements:close", args=[engagement.pk]), {
        "closure_reason": "completed", "end": TODAY.isoformat(), "retrospective": "Objectives met together."})
    assert response.status_code == 302

    assert set(Flag.objects.filter(pk__in=[f.pk for f in live]).values_list("resolved_by", flat=True)) == {
        consultant.pk}
    client.force_login(manager)
    for status in ("attention", "snoozed", "live"):
        assert not client.get(queue, {"status": status}).context["page"].object_list


def test_closed_through_the_api_the_flags_are_resolved_by_the_caller(consultant, engagement, flagged):
    live, _closed = flagged
    api = APIClient()
    api.force_authenticate(consultant)
    response = api.post(reverse("api:engagement-close", kwargs={"pk": engagement.pk}),
                        {"closure_reason": "client_ended", "retrospective": "They moved on."}, format="json")
    assert response.status_code == 200
    assert set(Flag.objects.filter(pk__in=[f.pk for f in live]).values_list("status", "resolved_by",
                                                                             "resolution_note")) == {
        (Flag.Status.RESOLVED, consultant.pk, "Resolved when the engagement was closed (Ended by the client).")}


def test_a_rescore_after_closing_raises_no_flag_again(consultant):
    """The closing flow asks the client for final feedback; the answer queues a rescore."""
    engagement = factories.EngagementFactory(lead=consultant, start=TODAY - dt.timedelta(days=400))
    factories.SessionFactory(engagement=engagement, start=timezone.now() - dt.timedelta(days=100))
    score_engagements(engagement_ids=[engagement.pk], as_of=TODAY)
    assert Flag.objects.filter(engagement=engagement, status=Flag.Status.OPEN).exists()
    close(engagement, closed_by=consultant)
    resolved = list(Flag.objects.filter(engagement=engagement).values())

    rescore_engagement(engagement_id=engagement.pk)

    assert list(Flag.objects.filter(engagement=engagement).values()) == resolved


def test_a_nightly_chunk_that_picked_its_ids_before_the_close_raises_no_flag_again(consultant):
    engagement = factories.EngagementFactory(lead=consultant, start=TODAY - dt.timedelta(days=400))
    factories.SessionFactory(engagement=engagement, start=timezone.now() - dt.timedelta(days=100))
    score_engagements(engagement_ids=[engagement.pk], as_of=TODAY - dt.timedelta(days=1))
    close(engagement, closed_by=consultant)
    resolved = list(Flag.objects.filter(engagement=engagement).values())
    snapshots = HealthSnapshot.objects.filter(engagement=engagement).count()

    # The chunk's ids were chosen when the engagement was still active.
    result = score_engagements(engagement_ids=[engagement.pk], as_of=TODAY)

    assert result.snapshots == 0
    assert list(Flag.objects.filter(engagement=engagement).values()) == resolved
    assert HealthSnapshot.objects.filter(engagement=engagement).count() == snapshots


def test_closing_again_after_a_reopening_resolves_the_live_flags(engagement, consultant, flagged):
    close(engagement, closed_by=consultant)
    engagement_update(engagement=engagement, status=Engagement.Status.ACTIVE)  # reopened
    again = factories.FlagFactory(engagement=engagement, kind="one_sided")
    engagement_update(engagement=engagement, status=Engagement.Status.CLOSED)
    again.refresh_from_db()
    assert again.status == Flag.Status.RESOLVED and "closed" in again.resolution_note
    assert again.events.get().action == FlagEvent.Action.RESOLVED


def test_the_migration_resolves_the_live_flags_of_engagements_closed_before(consultant):
    from django.apps import apps

    migration = importlib.import_module("health.migrations.0008_resolve_flags_of_closed_engagements")
    closed = factories.EngagementFactory(lead=consultant, status=Engagement.Status.CLOSED, closure_reason="completed",
                                         closed_at=timezone.now() - dt.timedelta(days=3))
    active = factories.EngagementFactory(lead=consultant)
    stale = factories.FlagFactory(engagement=closed, kind="cadence_drop", status=Flag.Status.SNOOZED,
                                  snoozed_until=TODAY + dt.timedelta(days=5))
    kept = factories.FlagFactory(engagement=active, kind="cadence_drop")
    EngagementHealth.objects.create(engagement=closed, as_of=TODAY, live_flags=1, worst_flag_severity=1)

    migration.resolve(apps, None)

    stale.refresh_from_db()
    kept.refresh_from_db()
    assert stale.status == Flag.Status.RESOLVED and stale.resolved_at is not None
    assert stale.episode_ended_on == timezone.localdate(closed.closed_at)
    assert stale.events.get().action == FlagEvent.Action.RESOLVED
    assert kept.status == Flag.Status.OPEN and not kept.events.exists()
    assert EngagementHealth.objects.get(engagement=closed).live_flags == 0
