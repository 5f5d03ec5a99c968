"""Reads of the health engine.

``health_facts`` is the engine's input: for a batch of engagements and one scoring date it runs a
fixed number of GROUP BY queries (one per table, each with conditional aggregates for the window W
and the baseline B), whatever the batch size. They are written in SQL, in one place
(``_batch_sql``), because the engine runs them for every engagement every night and compiling
querysets cost as much as running them (docs/health.md, Benchmark). The other functions are
unscoped read helpers for pages and the API; who may see what is decided by ``access``,
not here.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import operator
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Case, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, When
from django.utils import timezone

from clients.models import Contact, SponsorPeriod
from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, MilestoneComment, PlannedBreak, Session, Side
from feedback.models import FeedbackResponse
from health import scoring
from health.conf import health_config
from health.models import Flag, FlagEvent, HealthSnapshot


def day_start(day: dt.date) -> dt.datetime:
    """Midnight starting ``day`` in the current time zone: scoring dates are local dates."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def engagement_ids_to_score(*, as_of: dt.date, statuses: Sequence[str]) -> list[int]:
    """Engagements the nightly run scores on ``as_of``: in a scored status and started by then."""
    return list(Engagement.objects.filter(status__in=statuses, start__lte=as_of)
                .order_by("id").values_list("id", flat=True))


