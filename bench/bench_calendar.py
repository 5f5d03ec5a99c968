"""Benchmark of the calendar import: a generated 5,000-event calendar, imported, then imported again.

    DJANGO_SECRET_KEY=x python bench/bench_calendar.py            # a throwaway SQLite database
    DATABASE_URL=postgres://…/rapport_bench python bench/bench_calendar.py   # an empty database of yours

Targets (issue 17): the first import under 10 s, the re-import under 5 s. The calendar is what a busy
consultant's export looks like over the import window (the last 180 days and the next 30): 4,000
single meetings and 50 weekly series of 20 occurrences, time zones mixed (UTC, Europe/Paris with a
VTIMEZONE, a Windows name as Outlook writes it), two in three with a client contact or someone at a
client's registered domain among the attendees, the rest internal. Prints the timings and the
import's summary; exits 1 when a target is missed.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
_TMP = None
if not os.environ.get("DATABASE_URL"):
    _TMP = tempfile.TemporaryDirectory(prefix="rapport-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_TMP.name}/bench.sqlite3"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from calendars.models import CalendarMeeting  # noqa: E402
from calendars.services import calendar_import  # noqa: E402
from clients.models import Client, Contact  # noqa: E402
from engagements.models import Engagement  # noqa: E402

SINGLE_EVENTS = 4000
SERIES, OCCURRENCES = 50, 20
CLIENTS, CONTACTS_PER_CLIENT = 20, 5
TARGET_IMPORT, TARGET_REIMPORT = 10.0, 5.0
PARIS = """BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r
DTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r\nEND:VTIMEZONE\r\n"""


def firm(owner: User) -> list[str]:
    """Clients with contacts and domains, an engagement each for ``owner``; returns the client addresses."""
    addresses = []
    start = timezone.localdate() - dt.timedelta(days=400)
    for n in range(CLIENTS):
        client = Client.objects.create(name=f"Bench client {n}", email_domains=f"client{n}.example")
        engagement = Engagement.objects.create(client=client, title=f"Engagement {n}", lead=owner, start=start)
        engagement.team.add(owner)
        for m in range(CONTACTS_PER_CLIENT):
            contact = Contact.objects.create(client=client, name=f"Contact {n}.{m}", email=f"c{m}@client{n}.example")
            addresses.append(contact.email)
        addresses.append(f"someone.new@client{n}.example")  # matched by the registered domain
    return addresses


def _dt(moment: dt.datetime, zone: int) -> str:
    if zone == 0:
        return f":{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    name = "Europe/Paris" if zone == 1 else "Romance Standard Time"
    return f";TZID={name}:{moment:%Y%m%dT%H%M%S}"


def calendar(owner_email: str, clients: list[str], rnd: random.Random) -> bytes:
    now = timezone.now().replace(minute=0, second=0, microsecond=0, tzinfo=None)
    lines = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rapport//bench//EN\r\n", PARIS]
    topics = ["Steering committee", "KPI review", "Atelier stratégie", "Weekly sync", "QBR", "Workshop",
              "Call", "Reporting", "Point d'avancement", "Lunch"]

    def event(uid, start, minutes, attendees, extra=""):
        zone = rnd.randrange(3)
        lines.append(
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{rnd.choice(topics)}\r\nDTSTART{_dt(start, zone)}\r\n"
            f"DTEND{_dt(start + dt.timedelta(minutes=minutes), zone)}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"ORGANIZER:mailto:{owner_email}\r\n"
            + "".join(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{a}\r\n" for a in attendees) + extra + "END:VEVENT\r\n")

    for n in range(SINGLE_EVENTS):
        start = now - dt.timedelta(days=rnd.randint(0, 178), hours=rnd.randint(0, 9))
        people = [f"colleague{rnd.randrange(30)}@firm.example"]
        if rnd.random() < 2 / 3:
            people.append(rnd.choice(clients))
        event(f"single-{n}@bench.example", start, rnd.choice([30, 45, 60, 90, 120]), people)
    for n in range(SERIES):
        start = now - dt.timedelta(weeks=OCCURRENCES - 2, days=rnd.randint(0, 6))
        event(f"series-{n}@bench.example", start, 60, [rnd.choice(clients)],
              f"RRULE:FREQ=WEEKLY;COUNT={OCCURRENCES}\r\n")
    lines.append("END:VCALENDAR\r\n")
    return "".join(lines).encode()


def main() -> int:
    call_command("migrate", verbosity=0)
    owner = User.objects.create_user(email=f"bench-{time.time_ns()}@firm.example", password=None,
                                     full_name="Bench Consultant", is_consultant=True)
    data = calendar(owner.email, firm(owner), random.Random(17))
    events = SINGLE_EVENTS + SERIES * OCCURRENCES
    print(f"Calendar: {events} events ({SINGLE_EVENTS} single, {SERIES} weekly series of {OCCURRENCES}), "
          f"{len(data) / 1024 / 1024:.1f} MB, database {django.db.connection.vendor}")

    print(f"Load average before: {', '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} cores "
          "(a busy machine stretches the wall-clock times; the CPU times are this process's own)")
    started, cpu = time.perf_counter(), time.process_time()
    first = calendar_import(owner=owner, data=data)
    import_seconds, import_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"Import:    {import_seconds:5.2f} s wall, {import_cpu:5.2f} s CPU  (target < {TARGET_IMPORT:.0f} s)  "
          f"{first.as_dict()}")

    started, cpu = time.perf_counter(), time.process_time()
    second = calendar_import(owner=owner, data=data)
    reimport_seconds, reimport_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"Re-import: {reimport_seconds:5.2f} s wall, {reimport_cpu:5.2f} s CPU  (target < {TARGET_REIMPORT:.0f} s)  "
          f"{second.as_dict()}")

    meetings = CalendarMeeting.objects.filter(owner=owner).count()
    ok = (import_seconds < TARGET_IMPORT and reimport_seconds < TARGET_REIMPORT and second.created == 0
          and meetings == first.created)
    print(f"Meetings to confirm: {meetings}; {'targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
