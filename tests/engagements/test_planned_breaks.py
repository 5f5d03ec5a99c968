"""Planned breaks: a consultant marks a pause (holiday, budget freeze) so the engine expects no sessions then."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

import access
from engagements.models import Engagement, PlannedBreak
from engagements.services import engagement_close, planned_break_create, planned_break_delete
from tests import factories

JULY = dt.date(2026, 7, 1)


def _create(engagement, user, starts_on=JULY, days=21, **kwargs):
    return planned_break_create(engagement=engagement, user=user, starts_on=starts_on,
                                ends_on=starts_on + dt.timedelta(days=days - 1),
                                reason=kwargs.pop("reason", PlannedBreak.Reason.HOLIDAY), **kwargs)


def test_create_stores_the_break_with_its_author_and_history(engagement, consultant):
    planned = _create(engagement, consultant, note="  Summer holiday at the client  ")
    assert planned.days == 21 and planned.note == "Summer holiday at the client"
    assert planned.created_by == consultant
    assert list(engagement.planned_breaks.all()) == [planned]
    assert planned.history.get().history_user == consultant


def test_create_queues_a_rescore(engagement, consultant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _create(engagement, consultant)
    assert callbacks, "a rescore is queued once the break is saved"


@pytest.mark.parametrize(("starts_on", "days"), [(JULY - dt.timedelta(days=5), 10), (JULY + dt.timedelta(days=20), 3),
                                                 (JULY - dt.timedelta(days=30), 90)])
def test_an_overlapping_break_is_refused(engagement, consultant, starts_on, days):
    _create(engagement, consultant)
    with pytest.raises(ValidationError) as error:
        _create(engagement, consultant, starts_on=starts_on, days=days)
    assert "overlaps" in str(error.value)
    assert engagement.planned_breaks.count() == 1


def test_adjacent_breaks_and_breaks_of_other_engagements_are_fine(engagement, consultant):
    _create(engagement, consultant)
    _create(engagement, consultant, starts_on=JULY + dt.timedelta(days=21), days=5)
    _create(factories.EngagementFactory(lead=consultant), consultant)
    assert PlannedBreak.objects.count() == 3


def test_a_break_ending_before_it_starts_is_refused(engagement, consultant):
    with pytest.raises(ValidationError) as error:
        planned_break_create(engagement=engagement, user=consultant, starts_on=JULY,
                             ends_on=JULY - dt.timedelta(days=1), reason=PlannedBreak.Reason.HOLIDAY)
    assert "ends_on" in error.value.message_dict


def test_the_database_refuses_a_break_ending_before_it_starts(engagement):
    with pytest.raises(IntegrityError):
        PlannedBreak.objects.create(engagement=engagement, starts_on=JULY, ends_on=JULY - dt.timedelta(days=1))


def test_a_break_of_more_than_120_days_is_refused(engagement, consultant):
    _create(engagement, consultant, days=120)  # the longest allowed
    with pytest.raises(ValidationError) as error:
        _create(engagement, consultant, starts_on=JULY + dt.timedelta(days=200), days=121)
    assert "120" in str(error.value)


def test_unknown_reason_and_long_note_are_refused(engagement, consultant):
    with pytest.raises(ValidationError) as error:
        _create(engagement, consultant, reason="sabbatical", note="x" * 501)
    assert {"reason", "note"} <= set(error.value.message_dict)


def test_a_closed_engagement_takes_no_break(engagement, consultant):
    engagement_close(engagement=engagement, reason=Engagement.ClosureReason.COMPLETED, retrospective="Done well.")
    with pytest.raises(ValidationError) as error:
        _create(engagement, consultant)
    assert "closed" in str(error.value)
    assert not engagement.planned_breaks.exists()


def test_delete_removes_it_and_records_who(engagement, consultant):
    planned = _create(engagement, consultant)
    planned_break_delete(planned_break=planned, user=consultant)
    assert not PlannedBreak.objects.exists()
    assert PlannedBreak.history.filter(history_type="-").get().history_user == consultant


def test_scoped_like_sessions(engagement, consultant, other_consultant, manager, client_user):
    planned = _create(engagement, consultant)
    assert access.planned_breaks_for(consultant).filter(pk=planned.pk).exists()
    assert access.planned_breaks_for(manager).filter(pk=planned.pk).exists()
    assert not access.planned_breaks_for(other_consultant).exists()
    assert not access.planned_breaks_for(client_user).exists()
