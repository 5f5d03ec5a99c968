"""The flag lifecycle: idempotent reruns, auto-resolution, snoozes, dismissed episodes, people's actions."""


import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from health.models import Flag, HealthSnapshot
from health.services import (
    flag_acknowledge,
    flag_assign,
    flag_dismiss,
    flag_resolve,
    flag_snooze,
)
from tests import factories
from tests.health import histories
from tests.health.histories import at
from tests.health.histories import from_today as day
from tests.health.histories import score_on as score

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_minimum_episode(settings):
    """These tests follow the lifecycle day by day; the minimum episode has its own test (test_rules.py)."""
    settings.HEALTH = {**settings.HEALTH, "MIN_EPISODE_DAYS": 0}

TODAY = timezone.localdate()


@pytest.fixture
def quiet_engagement(consultant):
    return histories.quiet_engagement(lead=consultant)


def flags(engagement):
    return list(Flag.objects.filter(engagement=engagement).order_by("id"))


def meet(engagement, offset: int):
    factories.SessionFactory(engagement=engagement, start=at(day(offset)))


def test_condition_raises_a_flag_with_its_evidence(quiet_engagement):
    score(quiet_engagement, 0)

    [flag] = flags(quiet_engagement)
    assert (flag.kind, flag.severity, flag.status) == (Flag.Kind.CADENCE_DROP, Flag.Severity.MEDIUM, Flag.Status.OPEN)
    assert flag.raised_on == flag.episode_start == flag.last_seen_on == TODAY
    assert flag.evidence["days_without_session"] == 100
    assert flag.evidence["last_session_on"] == day(-100).isoformat()
    assert flag.evidence["window"] == [day(-89).isoformat(), TODAY.isoformat()]


def test_rerunning_the_same_date_changes_nothing(quiet_engagement, manager):
    score(quiet_engagement, -1)
    flag_acknowledge(flag=flags(quiet_engagement)[0], user=manager)
    score(quiet_engagement, 0)
    snapshots = [model_to_dict(s) for s in HealthSnapshot.objects.order_by("id")]
    stored = [model_to_dict(f) | {"created_at": f.created_at} for f in flags(quiet_engagement)]

    score(quiet_engagement, 0)

    assert [model_to_dict(s) for s in HealthSnapshot.objects.order_by("id")] == snapshots
    assert [model_to_dict(f) | {"created_at": f.created_at} for f in flags(quiet_engagement)] == stored


def test_flag_is_kept_and_marked_seen_while_its_condition_holds(quiet_engagement):
    score(quiet_engagement, 0)
    score(quiet_engagement, 3)

    [flag] = flags(quiet_engagement)
    assert (flag.status, flag.raised_on, flag.last_seen_on) == (Flag.Status.OPEN, TODAY, day(3))


def test_flag_is_resolved_automatically_when_its_condition_stops(quiet_engagement):
    score(quiet_engagement, 0)
    meet(quiet_engagement, 1)
    score(quiet_engagement, 2)

    [flag] = flags(quiet_engagement)
    assert flag.status == Flag.Status.RESOLVED
    assert flag.episode_ended_on == day(2)
    assert flag.resolved_at is not None
    assert day(2).isoformat() in flag.resolution_note


