"""What the health engine does to a flag leaves a line in its history too: a snoozed flag it wakes
gets a Reopened event, a flag it resolves a Resolved automatically event, both with no actor, and
only for the flags its conditional update really changed."""


import pytest
from django.utils import timezone

from health import services
from health.models import Flag, FlagEvent
from health.services import flag_dismiss, flag_resolve, flag_snooze, score_engagements
from tests import factories
from tests.health import histories
from tests.health.histories import at
from tests.health.histories import from_today as day
from tests.health.histories import only_flag as the_flag
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


def history(flag):
    return [(e.action, e.actor, e.note) for e in FlagEvent.objects.filter(flag=flag)]


def meet(engagement, offset: int):
    factories.SessionFactory(engagement=engagement, start=at(day(offset)))


def test_a_snoozed_flag_woken_by_the_engine_gets_a_reopened_event_with_no_actor(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag_snooze(flag=the_flag(quiet_engagement), user=manager, until=day(5), reason="Budget round")
    score(quiet_engagement, 4)
    assert [action for action, _actor, _note in history(the_flag(quiet_engagement))] == [FlagEvent.Action.SNOOZED]

    score(quiet_engagement, 5)

    flag = the_flag(quiet_engagement)
    assert flag.status == Flag.Status.OPEN
    snoozed, reopened = FlagEvent.objects.filter(flag=flag)
    assert (reopened.action, reopened.actor, reopened.note) == (FlagEvent.Action.REOPENED, None, "")
    assert reopened.created_at >= snoozed.created_at


def test_an_auto_resolved_flag_gets_an_auto_resolved_event_and_keeps_its_note(quiet_engagement):
    score(quiet_engagement, 0)
    meet(quiet_engagement, 1)

    assert score(quiet_engagement, 2).flags_resolved == 1

    flag = the_flag(quiet_engagement)
    assert flag.status == Flag.Status.RESOLVED and flag.episode_ended_on == day(2)
    assert flag.resolution_note == f"Resolved automatically: the condition no longer held on {day(2).isoformat()}."
    [event] = FlagEvent.objects.filter(flag=flag)
    assert (event.action, event.actor, event.note) == (FlagEvent.Action.AUTO_RESOLVED, None, "")
    # Written in the same step as the flag: the same instant.
    assert event.created_at == flag.resolved_at


def test_a_snoozed_flag_whose_condition_stopped_is_auto_resolved_not_reopened(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag_snooze(flag=the_flag(quiet_engagement), user=manager, until=day(3), reason="Holiday season")
    meet(quiet_engagement, 1)
    score(quiet_engagement, 3)

    assert [action for action, _actor, _note in history(the_flag(quiet_engagement))] == [
        FlagEvent.Action.SNOOZED, FlagEvent.Action.AUTO_RESOLVED]


def test_rerunning_the_same_date_adds_no_event(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag_snooze(flag=the_flag(quiet_engagement), user=manager, until=day(5), reason="Budget round")
    score(quiet_engagement, 5)
    woken = history(the_flag(quiet_engagement))
    score(quiet_engagement, 5)
    assert history(the_flag(quiet_engagement)) == woken

    meet(quiet_engagement, 6)
    score(quiet_engagement, 7)
    resolved = history(the_flag(quiet_engagement))
    assert score(quiet_engagement, 7).flags_resolved == 0
    assert history(the_flag(quiet_engagement)) == resolved
    assert [action for action, _actor, _note in resolved] == [
        FlagEvent.Action.SNOOZED, FlagEvent.Action.REOPENED, FlagEvent.Action.AUTO_RESOLVED]


@pytest.fixture
def person_acts_after_the_engine_reads(monkeypatch):
    """Run ``act(flag_ids)`` right after the engine read the flags and before it writes: a person
    closing a flag in between, as a manager clicking during the nightly run would."""
    def install(act):
        read = services.selectors.flags_for_lifecycle

        def read_then_act(**kwargs):
            stored = read(**kwargs)
            act([flag.id for flag in stored])
            return stored
        monkeypatch.setattr(services.selectors, "flags_for_lifecycle", read_then_act)
    return install


def test_a_flag_a_person_resolved_after_the_engine_read_it_gets_no_engine_event(
        quiet_engagement, manager, person_acts_after_the_engine_reads):
    score(quiet_engagement, 0)
    meet(quiet_engagement, 1)
    person_acts_after_the_engine_reads(lambda ids: flag_resolve(
        flag=Flag.objects.get(pk=ids[0]), user=manager, action_plan=Flag.ActionPlan.REPAIR, note="Steering set up"))

    assert score(quiet_engagement, 2).flags_resolved == 0

    flag = the_flag(quiet_engagement)
    assert (flag.status, flag.resolved_by, flag.resolution_note) == (Flag.Status.RESOLVED, manager, "Steering set up")
    assert history(flag) == [(FlagEvent.Action.RESOLVED, manager, "Steering set up")]


def test_a_snoozed_flag_a_person_dismissed_after_the_engine_read_it_is_not_woken(
        quiet_engagement, manager, person_acts_after_the_engine_reads):
    score(quiet_engagement, 0)
    flag_snooze(flag=the_flag(quiet_engagement), user=manager, until=day(5), reason="Budget round")
    person_acts_after_the_engine_reads(lambda ids: flag_dismiss(flag=Flag.objects.get(pk=ids[0]), user=manager,
                                                                note="Agreed pause"))

    score(quiet_engagement, 5)

    flag = the_flag(quiet_engagement)
    assert flag.status == Flag.Status.DISMISSED
    assert [action for action, _actor, _note in history(flag)] == [FlagEvent.Action.SNOOZED,
                                                                  FlagEvent.Action.DISMISSED]


def test_only_the_flags_the_update_changed_get_an_event(consultant, manager, person_acts_after_the_engine_reads):
    """Two engagements in one batch; a person resolves one of the two flags meanwhile."""
    engagements = [factories.EngagementFactory(lead=consultant, start=day(-400)) for _ in range(2)]
    for engagement in engagements:
        factories.SessionFactory(engagement=engagement, start=at(day(-100)))
    ids = [e.pk for e in engagements]
    score_engagements(engagement_ids=ids, as_of=TODAY)
    for engagement in engagements:
        meet(engagement, 1)
    person_acts_after_the_engine_reads(lambda flag_ids: flag_resolve(
        flag=Flag.objects.get(pk=min(flag_ids)), user=manager, action_plan=Flag.ActionPlan.END, note="Wrapping up"))

    assert score_engagements(engagement_ids=ids, as_of=day(2)).flags_resolved == 1

    by_person, by_engine = Flag.objects.filter(engagement__in=engagements).order_by("id")
    assert [e.action for e in FlagEvent.objects.filter(flag=by_person)] == [FlagEvent.Action.RESOLVED]
    assert [(e.action, e.actor) for e in FlagEvent.objects.filter(flag=by_engine)] == [
        (FlagEvent.Action.AUTO_RESOLVED, None)]
