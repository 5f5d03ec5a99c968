import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagements.models import Engagement, Milestone, Session, Side
from engagements.services import (
    EditConflict,
    engagement_close,
    engagement_create,
    kpi_measurement_record,
    milestone_approve,
    milestone_comment_add,
    milestone_create,
    milestone_propose,
    milestone_reorder,
    milestone_set_status,
    milestone_update,
    session_log,
    session_update,
)
from tests import factories

pytestmark = pytest.mark.django_db


def _log(engagement, user, **overrides):
    fields = {"start": timezone.now(), "duration_minutes": 60, "focus": Session.Focus.STRATEGY}
    fields.update(overrides)
    return session_log(engagement=engagement, logged_by=user, **fields)


def test_logging_a_session_records_attendees_and_the_consultant(engagement, consultant):
    sponsor = factories.ContactFactory(client=engagement.client)
    session = _log(engagement, consultant, client_attendees=[sponsor], advice_requested=True)
    assert list(session.client_attendees.all()) == [sponsor]
    assert list(session.consultants.all()) == [consultant]
    assert session.logged_by == consultant


def test_a_session_with_a_negative_or_zero_duration_is_refused(engagement, consultant):
    for duration in (-30, 0):
        with pytest.raises(ValidationError) as error:
            _log(engagement, consultant, duration_minutes=duration)
        assert "duration_minutes" in error.value.message_dict
    assert not Session.objects.exists()


def test_attendees_from_another_client_are_refused_and_nothing_is_saved(engagement, consultant):
    stranger = factories.ContactFactory()
    with pytest.raises(ValidationError) as error:
        _log(engagement, consultant, client_attendees=[stranger])
    assert "client_attendees" in error.value.message_dict
    assert not Session.objects.exists()


def test_a_stale_session_edit_is_a_conflict(engagement, consultant):
    session = _log(engagement, consultant)
    stale_version = session.version
    session_update(session=session, version=stale_version, next_steps="Send the deck")
    with pytest.raises(EditConflict) as conflict:
        session_update(session=Session.objects.get(pk=session.pk), version=stale_version, next_steps="Other")
    assert conflict.value.current.next_steps == "Send the deck"


def test_a_milestone_due_before_the_engagement_starts_is_refused(engagement, consultant):
    with pytest.raises(ValidationError) as error:
        milestone_create(engagement=engagement, created_by=consultant, title="Too early",
                         due_date=engagement.start - dt.timedelta(days=1))
    assert "due_date" in error.value.message_dict


def test_moving_a_milestone_to_done_records_when_and_back_clears_it(engagement, consultant):
    milestone = milestone_create(engagement=engagement, created_by=consultant, title="Pilot")
    milestone_set_status(milestone=milestone, status=Milestone.Status.DONE)
    assert milestone.completed_at is not None
    milestone_set_status(milestone=milestone, status=Milestone.Status.IN_PROGRESS)
    milestone.refresh_from_db()
    assert milestone.completed_at is None and milestone.status == Milestone.Status.IN_PROGRESS


def test_a_second_editor_with_a_stale_version_gets_a_conflict_and_the_first_edit_stays(engagement, consultant):
    milestone = milestone_create(engagement=engagement, created_by=consultant, title="Roadmap")
    alice_copy = Milestone.objects.get(pk=milestone.pk)
    bob_copy = Milestone.objects.get(pk=milestone.pk)
    milestone_update(milestone=alice_copy, version=alice_copy.version, title="Roadmap v2")
    with pytest.raises(EditConflict) as conflict:
        milestone_update(milestone=bob_copy, version=bob_copy.version, title="Roadmap (Bob)")
    assert conflict.value.current.title == "Roadmap v2"
    assert Milestone.objects.get(pk=milestone.pk).title == "Roadmap v2"


def test_milestones_are_added_at_the_end_and_can_be_reordered(engagement, consultant):
    first = milestone_create(engagement=engagement, created_by=consultant, title="First")
    second = milestone_create(engagement=engagement, created_by=consultant, title="Second")
    assert second.position > first.position
    milestone_reorder(engagement=engagement, milestone_ids=[second.pk, first.pk])
    assert list(engagement.milestones.order_by("position").values_list("title", flat=True)) == ["Second", "First"]


