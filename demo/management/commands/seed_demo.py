import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from demo.portfolio import DEMO_PASSWORD, DemoBuilder
from health.services import score_portfolio


def history_dates(today: dt.date) -> list[dt.date]:
    """The dates the demo is scored on: every day of the last 100 (30/90-day changes, recent
    flags) and each month end of the last year (12-month trends, quarterly trails). A third of
    a full daily backfill's time, with nothing the pages show missing."""
    days = {today - dt.timedelta(days=n) for n in range(100)}
    month_end = today.replace(day=1) - dt.timedelta(days=1)
    for _ in range(12):
        days.add(month_end)
        month_end = month_end.replace(day=1) - dt.timedelta(days=1)
    return sorted(days)


class Command(BaseCommand):
    help = "Create the demo portfolio (clients, engagements, a year of history) and the demo logins. Idempotent."

    def handle(self, *args, **options):
        created = DemoBuilder().build()
        if any(created.values()):
            self.stdout.write(self.style.SUCCESS(
                "Demo data created: {clients} clients, {engagements} engagements, {sessions} sessions, "
                "{milestones} milestones, {users} users.".format(**created)))
            self.stdout.write("Scoring a year of relationship health…")
            for day in history_dates(timezone.localdate()):
                score_portfolio(as_of=day)
        else:
            self.stdout.write("Demo data already present; nothing created.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, role in [("consultant@example.com", "consultant"), ("manager@example.com", "manager"),
                            ("client@example.com", "client contact at Northwind Retail")]:
            self.stdout.write(f"  {email:<26} {role}")
