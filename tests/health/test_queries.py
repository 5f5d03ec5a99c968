"""Scoring a batch costs a fixed number of queries, whatever the batch size."""

import datetime as dt
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Client, Contact, SponsorPeriod
from engagements.models import Engagement, Milestone, MilestoneComment, Session, Side
from feedback.models import FeedbackResponse
from health.models import Flag, FlagEvent, HealthSnapshot
from health.services import score_engagements
from tests import factories
from tests.health.histories import at

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def ago(days):
    return TODAY - dt.timedelta(days=days)


def portfolio(size: int) -> list[int]:
    """``size`` engagements with sessions, attendees, milestones, comments, feedback and a sponsor
    change each, inserted in bulk so the test stays fast at 200."""
    lead = factories.ConsultantFactory()
    clients = Client.objects.bulk_create([Client(name=f"Portfolio {size}-{i}") for i in range(size)])
    contacts = Contact.objects.bulk_create(
        [Contact(client=c, name=f"Exec {c.pk}", email=f"exec{c.pk}@example.com", seniority="executive")
         for c in clients])
    SponsorPeriod.objects.bulk_create([SponsorPeriod(client=c.client, contact=c, start=ago(30)) for c in contacts])
    engagements = Engagement.objects.bulk_create(
        [Engagement(client=c, title="Growth", start=ago(400), lead=lead) for c in clients])
    # Fortnightly strategy sessions where the client asks our view, then short KPI reviews, then silence.
    history = [(days, "strategy", 75, True) for days in range(270, 94, -14)]
    history += [(days, focus, 30, False) for days, focus in ((80, "kpi_review"), (70, "reporting"),
                                                            (60, "kpi_review"), (50, "kpi_review"))]
    sessions = Session.objects.bulk_create(
        [Session(engagement=e, start=at(ago(days)), duration_minutes=minutes, focus=focus, advice_requested=advice,
                 initiated_by=Side.CLIENT)
         for e in engagements for days, focus, minutes, advice in history])
    through = Session.client_attendees.through
    by_engagement = {c.client_id: c for c in contacts}
    through.objects.bulk_create([through(session=s, contact=by_engagement[s.engagement.client_id])
                                 for s in sessions])
    milestones = Milestone.objects.bulk_create(
        [Milestone(engagement=e, title="Plan", created_at=at(ago(80)), due_date=ago(10), proposed_by=Side.CLIENT)
         for e in engagements])
    MilestoneComment.objects.bulk_create(
        [MilestoneComment(milestone=m, side=side, text="Noted", created_at=at(ago(70)))
         for m in milestones for side in (Side.CLIENT, Side.CONSULTANT)])
    FeedbackResponse.objects.bulk_create(
        [FeedbackResponse(engagement=e, side=side, rating=rating, submitted_at=at(ago(days)))
         for e in engagements for days in (20, 25) for side, rating in ((Side.CLIENT, 2), (Side.CONSULTANT, 5))])
    return [e.pk for e in engagements]


def run(ids, as_of=TODAY):
    with CaptureQueriesContext(connection) as queries:
        result = score_engagements(engagement_ids=ids, as_of=as_of)
    sql = [q["sql"].lstrip() for q in queries.captured_queries]
    statements = [text.split(None, 1)[0].upper() for text in sql]
    # On PostgreSQL a flag update and the history events it writes are one statement (WITH … UPDATE
    # … RETURNING … INSERT): counted with the updates.
    assert set(statements) <= {"SELECT", "INSERT", "UPDATE", "WITH"}
    # Inserts by table (the third word), so the events' inserts can be told apart.
    return ([s for s in statements if s == "SELECT"],
            [text.split(None, 3)[2].strip('"') for s, text in zip(statements, sql, strict=True) if s == "INSERT"],
            [s for s in statements if s in ("UPDATE", "WITH")], result)


def _sqlite_statements(rows: int, model) -> int:
    # Django splits a bulk INSERT at SQLite's 999-parameter limit: that is the driver's ceiling,
    # not a query per engagement (one statement per 50-odd rows). Other databases get one.
    return math.ceil(rows * len(model._meta.concrete_fields) / 999)


def assert_same_cost(small, large):
    small_reads, small_inserts, small_updates, _ = small
    large_reads, large_inserts, large_updates, result = large
    assert len(large_reads) == len(small_reads)
    assert len(large_updates) == len(small_updates)
    if connection.vendor == "sqlite":
        # Plus the one upsert of the engagements' latest figures (EngagementHealth), and the two
        # inserts of the history events of flags woken and auto-resolved (one each, never split).
        assert len(large_inserts) <= (_sqlite_statements(result.snapshots, HealthSnapshot)
                                      + _sqlite_statements(result.flags_raised, Flag) + 1 + 2)
        events = FlagEvent._meta.db_table
        assert large_inserts.count(events) == small_inserts.count(events) <= 2
    else:
        assert len(large_inserts) == len(small_inserts)


def test_scoring_cost_does_not_grow_with_the_batch():
    small, large = portfolio(10), portfolio(200)

    first_small, first_large = run(small), run(large)
    # Every engagement drifted, saw its sponsor change, went quiet and got a poor rating: flags raised.
    assert first_large[3].flags_raised == 20 * first_small[3].flags_raised >= 200 * 4
    assert len(first_small[0]) <= 12
    assert_same_cost(first_small, first_large)

    # The day after: snapshots upserted, flags still seen.
    tomorrow = TODAY + dt.timedelta(days=1)
    assert_same_cost(run(small, tomorrow), run(large, tomorrow))

    # A year on only the silence still holds: the other flags auto-resolve in one statement, and
    # the silence flags, snoozed until then, wake in one; each writes its flags' history with it.
    later = TODAY + dt.timedelta(days=365)
    Flag.objects.filter(kind=Flag.Kind.CADENCE_DROP).update(status=Flag.Status.SNOOZED,
                                                            snoozed_until=later - dt.timedelta(days=1))
    small_later, large_later = run(small, later), run(large, later)
    assert_same_cost(small_later, large_later)
    assert large_later[3].flags_resolved == first_large[3].flags_raised - 200
    assert set(Flag.objects.filter(status__in=Flag.LIVE_STATUSES).values_list("status", "kind")) == {
        (Flag.Status.OPEN, Flag.Kind.CADENCE_DROP)}
    events = FlagEvent.objects.filter(flag__engagement_id__in=large, actor=None)
    assert events.filter(action=FlagEvent.Action.REOPENED).count() == 200
    assert events.filter(action=FlagEvent.Action.AUTO_RESOLVED).count() == large_later[3].flags_resolved
    # Again for the same date: nothing to wake or resolve, no event, the cost of a quiet rerun.
    assert_same_cost(run(small, later), run(large, later))
    assert FlagEvent.objects.count() == 210 + small_later[3].flags_resolved + large_later[3].flags_resolved
    assert HealthSnapshot.objects.filter(engagement_id__in=large).count() == 600


def test_an_empty_batch_costs_one_query():
    with CaptureQueriesContext(connection) as queries:
        score_engagements(engagement_ids=[987654], as_of=TODAY)
    assert len(queries) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is PostgreSQL's")
def test_the_scoring_transaction_runs_without_jit():
    # The claim turns JIT off until the run commits: the planner prices the attendance probes
    # as disk reads and would otherwise compile the session statement, at several times its cost.
    ids = portfolio(3)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = on")
        score_engagements(engagement_ids=ids, as_of=TODAY)
        # pytest-django's test transaction is still open: the setting is still the run's.
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