def health_facts(*, engagement_ids: Iterable[int], windows: scoring.Windows) -> dict[int, scoring.EngagementFacts]:
    """The aggregates ``scoring.assess`` needs, for every engagement of the batch started by the date.

    Ten statements for any batch size (one when no engagement qualifies): the batch's ids travel as
    one parameter and the SQL text is built once per process, so neither grows with the batch. Rows
    dated after the scoring date are never read, so the same call backfills history.
    """
    sql = _batch_sql(connection.vendor, timezone.get_current_timezone_name())
    params = _batch_params(engagement_ids, windows)
    facts: dict[int, scoring.EngagementFacts] = {}
    client_of: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql["engagements"], params)
        for pk, client_id, start, cadence in cursor.fetchall():
            facts[pk] = scoring.EngagementFacts(engagement_id=pk, start=_date(start), planned_cadence_days=cadence)
            client_of[pk] = client_id
        if not facts:
            return facts
        # Only the engagements started by the date: the reads below need no join to filter them.
        params["ids"] = _ids_param(facts)

        cursor.execute(sql["sessions"], params)
        for (pk, sessions_b, minutes_b, consultative_minutes_b, minutes_squared_b, labelled_b, readouts_b,
             conversations_b, advice_b, client_b, last_session_on, last_advice_on) in cursor.fetchall():
            f = facts[pk]
            f.sessions_b, f.minutes_b, f.consultative_minutes_b = sessions_b, minutes_b, consultative_minutes_b
            f.minutes_squared_b, f.labelled_b, f.readouts_b = minutes_squared_b, labelled_b, readouts_b
            f.conversations_b, f.advice_b, f.client_initiated_b = conversations_b, advice_b, client_b
            f.last_session_on, f.last_advice_on = _date(last_session_on), _date(last_advice_on)

        # W's sessions one by one, oldest first: the drift detector reads them in sequence. About
        # 19 sessions an engagement, so this loop and the sums below are written for speed: on
        # PostgreSQL a row already holds a date and booleans and becomes a SessionRow as it is; the
        # sums run over columns in C (docs/health.md, Benchmark).
        cursor.execute(sql["recent_sessions"], params)
        recent: dict[int, list[scoring.SessionRow]] = {}
        make_row = scoring.SessionRow._make
        if connection.vendor == "postgresql":
            for row in cursor.fetchall():
                recent.setdefault(row[0], []).append(make_row(row[1:]))
        else:  # SQLite: dates as text, booleans as 0 and 1
            for pk, day, minutes, *signs in cursor.fetchall():
                recent.setdefault(pk, []).append(make_row((_date(day), minutes, *map(bool, signs))))
        minutes_of, labelled_of = operator.attrgetter("minutes"), operator.attrgetter("labelled")
        advice_of, client_of_row = operator.attrgetter("advice"), operator.attrgetter("client")
        present_of = operator.attrgetter("sponsor_or_executive")
        for pk, rows in recent.items():
            f = facts[pk]
            f.recent = rows
            f.sessions_w = len(rows)
            f.minutes_w = sum(map(minutes_of, rows))
            f.consultative_minutes_w = sum(itertools.compress(map(minutes_of, rows), map(labelled_of, rows)))
            f.advice_w = sum(map(advice_of, rows))
            f.client_initiated_w = sum(map(client_of_row, rows))
            f.sponsor_or_executive_w = sum(map(present_of, rows))

        cursor.execute(sql["kpis"], params)
        kpis: dict[int, list[scoring.KPIRow]] = {}
        make_kpi = scoring.KPIRow._make
        if connection.vendor == "postgresql":  # the target already a float, the direction a boolean
            for row in cursor.fetchall():
                kpis.setdefault(row[0], []).append(make_kpi(row[1:]))
        else:
            for pk, kpi_id, name, target, higher_is_better, added_on, first_on, last_on in cursor.fetchall():
                kpis.setdefault(pk, []).append(make_kpi((
                    kpi_id, name, None if target is None else float(target), bool(higher_is_better),
                    _date(added_on), _date(first_on), _date(last_on))))
        cursor.execute(sql["kpi_values"], params)
        kpi_values: dict[int, list[tuple[int, dt.date, float]]] = {}
        if connection.vendor == "postgresql":  # (kpi, date, value) as it comes: a date and a float
            for row in cursor.fetchall():
                kpi_values.setdefault(row[0], []).append(row[1:])
        else:
            for pk, kpi_id, day, value in cursor.fetchall():
                kpi_values.setdefault(pk, []).append((kpi_id, _date(day), float(value)))
        for pk, rows in kpis.items():
            facts[pk].kpis = rows
        for pk, rows in kpi_values.items():
            facts[pk].kpi_values_w = rows

        cursor.execute(sql["planned_breaks"], params)
        for pk, starts_on, ends_on in cursor.fetchall():
            facts[pk].breaks = (*facts[pk].breaks, (_date(starts_on), _date(ends_on)))

        cursor.execute(sql["milestones"], params)
        for pk, proposed, proposed_by_client, approvals, due, on_time in cursor.fetchall():
            f = facts[pk]
            f.milestones_proposed_w, f.milestones_proposed_by_client_w = proposed, proposed_by_client
            f.approvals_w, f.milestones_due_w, f.milestones_on_time_w = approvals, due, on_time

        cursor.execute(sql["comments"], params)
        for pk, comments, client_comments in cursor.fetchall():
            facts[pk].comments_w, facts[pk].client_comments_w = comments, client_comments

        cursor.execute(sql["feedback"], params)
        for (pk, client_sum_w, client_count_w, client_sum_b, client_count_b, consultant_sum_w,
             consultant_count_w) in cursor.fetchall():
            f = facts[pk]
            f.client_rating_sum_w, f.client_ratings_w = client_sum_w, client_count_w
            f.client_rating_sum_b, f.client_ratings_b = client_sum_b, client_count_b
            f.consultant_rating_sum_w, f.consultant_ratings_w = consultant_sum_w, consultant_count_w

        cursor.execute(sql["sponsor_periods"], params)
        periods: dict[int, list[scoring.SponsorPeriod]] = {}
        for client_id, contact_id, name, start, end in cursor.fetchall():
            periods.setdefault(client_id, []).append(
                scoring.SponsorPeriod(contact_id, name, _date(start), _date(end)))
    for pk, f in facts.items():
        f.sponsor_periods = periods.get(client_of[pk], ())
    return facts