def test_reordering_refuses_milestones_of_another_engagement(engagement, consultant):
    mine = milestone_create(engagement=engagement, created_by=consultant, title="Mine")
    other = factories.MilestoneFactory()
    with pytest.raises(ValidationError):
        milestone_reorder(engagement=engagement, milestone_ids=[mine.pk, other.pk])


def test_a_client_proposes_and_approves_once_asked_as_the_client_side(engagement, client_user):
    proposal = milestone_propose(engagement=engagement, proposed_by=client_user, title="Add a store pilot")
    assert proposal.status == Milestone.Status.PROPOSED
    assert proposal.proposed_by == Side.CLIENT and proposal.shared_with_client
    with pytest.raises(ValidationError, match="not awaiting your approval"):
        milestone_approve(milestone=proposal, approved_by=client_user)  # their own proposal: the team agrees it

    proposal = milestone_update(milestone=proposal, approval_requested=True)
    milestone_approve(milestone=proposal, approved_by=client_user)
    proposal.refresh_from_db()
    assert proposal.approved_at is not None and proposal.approved_by == client_user.contact
    assert proposal.status == Milestone.Status.AGREED and not proposal.approval_requested


def test_a_client_of_another_company_cannot_propose_or_approve(engagement, other_client_user):
    with pytest.raises(ValidationError):
        milestone_propose(engagement=engagement, proposed_by=other_client_user, title="Sneaky")
    milestone = factories.MilestoneFactory(engagement=engagement, approval_requested=True)
    with pytest.raises(ValidationError):
        milestone_approve(milestone=milestone, approved_by=other_client_user)


def test_comment_side_follows_the_author(engagement, consultant, client_user):
    milestone = factories.MilestoneFactory(engagement=engagement)
    assert milestone_comment_add(milestone=milestone, author=client_user, text="Looks right").side == Side.CLIENT
    assert milestone_comment_add(milestone=milestone, author=consultant, text="Thanks").side == Side.CONSULTANT


def test_an_empty_or_oversized_comment_is_refused(engagement, consultant):
    milestone = factories.MilestoneFactory(engagement=engagement)
    with pytest.raises(ValidationError):
        milestone_comment_add(milestone=milestone, author=consultant, text="   ")
    with pytest.raises(ValidationError):
        milestone_comment_add(milestone=milestone, author=consultant, text="x" * 5001)
    assert not milestone.comments.exists()


def test_recording_a_kpi_value_twice_on_a_date_corrects_it():
    kpi = factories.KPIFactory()
    day = dt.date(2026, 10, 1)
    kpi_measurement_record(kpi=kpi, date=day, value=Decimal("10"))
    kpi_measurement_record(kpi=kpi, date=day, value=Decimal("12.5"))
    assert list(kpi.measurements.values_list("value", flat=True)) == [Decimal("12.5")]


def test_an_engagement_cannot_end_before_it_starts(consultant):
    client = factories.ClientFactory()
    with pytest.raises(ValidationError) as error:
        engagement_create(client=client, title="Backwards", lead=consultant, start=dt.date(2026, 5, 1),
                          end=dt.date(2026, 4, 1))
    assert "The end date cannot be before the start date." in str(error.value)
    assert not Engagement.objects.exists()


def test_the_lead_is_always_on_the_team(consultant, other_consultant):
    engagement = engagement_create(client=factories.ClientFactory(), title="X", lead=consultant,
                                   start=dt.date(2026, 1, 1), team=[other_consultant])
    assert set(engagement.team.all()) == {consultant, other_consultant}


def test_closing_an_engagement_well_needs_a_reason_and_a_retrospective(engagement):
    with pytest.raises(ValidationError) as error:
        engagement_close(engagement=engagement, reason="", retrospective="")
    assert {"closure_reason", "retrospective"} <= set(error.value.message_dict)
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE

    engagement_close(engagement=engagement, reason=Engagement.ClosureReason.COMPLETED,
                     handover_notes="Runbook handed to ops", retrospective="Joint workshops worked.")
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.CLOSED and engagement.closed_at is not None
    assert engagement.end == timezone.localdate()
