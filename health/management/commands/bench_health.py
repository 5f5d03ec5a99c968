"""Benchmark the health engine against the honest floor: what any scorer must pay on the same data.

    DATABASE_URL=postgres://…/rapport_bench python manage.py bench_health --engagements 10000 --sessions-per 100

Builds a synthetic portfolio in the configured database (bulk inserts; PostgreSQL COPY): clients
with their sponsor history, engagements, sessions with their attendees and the KPIs discussed,
milestones and comments, feedback, KPIs with monthly values, planned breaks. Then times a full
scoring run (``health.services.score_engagements`` over every batch, the code the nightly chunks
run) and, in the same run, the floor (``health.floor``): every read the model needs, whole
portfolio, one statement each with the dates bound once, plus writing the rows the run produced.
It prints both side by side with the ratio.

Each repeat empties the health tables, scores once (every snapshot inserted, every flag raised)
and again for the same date (nothing changes), then times the floor (each statement twice); the
best of the repeats is printed, the usual way to read a benchmark on a shared machine. Scorer and
floor take turns within each repeat, so a change of load on a shared machine reaches both.
``--workers N`` also times the run the way production runs it: the batches shared out over N
processes, each with its own database connection, as the nightly group of ``score_batch`` tasks
is shared out over the Celery workers.

Use a database of its own: the data stays for reruns, the health tables are emptied.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import multiprocessing
import random
import statistics
import time
from unittest import mock

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from clients.models import Client, Contact, SponsorPeriod
from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, MilestoneComment, PlannedBreak, Session
from feedback.models import FeedbackResponse
from health import floor, notifications, selectors, services
from health.conf import health_config
from health.models import Flag, FlagEvent, HealthSnapshot, PendingRescore
from health.selectors import day_start

BENCH_PREFIX = "Bench client "
FOCUSES = [choice.value for choice in Session.Focus]
CONSULTATIVE = {focus.value for focus in Session.CONSULTATIVE_FOCUSES}


class _Counter:
    """Counts statements without keeping their SQL (CaptureQueriesContext would, at a cost)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _csv_value(value) -> str:
    if value is None:
        return ""  # unquoted empty field: NULL in COPY's CSV format
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'