def _date(value: dt.date | str | None) -> dt.date | None:
    """SQLite returns dates as ISO text; PostgreSQL as dates."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _ids_param(ids: Iterable[int]) -> list[int] | str:
    """A batch of ids as ONE parameter: an array on PostgreSQL, a JSON list elsewhere (see _in_ids)."""
    ids = [int(pk) for pk in ids]
    return ids if connection.vendor == "postgresql" else json.dumps(ids)


def _in_ids(column: str, vendor: str, param: str = "ids") -> str:
    """``column`` is one of the list in the named parameter (an array on PostgreSQL, JSON elsewhere)."""
    if vendor == "postgresql":
        return f"{column} = ANY(%({param})s)"
    return f"{column} IN (SELECT value FROM json_each(%({param})s))"  # noqa: S608 (names of ours)


def _batch_params(engagement_ids: Iterable[int], windows: scoring.Windows) -> dict:
    adapt_datetime, adapt_date = connection.ops.adapt_datetimefield_value, connection.ops.adapt_datefield_value
    as_of = windows.as_of
    scored = [str(status) for status in health_config().scored_statuses]
    return {
        "ids": _ids_param(engagement_ids),
        "scored": scored if connection.vendor == "postgresql" else json.dumps(scored),
        "as_of": adapt_date(as_of),
        "window_first_day": adapt_date(windows.window_start),
        "baseline_first_day": adapt_date(windows.baseline_start),
        # Scoring dates are local dates: W and B start and end at local midnights.
        "end": adapt_datetime(day_start(as_of + dt.timedelta(days=1))),
        "window_start": adapt_datetime(day_start(windows.window_start)),
        "baseline_start": adapt_datetime(day_start(windows.baseline_start)),
        **_SQL_CONSTANTS,
    }


_SQL_CONSTANTS = {
    "client": Side.CLIENT.value,
    "consultant": Side.CONSULTANT.value,
    "kpi_review": Session.Focus.KPI_REVIEW.value,
    "higher": KPI.Direction.HIGHER_IS_BETTER.value,
    "reporting": Session.Focus.REPORTING.value,
    "executive": Contact.Seniority.EXECUTIVE.value,
    "dropped": Milestone.Status.DROPPED.value,
    **{f"consultative_{n}": focus.value for n, focus in enumerate(Session.CONSULTATIVE_FOCUSES)},
    **{f"live_{n}": str(status) for n, status in enumerate(Flag.LIVE_STATUSES)},
}


@functools.cache
def _batch_sql(vendor: str, tzname: str) -> dict[str, str]:
    """The SQL of one batch's reads, built once per process (database vendor and time zone fixed).

    Plain SQL rather than querysets: compiling seven querysets per batch cost about as much as
    running them (measured: see docs/health.md, Benchmark). The parameters are named; the ids of
    the batch are one parameter.
    """
    ops = connection.ops
    table = {model: ops.quote_name(model._meta.db_table) for model in (
        Engagement, Session, Session.client_attendees.through, Session.kpis_discussed.through, Contact,
        SponsorPeriod, Milestone, MilestoneComment, FeedbackResponse, Flag, KPI, KPIMeasurement, PlannedBreak)}
    live = ", ".join(f"%(live_{n})s" for n in range(len(Flag.LIVE_STATUSES)))

    def local_date(column: str) -> str:
        """The local date of a timestamp column, as the ORM's ``__date`` computes it."""
        date_sql, date_params = ops.datetime_cast_date_sql(column, (), tzname)
        for param in date_params:  # time zone names, from settings: quoted as SQL literals
            date_sql = date_sql.replace("%s", "'" + str(param).replace("'", "''") + "'", 1)
        return date_sql

    consultative = ", ".join(f"%(consultative_{n})s" for n in range(len(Session.CONSULTATIVE_FOCUSES)))
    in_b = "s.start < %(window_start)s"
    is_consultative = f"s.focus IN ({consultative})"
    # A KPI read-out: its focus says so, or KPIs were discussed and the client did not ask our view.
    discussed = f"SELECT 1 FROM {table[Session.kpis_discussed.through]} d WHERE d.session_id = s.id"  # noqa: S608
    readout = f"(s.focus IN (%(kpi_review)s, %(reporting)s) OR (NOT s.advice_requested AND EXISTS ({discussed})))"
    # A milestone due today is not late yet, so "due in W" means the due date passed within W.
    due_in_w = "(due_date >= %(window_first_day)s AND due_date < %(as_of)s AND status <> %(dropped)s)"
    approved_in_w = "(approved_at >= %(window_start)s AND approved_at < %(end)s)"
    client_w = "side = %(client)s AND submitted_at >= %(window_start)s"
    if vendor == "postgresql":
        # Each KPI's values of W, and each milestone's comments of W, through their (kpi, date) and
        # (milestone) indexes: left to itself PostgreSQL hashes the batch's rows against a scan of
        # the whole table, in every batch (the 524,733 values and 200,000 comments of the
        # benchmark, ten times a night). OFFSET 0 keeps the subquery a nested loop of index probes,
        # 2× (values) and 1.7× (comments) faster on the benchmark (docs/health.md, Benchmark).
        kpi_values_from = f"""{table[KPI]} k CROSS JOIN LATERAL (
                SELECT m.kpi_id, m.date, m.value FROM {table[KPIMeasurement]} m
                WHERE m.kpi_id = k.id AND m.date >= %(window_first_day)s AND m.date <= %(as_of)s OFFSET 0) m
            WHERE {_in_ids('k.engagement_id', vendor)}"""  # noqa: S608
        comments_from = f"""{table[Milestone]} m CROSS JOIN LATERAL (
                SELECT c.side FROM {table[MilestoneComment]} c
                WHERE c.milestone_id = m.id AND c.created_at >= %(window_start)s AND c.created_at < %(end)s
                OFFSET 0) c
            WHERE {_in_ids('m.engagement_id', vendor)}"""  # noqa: S608
    else:
        kpi_values_from = f"""{table[KPIMeasurement]} m JOIN {table[KPI]} k ON k.id = m.kpi_id
            WHERE {_in_ids('k.engagement_id', vendor)} AND m.date >= %(window_first_day)s AND m.date <= %(as_of)s"""  # noqa: S608
        comments_from = f"""{table[MilestoneComment]} c JOIN {table[Milestone]} m ON m.id = c.milestone_id
            WHERE {_in_ids('m.engagement_id', vendor)}
              AND c.created_at >= %(window_start)s AND c.created_at < %(end)s"""  # noqa: S608
    return {
        # Only engagements in a scored status: a chunk of the nightly run picked its ids before an
        # engagement was closed must not flag it again. The run has locked these rows (_claim), so
        # a close either committed before this read or waits for the run to commit.
        "engagements": f"""
            SELECT id, client_id, start, planned_cadence_days FROM {table[Engagement]}
            WHERE {_in_ids('id', vendor)} AND start <= %(as_of)s
              AND {_in_ids('status', vendor, param='scored')}""",  # noqa: S608
        # B's sessions as aggregates (the baseline rates), with the dates of the last session and
        # of the last one where the client asked for our view, over W and B.
        "sessions": f"""
            SELECT s.engagement_id,
                   count(*) FILTER (WHERE {in_b}),
                   coalesce(sum(s.duration_minutes) FILTER (WHERE {in_b}), 0),
                   coalesce(sum(s.duration_minutes) FILTER (WHERE {in_b} AND {is_consultative}), 0),
                   coalesce(sum(CAST(s.duration_minutes AS integer) * s.duration_minutes) FILTER (WHERE {in_b}), 0),
                   count(*) FILTER (WHERE {in_b} AND {is_consultative}),
                   count(*) FILTER (WHERE {in_b} AND s.readout),
                   count(*) FILTER (WHERE {in_b} AND {is_consultative} AND NOT s.readout),
                   count(*) FILTER (WHERE {in_b} AND s.advice_requested),
                   count(*) FILTER (WHERE {in_b} AND s.initiated_by = %(client)s),
                   {local_date('max(s.start)')},
                   {local_date('max(s.start) FILTER (WHERE s.advice_requested)')}
            FROM (SELECT s.engagement_id, s.start, s.duration_minutes, s.focus, s.advice_requested,
                         s.initiated_by, {readout} AS readout
                  FROM {table[Session]} s
                  WHERE {_in_ids('s.engagement_id', vendor)}
                    AND s.start >= %(baseline_start)s AND s.start < %(end)s) s
            GROUP BY s.engagement_id""",  # noqa: S608
        # W's sessions one by one, and whether an executive or the sponsor attended each: each
        # session looks its attendees up through the (session, contact) index, so the statement
        # reads the batch's rows, not the whole attendee table. "Sponsor" is whoever the history
        # says was sponsor on the scoring date; seniority has no history, so it is today's. The
        # planner prices these probes as if each read a page from disk, which on PostgreSQL
        # would make it JIT-compile the statement: the scoring transaction turns JIT off
        # (services._claim).
        "recent_sessions": f"""
            SELECT s.engagement_id, {local_date('s.start')}, s.duration_minutes, {is_consultative}, {readout},
                   s.advice_requested, s.initiated_by = %(client)s,
                   EXISTS (
                       SELECT 1 FROM {table[Session.client_attendees.through]} a
                       JOIN {table[Contact]} c ON c.id = a.contact_id
                       WHERE a.session_id = s.id
                         AND (c.seniority = %(executive)s OR c.id IN (
                             SELECT contact_id FROM {table[SponsorPeriod]}
                             WHERE start <= %(as_of)s AND ("end" IS NULL OR "end" >= %(as_of)s))))
            FROM {table[Session]} s
            WHERE {_in_ids('s.engagement_id', vendor)} AND s.start >= %(window_start)s AND s.start < %(end)s
            ORDER BY s.engagement_id, s.start, s.id""",  # noqa: S608
        # The engagements' KPIs: when each was added (empty for KPIs older than that record) and
        # first and last measured up to the date.
        "kpis": f"""
            SELECT k.engagement_id, k.id, k.name, CAST(k.target AS double precision), k.direction = %(higher)s,
                   {local_date('k.created_at')},
                   (SELECT min(m.date) FROM {table[KPIMeasurement]} m WHERE m.kpi_id = k.id AND m.date <= %(as_of)s),
                   (SELECT max(m.date) FROM {table[KPIMeasurement]} m WHERE m.kpi_id = k.id AND m.date <= %(as_of)s)
            FROM {table[KPI]} k
            WHERE {_in_ids('k.engagement_id', vendor)} AND (k.created_at IS NULL OR k.created_at < %(end)s)
            ORDER BY k.engagement_id, k.id""",  # noqa: S608
        # The value as a float, as the rules take it (the nearest double to the decimal, as Python's
        # float() of it): no Decimal made per value.
        "kpi_values": f"""
            SELECT k.engagement_id, m.kpi_id, m.date, CAST(m.value AS double precision)
            FROM {kpi_values_from}
            ORDER BY k.engagement_id, m.date, m.kpi_id""",  # noqa: S608
        # Planned breaks touching W or B, as marked by the date (a break marked later does not
        # rewrite what the engine said before it was known).
        "planned_breaks": f"""
            SELECT engagement_id, starts_on, ends_on FROM {table[PlannedBreak]}
            WHERE {_in_ids('engagement_id', vendor)} AND ends_on >= %(baseline_first_day)s
              AND starts_on <= %(as_of)s AND created_at < %(end)s
            ORDER BY engagement_id, starts_on""",  # noqa: S608
        "milestones": f"""
            SELECT engagement_id,
                   count(*) FILTER (WHERE created_at >= %(window_start)s),
                   count(*) FILTER (WHERE created_at >= %(window_start)s AND proposed_by = %(client)s),
                   count(*) FILTER (WHERE {approved_in_w}),
                   count(*) FILTER (WHERE {due_in_w}),
                   count(*) FILTER (WHERE {due_in_w} AND {local_date('completed_at')} <= due_date)
            FROM {table[Milestone]}
            WHERE {_in_ids('engagement_id', vendor)} AND created_at < %(end)s
              AND (created_at >= %(window_start)s OR {approved_in_w} OR {due_in_w})
            GROUP BY engagement_id""",  # noqa: S608
        "comments": f"""
            SELECT m.engagement_id, count(*), count(*) FILTER (WHERE c.side = %(client)s)
            FROM {comments_from}
            GROUP BY m.engagement_id""",  # noqa: S608
        "feedback": f"""
            SELECT engagement_id,
                   coalesce(sum(rating) FILTER (WHERE {client_w}), 0),
                   count(*) FILTER (WHERE {client_w}),
                   coalesce(sum(rating) FILTER (WHERE side = %(client)s AND submitted_at < %(window_start)s), 0),
                   count(*) FILTER (WHERE side = %(client)s AND submitted_at < %(window_start)s),
                   coalesce(sum(rating) FILTER (WHERE side = %(consultant)s AND submitted_at >= %(window_start)s), 0),
                   count(*) FILTER (WHERE side = %(consultant)s AND submitted_at >= %(window_start)s)
            FROM {table[FeedbackResponse]}
            WHERE {_in_ids('engagement_id', vendor)}
              AND submitted_at >= %(baseline_start)s AND submitted_at < %(end)s
            GROUP BY engagement_id""",  # noqa: S608
        "sponsor_periods": f"""
            SELECT p.client_id, p.contact_id, c.name, p.start, p."end"
            FROM {table[SponsorPeriod]} p JOIN {table[Contact]} c ON c.id = p.contact_id
            WHERE p.client_id IN (SELECT client_id FROM {table[Engagement]} WHERE {_in_ids('id', vendor)})
              AND p.start <= %(as_of)s
            ORDER BY p.client_id, p.start, p.id""",  # noqa: S608
        "flags": f"""
            SELECT id, engagement_id, kind, status, raised_on, last_seen_on, episode_ended_on, snoozed_until
            FROM {table[Flag]}
            WHERE {_in_ids('engagement_id', vendor)}
              AND (status IN ({live}) OR episode_ended_on IS NULL OR raised_on > %(as_of)s
                   OR last_seen_on > %(as_of)s OR episode_ended_on > %(as_of)s)
            ORDER BY id""",  # noqa: S608
    }


