"""Calendars nobody here wrote: the files of the icalendar package's own test suite (see
fixtures/README.md for where each comes from). Every one imports without a crash (or with one
clear error for a file that is not a calendar at all), and a firm whose contacts appear in some of
them gets exactly the meetings it should."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from calendars import services
from calendars.ics import parse_calendar
from calendars.models import CalendarMeeting
from tests import factories
from tests.calendars.conftest import FIXTURES, ics

pytestmark = pytest.mark.django_db

REAL_WORLD = sorted(path.name for path in (FIXTURES / "icalendar").glob("*.ics"))
NOT_A_CALENDAR = {"issue_104_broken_calendar.ics"}
UTC = dt.UTC


@pytest.fixture
def wide_window(settings):
    # The files span 2012–2024: read twenty years back from 2026 so every event is in the window.
    settings.CALENDAR_PAST_DAYS = 20 * 366
    return dt.datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def fixture_firm(consultant):
    """A firm whose clients' people are some of the attendees of those files."""
    xyz = factories.EngagementFactory(client__name="XYZ", title="XYZ programme", lead=consultant,
                                      start=dt.date(2010, 1, 1))
    factories.ContactFactory(client=xyz.client, email="xyz@xyz.com")
    # An attendee of an all-day invitation (BlackBerry): no meeting, it is all day.
    daxlab = factories.EngagementFactory(client__name="Daxlab", client__email_domains="daxlab.com",
                                         title="Daxlab review", lead=consultant, start=dt.date(2010, 1, 1))
    factories.ContactFactory(client=daxlab.client, email="rembrand@xs4all.nl")
    # The address of an e-mail *alarm* in a Google export: an alarm's recipient is not an attendee.
    google = factories.EngagementFactory(client__name="Kunzmann", title="Google export", lead=consultant,
                                         start=dt.date(2010, 1, 1))
    factories.ContactFactory(client=google.client, email="niccokunzmann@googlemail.com")
    return xyz


@pytest.mark.parametrize("name", REAL_WORLD)
def test_every_real_world_file_imports_without_a_crash(name, consultant, fixture_firm, wide_window):
    if name in NOT_A_CALENDAR:
        with pytest.raises(ValidationError, match="could not be read"):
            services.calendar_import(owner=consultant, data=ics(f"icalendar/{name}"), now=wide_window)
        assert not CalendarMeeting.objects.exists()
        return
    summary = services.calendar_import(owner=consultant, data=ics(f"icalendar/{name}"), now=wide_window)
    # Importing it again changes nothing.
    again = services.calendar_import(owner=consultant, data=ics(f"icalendar/{name}"), now=wide_window)
    assert (again.created, again.updated, again.unchanged) == (0, 0, summary.matched)


def test_the_fixture_firm_gets_exactly_the_meetings_with_its_people(consultant, fixture_firm, wide_window):
    for name in REAL_WORLD:
        if name not in NOT_A_CALENDAR:
            services.calendar_import(owner=consultant, data=ics(f"icalendar/{name}"), now=wide_window)

    found = list(CalendarMeeting.objects.filter(owner=consultant))
    # Only khal's event has one of the firm's contacts among its attendees; the BlackBerry invitation
    # is all day, and the Google file's address is an alarm's, not an attendee's.
    assert [(m.start, m.duration_minutes, m.engagement, m.state) for m in found] == [
        (dt.datetime(2018, 3, 27, 13, tzinfo=UTC), 60, fixture_firm, CalendarMeeting.State.WAITING)]
    # khal wrote no UID: a stable one is made from the event, so a re-import finds the same meeting.
    assert found[0].uid.startswith("no-uid-")
    assert [c.email for c in found[0].contacts.all()] == ["xyz@xyz.com"]


def _read(name, start, end):
    return parse_calendar(ics(f"icalendar/{name}"), window_start=start, window_end=end).occurrences


@pytest.mark.parametrize(("name", "expected"), [
    # Exchange 2010 with Windows time-zone names (and their own VTIMEZONE).
    ("issue_836_do_not_quote_tzid.ics", dt.datetime(2024, 10, 28, 21, 0, tzinfo=UTC)),   # EDT, UTC-4
    ("timezone_same_start.ics", dt.datetime(2017, 2, 24, 20, 0, tzinfo=UTC)),            # PST, UTC-8
    ("alarm_google_future.ics", dt.datetime(2024, 10, 4, 18, 15, tzinfo=UTC)),           # Google, UTC
    ("alarm_thunderbird_future.ics", dt.datetime(2024, 10, 23, 14, 0, tzinfo=UTC)),      # Thunderbird
    ("issue_348_exception_parsing_value.ics", dt.datetime(2019, 6, 24, 6, 30, tzinfo=UTC)),
])
def test_real_world_times_land_on_the_right_utc_instant(name, expected):
    occurrences = _read(name, dt.datetime(2010, 1, 1, tzinfo=UTC), dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert [o.start for o in occurrences] == [expected]


def test_a_google_series_with_x_wr_timezone_follows_daylight_saving():
    # "Daily Sync" at 14:00 Europe/Zurich on weekdays; summer time ended on 30 October 2016.
    occurrences = _read("x_location.ics", dt.datetime(2016, 10, 27, tzinfo=UTC), dt.datetime(2016, 11, 3, tzinfo=UTC))
    assert [o.start for o in occurrences] == [dt.datetime(2016, 10, 28, 12, tzinfo=UTC),
                                              dt.datetime(2016, 10, 31, 13, tzinfo=UTC),
                                              dt.datetime(2016, 11, 1, 13, tzinfo=UTC),
                                              dt.datetime(2016, 11, 2, 13, tzinfo=UTC)]
    assert len({o.identity for o in occurrences}) == 4


def test_a_series_with_a_broken_rule_is_skipped_and_the_rest_still_read():
    # Exchange wrote "BYDAY=MO, TU, WE, TH, FR": the series cannot be expanded, the file still imports.
    assert _read("issue_165_missing_event.ics", dt.datetime(2015, 1, 1, tzinfo=UTC),
                 dt.datetime(2016, 1, 1, tzinfo=UTC)) == []
    parsed = parse_calendar(ics("icalendar/multiple_timezones.ics"), window_start=dt.datetime(2021, 1, 1, tzinfo=UTC),
                            window_end=dt.datetime(2022, 1, 1, tzinfo=UTC))
    assert parsed.skipped_unreadable == 3
