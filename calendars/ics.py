"""Reading an iCalendar (.ics) file into the meetings it holds over a window of time.

Parsing is done by ``icalendar`` and series are expanded by ``recurring-ical-events`` (RRULE,
RDATE, EXDATE, overridden occurrences, VTIMEZONE, Windows time-zone names as Outlook writes them,
Google's X-WR-TIMEZONE). This module only turns their components into plain ``Occurrence``
values; it knows nothing about clients or the database.

An occurrence's identity is its UID plus, for an occurrence of a series, its RECURRENCE-ID (the
start it had in the series, in UTC): a moved occurrence keeps its identity, so the meeting it
became follows it. A single event has no recurrence key (the library gives every occurrence a
RECURRENCE-ID equal to its start, which would change when the event moves).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from dataclasses import dataclass, field

import icalendar
import recurring_ical_events
import x_wr_timezone
from django.utils.translation import gettext as _

MAX_TEXT = 2000  # characters kept of a description
MAX_TITLE = 300


class CalendarFileError(ValueError):
    """The file is not a calendar we can read; the message is meant for the person who sent it."""


@dataclass(frozen=True)
class Attendee:
    email: str
    partstat: str = ""


@dataclass
class Occurrence:
    uid: str
    recurrence_key: str          # "" for a single event, else the ISO UTC start it has in its series
    start: dt.datetime           # aware, UTC
    end: dt.datetime             # aware, UTC
    title: str = ""
    description: str = ""
    location: str = ""
    status: str = ""             # CONFIRMED / TENTATIVE / CANCELLED / ""
    organizer: str = ""
    attendees: list[Attendee] = field(default_factory=list)
    sequence: int = 0

    @property
    def identity(self) -> str:
        """A fixed-length key for (UID, RECURRENCE-ID), unique per calendar owner."""
        return hashlib.sha256(f"{self.uid}\x00{self.recurrence_key}".encode()).hexdigest()

    @property
    def cancelled(self) -> bool:
        return self.status == "CANCELLED"

    @property
    def emails(self) -> set[str]:
        found = {attendee.email for attendee in self.attendees}
        if self.organizer:
            found.add(self.organizer)
        return found

    def partstat_of(self, email: str) -> str:
        return next((a.partstat for a in self.attendees if a.email == email), "")


@dataclass
class ParsedCalendar:
    occurrences: list[Occurrence]
    skipped_all_day: int = 0
    skipped_unreadable: int = 0  # events or series that could not be read


def _email(value) -> str:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.strip().strip("<>").strip().lower()
    return text if "@" in text and len(text) <= 254 else ""


def _text(component, name: str, limit: int) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return str(value).replace("\r\n", "\n").strip()[:limit]


def _as_utc(value, default_tz: dt.tzinfo) -> dt.datetime:
    if value.tzinfo is None:  # a floating time: the calendar owner's local time
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(dt.UTC)


def _is_date_only(value) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _attendees(component) -> list[Attendee]:
    raw = component.get("ATTENDEE")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raw = [raw]
    result = []
    for item in raw:
        email = _email(item)
        if not email:
            email = _email(getattr(item, "params", {}).get("EMAIL", ""))
        if email:
            result.append(Attendee(email=email, partstat=str(getattr(item, "params", {}).get("PARTSTAT", "")).upper()))
    return result


def _recurring_uids(calendar) -> set[str]:
    """UIDs that belong to a series: their occurrences are told apart by RECURRENCE-ID."""
    uids = set()
    for event in calendar.walk("VEVENT"):
        if any(event.get(name) is not None for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
            uids.add(str(event.get("UID", "")))
    return uids


def _fallback_uid(event) -> str:
    """A stable UID for an event that has none (RFC 5545 requires one; some exporters forget)."""
    start = event.get("DTSTART")
    raw = "|".join([start.to_ical().decode() if start is not None else "", _text(event, "SUMMARY", 500),
                    str(event.get("ORGANIZER", ""))])
    return "no-uid-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def _readable_start(event) -> bool:
    start, end = event.get("DTSTART"), event.get("DTEND")
    if start is None or isinstance(start, list) or isinstance(end, list):
        return False
    try:
        return isinstance(start.dt, dt.date) and (end is None or isinstance(end.dt, dt.date))
    except Exception:  # noqa: BLE001  (icalendar keeps broken values and raises on access)
        return False


def _drop_unreadable_events(calendar) -> int:
    """Remove the events without a readable start (a broken exporter's, a fuzzer's); return how many."""
    dropped = 0
    for parent in [calendar, *calendar.subcomponents]:
        kept = []
        for component in parent.subcomponents:
            if component.name == "VEVENT":
                if not _readable_start(component):
                    dropped += 1
                    continue
                if component.get("UID") is None:
                    component.add("UID", _fallback_uid(component))
            kept.append(component)
        parent.subcomponents = kept
    return dropped


def _expand(calendar, window_start, window_end) -> tuple[list, int]:
    """The occurrences in the window; if one series breaks the expansion, each series is expanded on
    its own so that the others still come in. Returns (components, series skipped)."""
    try:
        return list(recurring_ical_events.of(calendar, skip_bad_series=True).between(window_start, window_end)), 0
    except Exception:  # noqa: BLE001, S110  (any error of one series: isolate it below)
        pass
    timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    series: dict[str, list] = {}
    for event in calendar.walk("VEVENT"):
        series.setdefault(str(event.get("UID", "")), []).append(event)
    components, skipped = [], 0
    for events in series.values():
        alone = icalendar.Calendar()
        alone.update(calendar)
        alone.subcomponents = [*timezones, *events]
        try:
            components += recurring_ical_events.of(alone, skip_bad_series=True).between(window_start, window_end)
        except Exception:  # noqa: BLE001  (this series cannot be read: skip it, keep the rest)
            skipped += 1
    return components, skipped


def parse_calendar(data: bytes, *, window_start: dt.datetime, window_end: dt.datetime,
                   default_tz: dt.tzinfo | None = None) -> ParsedCalendar:
    """The timed occurrences of ``data``'s events that start in [window_start, window_end).

    All-day events are left out (counted); an event or series that cannot be read is skipped
    (counted) rather than failing the whole file: exporters write the odd broken RRULE. A file
    that is not a calendar raises CalendarFileError.
    """
    default_tz = default_tz or zoneinfo.ZoneInfo("UTC")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise CalendarFileError(_("The file is empty."))
    if b"BEGIN:VCALENDAR" not in data[:4096].upper():
        raise CalendarFileError(_("This is not an iCalendar file (.ics): it does not start with BEGIN:VCALENDAR."))
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as error:  # icalendar raises ValueError, KeyError, IndexError… on broken input
        raise CalendarFileError(_("The calendar file could not be read: %(error)s")
                                % {"error": str(error)[:200] or error.__class__.__name__}) from None
    occurrences: dict[str, Occurrence] = {}
    parsed = ParsedCalendar(occurrences=[])
    for calendar in calendars:
        if calendar.name != "VCALENDAR":
            continue
        parsed.skipped_unreadable += _drop_unreadable_events(calendar)
        if calendar.get("X-WR-TIMEZONE"):  # Google's calendar-wide zone, made explicit on every time
            calendar = x_wr_timezone.to_standard(calendar)
        recurring = _recurring_uids(calendar)
        # Most events of a real calendar happen once: they are read directly, and only the series
        # go through recurring-ical-events (its per-series work is most of an import's time).
        events = calendar.walk("VEVENT")
        singles = [event for event in events if str(event.get("UID", "")) not in recurring]
        components, skipped = [], 0
        if len(singles) < len(events):
            series = icalendar.Calendar()
            series.update(calendar)
            series.subcomponents = [c for c in calendar.subcomponents
                                    if c.name == "VTIMEZONE" or (c.name == "VEVENT"
                                                                 and str(c.get("UID", "")) in recurring)]
            components, skipped = _expand(series, window_start, window_end)
        parsed.skipped_unreadable += skipped
        for component in [*singles, *components]:
            occurrence = _occurrence(component, recurring, default_tz)
            if occurrence is None:
                parsed.skipped_all_day += _all_day_in(component, window_start, window_end)
                continue
            if not window_start <= occurrence.start < window_end:
                continue  # an event that started before the window and runs into it
            occurrences[occurrence.identity] = occurrence
    parsed.occurrences = sorted(occurrences.values(), key=lambda o: (o.start, o.uid))
    return parsed


def _all_day_in(component, window_start: dt.datetime, window_end: dt.datetime) -> int:
    """1 if this all-day event falls in the window (it is counted as skipped), else 0."""
    start = component.get("DTSTART")
    day = start.dt if start is not None else None
    return int(isinstance(day, dt.date) and window_start.date() <= day <= window_end.date())


def _occurrence(component, recurring: set[str], default_tz) -> Occurrence | None:
    start_prop = component.get("DTSTART")
    if start_prop is None or _is_date_only(start_prop.dt):
        return None
    start = _as_utc(start_prop.dt, default_tz)
    end_prop = component.get("DTEND")
    if end_prop is not None and not _is_date_only(end_prop.dt):
        end = _as_utc(end_prop.dt, default_tz)
    elif component.get("DURATION") is not None:
        end = start + component["DURATION"].dt
    else:
        end = start
    uid = str(component.get("UID", ""))
    recurrence_key = ""
    if uid in recurring and component.get("RECURRENCE-ID") is not None:
        recurrence_id = component["RECURRENCE-ID"].dt
        if _is_date_only(recurrence_id):
            recurrence_key = recurrence_id.isoformat()
        else:
            recurrence_key = _as_utc(recurrence_id, default_tz).strftime("%Y%m%dT%H%M%SZ")
    try:
        sequence = int(component.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        sequence = 0
    return Occurrence(
        uid=uid[:1000], recurrence_key=recurrence_key, start=start, end=max(end, start),
        title=_text(component, "SUMMARY", MAX_TITLE), description=_text(component, "DESCRIPTION", MAX_TEXT),
        location=_text(component, "LOCATION", 300), status=str(component.get("STATUS", "")).upper(),
        organizer=_email(component.get("ORGANIZER")), attendees=_attendees(component), sequence=sequence,
    )