def flags_for_lifecycle(*, engagement_ids: Sequence[int], as_of: dt.date) -> list[scoring.FlagState]:
    """The flags the engine weighs when it decides what to raise, keep or close on ``as_of``.

    Live flags; flags a person closed while their condition still held (episode still open); and
    any flag dated after ``as_of``, which tells a backfill not to rewrite newer history.
    """
    params = {"ids": _ids_param(engagement_ids), "as_of": connection.ops.adapt_datefield_value(as_of),
              **_SQL_CONSTANTS}
    with connection.cursor() as cursor:
        cursor.execute(_batch_sql(connection.vendor, timezone.get_current_timezone_name())["flags"], params)
        return [scoring.FlagState(pk, engagement_id, kind, status, _date(raised_on), _date(last_seen_on),
                                  _date(episode_ended_on), _date(snoozed_until))
                for (pk, engagement_id, kind, status, raised_on, last_seen_on, episode_ended_on, snoozed_until)
                in cursor.fetchall()]


# --- Read helpers for pages and the API (unscoped: pass ids the caller may see) ---------------

def latest_snapshots(*, engagement_ids: Iterable[int]) -> dict[int, HealthSnapshot]:
    """The most recent snapshot of each engagement, keyed by engagement id (one query)."""
    newest = HealthSnapshot.objects.filter(engagement_id=OuterRef("engagement_id")).order_by("-date")
    rows = HealthSnapshot.objects.filter(engagement_id__in=list(engagement_ids),
                                         date=Subquery(newest.values("date")[:1]))
    return {snapshot.engagement_id: snapshot for snapshot in rows}