def test_snoozed_flag_stays_quiet_until_its_date_then_opens_again(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag_snooze(flag=flags(quiet_engagement)[0], user=manager, until=day(5), reason="Waiting for the budget round")

    for offset in range(1, 5):
        score(quiet_engagement, offset)
    assert [f.status for f in flags(quiet_engagement)] == [Flag.Status.SNOOZED]

    score(quiet_engagement, 5)
    [flag] = flags(quiet_engagement)
    assert flag.status == Flag.Status.OPEN
    assert flag.raised_on == TODAY


def test_snoozed_flag_whose_condition_stops_is_resolved(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag_snooze(flag=flags(quiet_engagement)[0], user=manager, until=day(30), reason="Holiday season")
    meet(quiet_engagement, 1)
    score(quiet_engagement, 1)

    assert [f.status for f in flags(quiet_engagement)] == [Flag.Status.RESOLVED]


def test_dismissed_flag_is_not_raised_again_in_the_same_episode_but_is_in_the_next(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag_dismiss(flag=flags(quiet_engagement)[0], user=manager, note="Client on sabbatical, agreed pause")

    score(quiet_engagement, 1)
    score(quiet_engagement, 2)
    [dismissed] = flags(quiet_engagement)
    assert (dismissed.status, dismissed.last_seen_on, dismissed.episode_ended_on) == (
        Flag.Status.DISMISSED, day(2), None)

    meet(quiet_engagement, 3)
    score(quiet_engagement, 3)  # the episode ends
    score(quiet_engagement, 3 + 29)  # 29 days without a session: a new episode

    dismissed, new = flags(quiet_engagement)
    assert (dismissed.status, dismissed.episode_ended_on) == (Flag.Status.DISMISSED, day(3))
    assert (new.status, new.raised_on, new.evidence["days_without_session"]) == (Flag.Status.OPEN, day(32), 29)


def test_flag_resolved_by_a_person_stays_quiet_while_the_condition_holds(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag_resolve(flag=flags(quiet_engagement)[0], user=manager, action_plan=Flag.ActionPlan.REPAIR,
                 note="Lunch with the sponsor booked; monthly steering set up.")
    score(quiet_engagement, 1)

    [flag] = flags(quiet_engagement)
    assert (flag.status, flag.action_plan, flag.resolved_by) == (Flag.Status.RESOLVED, "repair", manager)


def test_replaying_an_older_date_leaves_newer_flags_alone(quiet_engagement):
    score(quiet_engagement, 5)
    score(quiet_engagement, 0)

    [flag] = flags(quiet_engagement)
    assert (flag.raised_on, flag.last_seen_on, flag.status) == (day(5), day(5), Flag.Status.OPEN)
    assert HealthSnapshot.objects.filter(engagement=quiet_engagement).count() == 2


def test_database_keeps_one_live_flag_per_engagement_and_kind(quiet_engagement):
    score(quiet_engagement, 0)
    [flag] = flags(quiet_engagement)
    duplicate = {"engagement": quiet_engagement, "kind": flag.kind, "severity": flag.severity,
                 "raised_on": TODAY, "episode_start": TODAY, "last_seen_on": TODAY}

    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(**duplicate, status=Flag.Status.SNOOZED, snoozed_until=day(3))
    # Closed flags of the same kind are history and may pile up.
    Flag.objects.create(**duplicate, status=Flag.Status.DISMISSED, resolved_at=timezone.now())
    assert Flag.objects.filter(engagement=quiet_engagement).count() == 2


def test_acknowledging_takes_ownership(quiet_engagement, consultant):
    score(quiet_engagement, 0)
    flag = flag_acknowledge(flag=flags(quiet_engagement)[0], user=consultant)

    flag.refresh_from_db()
    assert (flag.status, flag.owner) == (Flag.Status.ACKNOWLEDGED, consultant)
    assert flag.acknowledged_at is not None


def test_closed_flag_cannot_be_acknowledged_or_snoozed(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag = flag_dismiss(flag=flags(quiet_engagement)[0], user=manager)

    with pytest.raises(ValidationError, match="dismissed"):
        flag_acknowledge(flag=flag, user=manager)
    with pytest.raises(ValidationError):
        flag_snooze(flag=flag, user=manager, until=day(3), reason="Later")


def test_snooze_needs_a_future_date_and_a_reason(quiet_engagement, manager):
    score(quiet_engagement, 0)
    [flag] = flags(quiet_engagement)

    with pytest.raises(ValidationError) as error:
        flag_snooze(flag=flag, user=manager, until=TODAY, reason=" ")
    assert set(error.value.message_dict) == {"snoozed_until", "snooze_reason"}
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN


def test_resolve_needs_an_action_plan_and_a_note(quiet_engagement, manager):
    score(quiet_engagement, 0)
    [flag] = flags(quiet_engagement)

    with pytest.raises(ValidationError) as error:
        flag_resolve(flag=flag, user=manager, action_plan="ignore", note="")
    assert set(error.value.message_dict) == {"action_plan", "resolution_note"}

    flag_resolve(flag=flag, user=manager, action_plan=Flag.ActionPlan.END, note="Hand over to the in-house team.")
    flag.refresh_from_db()
    assert (flag.status, flag.action_plan) == (Flag.Status.RESOLVED, Flag.ActionPlan.END)


def test_flags_are_assigned_to_firm_staff_only(quiet_engagement, other_consultant, client_user):
    score(quiet_engagement, 0)
    [flag] = flags(quiet_engagement)

    with pytest.raises(ValidationError):
        flag_assign(flag=flag, owner=client_user)
    flag_assign(flag=flag, owner=other_consultant)
    flag.refresh_from_db()
    assert flag.owner == other_consultant
