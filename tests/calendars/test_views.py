"""The calendar page, the inbox on the home and engagement pages, and the actions on meetings."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendars import fetch, services
from calendars.models import CalendarFeed, CalendarMeeting
from engagements.models import Session
from tests import factories
from tests.calendars.conftest import NOW, ics

pytestmark = pytest.mark.django_db

State = CalendarMeeting.State


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def signed_in(client, firm):
    client.force_login(firm.consultant)
    return client


@pytest.fixture
def imported(firm):
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v1.ics"), now=NOW)
    return {m.uid + m.recurrence_key: m for m in CalendarMeeting.objects.filter(owner=firm.consultant)}


def test_uploading_a_file_fills_the_inbox(signed_in, firm):
    upload = SimpleUploadedFile("calendar.ics", ics("own/series_v1.ics"), content_type="text/calendar")
    response = signed_in.post(reverse("calendars:upload"), {"file": upload}, follow=True)
    assert "16 client meetings found" in response.content.decode()
    assert CalendarMeeting.objects.filter(owner=firm.consultant).count() == 16
    page = signed_in.get(reverse("calendars:page")).content.decode()
    assert "QBR Q1" in page and "Meetings to confirm" in page
    assert "Strategy workshop" not in page  # next month: not confirmable yet
    assert "1 upcoming client meeting will appear here" in page


def test_a_broken_upload_says_why_and_imports_nothing(signed_in, firm):
    upload = SimpleUploadedFile("calendar.ics", b"<html>Sign in to continue</html>")
    response = signed_in.post(reverse("calendars:upload"), {"file": upload}, follow=True)
    assert "Nothing was imported: This is not an iCalendar file" in response.content.decode()
    assert not CalendarMeeting.objects.exists()


def test_the_home_page_and_the_engagement_page_show_the_inbox(signed_in, firm, imported):
    home = signed_in.get(reverse("engagements:home")).content.decode()
    assert "Meetings to confirm" in home and "Kick-off" in home
    assert "All meetings to confirm" in home  # more than the home page shows
    detail = signed_in.get(reverse("engagements:detail", args=[firm.acme_pricing.pk])).content.decode()
    # Acme pricing started in March: the February QBR is not one of its meetings; the lunch of 10 March may be.
    assert "Lunch with Sam" in detail and "QBR Q1" not in detail
    initech = signed_in.get(reverse("engagements:detail", args=[firm.initech.pk])).content.decode()
    assert "Kick-off" in initech and "Lunch with Sam" not in initech


def test_the_inbox_asks_the_session_forms_two_questions_in_its_words(signed_in, firm, imported):
    """Not "Who asked for it" beside "The client asked for our view" (who asked for the meeting, or for
    advice?): the inbox asks what the session form asks, one clear question each."""
    from workspace.forms import SessionForm

    home = signed_in.get(reverse("engagements:home")).content.decode()
    form = SessionForm(user=firm.consultant)
    assert str(form.fields["initiated_by"].label) in home
    assert str(form.fields["advice_requested"].label) in home
    assert "Who asked for it" not in home and "The client asked for our view" not in home


def test_confirming_one_meeting_with_a_changed_focus(signed_in, firm, imported):
    qbr = imported["qbr-february@rapport.test"]
    response = signed_in.post(reverse("calendars:meetings_confirm"), {
        "confirm_one": qbr.pk, f"focus-{qbr.pk}": "advisory", f"initiated-{qbr.pk}": "client",
        f"advice-{qbr.pk}": "1", "next": reverse("engagements:home")})
    assert response.status_code == 302 and response.url == reverse("engagements:home")
    session = Session.objects.get()
    assert (session.focus, session.initiated_by, session.advice_requested, session.engagement) == (
        "advisory", "client", True, firm.acme_strategy)
    qbr.refresh_from_db()
    assert qbr.state == State.CONFIRMED


def test_confirming_the_selected_meetings_at_once(signed_in, firm, imported):
    qbr, lunch = imported["qbr-february@rapport.test"], imported["lunch-to-delete@rapport.test"]
    signed_in.post(reverse("calendars:meetings_confirm"), {
        "meeting": [qbr.pk, lunch.pk], f"focus-{qbr.pk}": "kpi_review", f"focus-{lunch.pk}": "advisory",
        f"engagement-{lunch.pk}": firm.acme_pricing.pk})
    assert sorted(Session.objects.values_list("engagement__title", "focus")) == [
        ("Acme pricing", "advisory"), ("Acme strategy", "kpi_review")]


def test_a_refused_bulk_confirmation_names_the_meeting_and_confirms_none(signed_in, firm, imported):
    qbr, lunch = imported["qbr-february@rapport.test"], imported["lunch-to-delete@rapport.test"]
    response = signed_in.post(reverse("calendars:meetings_confirm"), {
        "meeting": [qbr.pk, lunch.pk], f"focus-{qbr.pk}": "kpi_review", f"focus-{lunch.pk}": "advisory"},
        follow=True)
    assert "Lunch with Sam" in response.content.decode()
    assert "Choose the engagement this meeting belongs to." in response.content.decode()
    assert not Session.objects.exists()


def test_ignoring_and_bringing_back(signed_in, firm, imported):
    kickoff = imported["initech-kickoff@rapport.test"]
    signed_in.post(reverse("calendars:meeting_ignore", args=[kickoff.pk]))
    kickoff.refresh_from_db()
    assert kickoff.state == State.IGNORED
    page = signed_in.get(reverse("calendars:page")).content.decode()
    assert "1 ignored meeting" in page
    signed_in.post(reverse("calendars:meeting_restore", args=[kickoff.pk]))
    kickoff.refresh_from_db()
    assert kickoff.state == State.WAITING


def test_review_of_a_change_after_confirmation(signed_in, firm, imported):
    qbr = imported["qbr-february@rapport.test"]
    services.meeting_confirm(meeting=qbr, user=firm.consultant, focus="kpi_review")
    services.calendar_import(owner=firm.consultant, data=ics("own/series_v2.ics"), now=NOW)
    page = signed_in.get(reverse("calendars:page")).content.decode()
    assert "Changed in your calendar after you confirmed" in page
    home = signed_in.get(reverse("engagements:home")).content.decode()
    assert "1 confirmed session changed in your calendar" in home
    signed_in.post(reverse("calendars:meeting_apply", args=[qbr.pk]))
    assert Session.objects.get().start == dt.datetime(2026, 2, 12, 14, tzinfo=dt.UTC)


def test_an_unsafe_next_address_is_not_followed(signed_in, imported):
    kickoff = imported["initech-kickoff@rapport.test"]
    response = signed_in.post(reverse("calendars:meeting_ignore", args=[kickoff.pk]),
                              {"next": "https://evil.example/"})
    assert response.url == reverse("calendars:page")


@pytest.mark.parametrize("who", ["other_consultant", "manager"])
def test_someone_elses_meetings_are_not_found(client, firm, imported, who, request):
    client.force_login(request.getfixturevalue(who))
    qbr = imported["qbr-february@rapport.test"]
    assert client.post(reverse("calendars:meeting_ignore", args=[qbr.pk])).status_code == 404
    assert client.post(reverse("calendars:meetings_confirm"),
                       {"confirm_one": qbr.pk, f"focus-{qbr.pk}": "strategy"}).status_code == 404
    assert "QBR Q1" not in client.get(reverse("calendars:page")).content.decode()
    qbr.refresh_from_db()
    assert qbr.state == State.WAITING


def test_client_users_have_no_calendar_page(client, firm):
    client.force_login(factories.ClientUserFactory(contact__client=firm.acme_strategy.client))
    assert client.get(reverse("calendars:page")).status_code == 404


def test_a_feed_address_is_shown_masked_and_only_to_its_owner(signed_in, firm, other_consultant, client,
                                                              settings, monkeypatch):
    def unreachable(url, **kwargs):
        raise fetch.FeedError("The calendar server could not be reached.")

    monkeypatch.setattr(fetch, "fetch_feed", unreachable)
    secret = "https://calendar.example.com/owa/calendar/0123456789abcdef-secret/reachcalendar.ics"
    response = signed_in.post(reverse("calendars:feed_add"), {"url": secret, "name": "Outlook"}, follow=True)
    page = response.content.decode()
    assert secret not in page and "https://calendar.example.com/….ics" in page
    assert "Last error: The calendar server could not be reached." in page
    feed = CalendarFeed.objects.get()
    client.force_login(other_consultant)
    assert client.post(reverse("calendars:feed_delete", args=[feed.pk])).status_code == 404
    assert "calendar.example.com" not in client.get(reverse("calendars:page")).content.decode()


def test_the_calendar_page_reads_a_fixed_number_of_queries(signed_in, firm, imported, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        response = signed_in.get(reverse("calendars:page"))
    assert response.status_code == 200


def test_the_engagement_page_reads_its_inbox_meetings_only_when_some_wait(
        signed_in, firm, imported, django_assert_num_queries):
    """Most engagement pages have an empty inbox: it costs them one narrow read of ids. With meetings
    waiting, four more: the meetings with what they show, their candidate engagements, contacts and
    consultants; and the count of those still to come."""
    quiet = factories.EngagementFactory(client__name="Quiet", lead=firm.consultant)
    with CaptureQueriesContext(connection) as empty:
        page = signed_in.get(reverse("engagements:detail", args=[quiet.pk])).content.decode()
    assert "Meetings to confirm" not in page
    inbox_reads = [q["sql"] for q in empty.captured_queries if "calendars_calendarmeeting" in q["sql"]]
    assert len(inbox_reads) == 1 and "calendars_calendarfeed" not in inbox_reads[0]
    with django_assert_num_queries(len(empty.captured_queries) + 5):
        page = signed_in.get(reverse("engagements:detail", args=[firm.acme_pricing.pk])).content.decode()
    assert "Lunch with Sam" in page


@pytest.mark.parametrize("who", ["other_consultant", "manager"])
def test_the_engagement_page_shows_only_the_visitors_own_meetings_to_confirm(client, firm, imported, who, request):
    """A calendar is personal: a colleague on the team, or a manager, opening an engagement page does
    not see the meetings that fit it and wait in the lead's inbox."""
    strategy = reverse("engagements:detail", args=[firm.acme_strategy.pk])
    client.force_login(firm.consultant)
    assert "Meetings to confirm" in client.get(strategy).content.decode()
    client.force_login(request.getfixturevalue(who))  # the colleague is on Acme strategy's team
    response = client.get(strategy)
    assert response.status_code == 200 and not response.context["inbox_meetings"]
    assert "Meetings to confirm" not in response.content.decode()