def score_trend(*, engagement_ids: Iterable[int], since: dt.date,
                until: dt.date | None = None) -> dict[int, list[tuple[dt.date, float | None]]]:
    """Dated scores per engagement between two dates, oldest first (one query), for charts."""
    rows = HealthSnapshot.objects.filter(engagement_id__in=list(engagement_ids), date__gte=since)
    if until is not None:
        rows = rows.filter(date__lte=until)
    trend: dict[int, list[tuple[dt.date, float | None]]] = {}
    for engagement_id, date, score in rows.order_by("engagement_id", "date").values_list(
            "engagement_id", "date", "score"):
        trend.setdefault(engagement_id, []).append((date, score))
    return trend


def relationship_trails(*, engagement_ids: Iterable[int], dates: Sequence[dt.date]) -> QuerySet:
    """Balance and depth of each engagement on the given dates, for the relationship map."""
    return (HealthSnapshot.objects.filter(engagement_id__in=list(engagement_ids), date__in=list(dates))
            .order_by("engagement_id", "date")
            .values("engagement_id", "date", "balance", "depth", "mode", "state", "score"))


def _severity_rank() -> Case:
    """High first, then medium, then low: what "most severe first" orders by."""
    return Case(When(severity=Flag.Severity.HIGH, then=Value(0)), When(severity=Flag.Severity.MEDIUM, then=Value(1)),
                default=Value(2), output_field=IntegerField())


