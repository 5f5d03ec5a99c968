"""The demo consultant's calendar: a few client meetings of the last two weeks waiting to be confirmed
(one that fits two engagements, a KPI review, a strategy session in French, a call, a weekly series),
an internal meeting that is left out and one still to come. Built as an .ics and read by the same
import as a real calendar."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from calendars.models import CalendarMeeting
from calendars.services import calendar_import

OWNER = "consultant@example.com"

# (uid, days ago, hour, minutes, title, attendees, extra lines)
MEETINGS = [
    ("demo-omnichannel-workshop", 2, 9, 120, "Omnichannel roadmap workshop",
     ["client@example.com", "tom.riley@northwind.example"], ["LOCATION:Northwind HQ, room 4.2"]),
    ("demo-helios-kpi", 3, 14, 60, "Monthly KPI review", ["sofia.reyes@helios.example"],
     ["DESCRIPTION:Dashboard of the brand campaign.",
      "LOCATION:https://teams.microsoft.com/l/meetup-join/demo"]),
    ("demo-atlas-strategie", 5, 8, 90, "Réseau de hubs – stratégie 2027", ["bruno.keller@atlas.example"], []),
    ("demo-helios-call", 6, 15, 30, "Call with Lena", ["lena.park@helios.example"], []),
    ("demo-team-prep", 1, 8, 45, "Team prep (internal)", ["hugo@example.com"], []),
    ("demo-quantum-qbr", -6, 13, 60, "Quarterly business review", ["aisha.rahman@quantum.example"], []),
]


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def demo_calendar(today: dt.date) -> bytes:
    """The demo consultant's calendar as an .ics file, dated relative to ``today``."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Rapport//demo calendar//EN"]
    for uid, days_ago, hour, minutes, title, attendees, extra in MEETINGS:
        start = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(hour)))
        lines += ["BEGIN:VEVENT", f"UID:{uid}@rapport.example", f"SUMMARY:{title}", f"DTSTART:{_stamp(start)}",
                  f"DTEND:{_stamp(start + dt.timedelta(minutes=minutes))}", f"DTSTAMP:{_stamp(start)}",
                  f"ORGANIZER:mailto:{OWNER}",
                  *(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{email}" for email in attendees), *extra, "END:VEVENT"]
    # A weekly series with the Solstice sponsor: the last three Mondays.
    monday = today - dt.timedelta(days=today.weekday() or 7)
    first = timezone.make_aware(dt.datetime.combine(monday - dt.timedelta(weeks=2), dt.time(11)))
    lines += ["BEGIN:VEVENT", "UID:demo-solstice-weekly@rapport.example", "SUMMARY:Audience growth weekly sync",
              f"DTSTART:{_stamp(first)}", f"DTEND:{_stamp(first + dt.timedelta(minutes=45))}",
              "RRULE:FREQ=WEEKLY;COUNT=3", f"DTSTAMP:{_stamp(first)}", f"ORGANIZER:mailto:{OWNER}",
              "ATTENDEE;PARTSTAT=ACCEPTED:mailto:hannah.weiss@solstice.example", "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def seed_demo_calendar(*, owner, today: dt.date) -> int:
    """Import the demo calendar once (a consultant who already has meetings keeps theirs); returns the
    number of meetings created."""
    if CalendarMeeting.objects.filter(owner=owner).exists():
        return 0
    now = timezone.make_aware(dt.datetime.combine(today, dt.time(18)))
    return calendar_import(owner=owner, data=demo_calendar(today), now=now).created
