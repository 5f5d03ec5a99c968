"""Writes of the health engine: scoring runs, rescore requests, and what people do with flags.

A scoring run for a batch of engagements reads aggregates (``selectors.health_facts``), computes
in Python (``scoring``) and writes with a fixed number of statements: one upsert of snapshots,
one insert of new flags, at most four conditional updates for the flag lifecycle (the two that
wake and auto-resolve flags write the flags' history events too: in the same statement on
PostgreSQL, in one more on SQLite), and one upsert of the engagements' latest figures
(``EngagementHealth``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Case, Count, Min, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.models import User
from engagements.models import Engagement
from health import notifications, scoring, selectors
from health.conf import health_config
from health.models import EngagementHealth, Flag, FlagEvent, HealthSnapshot, PendingRescore
from health.signals import health_changed

logger = logging.getLogger(__name__)

_ASSESSED_FIELDS = ("score", "mode", "state", "depth", "balance", "advice_rate", "cadence",
                    "days_since_last_session", "sponsor_presence", "client_rating", "consultant_rating",
                    "perception_gap", "delivery", "components", "watch")
_SNAPSHOT_FIELDS = (*_ASSESSED_FIELDS, "algorithm_version")


@dataclass
class ScoringResult:
    """What a run did, for the command's summary and the tasks' return values."""

    snapshots: int = 0
    flags_raised: int = 0
    flags_resolved: int = 0

    def __iadd__(self, other: ScoringResult) -> ScoringResult:
        self.snapshots += other.snapshots
        self.flags_raised += other.flags_raised
        self.flags_resolved += other.flags_resolved
        return self


# --- Scoring runs -----------------------------------------------------------------------------

def score_engagements(*, engagement_ids: Iterable[int], as_of: dt.date,
                      config: scoring.HealthConfig | None = None) -> ScoringResult:
    """Score one batch as of a date: upsert its snapshots and move its flags along their lifecycle.

    Engagements that do not exist (deleted meanwhile) or start after ``as_of`` are skipped.
    Running it twice for the same date leaves the same rows.
    """
    config = config or health_config()
    # One transaction from the claim to the last write (no savepoint: an error fails the whole run).
    with _without_cycle_collection(), transaction.atomic(savepoint=False):
        return _score_claimed(_claim(engagement_ids), as_of, config)


@contextlib.contextmanager
def _without_cycle_collection():
    """Pause Python's cycle collector for one batch.

    A batch of 1,000 engagements allocates a few hundred thousand short-lived objects (rows,
    sessions, evidence dicts), none in a reference cycle, so reference counting frees them all;
    but each allocation burst set off full collections that walk every object the process holds,
    15–20 % of a batch's time in the benchmark (docs/health.md, Benchmark). The collector runs again
    as soon as the batch ends, and is left alone if something else had turned it off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _claim(engagement_ids: Iterable[int]) -> list[int]:
    """Lock the batch's engagement rows until the run commits, so runs over the same engagements
    (two beats, a redelivered chunk, a rescore during the nightly run) take turns: the second
    reads what the first wrote and has nothing left to write.

    One statement, rows locked in id order (two runs never deadlock). FOR NO KEY UPDATE does not
    block the inserts that reference an engagement (sessions, comments, snapshots). SQLite has no
    row locks and needs none: it runs one writer at a time.

    The same statement turns JIT compilation off until the run commits (``set_config(…, true)``
    is ``SET LOCAL``, run once as an InitPlan): the run's statements probe indexes a few thousand
    times, which the planner prices as disk reads, and past ``jit_above_cost`` PostgreSQL spent
    several times a statement's run time compiling it (measured: docs/health.md, Benchmark).
    """
    ids = sorted(set(engagement_ids))
    if connection.vendor != "postgresql" or not ids:
        return ids
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {connection.ops.quote_name(Engagement._meta.db_table)} "  # noqa: S608 (model meta)
            "WHERE id = ANY(%s) AND (SELECT set_config('jit', 'off', true)) = 'off' "
            "ORDER BY id FOR NO KEY UPDATE", [ids])
        return [pk for (pk,) in cursor.fetchall()]


