"""Importing a calendar into meetings to confirm: matching, series, time zones, changes, cancellations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from calendars import services
from calendars.models import CalendarMeeting
from engagements.models import Session
from health.models import HealthSnapshot
from health.services import score_engagements
from tests import factories
from tests.calendars.conftest import NOW, ics

pytestmark = pytest.mark.django_db

State = CalendarMeeting.State
UTC = dt.UTC


def meetings(owner, **filters):
    return {(m.uid, m.start): m for m in CalendarMeeting.objects.filter(owner=owner, **filters)}


def at(*args):
    return dt.datetime(*args, tzinfo=UTC)


def test_first_import_finds_the_client_meetings_of_the_window(firm):
    summary = services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)

    found = meetings(firm.consultant)
    weekly = sorted(start for uid, start in found if uid == "weekly-steering@rapport.test")
    # Ten Tuesdays at 10:00 Paris time less the EXDATE of 20 January; the 3 February one moved to
    # Wednesday 15:00 (its identity is still the series' 3 February).
    assert weekly == [at(2026, 1, 6, 9), at(2026, 1, 13, 9), at(2026, 1, 27, 9), at(2026, 2, 4, 14),
                      at(2026, 2, 10, 9), at(2026, 2, 17, 9), at(2026, 2, 24, 9), at(2026, 3, 3, 9),
                      at(2026, 3, 10, 9)]
    moved = found[("weekly-steering@rapport.test", at(2026, 2, 4, 14))]
    assert (moved.recurrence_key, moved.duration_minutes) == ("20260203T090000Z", 90)
    # Windows time zone as Outlook writes it: Romance Standard Time is Paris, winter: UTC+1.
    atelier = found[("atelier-mars@rapport.test", at(2026, 3, 5, 13))]
    assert atelier.duration_minutes == 180
    # A floating time is read in the site's time zone (UTC in tests).
    assert ("floating-review@rapport.test", at(2026, 3, 2, 9)) in found
    # Internal-only, all-day, declined and older-than-180-days events do not become meetings.
    uids = {uid for uid, _start in found}
    assert not uids & {"internal-only@rapport.test", "offsite-all-day@rapport.test", "declined@rapport.test",
                       "too-old@rapport.test"}
    assert "next-month@rapport.test" in uids  # within the next 30 days
    assert (summary.matched, summary.created, summary.skipped_all_day, summary.skipped_declined) == (16, 16, 1, 1)
    assert all(m.state == State.WAITING for m in found.values())


def test_matching_uses_contacts_then_registered_domains_and_dates_to_pick_the_engagement(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    found = meetings(firm.consultant)

    qbr = found[("qbr-february@rapport.test", at(2026, 2, 12, 13))]
    # Before Acme pricing started only Acme strategy fits: chosen for the consultant.
    assert qbr.engagement == firm.acme_strategy
    assert list(qbr.contacts.all()) == [firm.sam]           # e-mail matched without regard to case
    assert list(qbr.consultants.all()) == [firm.colleague]  # a colleague attending
    assert (qbr.suggested_focus, qbr.suggested_channel) == ("kpi_review", "video")

    # After 1 March both Acme engagements fit: the consultant picks.
    lunch = found[("lunch-to-delete@rapport.test", at(2026, 3, 10, 11))]
    assert lunch.engagement is None
    assert set(lunch.candidate_engagements.all()) == {firm.acme_strategy, firm.acme_pricing}

    # Nobody from Acme's contacts, but an address at its registered domain.
    call = found[("call-to-cancel@rapport.test", at(2026, 3, 16, 8))]
    assert call.engagement is None and list(call.contacts.all()) == []
    kickoff = found[("initech-kickoff@rapport.test", at(2026, 3, 17, 9))]
    assert kickoff.engagement == firm.initech

    atelier = found[("atelier-mars@rapport.test", at(2026, 3, 5, 13))]
    assert (atelier.suggested_focus, atelier.suggested_channel) == ("positioning", "workshop")


def test_reimporting_the_same_file_creates_nothing_twice(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    before = list(CalendarMeeting.objects.order_by("pk").values_list("pk", "start", "updated_at"))

    summary = services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 16)
    assert list(CalendarMeeting.objects.order_by("pk").values_list("pk", "start", "updated_at")) == before


def test_changes_follow_waiting_meetings_and_cancellations_remove_them(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)

    summary = services.calendar_import(owner=firm.consultant, data=ics("own/series_v2.ics"), now=NOW)

    qbr = CalendarMeeting.objects.get(uid="qbr-february@rapport.test")
    assert (qbr.start, qbr.duration_minutes, qbr.state) == (at(2026, 2, 12, 14), 90, State.WAITING)
    assert CalendarMeeting.objects.get(uid="call-to-cancel@rapport.test").state == State.CANCELLED
    cancelled_occurrence = CalendarMeeting.objects.get(uid="weekly-steering@rapport.test", start=at(2026, 3, 3, 9))
    assert cancelled_occurrence.state == State.CANCELLED
    # An uploaded file may be a partial export: a meeting missing from it is left as it was.
    assert CalendarMeeting.objects.get(uid="lunch-to-delete@rapport.test").state == State.WAITING
    assert CalendarMeeting.objects.get(uid="new-reporting@rapport.test").suggested_focus == "reporting"
    assert (summary.created, summary.updated, summary.cancelled) == (1, 1, 2)


def test_a_confirmed_session_is_never_changed_or_deleted_silently(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    qbr = CalendarMeeting.objects.get(uid="qbr-february@rapport.test")
    occurrence = CalendarMeeting.objects.get(uid="weekly-steering@rapport.test", start=at(2026, 3, 3, 9))
    qbr_session = services.meeting_confirm(meeting=qbr, user=firm.consultant, focus="kpi_review", now=NOW)
    steering = services.meeting_confirm(meeting=occurrence, user=firm.consultant, focus="strategy",
                                        engagement=firm.acme_pricing, now=NOW)

    summary = services.calendar_import(owner=firm.consultant, data=ics("own/series_v2.ics"), now=NOW)

    assert summary.to_review == 2
    qbr.refresh_from_db()
    occurrence.refresh_from_db()
    qbr_session.refresh_from_db()
    assert (qbr.state, qbr.review) == (State.CONFIRMED, "changed")
    assert (qbr_session.start, qbr_session.duration_minutes) == (at(2026, 2, 12, 13), 60)  # untouched
    assert (occurrence.state, occurrence.review) == (State.CONFIRMED, "cancelled")
    assert Session.objects.filter(pk=steering.pk).exists()

    services.meeting_apply_change(meeting=qbr, user=firm.consultant)
    qbr_session.refresh_from_db()
    assert (qbr_session.start, qbr_session.duration_minutes) == (at(2026, 2, 12, 14), 90)

    services.meeting_keep_session(meeting=occurrence, user=firm.consultant)
    # Importing the same calendar again raises neither review a second time.
    assert services.calendar_import(owner=firm.consultant, data=ics("own/series_v2.ics"), now=NOW).to_review == 0


def test_ignored_meetings_stay_ignored_on_reimport_until_restored(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    kickoff = CalendarMeeting.objects.get(uid="initech-kickoff@rapport.test")
    services.meeting_ignore(meeting=kickoff, user=firm.consultant)

    services.calendar_import(owner=firm.consultant, data=ics("own/series_v2.ics"), now=NOW)
    kickoff.refresh_from_db()
    assert kickoff.state == State.IGNORED

    services.meeting_restore(meeting=kickoff, user=firm.consultant)
    kickoff.refresh_from_db()
    assert kickoff.state == State.WAITING


def test_a_broken_file_gets_one_clear_error_and_imports_nothing(firm):
    with pytest.raises(ValidationError) as error:
        services.calendar_import(owner=firm.consultant, data=b"BEGIN:VCALENDAR\r\nthis is not\r\nEND:VCALENDAR",
                                 now=NOW)
    assert "could not be read" in error.value.messages[0]
    with pytest.raises(ValidationError, match="not an iCalendar file"):
        services.calendar_import(owner=firm.consultant, data=b"<html>Sign in</html>", now=NOW)
    assert not CalendarMeeting.objects.exists()


def test_an_error_while_saving_leaves_nothing_partial(firm, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_write_attendance", explode)
    with pytest.raises(RuntimeError):
        services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    assert not CalendarMeeting.objects.exists()


def test_a_file_over_the_size_limit_is_refused(firm, settings):
    settings.CALENDAR_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="larger than"):
        services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)


def test_each_consultant_gets_only_their_own_meetings(firm, other_consultant):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    # The colleague is on Acme strategy only: the same file gives them the Acme meetings of that
    # engagement, as their own rows; Initech is not theirs.
    services.calendar_import(owner=other_consultant, data=ics("own/series_v1.ics"), now=NOW)
    mine = CalendarMeeting.objects.filter(owner=firm.consultant).count()
    theirs = CalendarMeeting.objects.filter(owner=other_consultant)
    assert mine == 16
    assert not theirs.filter(uid="initech-kickoff@rapport.test").exists()
    assert {m.engagement_id for m in theirs} == {firm.acme_strategy.pk}


def test_a_client_user_cannot_import(firm):
    client_user = factories.ClientUserFactory(contact__client=firm.acme_strategy.client)
    with pytest.raises(ValidationError):
        services.calendar_import(owner=client_user, data=ics("own/series_v1.ics"), now=NOW)


def test_confirming_logs_a_normal_session_and_queues_a_rescore(firm, monkeypatch):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    rescored = []
    monkeypatch.setattr("health.services.request_rescore", lambda **kw: rescored.append(kw["engagement_id"]))
    qbr = CalendarMeeting.objects.get(uid="qbr-february@rapport.test")

    session = services.meeting_confirm(meeting=qbr, user=firm.consultant, focus="kpi_review", advice_requested=True,
                                       now=NOW)

    assert (session.engagement, session.start, session.duration_minutes, session.focus, session.channel) == (
        firm.acme_strategy, at(2026, 2, 12, 13), 60, "kpi_review", "video")
    assert session.advice_requested and session.logged_by == firm.consultant
    assert list(session.client_attendees.all()) == [firm.sam]
    assert set(session.consultants.all()) == {firm.consultant, firm.colleague}
    assert rescored == [firm.acme_strategy.pk]
    qbr.refresh_from_db()
    assert (qbr.state, qbr.session) == (State.CONFIRMED, session)


def test_confirming_needs_an_engagement_when_several_fit_and_a_focus(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    lunch = CalendarMeeting.objects.get(uid="lunch-to-delete@rapport.test")
    with pytest.raises(ValidationError) as error:
        services.meeting_confirm(meeting=lunch, user=firm.consultant, focus="advisory", now=NOW)
    assert "engagement" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.meeting_confirm(meeting=lunch, user=firm.consultant, focus="", engagement=firm.acme_pricing,
                                 now=NOW)
    assert "focus" in error.value.message_dict
    with pytest.raises(ValidationError):  # not an engagement this meeting fits
        services.meeting_confirm(meeting=lunch, user=firm.consultant, focus="advisory", engagement=firm.initech,
                                 now=NOW)
    assert not Session.objects.exists()


def test_a_meeting_that_has_not_taken_place_cannot_be_confirmed(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    upcoming = CalendarMeeting.objects.get(uid="next-month@rapport.test")
    with pytest.raises(ValidationError, match="not taken place"):
        services.meeting_confirm(meeting=upcoming, user=firm.consultant, focus="strategy", now=NOW)


def test_someone_elses_meeting_cannot_be_confirmed(firm, other_consultant):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    qbr = CalendarMeeting.objects.get(uid="qbr-february@rapport.test")
    with pytest.raises(ValidationError):
        services.meeting_confirm(meeting=qbr, user=other_consultant, focus="strategy", now=NOW)
    assert not Session.objects.exists()


def test_confirming_several_at_once_is_all_or_nothing(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    qbr = CalendarMeeting.objects.get(uid="qbr-february@rapport.test")
    lunch = CalendarMeeting.objects.get(uid="lunch-to-delete@rapport.test")

    with pytest.raises(ValidationError) as error:
        services.meetings_confirm(user=firm.consultant, now=NOW, choices=[
            {"meeting": qbr, "focus": "kpi_review"}, {"meeting": lunch, "focus": "advisory"}])
    assert list(error.value.message_dict) == [str(lunch.pk)]
    assert not Session.objects.exists()

    sessions = services.meetings_confirm(user=firm.consultant, now=NOW, choices=[
        {"meeting": qbr, "focus": "kpi_review"},
        {"meeting": lunch, "focus": "advisory", "engagement": firm.acme_pricing}])
    assert [s.engagement for s in sessions] == [firm.acme_strategy, firm.acme_pricing]


def test_health_counts_only_confirmed_sessions(firm):
    """Meetings to confirm are not sessions: scoring with a full inbox gives what it gives without."""
    factories.SessionFactory(engagement=firm.acme_strategy, start=at(2026, 3, 2, 10), focus="strategy")
    score_engagements(engagement_ids=[firm.acme_strategy.pk], as_of=NOW.date())
    without = HealthSnapshot.objects.get(engagement=firm.acme_strategy, date=NOW.date())
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)

    score_engagements(engagement_ids=[firm.acme_strategy.pk], as_of=NOW.date())

    with_inbox = HealthSnapshot.objects.get(engagement=firm.acme_strategy, date=NOW.date())
    assert (with_inbox.score, with_inbox.components) == (without.score, without.components)
