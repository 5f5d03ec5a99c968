"""Seed the load-test database: the demo portfolio plus a firm big enough for 200 people at once.

    DATABASE_URL=postgres://…/rapport_load DJANGO_SECRET_KEY=… python bench/seed_load.py OUT.json

Adds CONSULTANTS consultants (each leading ENGAGEMENTS_PER_LEAD engagements, on the team of as
many more), MANAGERS managers with an authenticator (the production settings ask managers for a
second factor) and one portal user per client, with a year of sessions, milestones, comments and
feedback, then scores a year of health history like seed_demo. Bulk inserts throughout; every
account shares one Argon2 hash, computed once. Writes the logins to OUT.json for the locustfile.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import encryption  # noqa: E402
from accounts.models import Authenticator, User  # noqa: E402
from clients.models import Client, Contact, SponsorPeriod  # noqa: E402
from demo.management.commands.seed_demo import history_dates  # noqa: E402
from engagements.models import Engagement, Milestone, MilestoneComment, Session, Side  # noqa: E402
from feedback.models import FeedbackResponse  # noqa: E402
from health.services import score_portfolio  # noqa: E402

PASSWORD = "load-test-passphrase-2026"  # noqa: S105  (a throwaway database)
CONSULTANTS = 130
MANAGERS = 30
CLIENTS = 260
ENGAGEMENTS_PER_LEAD = 4
FOCUSES = ["strategy", "positioning", "advisory", "co_creation", "kpi_review", "reporting", "operational", "admin"]
MILESTONE_STATUSES = ["done", "done", "in_progress", "agreed", "proposed", "agreed"]
TODAY = timezone.localdate()


def ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days, hours=random.randint(0, 8))  # noqa: S311


def main(out: Path) -> None:
    random.seed(7)
    started = time.monotonic()
    call_command("seed_demo", verbosity=0)
    if User.objects.filter(email__endswith="@load.example").exists():
        print("Load portfolio already present.")
    else:
        build()
        # Vacuumed and analysed, as autovacuum keeps a database in use: right after the bulk inserts
        # and a year of nightly scoring runs the flag indexes are full of dead entries (a count of 758
        # live flags visited 39,543) and the planner takes the 535 engagements for a hundred.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"Seeded in {time.monotonic() - started:.0f}s: {Engagement.objects.count()} engagements, "
          f"{Session.objects.count()} sessions, {User.objects.count()} users")
    logins = {
        "password": PASSWORD,
        "consultant": list(User.objects.filter(email__startswith="consultant", email__endswith="@load.example")
                           .order_by("id").values_list("email", flat=True)),
        "client": list(User.objects.filter(email__startswith="client", email__endswith="@load.example")
                       .order_by("id").values_list("email", flat=True)),
        "manager": [{"email": email, "totp_key": encryption.decrypt(key).hex()} for email, key in
                    Authenticator.objects.filter(user__email__endswith="@load.example", confirmed=True)
                    .order_by("user_id").values_list("user__email", "encrypted_key")],
    }
    out.write_text(json.dumps(logins, indent=1))


@transaction.atomic
def build() -> None:
    password = make_password(PASSWORD)  # one Argon2 hash, shared: hashing 400 passwords would take minutes
    consultants = User.objects.bulk_create([
        User(email=f"consultant{i:03d}@load.example", full_name=f"Consultant {i:03d}", is_consultant=True,
             password=password) for i in range(CONSULTANTS)])
    managers = User.objects.bulk_create([
        User(email=f"manager{i:03d}@load.example", full_name=f"Manager {i:03d}", is_manager=True,
             password=password) for i in range(MANAGERS)])
    Authenticator.objects.bulk_create([
        Authenticator(user=m, name="Load test", confirmed=True,
                      encrypted_key=encryption.encrypt(secrets.token_bytes(20))) for m in managers])

    clients = Client.objects.bulk_create([Client(name=f"Load Client {i:03d}", industry="Retail")
                                          for i in range(CLIENTS)])
    portal_users = User.objects.bulk_create([
        User(email=f"client{i:03d}@load.example", full_name=f"Client Contact {i:03d}", password=password)
        for i in range(CLIENTS)])
    contacts = Contact.objects.bulk_create(
        [Contact(client=c, name=f"Sponsor {i}", email=f"sponsor{i}@load.example",
                 seniority=Contact.Seniority.EXECUTIVE, is_sponsor=True, sponsor_since=TODAY - dt.timedelta(days=400))
         for i, c in enumerate(clients)]
        + [Contact(client=c, name=f"Portal {i}", email=f"client{i:03d}@load.example", user=u,
                   seniority=Contact.Seniority.MANAGER)
           for i, (c, u) in enumerate(zip(clients, portal_users, strict=True))])
    sponsors = contacts[:CLIENTS]
    SponsorPeriod.objects.bulk_create([SponsorPeriod(client=s.client, contact=s, start=s.sponsor_since)
                                       for s in sponsors])

    engagements = Engagement.objects.bulk_create([
        Engagement(client=clients[(lead_index * ENGAGEMENTS_PER_LEAD + n) % CLIENTS],
                   title=f"Programme {lead_index:03d}-{n}", lead=lead, start=TODAY - dt.timedelta(days=420),
                   planned_cadence_days=random.choice([7, 14, 21]))  # noqa: S311
        for lead_index, lead in enumerate(consultants) for n in range(ENGAGEMENTS_PER_LEAD)])
    Team = Engagement.team.through
    Team.objects.bulk_create(
        [Team(engagement_id=e.pk, user_id=e.lead_id) for e in engagements]
        + [Team(engagement_id=e.pk, user_id=consultants[(i + 7) % CONSULTANTS].pk) for i, e in enumerate(engagements)],
        ignore_conflicts=True)

    sessions = []
    for e in engagements:
        for day in range(2, 365, e.planned_cadence_days):
            focus = random.choice(FOCUSES)  # noqa: S311
            sessions.append(Session(
                engagement=e, start=ago(day), duration_minutes=random.choice([30, 45, 60, 90]),  # noqa: S311
                focus=focus, initiated_by=random.choice([Side.CLIENT, Side.CONSULTANT]),  # noqa: S311
                advice_requested=focus in ("strategy", "advisory") and random.random() < 0.5,  # noqa: S311
                notes="Discussed the **pricing** options and the roll-out plan.\n\n- next: a workshop",
                shared_with_client=random.random() < 0.6, logged_by_id=e.lead_id))  # noqa: S311
    sessions = Session.objects.bulk_create(sessions, batch_size=2000)
    sponsor_of = {s.client_id: s for s in sponsors}
    Attendee = Session.client_attendees.through
    Attendee.objects.bulk_create([Attendee(session_id=s.pk, contact_id=sponsor_of[s.engagement.client_id].pk)
                                  for s in sessions if s.pk % 2], batch_size=5000)

    milestones = Milestone.objects.bulk_create([
        Milestone(engagement=e, title=f"Milestone {n}", phase=random.choice(["reflection", "action"]),  # noqa: S311
                  status=status, proposed_by=random.choice([Side.CLIENT, Side.CONSULTANT]),  # noqa: S311
                  due_date=TODAY + dt.timedelta(days=30 * n - 90), shared_with_client=True, position=n,
                  created_at=ago(120 - n), completed_at=ago(100 - 30 * n) if status == "done" else None,
                  consultant_owner_id=e.lead_id)
        for e in engagements for n, status in enumerate(MILESTONE_STATUSES)],
        batch_size=2000)
    MilestoneComment.objects.bulk_create([
        MilestoneComment(milestone=m, side=side, text="Looks right to us; let us confirm the dates.",
                         created_at=ago(random.randint(1, 90)))  # noqa: S311
        for m in milestones for side in (Side.CLIENT, Side.CONSULTANT)], batch_size=5000)
    FeedbackResponse.objects.bulk_create([
        FeedbackResponse(engagement=e, side=side, rating=random.randint(2, 5), submitted_at=ago(days))  # noqa: S311
        for e in engagements for side in (Side.CLIENT, Side.CONSULTANT) for days in (20, 110)], batch_size=5000)

    ids = [e.pk for e in engagements]
    for day in history_dates(TODAY):
        score_portfolio(as_of=day, engagement_ids=ids)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