def _score_claimed(engagement_ids: list[int], as_of: dt.date, config: scoring.HealthConfig) -> ScoringResult:
    if not engagement_ids:
        return ScoringResult()
    windows = scoring.windows_for(as_of, config)
    facts = selectors.health_facts(engagement_ids=engagement_ids, windows=windows)
    if not facts:
        return ScoringResult()
    assessments = [scoring.assess(f, windows, config) for f in facts.values()]
    stored = selectors.flags_for_lifecycle(engagement_ids=list(facts), as_of=as_of)
    plan = scoring.plan_flags(assessments, stored, as_of, min_episode_days=config.min_episode_days)
    scoring.prune_watch(assessments, stored, plan)
    snapshots = [{"engagement_id": a.engagement_id, **{name: getattr(a, name) for name in _ASSESSED_FIELDS}}
                 for a in assessments]
    now = timezone.now()
    new_flags = [{"engagement_id": engagement_id, "kind": condition.kind, "severity": condition.severity,
                  "evidence": condition.evidence}
                 for engagement_id, condition in plan.raise_new]
    with transaction.atomic(savepoint=False):
        _bulk_insert(HealthSnapshot, snapshots, shared={"date": as_of, "algorithm_version": scoring.ALGORITHM_VERSION},
                     unique_fields=["engagement_id", "date"], update_fields=list(_SNAPSHOT_FIELDS))
        # No conflict target: if a concurrent run (a rescore and the nightly chunk) raised the
        # same flag a moment ago, the partial unique index keeps one and this insert skips it.
        _bulk_insert(Flag, new_flags, shared={"status": Flag.Status.OPEN, "raised_on": as_of, "episode_start": as_of,
                                              "last_seen_on": as_of, "created_at": now})
        high = [row["engagement_id"] for row in new_flags if row["severity"] == Flag.Severity.HIGH]
        if high:
            # E-mail the lead and the managers once this commits; only about flags this run inserted.
            notifications.queue_high_flag_notices(as_of=as_of, engagement_ids=high)
        resolved = _apply_flag_plan(plan, as_of)
        # Last, so the live-flag counts include what this run raised and resolved.
        scored = [row["engagement_id"] for row in snapshots]
        engagement_health_refresh(engagement_ids=scored, as_of=as_of)
        _announce_health_changed(scored)
    return ScoringResult(snapshots=len(snapshots), flags_raised=len(new_flags), flags_resolved=resolved)


