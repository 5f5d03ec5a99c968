"""Fixtures for the API tests: an API client per persona and one engagement's worth of data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache; one test's requests must not throttle the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


@dataclass
class World:
    """One engagement (Acme, staffed by ``consultant``) with one of everything hanging off it."""

    engagement: object
    sponsor: object
    shared_session: object
    private_session: object
    milestone: object
    private_milestone: object
    comment: object
    kpi: object
    measurement: object
    pulse: object
    feedback: object
    consultant_token: object
    snapshot: object
    flag: object
    meeting: object          # the consultant's meeting to confirm (waiting), from their calendar
    ignored_meeting: object
    changed_meeting: object  # confirmed, then moved in the calendar: to review
    feed: object             # the consultant's subscribed calendar
    planned_break: object


@pytest.fixture
def world(engagement, consultant, client_user, other_client_user, other_consultant, manager):
    contact = client_user.contact
    sponsor = factories.ContactFactory(client=engagement.client, name="Sam Sponsor", is_sponsor=True,
                                       sponsor_since=dt.date(2024, 1, 1))
    shared_session = factories.SessionFactory(engagement=engagement, shared_with_client=True, notes="Private notes",
                                              next_steps="Send the plan", sentiment=4)
    private_session = factories.SessionFactory(engagement=engagement, shared_with_client=False)
    milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=True, approval_requested=True)
    private_milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=False)
    comment = factories.MilestoneCommentFactory(milestone=milestone, author=consultant)
    kpi = factories.KPIFactory(engagement=engagement, name="Conversion")
    measurement = factories.KPIMeasurementFactory(kpi=kpi)
    pulse = factories.PulseRequestFactory(engagement=engagement, contact=contact)
    feedback = factories.FeedbackResponseFactory(engagement=engagement, respondent_contact=contact,
                                                 submitted_at=timezone.now() - dt.timedelta(days=10))
    token, _key = ApiToken.objects.issue(user=consultant, name="CRM")
    snapshot = factories.HealthSnapshotFactory(engagement=engagement)
    flag = factories.FlagFactory(engagement=engagement)
    meeting, ignored_meeting, changed_meeting, feed = _calendar(consultant, engagement, sponsor)
    planned_break = factories.PlannedBreakFactory(engagement=engagement, starts_on=dt.date(2026, 7, 6),
                                                  ends_on=dt.date(2026, 7, 17), created_by=consultant)
    return World(engagement=engagement, sponsor=sponsor, shared_session=shared_session,
                 private_session=private_session, milestone=milestone, private_milestone=private_milestone,
                 comment=comment, kpi=kpi, measurement=measurement, pulse=pulse, feedback=feedback,
                 consultant_token=token, snapshot=snapshot, flag=flag, meeting=meeting,
                 ignored_meeting=ignored_meeting, changed_meeting=changed_meeting, feed=feed,
                 planned_break=planned_break)


def _calendar(consultant, engagement, contact):
    """The consultant's calendar: three meetings with the sponsor, in the states the API acts on."""
    from calendars.models import CalendarFeed, CalendarMeeting  # noqa: PLC0415
    from calendars.services import meeting_confirm  # noqa: PLC0415

    def meeting(uid, days_ago, **fields):
        row = CalendarMeeting.objects.create(
            owner=consultant, identity=uid.ljust(64, "0"), uid=uid, title="Steering committee",
            start=timezone.now() - dt.timedelta(days=days_ago), duration_minutes=60, engagement=engagement,
            suggested_focus="strategy", attendee_emails=[contact.email], **fields)
        row.candidate_engagements.set([engagement])
        row.contacts.set([contact])
        return row

    waiting = meeting("waiting", 2)
    ignored = meeting("ignored", 3, state=CalendarMeeting.State.IGNORED)
    changed = meeting("changed", 4)
    meeting_confirm(meeting=changed, user=consultant, focus="strategy")
    CalendarMeeting.objects.filter(pk=changed.pk).update(review=CalendarMeeting.Review.CHANGED,
                                                         duration_minutes=90)
    feed = CalendarFeed.objects.create(owner=consultant, url="https://calendar.example.com/secret-abc/basic.ics",
                                       name="Outlook")
    return waiting, ignored, changed, feed
