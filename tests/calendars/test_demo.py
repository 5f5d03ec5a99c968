"""`make run`'s demo: the demo consultant finds a few client meetings waiting to be confirmed."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from calendars.models import CalendarMeeting
from workspace import calendar_selectors as selectors

pytestmark = pytest.mark.django_db


def test_the_demo_consultant_has_meetings_to_confirm(demo):
    consultant = User.objects.get(email="consultant@example.com")
    inbox = list(selectors.meeting_inbox(user=consultant))
    titles = {meeting.title for meeting in inbox}
    assert {"Omnichannel roadmap workshop", "Monthly KPI review", "Réseau de hubs – stratégie 2027",
            "Call with Lena", "Audience growth weekly sync"} <= titles
    assert "Team prep (internal)" not in titles  # nobody from a client
    workshop = next(m for m in inbox if m.title == "Omnichannel roadmap workshop")
    assert workshop.engagement is None and workshop.candidate_engagements.count() == 2  # the consultant picks
    kpi = next(m for m in inbox if m.title == "Monthly KPI review")
    assert (kpi.suggested_focus, kpi.suggested_channel, kpi.engagement.title) == ("kpi_review", "video",
                                                                                 "Brand positioning")
    assert selectors.upcoming_count(user=consultant) == 1

    before = CalendarMeeting.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert CalendarMeeting.objects.count() == before