def _bulk_insert(model, rows: list[dict], *, shared: dict | None = None, unique_fields: Sequence[str] = (),
                 update_fields: Sequence[str] = ()) -> None:
    """Insert rows in one statement; on a conflict update ``update_fields`` (or skip the row).

    ``shared`` holds the values every row has (the scoring date, the run's stamp); the fields
    neither a row nor ``shared`` names get their default.

    On PostgreSQL the rows travel as one JSON parameter unpacked by jsonb_to_recordset: a VALUES
    list with tens of thousands of literals costs more to send and parse than the insert itself
    (measured: 150 ms against 16 ms per 1,000 snapshots). The shared values and defaults travel
    once, as a second JSON parameter, not in every row: parsing the JSON is most of the
    statement's time, and they were more than half the bytes of a flag (see docs/health.md,
    Benchmark). Elsewhere, Django's bulk_create.
    """
    if not rows:
        return
    shared = shared or {}
    if connection.vendor != "postgresql":
        objects = [model(**shared, **row) for row in rows]
        if unique_fields:
            model.objects.bulk_create(objects, update_conflicts=True, update_fields=list(update_fields),
                                      unique_fields=[name.removesuffix("_id") for name in unique_fields])
        else:
            model.objects.bulk_create(objects, ignore_conflicts=True)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    per_row = [field for field in fields if field.attname in rows[0]]
    once = {field.column: shared[field.attname] if field.attname in shared else field.get_default()
            for field in fields if field.attname not in rows[0]}
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)

    def record(of_fields) -> str:
        return ", ".join(f"{quote(field.column)} {field.db_type(connection)}" for field in of_fields)

    source = f"jsonb_to_recordset(%s::jsonb) AS r({record(per_row)})"
    params = [_json_rows(rows, {field.attname: field.column for field in per_row})]
    if once:
        source += f" CROSS JOIN jsonb_to_record(%s::jsonb) AS k({record(f for f in fields if f.column in once)})"
        params.append(json.dumps(once, cls=DjangoJSONEncoder))
    columns = ", ".join(quote(field.column) for field in fields)
    if unique_fields:
        by_name = {field.name: field.column for field in fields}
        targets = [quote(by_name[n]) for n in update_fields]
        # The WHERE skips rows whose values did not change: a rerun for the same date then writes
        # nothing at all (no new row versions, no index churn).
        conflict = (f"ON CONFLICT ({', '.join(quote(model._meta.get_field(n).column) for n in unique_fields)}) "
                    f"DO UPDATE SET " + ", ".join(f"{t} = EXCLUDED.{t}" for t in targets)
                    + f" WHERE ({', '.join(f'{table}.{t}' for t in targets)}) IS DISTINCT FROM "
                    f"({', '.join(f'EXCLUDED.{t}' for t in targets)})")
    else:
        conflict = "ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {source} {conflict}",  # noqa: S608 (model meta)
            params,
        )


def _json_rows(rows: list[dict], columns: dict[str, str]) -> str:
    """The rows as one compact JSON array keyed by column, the way jsonb_to_recordset reads them.

    About 14 MB for a night of 10,000 engagements (mostly the components and the evidence), so
    each row dict is encoded as it is (renamed only where a field's column differs from its
    name), without spaces after separators (11 % fewer bytes for PostgreSQL to parse).
    """
    if any(name != column for name, column in columns.items()):
        rows = [{columns[name]: value for name, value in row.items()} for row in rows]
    return json.dumps(rows, cls=DjangoJSONEncoder, separators=(",", ":"))


_SEVERITY_RANKS = {Flag.Severity.HIGH: 0, Flag.Severity.MEDIUM: 1, Flag.Severity.LOW: 2}
_HEALTH_FIGURES = ("as_of", "score", "mode", "state", "depth", "balance", "days_since_last_session",
                   "score_change_30", "score_change_90", "watch", "watch_count")
_HEALTH_FLAG_COLUMNS = ("live_flags", "worst_flag_severity")


