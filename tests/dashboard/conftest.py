"""A portfolio built in bulk: engagements with a year of month-end and recent snapshots, flags, sessions."""

import datetime as dt

import pytest
from django.utils import timezone

from clients.models import Client
from engagements.models import Engagement, Session
from health.models import Flag, HealthSnapshot
from health.services import engagement_health_refresh
from tests import factories

TODAY = timezone.localdate()


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def build_portfolio(size: int, *, lead=None, prefix: str = "P") -> list[Engagement]:
    """``size`` active engagements, each with snapshots today, 30 and 90 days ago and at the quarter ends
    (and their latest figures), a live flag on every third, and two sessions each; inserted in bulk
    so 500 stays fast."""
    from dashboard.selectors import month_ends, quarter_ends

    lead = lead or factories.ConsultantFactory()
    clients = Client.objects.bulk_create([Client(name=f"{prefix} client {i:04d}") for i in range(size)])
    engagements = Engagement.objects.bulk_create(
        [Engagement(client=c, title=f"{prefix} engagement {i:04d}", start=ago(400), lead=lead)
         for i, c in enumerate(clients)])
    dates = sorted({TODAY, ago(30), ago(90), *quarter_ends(TODAY), *month_ends(TODAY)})
    snapshots = []
    for i, e in enumerate(engagements):
        for n, day in enumerate(dates):
            score = max(0.0, min(100.0, 40 + (i * 7) % 55 + n))
            depth = ((i * 13) % 100) / 100
            balance = ((i * 29) % 100) / 100
            snapshots.append(HealthSnapshot(
                engagement=e, date=day, score=score, depth=depth, balance=balance,
                mode="expert_led" if balance < 0.25 else "client_led" if balance > 0.75 else "co_production",
                state="consultative" if depth >= 0.5 else "transactional", days_since_last_session=i % 40,
                algorithm_version=1))
    HealthSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    Flag.objects.bulk_create([Flag(engagement=e, kind="cadence_drop", severity="medium", raised_on=TODAY,
                                   episode_start=TODAY, last_seen_on=TODAY, evidence={"gap_days": 40})
                              for e in engagements[::3]])
    sessions = Session.objects.bulk_create(
        [Session(engagement=e, start=timezone.now() - dt.timedelta(days=d), duration_minutes=60,
                 focus="strategy" if d < 20 else "reporting") for e in engagements for d in (10, 40)])
    Session.consultants.through.objects.bulk_create(
        [Session.consultants.through(session=s, user=lead) for s in sessions])
    # What the scoring run keeps beside the snapshots: each engagement's latest figures.
    engagement_health_refresh(engagement_ids=[e.pk for e in engagements])
    return engagements


@pytest.fixture
def portfolio_of():
    return build_portfolio


@pytest.fixture(autouse=True)
def _empty_cache():
    """The trends are cached for a quarter of an hour; each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