def _adapt(value):
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _insert(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert raw rows fast: COPY on PostgreSQL, executemany elsewhere.

    Columns a row does not name get the field's default, so a field added to a model later does
    not break the benchmark.
    """
    if not rows:
        return
    extra = [f for f in model._meta.concrete_fields if f.column not in columns and not f.primary_key]
    defaults = tuple(f.get_default() for f in extra)
    columns = columns + [f.column for f in extra]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            for row in rows:
                buffer.write(",".join(_csv_value(v) for v in row + defaults))
                buffer.write("\n")
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)", buffer)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})",  # noqa: S608
                               [tuple(_adapt(v) for v in row + defaults) for row in rows])


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def _score_batch(args: tuple[list[int], dt.date]) -> tuple[services.ScoringResult, int]:
    """One batch, as a ``score_batch`` task runs it; returns its result and statement count."""
    engagement_ids, as_of = args
    counter = _Counter()
    with connection.execute_wrapper(counter):
        result = services.score_engagements(engagement_ids=engagement_ids, as_of=as_of)
    return result, counter.count


def _open_connection() -> None:
    """Each worker process opens its own connection before the clock starts, as a Celery worker has."""
    connection.ensure_connection()


def _empty_health_tables() -> None:
    models = (FlagEvent, Flag, HealthSnapshot, PendingRescore)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models))
    else:
        for model in models:
            model.objects.all().delete()


class Command(BaseCommand):
    help = "Build a synthetic portfolio (once) and time a full health scoring run against a plain SQL pass."

    def add_arguments(self, parser):
        parser.add_argument("--engagements", type=int, default=10_000)
        parser.add_argument("--sessions-per", type=int, default=100, help="Sessions per engagement.")
        parser.add_argument("--batch-size", type=int, default=None, help="Engagements per batch (HEALTH default).")
        parser.add_argument("--workers", type=int, default=1,
                            help="Also time the run with the batches shared out over this many processes.")
        parser.add_argument("--repeat", type=int, default=3, help="Runs of each measurement; the best is printed.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, engagements, sessions_per, batch_size, workers, repeat, seed, **options):
        if engagements < 1 or sessions_per < 1 or workers < 1 or repeat < 1:
            raise CommandError("--engagements, --sessions-per, --workers and --repeat must be positive.",
                               returncode=2)
        as_of = timezone.localdate()
        existing = Engagement.objects.filter(client__name__startswith=BENCH_PREFIX).count()
        if existing and (existing != engagements
                         or Session.objects.count() != engagements * sessions_per
                         or Engagement.objects.count() != existing
                         or KPI.objects.count() != 3 * engagements):
            raise CommandError("This database holds other data, a portfolio of another size or one built by an "
                               "older bench_health (without KPIs); point DATABASE_URL at an empty database of its "
                               "own.", returncode=2)
        if not existing:
            if Engagement.objects.exists():
                raise CommandError("This database already holds engagements; the benchmark needs one of its own.",
                                   returncode=2)
            started = time.perf_counter()
            self._build(engagements, sessions_per, as_of, random.Random(seed))  # noqa: S311 (synthetic data)
            self.stdout.write(f"Built the portfolio in {time.perf_counter() - started:.1f} s.")
            with connection.cursor() as cursor:
                # VACUUM cannot run inside a transaction (a test's, or a caller's atomic block); ANALYZE can,
                # and the statistics are what the planner needs.
                if connection.vendor == "postgresql" and not connection.in_atomic_block:
                    cursor.execute("VACUUM ANALYZE")
                else:
                    cursor.execute("ANALYZE")
        else:
            self.stdout.write("Reusing the portfolio already in this database.")

        counts = {model._meta.verbose_name_plural: model.objects.count()
                  for model in (Engagement, Session, Session.kpis_discussed.through, Milestone, MilestoneComment,
                                FeedbackResponse, KPIMeasurement, PlannedBreak)}
        self.stdout.write("Portfolio: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))

        batch_size = batch_size or health_config().batch_size
        ids = selectors.engagement_ids_to_score(as_of=as_of, statuses=health_config().scored_statuses)
        batches = [(ids[i:i + batch_size], as_of) for i in range(0, len(ids), batch_size)]
        self.stdout.write(f"Database: {connection.vendor}; scoring {len(ids):,} engagements as of {as_of}; "
                          f"{len(batches)} batches of up to {batch_size:,}.")
        # The e-mails about new high flags are a task of their own in production, queued after the
        # run commits; this times the scoring, so the run here queues none (they would be sent
        # in-process without Redis, thousands of them, to the console).
        with mock.patch.object(notifications, "queue_high_flag_notices"):
            runs, reads, writes = self._time_scoring(batches, workers, repeat, as_of)
        self._print(reads, writes, runs, repeat)
        self.stdout.write(f"Live flags: {Flag.objects.filter(status__in=Flag.LIVE_STATUSES).count():,}; "
                          f"snapshots stored: {HealthSnapshot.objects.count():,}")

    def _print(self, reads, writes, runs, repeat: int) -> None:
        """The floor statement by statement, then floor and scorer side by side, with the ratio."""
        reads_total, writes_total = floor.total(reads), floor.total(writes)
        floor_total = reads_total + writes_total
        self.stdout.write(f"\nFloor: every read the model needs, whole portfolio, one statement each, dates bound "
                          f"once (health/floor.py); each statement the best of {2 * repeat} runs, two after each "
                          f"repeat's scoring:")
        for timing in (*reads, *writes):
            self.stdout.write(f"  {timing.seconds * 1000:8.1f} ms  {timing.label} ({timing.rows:,} rows)")
        self.stdout.write(f"\n| | time | × floor |\n|---|---:|---:|\n"
                          f"| floor: reads ({len(reads)} statements) | {reads_total:.4f} s | |\n"
                          f"| floor: writes ({len(writes)} statements) | {writes_total:.4f} s | |\n"
                          f"| **floor** | **{floor_total:.4f} s** | 1× |")
        for label, elapsed, median, queries, batches, result in runs:
            self.stdout.write(f"| scoring, {label} ({result.snapshots:,} snapshots, {result.flags_raised:,} flags "
                              f"raised; {queries / batches:.1f} statements a batch; median {median:.3f} s) "
                              f"| {elapsed:.4f} s | {elapsed / floor_total:.2f}× |")

    def _time_scoring(self, batches, workers: int, repeat: int, as_of: dt.date) -> tuple[list[tuple], list, list]:
        """Each repeat times every scoring run, then the floor: the floor's best and the scorer's best
        come from the same minutes, so a shared machine's load changing during the benchmark moves
        both (timed one after the other, a quieter spell during the floor alone made the ratio
        look worse, a busier one better)."""
        runs = [("1 process", self._score_in_process)]
        if workers > 1:
            connections.close_all()  # each child opens its own connection
            pool = multiprocessing.get_context("fork").Pool(workers, initializer=_open_connection)
            # One batch at a time, as a Celery worker prefetches.
            runs.append((f"{workers} processes in parallel", functools.partial(pool.map, chunksize=1)))
        timings = {label: ([], []) for label, _run in runs}
        reads, writes = [], []
        try:
            for _ in range(repeat):
                for label, run in runs:
                    first, second = timings[label]
                    _empty_health_tables()
                    first.append(self._score_all(run, batches))
                    second.append(self._score_all(run, batches))
                # After the runs, so the floor reads the flags a nightly run finds (the first run
                # found none) and copies the rows the run wrote.
                reads.append(floor.time_reads(as_of, repeat=1))
                writes.append(floor.time_writes(as_of, repeat=1))
        finally:
            if workers > 1:
                pool.close()
                pool.join()
        measured = []
        for label, (first, second) in timings.items():
            for run_label, runs_timed in (("first run", first), ("rerun of the same date", second)):
                elapsed, queries, result = min(runs_timed, key=lambda timing: timing[0])
                median = statistics.median(timing[0] for timing in runs_timed)
                measured.append((f"{label}, {run_label}", elapsed, median, queries, len(batches), result))
        return measured, floor.best(reads), floor.best(writes)

    @staticmethod
    def _score_in_process(function, batches):
        return [function(batch) for batch in batches]

    @staticmethod
    def _score_all(run, batches) -> tuple[float, int, services.ScoringResult]:
        started = time.perf_counter()
        outcomes = run(_score_batch, batches)
        elapsed = time.perf_counter() - started
        result = services.ScoringResult()
        for batch_result, _queries in outcomes:
            result += batch_result
        return elapsed, sum(queries for _result, queries in outcomes), result

    @staticmethod
    def _timed(function, *args) -> float:
        started = time.perf_counter()
        function(*args)
        return time.perf_counter() - started

    def _build(self, engagements: int, sessions_per: int, as_of: dt.date, rnd: random.Random) -> None:
        now = timezone.now()
        lead = User.objects.create_user(email=f"bench-lead-{now.timestamp():.0f}@example.com",
                                        full_name="Bench Lead", is_consultant=True)
        ids = {model: _next_id(model) for model in (Client, Contact, SponsorPeriod, Engagement, Session, Milestone,
                                                    MilestoneComment, FeedbackResponse, KPI, KPIMeasurement,
                                                    PlannedBreak)}
        clients, contacts, periods, engagement_rows = [], [], [], []
        sessions, attendees, milestones, comments, feedback = [], [], [], [], []
        kpis, measurements, discussed, breaks = [], [], [], []
        attendance = Session.client_attendees.through
        kpi_created = any(f.name == "created_at" for f in KPI._meta.concrete_fields)

        def at(day: dt.date, minutes: int) -> dt.datetime:
            return day_start(day) + dt.timedelta(minutes=minutes)

        for n in range(engagements):
            client_id = ids[Client] + n
            exec_id, staff_id, new_exec_id = (ids[Contact] + 3 * n + k for k in range(3))
            clients.append((client_id, f"{BENCH_PREFIX}{n}", "Retail", "active", None, now))
            for contact_id, name, seniority in ((exec_id, "Exec", "executive"), (staff_id, "Staff", "staff"),
                                                (new_exec_id, "New exec", "executive")):
                contacts.append((contact_id, client_id, f"{name} {n}", f"c{contact_id}@bench.example", "", seniority,
                                 False, None, True, None, now))
            life = rnd.randint(300, 720)
            start = as_of - dt.timedelta(days=life)
            # One client in five changed sponsor at some point in the last year.
            change = as_of - dt.timedelta(days=rnd.randint(1, min(365, life))) if rnd.random() < 0.2 else None
            periods.append((ids[SponsorPeriod] + 2 * n, client_id, exec_id, start - dt.timedelta(days=30),
                            change - dt.timedelta(days=1) if change else None))
            if change:
                periods.append((ids[SponsorPeriod] + 2 * n + 1, client_id, new_exec_id, change, None))
            engagement_id = ids[Engagement] + n
            cadence = rnd.choice([7, 14, 14, 21, 30])
            engagement_rows.append((engagement_id, client_id, f"Engagement {n}", "", start, None, "active",
                                    lead.pk, cadence, "", "", "", None, now))
            depth_bias, client_share = rnd.random(), rnd.random()
            # Three KPIs, measured monthly since the start (the KPI-pattern signals read them).
            kpi_ids = [ids[KPI] + 3 * n + k for k in range(3)]
            for k, kpi_id in enumerate(kpi_ids):
                kpis.append((kpi_id, engagement_id, f"KPI {k}", "%", 80 + k, "up" if k % 2 else "down", True)
                            + ((at(start, 540),) if kpi_created else ()))
                for month in range(0, life, 30):
                    measurements.append((kpi_id, start + dt.timedelta(days=month), round(rnd.uniform(50, 100), 2)))
            # One engagement in ten marked a planned break in the last year.
            if rnd.random() < 0.1:
                first = as_of - dt.timedelta(days=rnd.randint(30, min(365, life)))
                breaks.append((ids[PlannedBreak] + len(breaks), engagement_id, first,
                               first + dt.timedelta(days=rnd.randint(14, 60)), "holiday", "", lead.pk, now))
            for k in range(sessions_per):
                session_id = ids[Session] + n * sessions_per + k
                day = start + dt.timedelta(days=rnd.randint(0, life))
                consultative = rnd.random() < depth_bias
                focus = rnd.choice(FOCUSES[:4] if consultative else FOCUSES[4:])
                sessions.append((session_id, engagement_id, at(day, rnd.randint(480, 1080)), rnd.choice([30, 60, 90]),
                                 "meeting", focus, "client" if rnd.random() < client_share else "consultant",
                                 consultative and rnd.random() < 0.5, "", "", False, None, lead.pk, 1, now, now))
                if rnd.random() < 0.5:
                    attendees.append((session_id, rnd.choice((exec_id, staff_id))))
                # KPI reviews and reports discuss the KPIs; other sessions now and then one of them.
                if focus in ("kpi_review", "reporting"):
                    discussed.extend((session_id, kpi_id) for kpi_id in kpi_ids)
                elif rnd.random() < (0.1 if consultative else 0.4):
                    discussed.append((session_id, rnd.choice(kpi_ids)))
            for k in range(max(1, sessions_per // 10)):
                milestone_id = ids[Milestone] + n * max(1, sessions_per // 10) + k
                created = start + dt.timedelta(days=rnd.randint(0, life))
                due = created + dt.timedelta(days=rnd.randint(10, 60))
                done = due + dt.timedelta(days=rnd.randint(-10, 15))
                finished = done <= as_of
                milestones.append((milestone_id, engagement_id, f"Milestone {k}", "", "action", due,
                                   "done" if finished else "in_progress",
                                   "client" if rnd.random() < client_share else "consultant", None, None, True,
                                   False, at(done, 900) if finished and rnd.random() < 0.5 else None, None,
                                   at(done, 800) if finished else None, k, 1, at(created, 600), now))
                for j in range(2):
                    comments.append((ids[MilestoneComment] + 2 * (milestone_id - ids[Milestone]) + j, milestone_id,
                                     None, "client" if j else "consultant", "Noted.",
                                     at(min(as_of, created + dt.timedelta(days=j + 1)), 700)))
            for k in range(max(1, sessions_per // 20)):
                feedback_id = ids[FeedbackResponse] + 2 * (n * max(1, sessions_per // 20) + k)
                day = start + dt.timedelta(days=rnd.randint(0, life))
                rating = min(5, max(1, round(2 + 3 * depth_bias + rnd.uniform(-1, 1))))
                feedback.append((feedback_id, engagement_id, None, "client", None, None, None,
                                 at(day, 1000), rating, None, None, ""))
                feedback.append((feedback_id + 1, engagement_id, None, "consultant", None, lead.pk, None,
                                 at(day, 1000), min(5, rating + rnd.choice([0, 0, 1, 2])), None, None, ""))

        with transaction.atomic():
            _insert(Client, ["id", "name", "industry", "status", "account_lead_id", "created_at"], clients)
            _insert(Contact, ["id", "client_id", "name", "email", "title", "seniority", "is_sponsor", "sponsor_since",
                              "active", "user_id", "created_at"], contacts)
            _insert(SponsorPeriod, ["id", "client_id", "contact_id", "start", "end"], periods)
            _insert(Engagement, ["id", "client_id", "title", "objectives", "start", "end", "status", "lead_id",
                                 "planned_cadence_days", "closure_reason", "handover_notes", "retrospective",
                                 "closed_at", "created_at"], engagement_rows)
            _insert(Session, ["id", "engagement_id", "start", "duration_minutes", "channel", "focus", "initiated_by",
                              "advice_requested", "notes", "next_steps", "shared_with_client", "sentiment",
                              "logged_by_id", "version", "created_at", "updated_at"], sessions)
            _insert(attendance, ["session_id", "contact_id"], attendees)
            _insert(Milestone, ["id", "engagement_id", "title", "description", "phase", "due_date", "status",
                                "proposed_by", "consultant_owner_id", "client_owner_id", "shared_with_client",
                                "approval_requested", "approved_at", "approved_by_id", "completed_at", "position",
                                "version", "created_at", "updated_at"], milestones)
            _insert(MilestoneComment, ["id", "milestone_id", "author_id", "side", "text", "created_at"], comments)
            _insert(FeedbackResponse, ["id", "engagement_id", "request_id", "side", "respondent_contact_id",
                                       "respondent_user_id", "recorded_by_id", "submitted_at", "rating", "involvement",
                                       "nps", "comment"], feedback)
            _insert(KPI, ["id", "engagement_id", "name", "unit", "target", "direction", "shared_with_client"]
                    + (["created_at"] if kpi_created else []), kpis)
            _insert(KPIMeasurement, ["kpi_id", "date", "value"], measurements)
            _insert(Session.kpis_discussed.through, ["session_id", "kpi_id"], discussed)
            _insert(PlannedBreak, ["id", "engagement_id", "starts_on", "ends_on", "reason", "note", "created_by_id",
                                   "created_at"], breaks)
            # Ids were given explicitly; move the sequences past them.
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Client, Contact, SponsorPeriod, Engagement,
                                                                          Session, Milestone, MilestoneComment,
                                                                          FeedbackResponse, KPI, PlannedBreak]):
                    cursor.execute(sql)