def _engagement_health_sql(vendor: str, *, all_engagements: bool, newest: bool) -> str:
    """One INSERT … SELECT … ON CONFLICT that copies snapshots into ``EngagementHealth``.

    The figures change only when the snapshot is not older than the row (a backfill keeps the
    newest figures); the live-flag columns are always brought up to date. Rows that would not
    change are not written (a rerun writes nothing).
    """
    quote = connection.ops.quote_name
    health, snapshot, flag = (quote(m._meta.db_table) for m in (EngagementHealth, HealthSnapshot, Flag))

    def days_before(column: str, days: int) -> str:
        return f"{column} - {days}" if vendor == "postgresql" else f"date({column}, '-{days} days')"

    def in_ids(column: str) -> str:
        # Not "= ANY(%(ids)s)": where the planner applies it as a filter (the snapshots of a date,
        # the live flags) PostgreSQL compares each row with the whole array in turn, which cost
        # 40 ms a batch of 1,000 in the benchmark; a semi-join hashes the ids (or probes by them).
        if vendor == "postgresql":
            return f"{column} IN (SELECT unnest(%(ids)s::integer[]))"
        return f"{column} IN (SELECT value FROM json_each(%(ids)s))"  # noqa: S608 (a column name of ours)

    ids = "TRUE" if all_engagements else in_ids("engagement_id")
    if newest:
        # One pass over the (engagement, date) index for the newest dates, then one probe each.
        source = (f"(SELECT engagement_id, MAX(date) AS date FROM {snapshot} "  # noqa: S608 (names of ours)
                  f"WHERE {ids} GROUP BY engagement_id) newest "
                  f"JOIN {snapshot} s ON s.engagement_id = newest.engagement_id AND s.date = newest.date")
        where = "TRUE"
    else:
        scope = "TRUE" if all_engagements else in_ids("s.engagement_id")
        source, where = f"{snapshot} s", f"{scope} AND s.date = %(as_of)s"
    rank = " ".join(f"WHEN '{severity.value}' THEN {n}" for severity, n in _SEVERITY_RANKS.items())
    watch_count = ("jsonb_array_length(s.watch)" if vendor == "postgresql"
                   else "COALESCE(json_array_length(s.watch), 0)")
    live = ", ".join(f"'{status.value}'" for status in Flag.LIVE_STATUSES)
    columns = ("engagement_id", *_HEALTH_FIGURES, *_HEALTH_FLAG_COLUMNS)
    newer = f"{health}.as_of <= EXCLUDED.as_of"
    distinct = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    figures = ", ".join(f"{c} = CASE WHEN {newer} THEN EXCLUDED.{c} ELSE {health}.{c} END" for c in _HEALTH_FIGURES)
    flags = ", ".join(f"{c} = EXCLUDED.{c}" for c in _HEALTH_FLAG_COLUMNS)
    changed = " OR ".join([*(f"{health}.{c} {distinct} EXCLUDED.{c}" for c in _HEALTH_FIGURES[1:]),
                           f"{health}.as_of < EXCLUDED.as_of"])
    flags_changed = " OR ".join(f"{health}.{c} {distinct} EXCLUDED.{c}" for c in _HEALTH_FLAG_COLUMNS)
    return f"""
        INSERT INTO {health} ({", ".join(columns)})
        SELECT s.engagement_id, s.date, s.score, s.mode, s.state, s.depth, s.balance, s.days_since_last_session,
               s.score - p30.score, s.score - p90.score, s.watch, {watch_count}, COALESCE(f.live, 0), f.worst
        FROM {source}
        LEFT JOIN {snapshot} p30 ON p30.engagement_id = s.engagement_id AND p30.date = {days_before('s.date', 30)}
        LEFT JOIN {snapshot} p90 ON p90.engagement_id = s.engagement_id AND p90.date = {days_before('s.date', 90)}
        LEFT JOIN (SELECT engagement_id, COUNT(*) AS live, MIN(CASE severity {rank} END) AS worst
                   FROM {flag} WHERE status IN ({live}) AND {ids} GROUP BY engagement_id
                  ) f ON f.engagement_id = s.engagement_id
        WHERE {where}
        ON CONFLICT (engagement_id) DO UPDATE SET {figures}, {flags}
        WHERE ({newer} AND ({changed})) OR {flags_changed}
    """  # noqa: S608 (names from model meta, constants of ours; values travel as parameters)