def live_flags(*, engagement_ids: Iterable[int] | None = None) -> QuerySet:
    """Flags still asking for attention, most severe and oldest first, with engagement and owner loaded."""
    rows = Flag.objects.filter(status__in=Flag.LIVE_STATUSES)
    if engagement_ids is not None:
        rows = rows.filter(engagement_id__in=list(engagement_ids))
    return (rows.select_related("engagement__client", "owner")
            .annotate(severity_rank=_severity_rank()).order_by("severity_rank", "raised_on", "id"))


# --- The flag card (workspace/_flag_card.html), on the engagement page and in the manager's flag queue ---

def flag_cards(flags: QuerySet) -> QuerySet:
    """Load what ``workspace/_flag_card.html`` shows: engagement and client, owner, events and actors."""
    return (flags.select_related("engagement__client", "owner", "resolved_by")
            .prefetch_related(Prefetch("events", queryset=FlagEvent.objects.select_related("actor")))
            .annotate(severity_rank=_severity_rank()).order_by("severity_rank", "raised_on", "id"))


def flag_card_content(flag: Flag) -> tuple:
    """Every value ``workspace/_flag_card.html`` shows of a flag and its history (its fragment-cache
    key; engagement, client, owner and events with their actors already loaded)."""
    return (flag.pk, flag.kind, flag.severity, flag.status, flag.snoozed_until, flag.evidence, flag.raised_on,
            flag.engagement_id, flag.engagement.client.name, flag.engagement.title, flag.owner_id,
            str(flag.owner) if flag.owner else None, flag.resolution_note, flag.action_plan, flag.episode_ended_on,
            tuple((event.pk, event.action, event.created_at, str(event.actor) if event.actor else None, event.note,
                   event.until) for event in flag.events.all()))
