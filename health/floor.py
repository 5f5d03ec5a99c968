"""The honest floor of the health benchmark: what any scorer must pay on the same data.

``bench_health`` times the scorer against it in the same run. The floor reads **every input the
health model needs** for the whole portfolio, each read in one statement as cheap as SQL makes it
(no batching, no Python, PostgreSQL free to use parallel workers), and writes the rows the
scorer produced as rows already computed:

- the dates are bound once, as parameters, the way the scorer binds them (an expression such as
  ``(current_date - 89)::timestamptz`` pasted into each FILTER is evaluated per row, and cost the
  old floor a third of its time);
- attendance is read in its cheapest form, an ``EXISTS`` probe per session in W through the
  (session, contact) index;
- nothing the model reads is left out: the sessions (the baseline as aggregates, W one by one
  with whether each was a KPI read-out and whether an executive or the sponsor attended), the KPIs
  discussed per session, the KPIs and their measurements, the planned breaks, the milestones, the
  comments, the feedback, the sponsor history and the flags the lifecycle weighs;
- the writes are the run's own snapshots, flags and latest figures copied into empty tables shaped
  like the real ones (indexes included), inside a transaction that is rolled back.

A statement per read and one per write; each is timed on its own (best of the repeats).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from clients.models import Contact, SponsorPeriod
from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, MilestoneComment, PlannedBreak, Session
from feedback.models import FeedbackResponse
from health import scoring
from health.conf import health_config
from health.models import EngagementHealth, Flag, HealthSnapshot
from health.selectors import day_start


@dataclass
class Timing:
    label: str
    seconds: float
    rows: int


def _params(as_of: dt.date) -> dict:
    config = health_config()
    windows = scoring.windows_for(as_of, config)
    adapt_datetime, adapt_date = connection.ops.adapt_datetimefield_value, connection.ops.adapt_datefield_value
    scored = [str(status) for status in config.scored_statuses]
    live = [str(status) for status in Flag.LIVE_STATUSES]
    return {
        "as_of": adapt_date(as_of),
        "window_first_day": adapt_date(windows.window_start),
        "baseline_first_day": adapt_date(windows.baseline_start),
        "end": adapt_datetime(day_start(as_of + dt.timedelta(days=1))),
        "window_start": adapt_datetime(day_start(windows.window_start)),
        "baseline_start": adapt_datetime(day_start(windows.baseline_start)),
        "scored": scored if connection.vendor == "postgresql" else json.dumps(scored),
        "live": live if connection.vendor == "postgresql" else json.dumps(live),
        "client": "client", "consultant": "consultant", "executive": Contact.Seniority.EXECUTIVE.value,
        "dropped": Milestone.Status.DROPPED.value, "kpi_review": Session.Focus.KPI_REVIEW.value,
        "reporting": Session.Focus.REPORTING.value,
        **{f"c{n}": focus.value for n, focus in enumerate(Session.CONSULTATIVE_FOCUSES)},
    }


def _in_list(column: str, param: str) -> str:
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%({param})s)"
    return f"{column} IN (SELECT value FROM json_each(%({param})s))"  # noqa: S608 (a column name of ours)


def _local_date(column: str) -> str:
    """The local date of a timestamp column, as the scorer computes it (``selectors._batch_sql``)."""
    date_sql, date_params = connection.ops.datetime_cast_date_sql(column, (), timezone.get_current_timezone_name())
    for param in date_params:
        date_sql = date_sql.replace("%s", "'" + str(param).replace("'", "''") + "'", 1)
    return date_sql


def read_statements() -> list[tuple[str, dict[str, str]]]:
    """(label, {form: SQL}) of every read, whole portfolio, named parameters from ``_params``.

    Where two SQL forms of a read are worth measuring (is a session's KPI list empty: an ``EXISTS``
    probe per session, or one hashed pass over the KPIs-discussed table; a KPI's first and last
    measurement: one grouped pass over the measurements, or two index probes per KPI), both are
    given; the floor keeps the cheaper.
    """
    local_date = _local_date
    t = {model: connection.ops.quote_name(model._meta.db_table) for model in (
        Engagement, Session, Session.client_attendees.through, Session.kpis_discussed.through, Contact,
        SponsorPeriod, KPI, KPIMeasurement, PlannedBreak, Milestone, MilestoneComment, FeedbackResponse, Flag)}
    consultative = "s.focus IN (%(c0)s, %(c1)s, %(c2)s, %(c3)s)"
    discussed = t[Session.kpis_discussed.through]
    probe = f"EXISTS (SELECT 1 FROM {discussed} d WHERE d.session_id = s.id)"  # noqa: S608 (model meta)
    hashed = f"(SELECT DISTINCT session_id FROM {discussed})"  # noqa: S608 (model meta)
    forms = {  # form: (FROM clause of the sessions, "KPIs were discussed")
        "EXISTS": (f"{t[Session]} s", probe),
        "hash join": (f"{t[Session]} s LEFT JOIN {hashed} dk ON dk.session_id = s.id", "dk.session_id IS NOT NULL"),
    }

    def readout(any_discussed: str) -> str:
        return f"(s.focus IN (%(kpi_review)s, %(reporting)s) OR (NOT s.advice_requested AND {any_discussed}))"
    in_b = "s.start < %(window_start)s"
    due_in_w = "(due_date >= %(window_first_day)s AND due_date < %(as_of)s AND status <> %(dropped)s)"
    approved_in_w = "(approved_at >= %(window_start)s AND approved_at < %(end)s)"
    client_w = "side = %(client)s AND submitted_at >= %(window_start)s"
    kpi_created = "k.created_at" if any(f.name == "created_at" for f in KPI._meta.concrete_fields) else "NULL"
    return [
        ("engagements to score", f"""
            SELECT id, client_id, start, planned_cadence_days FROM {t[Engagement]}
            WHERE start <= %(as_of)s AND {_in_list('status', 'scored')}"""),  # noqa: S608 (table names from model meta; values travel as parameters)
        ("sessions in B as aggregates, KPI read-outs among them, last session and last advice asked", {
            form: f"""
            SELECT s.engagement_id,
                   count(*) FILTER (WHERE {in_b}),
                   sum(s.duration_minutes) FILTER (WHERE {in_b}),
                   sum(s.duration_minutes) FILTER (WHERE {in_b} AND {consultative}),
                   sum(CAST(s.duration_minutes AS integer) * s.duration_minutes) FILTER (WHERE {in_b}),
                   count(*) FILTER (WHERE {in_b} AND {consultative}),
                   count(*) FILTER (WHERE {in_b} AND s.readout),
                   count(*) FILTER (WHERE {in_b} AND {consultative} AND NOT s.readout),
                   count(*) FILTER (WHERE {in_b} AND s.advice_requested),
                   count(*) FILTER (WHERE {in_b} AND s.initiated_by = %(client)s),
                   max(s.start), max(s.start) FILTER (WHERE s.advice_requested)
            FROM (SELECT s.engagement_id, s.start, s.duration_minutes, s.focus, s.advice_requested, s.initiated_by,
                         {readout(any_discussed)} AS readout
                  FROM {source} WHERE s.start >= %(baseline_start)s AND s.start < %(end)s) s
            GROUP BY s.engagement_id"""  # noqa: S608 (table names from model meta; values travel as parameters)
            for form, (source, any_discussed) in forms.items()}),
        ("sessions in W one by one: read-out or not, an executive or the sponsor present (EXISTS)", {
            form: f"""
            SELECT s.engagement_id, s.start, s.duration_minutes, {consultative}, {readout(any_discussed)},
                   s.advice_requested, s.initiated_by = %(client)s,
                   EXISTS (SELECT 1 FROM {t[Session.client_attendees.through]} a
                           JOIN {t[Contact]} c ON c.id = a.contact_id
                           WHERE a.session_id = s.id
                             AND (c.seniority = %(executive)s OR c.id IN (
                                 SELECT contact_id FROM {t[SponsorPeriod]}
                                 WHERE start <= %(as_of)s AND ("end" IS NULL OR "end" >= %(as_of)s))))
            FROM {source} WHERE s.start >= %(window_start)s AND s.start < %(end)s
            ORDER BY s.engagement_id, s.start, s.id"""  # noqa: S608 (table names from model meta; values travel as parameters)
            for form, (source, any_discussed) in forms.items()}),
        ("KPIs, with when each was first and last measured", {
            "GROUP BY": f"""
            SELECT k.engagement_id, k.id, k.name, k.target, k.direction, {kpi_created}, min(m.date), max(m.date)
            FROM {t[KPI]} k LEFT JOIN {t[KPIMeasurement]} m ON m.kpi_id = k.id AND m.date <= %(as_of)s
            GROUP BY k.id""",  # noqa: S608 (table names from model meta; values travel as parameters)
            # The scorer's form: two probes of the (KPI, date) index per KPI.
            "index probes": f"""
            SELECT k.engagement_id, k.id, k.name, k.target, k.direction, {kpi_created},
                   (SELECT min(m.date) FROM {t[KPIMeasurement]} m WHERE m.kpi_id = k.id AND m.date <= %(as_of)s),
                   (SELECT max(m.date) FROM {t[KPIMeasurement]} m WHERE m.kpi_id = k.id AND m.date <= %(as_of)s)
            FROM {t[KPI]} k"""}),  # noqa: S608 (table names from model meta; values travel as parameters)
        ("KPI values in W", f"""
            SELECT k.engagement_id, m.kpi_id, m.date, m.value
            FROM {t[KPIMeasurement]} m JOIN {t[KPI]} k ON k.id = m.kpi_id
            WHERE m.date >= %(window_first_day)s AND m.date <= %(as_of)s"""),  # noqa: S608 (table names from model meta; values travel as parameters)
        ("planned breaks touching W or B", f"""
            SELECT engagement_id, starts_on, ends_on FROM {t[PlannedBreak]}
            WHERE ends_on >= %(baseline_first_day)s AND starts_on <= %(as_of)s AND created_at < %(end)s"""),  # noqa: S608 (table names from model meta; values travel as parameters)
        ("milestones: proposed, approved, due and on time in W", f"""
            SELECT engagement_id,
                   count(*) FILTER (WHERE created_at >= %(window_start)s),
                   count(*) FILTER (WHERE created_at >= %(window_start)s AND proposed_by = %(client)s),
                   count(*) FILTER (WHERE {approved_in_w}),
                   count(*) FILTER (WHERE {due_in_w}),
                   count(*) FILTER (WHERE {due_in_w} AND {local_date('completed_at')} <= due_date)
            FROM {t[Milestone]}
            WHERE created_at < %(end)s AND (created_at >= %(window_start)s OR {approved_in_w} OR {due_in_w})
            GROUP BY engagement_id"""),  # noqa: S608 (table names from model meta; values travel as parameters)
        ("milestone comments in W, by side", f"""
            SELECT m.engagement_id, count(*), count(*) FILTER (WHERE c.side = %(client)s)
            FROM {t[MilestoneComment]} c JOIN {t[Milestone]} m ON m.id = c.milestone_id
            WHERE c.created_at >= %(window_start)s AND c.created_at < %(end)s
            GROUP BY m.engagement_id"""),  # noqa: S608 (table names from model meta; values travel as parameters)
        ("feedback in W and B, client and consultant", f"""
            SELECT engagement_id,
                   sum(rating) FILTER (WHERE {client_w}), count(*) FILTER (WHERE {client_w}),
                   sum(rating) FILTER (WHERE side = %(client)s AND submitted_at < %(window_start)s),
                   count(*) FILTER (WHERE side = %(client)s AND submitted_at < %(window_start)s),
                   sum(rating) FILTER (WHERE side = %(consultant)s AND submitted_at >= %(window_start)s),
                   count(*) FILTER (WHERE side = %(consultant)s AND submitted_at >= %(window_start)s)
            FROM {t[FeedbackResponse]}
            WHERE submitted_at >= %(baseline_start)s AND submitted_at < %(end)s
            GROUP BY engagement_id"""),  # noqa: S608 (table names from model meta; values travel as parameters)
        ("sponsor history", f"""
            SELECT p.client_id, p.contact_id, c.name, p.start, p."end"
            FROM {t[SponsorPeriod]} p JOIN {t[Contact]} c ON c.id = p.contact_id
            WHERE p.start <= %(as_of)s"""),  # noqa: S608 (table names from model meta; values travel as parameters)
        ("flags the lifecycle weighs", f"""
            SELECT id, engagement_id, kind, status, raised_on, last_seen_on, episode_ended_on, snoozed_until
            FROM {t[Flag]}
            WHERE {_in_list('status', 'live')} OR episode_ended_on IS NULL OR raised_on > %(as_of)s
               OR last_seen_on > %(as_of)s OR episode_ended_on > %(as_of)s"""),  # noqa: S608 (table names from model meta; values travel as parameters)
    ]


def time_reads(as_of: dt.date, *, repeat: int) -> list[Timing]:
    """Each read, best of ``repeat`` runs (after one run to warm the cache)."""
    params = _params(as_of)
    timings = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As the scorer's transaction does (services._claim): these plans cross jit_above_cost.
            cursor.execute("SET jit = off")
        for label, statements in read_statements():
            if isinstance(statements, str):
                statements = {"": statements}
            results = []
            for form, sql in statements.items():
                best, rows = None, 0
                for _ in range(repeat + 1):
                    started = time.perf_counter()
                    cursor.execute(sql, params)
                    rows = len(cursor.fetchall())
                    elapsed = time.perf_counter() - started
                    best = elapsed if best is None else min(best, elapsed)
                results.append((best, form, rows))
            best, form, rows = min(results)
            if len(results) > 1:
                label += f" [cheaper form: {form}; " + ", ".join(
                    f"{other} {seconds * 1000:.0f} ms" for seconds, other, _rows in sorted(results)) + "]"
            timings.append(Timing(label, best, rows))
        if connection.vendor == "postgresql":
            cursor.execute("RESET jit")
    return timings


def time_writes(as_of: dt.date, *, repeat: int) -> list[Timing]:
    """Copy the run's snapshots of ``as_of``, its flags and the latest figures into empty tables shaped
    like the real ones: the cost of writing those rows once they are computed. Rolled back."""
    quote = connection.ops.quote_name
    writes = [("snapshots", HealthSnapshot, "date = %(as_of)s"), ("flags", Flag, "TRUE"),
              ("latest figures", EngagementHealth, "TRUE")]
    params = {"as_of": connection.ops.adapt_datefield_value(as_of)}
    timings = []
    with transaction.atomic(), connection.cursor() as cursor:
        for label, model, where in writes:
            source, copy = quote(model._meta.db_table), quote(f"floor_{model._meta.db_table}")
            if connection.vendor == "postgresql":
                cursor.execute(f"CREATE TEMP TABLE {copy} (LIKE {source} INCLUDING ALL)")
            else:
                cursor.execute(f"CREATE TEMP TABLE {copy} AS SELECT * FROM {source} WHERE 0")  # noqa: S608
            best, rows = None, 0
            for _ in range(repeat + 1):
                cursor.execute(f"TRUNCATE {copy}" if connection.vendor == "postgresql"
                               else f"DELETE FROM {copy}")  # noqa: S608 (names of ours)
                started = time.perf_counter()
                cursor.execute(f"INSERT INTO {copy} SELECT * FROM {source} WHERE {where}", params)  # noqa: S608
                rows = cursor.rowcount
                elapsed = time.perf_counter() - started
                best = elapsed if best is None else min(best, elapsed)
            timings.append(Timing(f"writing the run's {label}, as rows already computed", best, rows))
        transaction.set_rollback(True)
    return timings


def best(runs: Sequence[Sequence[Timing]]) -> list[Timing]:
    """Statement by statement, the fastest of several runs of ``time_reads`` or ``time_writes``."""
    return [min(timed, key=lambda timing: timing.seconds) for timed in zip(*runs, strict=True)]


def total(timings: Sequence[Timing]) -> float:
    return sum(t.seconds for t in timings)