def engagement_health_refresh(*, engagement_ids: Iterable[int] | None = None, as_of: dt.date | None = None) -> None:
    """Copy the engagements' snapshots of ``as_of`` (else their newest) into their latest figures, in one statement.

    Without ``engagement_ids``, every engagement with a snapshot (filling the table from history).
    """
    params = {}
    if engagement_ids is not None:
        ids = [int(pk) for pk in engagement_ids]
        if not ids:
            return
        params["ids"] = ids if connection.vendor == "postgresql" else json.dumps(ids)
    if as_of is not None:
        params["as_of"] = connection.ops.adapt_datefield_value(as_of)
    sql = _engagement_health_sql(connection.vendor, all_engagements=engagement_ids is None, newest=as_of is None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _engagement_health_flags_refresh(*, engagement_id: int) -> None:
    """Recount an engagement's live flags in its latest figures, after a person changed a flag's status."""
    live = Flag.objects.filter(engagement_id=OuterRef("engagement_id"), status__in=Flag.LIVE_STATUSES).order_by()
    rank = Case(*(When(severity=severity, then=Value(n)) for severity, n in _SEVERITY_RANKS.items()))
    EngagementHealth.objects.filter(engagement_id=engagement_id).update(
        live_flags=Coalesce(Subquery(live.values("engagement_id").annotate(n=Count("pk")).values("n")), 0),
        worst_flag_severity=Subquery(live.values("engagement_id").annotate(worst=Min(rank)).values("worst")),
    )


def _apply_flag_plan(plan: scoring.FlagPlan, as_of: dt.date) -> int:
    live = Flag.LIVE_STATUSES
    now = timezone.now()
    if plan.still_seen:
        Flag.objects.filter(id__in=plan.still_seen, last_seen_on__lt=as_of).update(last_seen_on=as_of)
    if plan.wake:
        _update_with_events(Flag.objects.filter(id__in=plan.wake, status=Flag.Status.SNOOZED, snoozed_until__lte=as_of),
                            values={"status": Flag.Status.OPEN}, action=FlagEvent.Action.REOPENED, now=now)
    resolved = 0
    if plan.auto_resolve:
        # Conditional on still being live: a person may have closed it since we read it. The note
        # stays English for the admin and the API; the flag card tells it from the event instead.
        resolved = _update_with_events(
            Flag.objects.filter(id__in=plan.auto_resolve, status__in=live),
            values={"status": Flag.Status.RESOLVED, "resolved_at": now, "episode_ended_on": as_of,
                    "resolution_note": f"Resolved automatically: the condition no longer held on {as_of.isoformat()}."},
            action=FlagEvent.Action.AUTO_RESOLVED, now=now)
    if plan.end_episode:
        Flag.objects.filter(id__in=plan.end_episode, episode_ended_on__isnull=True).update(episode_ended_on=as_of)
    return resolved


_EVENT_FIELDS = ("flag", "created_at", "actor", "action", "note")


def _update_with_events(flags: QuerySet[Flag], *, values: dict, action: str, now: dt.datetime,
                        actor: User | None = None, note: str = "") -> int:
    """``flags.update(**values)`` that also writes one ``FlagEvent`` for each flag it really changed.

    The update's own WHERE decides which flags change (a flag a person closed after it was read no
    longer matches, and gets no event), and the events are written from the ids it returns, in the
    same transaction and in a fixed number of statements whatever the number of flags. PostgreSQL:
    one, a data-modifying CTE (UPDATE … RETURNING feeding INSERT … SELECT). SQLite has no such CTE:
    UPDATE … RETURNING, then one INSERT … SELECT over the ids as one JSON parameter (Django's
    bulk_create would split it at 999 parameters). Returns how many flags changed.
    """
    # The UPDATE exactly as QuerySet.update() builds it, so the conditions stay ORM lookups.
    query = flags.query.chain(UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    update_sql, update_params = query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    fields = [FlagEvent._meta.get_field(name) for name in _EVENT_FIELDS]
    event_table = quote(FlagEvent._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    event_params = [fields[1].get_db_prep_save(now, connection), actor.pk if actor else None, action, note]
    returning = f"RETURNING {quote(Flag._meta.pk.column)}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH changed (id) AS ({update_sql} {returning}) "  # noqa: S608 (the ORM's SQL, model meta)
                           f"INSERT INTO {event_table} ({columns}) SELECT id, %s, %s, %s, %s FROM changed",
                           [*update_params, *event_params])
            return cursor.rowcount
        cursor.execute(f"{update_sql} {returning}", update_params)
        ids = [pk for (pk,) in cursor.fetchall()]
        if ids:
            cursor.execute(f"INSERT INTO {event_table} ({columns}) "  # noqa: S608 (names from model meta)
                           "SELECT value, %s, %s, %s, %s FROM json_each(%s)", [*event_params, json.dumps(ids)])
        return len(ids)


def _announce_health_changed(engagement_ids: list[int]) -> None:
    """Send ``health_changed`` once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(lambda: health_changed.send(sender=HealthSnapshot, engagement_ids=engagement_ids),
                          robust=True)


def _chunks(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for offset in range(0, len(ids), size):
        yield list(ids[offset:offset + size])


def score_portfolio(*, as_of: dt.date, engagement_ids: Sequence[int] | None = None, batch_size: int | None = None,
                    on_batch: Callable[[int], None] | None = None) -> ScoringResult:
    """Score every scored engagement (or the given ones) as of a date, batch after batch, in-process.

    ``on_batch`` is told how many engagements each batch held (for a progress bar).
    """
    config = health_config()
    if engagement_ids is None:
        engagement_ids = selectors.engagement_ids_to_score(as_of=as_of, statuses=config.scored_statuses)
    result = ScoringResult()
    for chunk in _chunks(list(engagement_ids), batch_size or config.batch_size):
        result += score_engagements(engagement_ids=chunk, as_of=as_of, config=config)
        if on_batch:
            on_batch(len(chunk))
    return result


def backfill(*, since: dt.date, until: dt.date, engagement_ids: Sequence[int] | None = None,
             on_day: Callable[[dt.date], None] | None = None) -> ScoringResult:
    """Score every day from ``since`` to ``until``, oldest first, so flags follow their real history."""
    if since > until:
        raise ValueError("since must not be after until")
    result = ScoringResult()
    day = since
    while day <= until:
        result += score_portfolio(as_of=day, engagement_ids=engagement_ids)
        if on_day:
            on_day(day)
        day += dt.timedelta(days=1)
    return result


def rescore_engagement(*, engagement_id: int, as_of: dt.date | None = None) -> ScoringResult:
    """Score one engagement as of today (the task behind ``request_rescore``); quiet if it is gone or
    closed (the scoring reads skip engagements not in a scored status: selectors.health_facts)."""
    # Clear the mark before reading, so a save landing while we score queues a fresh rescore.
    PendingRescore.objects.filter(engagement_id=engagement_id).delete()
    return score_engagements(engagement_ids=[engagement_id], as_of=as_of or timezone.localdate())


# --- Rescore requests -------------------------------------------------------------------------

_batches = threading.local()


class _RescoreBatch:
    """Engagements saved in one transaction; queued together once it commits."""

    def __init__(self) -> None:
        self.engagement_ids: set[int] = set()
        self.flushed = False

    def __call__(self) -> None:
        self.flushed = True
        _queue_rescores(self.engagement_ids)


def request_rescore(*, engagement_id: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """Queue a rescore of one engagement once the current transaction commits.

    Coalesced twice: saves within one transaction share one after-commit callback, and a pending
    mark plus a short countdown make saves from several requests in a row share one task.
    """
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _queue_rescores({engagement_id})
        return
    registry = _batches.__dict__.setdefault("by_alias", {})
    batch = registry.get(using)
    # A batch whose transaction rolled back is no longer among the pending callbacks: start anew.
    if (batch is None or batch.flushed
            or not any(callback is batch for _ids, callback, _robust in connection.run_on_commit)):
        batch = registry[using] = _RescoreBatch()
        # robust: the user's save has committed; a broker hiccup must not turn it into an error page.
        transaction.on_commit(batch, using=using, robust=True)
    batch.engagement_ids.add(engagement_id)


def _queue_rescores(engagement_ids: Iterable[int], *, sweep: bool = False) -> int:
    """Queue the rescores that are due, leaving a mark per engagement; returns how many were queued.

    Due: the given engagements without a fresh mark, plus every stale mark (a rescore lost with a
    broker restart, or never queued because the broker was down). When the broker cannot be
    reached the saves have committed anyway: the marks are kept, dated as already stale, for the
    next successful enqueue or ``pending_rescores_sweep`` to pick up; nothing is raised. After a
    failure this process stops trying for a short while (``sweep`` tries regardless), so a broker
    outage costs a busy web process one connection timeout, not one per request.
    """
    from health import tasks  # tasks import this module

    config = health_config()
    now = timezone.now()
    stale_before = now - dt.timedelta(seconds=config.rescore_stale_after_seconds)
    fresh_marks = PendingRescore.objects.filter(requested_at__gte=stale_before).values("engagement_id")
    broker_resting = not sweep and time.monotonic() < _broker_state.resting_until
    wanted = Q(id__in=set(engagement_ids))
    if not broker_resting:
        wanted |= Q(id__in=PendingRescore.objects.filter(requested_at__lt=stale_before).values("engagement_id"))
    # Engagements deleted meanwhile drop out here; the rest either has a fresh mark (a task is on
    # its way) or gets one now, with its task.
    due = list(Engagement.objects.filter(wanted).exclude(id__in=fresh_marks).order_by("id")
               .values_list("id", flat=True))
    if not due:
        return 0
    queued = 0
    if not broker_resting:
        _mark_pending(due, now)
        try:
            for pk in due:
                tasks.score_engagement.apply_async(args=[pk], countdown=config.rescore_delay_seconds)
                queued += 1
        except Exception as error:  # noqa: BLE001  (whatever the broker did, the save has committed)
            _broker_state.resting_until = time.monotonic() + BROKER_REST_SECONDS
            logger.warning("Could not queue %d rescore(s), kept as pending for the sweep: %r",
                           len(due) - queued, error, exc_info=not isinstance(error, KombuOperationalError))
    if queued < len(due):
        _mark_pending(due[queued:], stale_before - dt.timedelta(seconds=1))
    return queued


def _mark_pending(engagement_ids: list[int], requested_at: dt.datetime) -> None:
    PendingRescore.objects.bulk_create([PendingRescore(engagement_id=pk, requested_at=requested_at)
                                        for pk in engagement_ids],
                                       update_conflicts=True, unique_fields=["engagement"],
                                       update_fields=["requested_at"])


# After a failed enqueue, a process leaves the broker alone this long (sweeps excepted).
BROKER_REST_SECONDS = 30


class _BrokerState:
    resting_until = 0.0


_broker_state = _BrokerState()


def pending_rescores_sweep() -> int:
    """Queue again every rescore whose mark is stale (lost or never queued); returns how many were queued."""
    return _queue_rescores((), sweep=True)


# --- What people do with flags ----------------------------------------------------------------

def _transition(flag: Flag, *, allowed_from: Sequence[str], action: str, event: str, actor: User | None,
                note: str = "", until: dt.date | None = None, **values) -> Flag:
    """Apply a change only if the flag is still in an allowed status (someone may have beaten us),
    and write it into the flag's history in the same transaction."""
    with transaction.atomic():
        updated = Flag.objects.filter(pk=flag.pk, status__in=allowed_from).update(**values)
        if not updated:
            flag.refresh_from_db()
            raise ValidationError(_("This flag is %(status)s; it cannot be %(action)s.")
                                  % {"status": flag.get_status_display().lower(), "action": action})
        FlagEvent.objects.create(flag=flag, created_at=timezone.now(), actor=actor, action=event, note=note,
                                 until=until)
        if "status" in values:
            _engagement_health_flags_refresh(engagement_id=flag.engagement_id)
        _announce_health_changed([flag.engagement_id])
    for name, value in values.items():
        setattr(flag, name, value)
    return flag


def flag_acknowledge(*, flag: Flag, user: User) -> Flag:
    """Someone has seen the flag and is on it; a snoozed flag acknowledged is awake again."""
    return _transition(flag, allowed_from=[Flag.Status.OPEN, Flag.Status.SNOOZED], action=_("acknowledged"),
                       event=FlagEvent.Action.ACKNOWLEDGED, actor=user,
                       status=Flag.Status.ACKNOWLEDGED, acknowledged_at=timezone.now(),
                       owner=flag.owner or user)


def flag_snooze(*, flag: Flag, user: User, until: dt.date, reason: str) -> Flag:
    """Hide a live flag until a date; if its condition still holds then, it opens again."""
    errors = {}
    if until <= timezone.localdate():
        errors["snoozed_until"] = _("Choose a date after today.")
    if not reason.strip():
        errors["snooze_reason"] = _("Say why the flag can wait.")
    if errors:
        raise ValidationError(errors)
    return _transition(flag, allowed_from=Flag.LIVE_STATUSES, action=_("snoozed"), status=Flag.Status.SNOOZED,
                       event=FlagEvent.Action.SNOOZED, actor=user,
                       note=reason.strip(), until=until,
                       snoozed_until=until, snooze_reason=reason.strip(), owner=flag.owner or user)


def flag_resolve(*, flag: Flag, user: User, action_plan: str, note: str) -> Flag:
    """Close a flag with an action plan: repair the relationship, or end the engagement well."""
    errors = {}
    if action_plan not in Flag.ActionPlan.values:
        errors["action_plan"] = _("Choose repair or end.")
    if not note.strip():
        errors["resolution_note"] = _("Write down what will be done.")
    if errors:
        raise ValidationError(errors)
    return _transition(flag, allowed_from=Flag.LIVE_STATUSES, action=_("resolved"), status=Flag.Status.RESOLVED,
                       event=FlagEvent.Action.RESOLVED, actor=user, note=note.strip(),
                       action_plan=action_plan, resolution_note=note.strip(), resolved_at=timezone.now(),
                       resolved_by=user, owner=flag.owner or user)


def flag_dismiss(*, flag: Flag, user: User, note: str = "") -> Flag:
    """Close a flag as not a real problem; it stays quiet for as long as its condition keeps holding."""
    return _transition(flag, allowed_from=Flag.LIVE_STATUSES, action=_("dismissed"), status=Flag.Status.DISMISSED,
                       event=FlagEvent.Action.DISMISSED, actor=user, note=note.strip(),
                       resolution_note=note.strip(), resolved_at=timezone.now(), resolved_by=user)


def flag_assign(*, flag: Flag, owner: User | None, user: User | None = None) -> Flag:
    """Give a live flag to a consultant or manager (or to nobody); ``user`` is who did it, for the history."""
    if owner is not None and not (owner.is_active and owner.is_firm_staff):
        raise ValidationError({"owner": _("Flags can only be given to an active consultant or manager.")})
    return _transition(flag, allowed_from=Flag.LIVE_STATUSES, action=_("assigned"), event=FlagEvent.Action.ASSIGNED,
                       actor=user, note=str(owner) if owner else "", owner=owner)


def flag_note_add(*, flag: Flag, user: User, text: str) -> FlagEvent:
    """Add a note to a flag's history (what was tried, who was called); the flag's status is unchanged."""
    event = FlagEvent(flag=flag, created_at=timezone.now(), actor=user, action=FlagEvent.Action.NOTE,
                      note=text.strip())
    if not event.note:
        raise ValidationError({"note": _("Write the note first.")})
    event.full_clean()
    event.save()
    return event


def flags_close_for_engagement(*, engagement: Engagement, user: User | None, note: str) -> int:
    """Resolve the live flags of an engagement that is closing, with the note and one event each; returns how many.

    A closed engagement is no longer scored, so a flag left live would never wake or auto-resolve
    and would stay in the queue for good. Flags a person already closed are left as they are.
    A fixed number of statements whatever the number of flags (see ``_update_with_events``).
    """
    now = timezone.now()
    ended_on = timezone.localdate(engagement.closed_at or now)
    with transaction.atomic():
        resolved = _update_with_events(
            Flag.objects.filter(engagement_id=engagement.pk, status__in=Flag.LIVE_STATUSES),
            values={"status": Flag.Status.RESOLVED, "resolved_at": now, "resolved_by": user,
                    "resolution_note": note, "episode_ended_on": ended_on},
            action=FlagEvent.Action.RESOLVED, actor=user, note=note, now=now)
        if resolved:
            _engagement_health_flags_refresh(engagement_id=engagement.pk)
            _announce_health_changed([engagement.pk])
    return resolved
