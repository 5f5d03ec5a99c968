"""Every person's action on a flag leaves a line in its history (FlagEvent), with who and what."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from health.models import Flag, FlagEvent
from health.services import (
    flag_acknowledge,
    flag_assign,
    flag_dismiss,
    flag_note_add,
    flag_resolve,
    flag_snooze,
)
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(engagement):
    return factories.FlagFactory(engagement=engagement)


def history(flag):
    return [(e.action, e.actor, e.note) for e in FlagEvent.objects.filter(flag=flag)]


def test_acknowledging_records_who_did_it(flag, consultant):
    flag_acknowledge(flag=flag, user=consultant)
    assert history(flag) == [(FlagEvent.Action.ACKNOWLEDGED, consultant, "")]


def test_a_note_is_added_without_changing_the_status(flag, consultant):
    event = flag_note_add(flag=flag, user=consultant, text="  Called the new CMO, meeting next week.  ")
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert event.note == "Called the new CMO, meeting next week."
    assert history(flag) == [(FlagEvent.Action.NOTE, consultant, "Called the new CMO, meeting next week.")]


def test_an_empty_note_is_refused(flag, consultant):
    with pytest.raises(ValidationError) as error:
        flag_note_add(flag=flag, user=consultant, text="   ")
    assert "note" in error.value.message_dict
    assert history(flag) == []


def test_snooze_assign_and_resolve_are_kept_in_order(flag, manager, other_consultant):
    until = timezone.localdate() + dt.timedelta(days=10)
    flag_snooze(flag=flag, user=manager, until=until, reason="Budget round")
    flag_assign(flag=flag, owner=other_consultant, user=manager)
    flag_resolve(flag=flag, user=manager, action_plan=Flag.ActionPlan.REPAIR, note="Monthly strategy review by June")
    actions = [action for action, _actor, _note in history(flag)]
    assert actions == [FlagEvent.Action.SNOOZED, FlagEvent.Action.ASSIGNED, FlagEvent.Action.RESOLVED]
    snoozed, assigned, resolved = history(flag)
    assert snoozed[2] == "Budget round"
    assert flag.events.get(action=FlagEvent.Action.SNOOZED).until == until  # the date, for any reader's language
    assert assigned[1] == manager and assigned[2] == str(other_consultant)
    assert resolved[2] == "Monthly strategy review by June"


def test_dismissing_records_the_note(flag, manager):
    flag_dismiss(flag=flag, user=manager, note="Agreed pause")
    assert history(flag) == [(FlagEvent.Action.DISMISSED, manager, "Agreed pause")]


def test_a_refused_transition_leaves_no_event(flag, manager):
    flag_dismiss(flag=flag, user=manager)
    with pytest.raises(ValidationError):
        flag_acknowledge(flag=flag, user=manager)
    assert [action for action, _actor, _note in history(flag)] == [FlagEvent.Action.DISMISSED]


def test_assigning_without_saying_who_still_records_the_event(flag, other_consultant):
    flag_assign(flag=flag, owner=other_consultant)
    assert history(flag) == [(FlagEvent.Action.ASSIGNED, None, str(other_consultant))]
