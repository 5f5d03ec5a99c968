"""Reads of the manager dashboard: the portfolio, the relationship map, trends and the flag queue.

Everything reads stored health (never recomputes a score) with a fixed number of queries
whatever the portfolio size: the portfolio is one query over the engagements joined to their
latest figures (``health.EngagementHealth``, one row each), sorted, filtered and paginated in
SQL; the map's trails and the trends read a handful of chosen snapshot dates with ``date__in``.
Callers pass the user; scoping goes through ``access``."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncMonth
from django.utils import timezone

import access
from accounts.models import User
from engagements.models import Engagement, Session
from health.conf import health_config
from health.models import EngagementHealth, Flag, HealthSnapshot, Mode

# Rows per page of the portfolio table and of the flag queue.
PORTFOLIO_PAGE_SIZE = 50
FLAG_PAGE_SIZE = 20
# The map cannot usefully draw thousands of trails: it shows the most at-risk of the filtered set.
MAP_LIMIT = 200
# Flags that still need someone: the queue's default view.
QUEUE_STATUSES_ATTENTION = (Flag.Status.OPEN, Flag.Status.ACKNOWLEDGED)
# Score bins of the distribution chart (lower bound inclusive, upper exclusive except 100).
SCORE_BINS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))

SEVERITY_RANK = Case(
    When(severity=Flag.Severity.HIGH, then=Value(0)),
    When(severity=Flag.Severity.MEDIUM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def live_engagement_statuses() -> list[str]:
    """Statuses the dashboard shows: the ones the health engine scores (active, paused, closing)."""
    return list(health_config().scored_statuses)


@dataclass
class PortfolioFilters:
    """What the manager narrowed the portfolio to; empty values mean "any"."""

    lead: int | None = None
    client: str = ""  # part of the client's name
    status: str = ""
    mode: str = ""
    state: str = ""
    flag_kind: str = ""
    on_watch: bool = False  # only engagements with early-warning signs (the "watch" level)
    score_min: float | None = None
    score_max: float | None = None


# The mode filter's value for "expert-led or client-led" (the summary's one-sided count).
ONE_SIDED = "one_sided"

# Sort keys whose first click sorts descending: "transactional" before "consultative".
DESCENDING_FIRST = {"state"}

# Sort keys of the portfolio table → the expressions they order by (ties broken by client, title).
SORTS = {
    "client": ("client__name", "title"),
    "engagement": ("title", "client__name"),
    "lead": ("lead__full_name", "client__name"),
    "score": ("score",),
    "change_30": ("change_30",),
    "change_90": ("change_90",),
    "mode": ("mode",),
    "state": ("state",),
    "status": ("status",),
    "days": ("days_since_session",),
    "flags": ("live_flags",),
}
DEFAULT_SORT = "score"


def _order(sort: str) -> list:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        key, descending = DEFAULT_SORT, False
    fields = []
    for name in SORTS[key]:
        expression = F(name)
        # Engagements without a score yet go last whichever way the column is sorted.
        fields.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
    return [*fields, "client__name", "title", "pk"]


# Sorts whose first column can be empty (never scored, nothing to compare with): see sorted_rows.
_NULLABLE_SORTS = {"score", "change_30", "change_90", "mode", "state", "days"}


def present_filter(sort: str, *, filled: bool = True) -> Q | None:
    """The rows whose first sort column is filled (or empty), for a sort that puts empty ones last; else None."""
    key = normalise_sort(sort).lstrip("-")
    return Q(**{f"{SORTS[key][0]}__isnull": not filled}) if key in _NULLABLE_SORTS else None


def sorted_rows(queryset: QuerySet[Engagement], *, sort: str, start: int, stop: int,
                present: int | None, total: int) -> list[Engagement]:
    """Rows ``start``–``stop`` of the portfolio in ``sort`` order (one query, two across the boundary).

    Empty values go last whichever way a column is sorted, which a plain ``NULLS LAST`` sort
    does over the whole left-joined portfolio. Read in two parts instead — the ``present``
    engagements whose column is filled (``present_filter``; an inner join PostgreSQL walks in
    the order of the column's index, stopping after ``stop`` rows), then the others — a page
    costs a few index probes instead of sorting the portfolio.
    """
    sort = normalise_sort(sort)
    condition = present_filter(sort)
    if condition is None or present is None:
        return list(queryset.order_by(*_order(sort))[start:stop])
    descending, key = sort.startswith("-"), sort.lstrip("-")
    # No NULLS LAST on the filled part: the index's own order (ascending, or read backwards).
    filled = [F(name).desc() if descending else F(name).asc() for name in SORTS[key]]
    rows = []
    if start < present:
        rows += queryset.filter(condition).order_by(*filled, "client__name", "title", "pk")[start:min(stop, present)]
    if stop > present and total > present:
        empty = present_filter(sort, filled=False)
        rows += queryset.filter(empty).order_by("client__name", "title", "pk")[max(start - present, 0):stop - present]
    return rows


def shown_score(score: float | None) -> int | None:
    """A 0–100 score as the pages show it: rounded half up (78.5 reads 79), the way the score filter counts it."""
    return None if score is None else math.floor(score + 0.5)


def normalise_sort(sort: str | None) -> str:
    """A sort key the table knows, e.g. "score" or "-change_30"; anything else is the default."""
    sort = sort or DEFAULT_SORT
    return sort if sort.lstrip("-") in SORTS else DEFAULT_SORT


def portfolio_date() -> dt.date | None:
    """The newest snapshot date in the database (one index-only query): the nightly run's last date."""
    return HealthSnapshot.objects.aggregate(newest=Max("date"))["newest"]


_FIGURES = {
    "latest_on": ("date", DateField()),
    "score": ("score", FloatField()),
    "mode": ("mode", CharField()),
    "state": ("state", CharField()),
    "depth": ("depth", FloatField()),
    "balance": ("balance", FloatField()),
    "days_since_session": ("days_since_last_session", IntegerField()),
}


def with_latest_snapshot(queryset: QuerySet[Engagement], *, as_of: dt.date | None,
                         past_days: tuple[int, ...] = ()) -> QuerySet[Engagement]:
    """Annotate engagements with their latest snapshot's figures, and ``score_<n>`` / ``change_<n>``
    against the snapshot ``n`` days before ``as_of``.

    Joins on constant dates so each engagement costs one probe of the (engagement, date) index:
    the snapshot of ``as_of`` (the nightly run's date), else of the day before (a rescore early in
    the morning made ``as_of`` today before the nightly run), else — only for engagements neither
    run scored — the newest one, found by a correlated subquery PostgreSQL evaluates just for them.
    """
    if as_of is None:
        # Typed NULLs: PostgreSQL cannot average an untyped one.
        return queryset.annotate(**{name: Cast(Value(None), out) for name, (_f, out) in _FIGURES.items()},
                                 **{f"score_{n}": Cast(Value(None), FloatField()) for n in past_days},
                                 **{f"change_{n}": Cast(Value(None), FloatField()) for n in past_days})
    qs = queryset.annotate(
        snap_0=FilteredRelation("health_snapshots", condition=Q(health_snapshots__date=as_of)),
        snap_1=FilteredRelation("health_snapshots", condition=Q(health_snapshots__date=as_of - dt.timedelta(days=1))),
        **{f"past_{n}": FilteredRelation("health_snapshots",
                                         condition=Q(health_snapshots__date=as_of - dt.timedelta(days=n)))
           for n in past_days},
    )
    newest = HealthSnapshot.objects.filter(engagement_id=OuterRef("pk")).order_by("-date")

    def pick(field, output):
        return Case(When(snap_0__id__isnull=False, then=F(f"snap_0__{field}")),
                    When(snap_1__id__isnull=False, then=F(f"snap_1__{field}")),
                    default=Subquery(newest.values(field)[:1]), output_field=output)

    qs = qs.annotate(**{name: pick(field, out) for name, (field, out) in _FIGURES.items()})
    return qs.annotate(**{f"score_{n}": F(f"past_{n}__score") for n in past_days},
                       **{f"change_{n}": F("score") - F(f"past_{n}__score") for n in past_days})


# Portfolio figures → the engagement's latest figures (``health.EngagementHealth``) they come from.
_LATEST = {
    "latest_on": "latest_health__as_of",
    "score": "latest_health__score",
    "mode": "latest_health__mode",
    "state": "latest_health__state",
    "depth": "latest_health__depth",
    "balance": "latest_health__balance",
    "days_since_session": "latest_health__days_since_last_session",
    "change_30": "latest_health__score_change_30",
    "change_90": "latest_health__score_change_90",
    "watch_count": "latest_health__watch_count",
}


def portfolio(*, user: User, filters: PortfolioFilters | None = None, sort: str = DEFAULT_SORT) -> QuerySet[Engagement]:
    """Live engagements the user may see, each with its latest figures, filtered and sorted (one query).

    The figures come from ``health.EngagementHealth`` (one row per engagement, written by the
    scoring run next to the snapshots), joined to each engagement: ``score``, ``mode``, ``state``,
    ``depth``, ``balance``, ``days_since_session`` of the latest snapshot (dated ``latest_on``),
    ``change_30`` / ``change_90`` against the snapshots 30 and 90 days before it, ``watch_count``
    (early-warning signs below a flag) and ``live_flags``. Engagements never scored have empty figures and no flags.
    The client and lead are named, not loaded: ``client_name``, ``lead_name`` (as the lead reads on
    pages: their full name, else their e-mail address) and ``lead_full_name``.
    """
    filters = filters or PortfolioFilters()
    qs = (access.health_visible_engagements_for(user).filter(status__in=live_engagement_statuses())
          # Only the columns the table and the export show: the sorts carry every row of the
          # portfolio through the joins, and narrow rows sort faster (measured 25 → 19 ms a page).
          # Names rather than a client and a user per row: the map reads 200 rows, and building
          # three objects for each cost 2.4 of the cold page's 24 ms of CPU.
          .only("title", "status")
          .annotate(client_name=F("client__name"), lead_full_name=F("lead__full_name"),
                    lead_name=Coalesce(NullIf(F("lead__full_name"), Value("")), F("lead__email"),
                                       output_field=CharField()),
                    **{name: F(path) for name, path in _LATEST.items()},
                    live_flags=Coalesce(F("latest_health__live_flags"), 0)))
    if filters.lead:
        qs = qs.filter(lead_id=filters.lead)
    if filters.client:
        qs = qs.filter(client__name__icontains=filters.client)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.mode == ONE_SIDED:
        qs = qs.filter(mode__in=[Mode.EXPERT_LED, Mode.CLIENT_LED])
    elif filters.mode:
        qs = qs.filter(mode=filters.mode)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.on_watch:
        qs = qs.filter(watch_count__gt=0)
    if filters.flag_kind:
        live = Flag.objects.filter(engagement_id=OuterRef("pk"), status__in=Flag.LIVE_STATUSES)
        qs = qs.filter(Exists(live.filter(kind=filters.flag_kind)))
    # The bounds apply to the score as the table shows it, rounded half up: "79 to 79" keeps 78.7.
    if filters.score_min is not None:
        qs = qs.filter(score__gte=filters.score_min - 0.5)
    if filters.score_max is not None:
        qs = qs.filter(score__lt=filters.score_max + 0.5)
    return qs.order_by(*_order(sort))


@dataclass
class PortfolioSummary:
    engagements: int = 0
    scored: int = 0
    mean_score: float | None = None
    transactional: int = 0
    one_sided: int = 0
    on_watch: int = 0
    # Rows whose first column of the table's sort is filled (sorted_rows), when that can be empty.
    sort_present: int | None = None


def flags_needing_attention(*, user: User, engagements: QuerySet[Engagement] | None = None) -> QuerySet[Flag]:
    """Flags of live engagements (of ``engagements``, the filtered portfolio, if given) that still ask
    for attention: open or acknowledged."""
    flags = access.flags_for(user).filter(status__in=QUEUE_STATUSES_ATTENTION,
                                          engagement__status__in=live_engagement_statuses())
    if engagements is not None:
        flags = flags.filter(engagement__in=engagements.order_by().values("pk"))
    return flags


ON_WATCH_LIMIT = 8


def engagements_on_watch(*, user: User, limit: int = ON_WATCH_LIMIT) -> tuple[list[EngagementHealth], int]:
    """Live engagements showing early-warning signs (the "watch" level, below a flag), most signs first,
    with their client: the first ``limit`` and how many there are in all (one query, two past ``limit``)."""
    qs = (EngagementHealth.objects
          .filter(engagement__in=access.health_visible_engagements_for(user)
                  .filter(status__in=live_engagement_statuses()).values("pk"), watch_count__gt=0)
          .select_related("engagement__client")
          .order_by("-watch_count", "engagement__client__name", "engagement__title", "pk"))
    rows = list(qs[:limit])
    total = len(rows) if len(rows) < limit else qs.count()
    return rows, total


def live_flags_in_portfolio(*, user: User, engagements: QuerySet[Engagement] | None = None) -> int:
    """How many flags need attention (``flags_needing_attention``), one query."""
    return flags_needing_attention(user=user, engagements=engagements).count()


def attention_by_severity(*, user: User) -> dict[str, int]:
    """How many flags need attention, per severity (one query), for the flag queue's summary."""
    return {row["severity"]: row["n"] for row in
            flags_needing_attention(user=user).values("severity").order_by().annotate(n=Count("pk"))}


# --- Relationship map -------------------------------------------------------------------------

def quarter_ends(today: dt.date, count: int = 4) -> list[dt.date]:
    """The last ``count`` calendar quarter ends strictly before ``today``, oldest first."""
    ends = []
    year, month = today.year, today.month
    # The quarter containing today has not ended; step back to the one before.
    quarter_end_month = ((month - 1) // 3) * 3
    while len(ends) < count:
        if quarter_end_month == 0:
            year, quarter_end_month = year - 1, 12
        next_month_first = dt.date(year + (quarter_end_month == 12), quarter_end_month % 12 + 1, 1)
        ends.append(next_month_first - dt.timedelta(days=1))
        quarter_end_month -= 3
    return sorted(ends)


@dataclass
class MapPoint:
    engagement_id: int
    label: str
    lead: str
    score: float | None
    balance: float
    depth: float
    mode: str
    state: str
    trail: list[tuple[dt.date, float, float]] = field(default_factory=list)


@dataclass
class RelationshipMap:
    points: list[MapPoint]
    shown: int
    total: int
    trail_dates: list[dt.date]


def relationship_map(queryset: QuerySet[Engagement], *, sort: str = DEFAULT_SORT, today: dt.date | None = None,
                     limit: int = MAP_LIMIT) -> tuple[RelationshipMap, PortfolioSummary, list[Engagement]]:
    """The filtered engagements on the balance × depth plane, most at-risk first, with quarterly trails.

    Three queries: the portfolio's counts (one aggregate over the filtered set, with what
    ``sorted_rows`` needs for ``sort``), the ``limit`` lowest-scored engagements in the table's
    default order (which also serve the table's first pages; one more query when they run into
    the engagements never scored), and their trails at the last four quarter ends (``date__in``). Returns the map, the
    summary and those engagements in order.
    """
    today = today or timezone.localdate()
    # Counting apart from the sorted read: window aggregates made the database carry all the
    # portfolio's rows, wide, through the window before sorting (measured 52 ms against 8 + 22).
    counts = queryset.aggregate(
        engagements=Count("pk"), scored=Count("pk", filter=Q(score__isnull=False)), mean_score=Avg("score"),
        transactional=Count("pk", filter=Q(state="transactional")),
        one_sided=Count("pk", filter=Q(mode__in=["expert_led", "client_led"])),
        on_watch=Count("pk", filter=Q(watch_count__gt=0)),
        **({"sort_present": Count("pk", filter=present_filter(sort))} if present_filter(sort) else {}),
    )
    summary = PortfolioSummary(**counts)
    rows = sorted_rows(queryset, sort=DEFAULT_SORT, start=0, stop=limit, present=summary.scored,
                       total=summary.engagements)
    dates = quarter_ends(today)
    points = {
        row.pk: MapPoint(engagement_id=row.pk, label=f"{row.client_name} — {row.title}",
                         lead=row.lead_full_name, score=row.score, balance=row.balance,
                         depth=row.depth, mode=row.mode, state=row.state)
        for row in rows if row.balance is not None and row.depth is not None
    }
    if points:
        for engagement_id, date, balance, depth in (
            HealthSnapshot.objects.filter(engagement_id__in=list(points), date__in=dates,
                                          balance__isnull=False, depth__isnull=False)
            .order_by("engagement_id", "date").values_list("engagement_id", "date", "balance", "depth")
        ):
            points[engagement_id].trail.append((date, balance, depth))
    relationship_map = RelationshipMap(points=list(points.values()), shown=len(points),
                                       total=summary.engagements, trail_dates=dates)
    return relationship_map, summary, rows


# --- Trends -----------------------------------------------------------------------------------

def month_ends(today: dt.date, count: int = 12) -> list[dt.date]:
    """The last day of each of the ``count`` months up to today's (today itself for this month), oldest first."""
    ends = [today]
    first = today.replace(day=1)
    while len(ends) < count:
        last = first - dt.timedelta(days=1)
        ends.append(last)
        first = last.replace(day=1)
    return sorted(ends)


@dataclass
class DistributionMonth:
    date: dt.date
    bins: list[int]
    engagements: int
    mean_score: float | None


def score_distribution(*, user: User, today: dt.date | None = None) -> list[DistributionMonth]:
    """How many engagements scored in each band at each month end, over the last 12 months (one query).

    Reads only the 12 month-end dates (``date__in`` on the snapshot date index); this month
    uses today's snapshots.
    """
    dates = month_ends(today or timezone.localdate())
    bins = {f"bin_{i}": Count("pk", filter=Q(score__gte=low, score__lt=high))
            for i, (low, high) in enumerate(SCORE_BINS)}
    rows = {
        row["date"]: row for row in
        access.health_snapshots_for(user).filter(date__in=dates, score__isnull=False)
        .values("date").order_by("date").annotate(engagements=Count("pk"), mean_score=Avg("score"), **bins)
    }
    months = []
    for date in dates:
        row = rows.get(date, {})
        months.append(DistributionMonth(date=date, bins=[row.get(f"bin_{i}", 0) for i in range(len(SCORE_BINS))],
                                        engagements=row.get("engagements", 0), mean_score=row.get("mean_score")))
    return months


@dataclass
class ShareSeries:
    """Consultative share of session minutes per month, for one person or the whole firm."""

    label: str
    user_id: int | None
    minutes: list[int]
    shares: list[float | None]


@dataclass
class ConsultativeShare:
    months: list[dt.date]
    overall: ShareSeries
    members: list[ShareSeries]


def consultative_share(*, user: User, today: dt.date | None = None) -> ConsultativeShare:
    """Share of consultative session minutes per month over the last 12 months, overall and per team member.

    Two queries: sessions grouped by month, and session attendance grouped by consultant and month.
    """
    today = today or timezone.localdate()
    months = [end.replace(day=1) for end in month_ends(today)]
    since = timezone.make_aware(dt.datetime.combine(months[0], dt.time.min))
    consultative = Q(focus__in=Session.CONSULTATIVE_FOCUSES)
    sessions = access.sessions_for(user).filter(start__gte=since)

    def series(label, user_id, rows):
        minutes, shares = [], []
        for month in months:
            total, deep = rows.get(month, (0, 0))
            minutes.append(total)
            shares.append(deep / total if total else None)
        return ShareSeries(label=label, user_id=user_id, minutes=minutes, shares=shares)

    overall_rows = {}
    for row in (sessions.annotate(month=TruncMonth("start")).values("month").order_by("month")
                .annotate(total=Sum("duration_minutes"), deep=Sum("duration_minutes", filter=consultative))):
        overall_rows[_month_of(row["month"])] = (row["total"] or 0, row["deep"] or 0)

    # From the sessions, joined once to their consultants and grouped by consultant id and month
    # only (the name is an aggregate, not a grouping key): 40 % faster than grouping attendance
    # rows filtered by session id, which scanned the sessions twice and sorted wide keys on disk.
    per_member: dict[tuple[int, str], dict] = {}
    for row in (sessions.annotate(month=TruncMonth("start")).values("consultants", "month").order_by()
                .annotate(name=Max("consultants__full_name"), total=Sum("duration_minutes"),
                          deep=Sum("duration_minutes", filter=consultative))):
        if row["consultants"] is None:  # sessions no consultant attended
            continue
        key = (row["consultants"], row["name"])
        per_member.setdefault(key, {})[_month_of(row["month"])] = (row["total"] or 0, row["deep"] or 0)
    members = sorted((series(name, pk, rows) for (pk, name), rows in per_member.items()),
                     key=lambda s: s.label.lower())
    return ConsultativeShare(months=months, overall=series("", None, overall_rows), members=members)


def _month_of(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


# --- Flag queue -------------------------------------------------------------------------------

QUEUE_STATUSES = {
    "attention": QUEUE_STATUSES_ATTENTION,
    "snoozed": (Flag.Status.SNOOZED,),
    "live": Flag.LIVE_STATUSES,
    # What was decided: resolved (with the plan and the note) or dismissed, newest first.
    "closed": (Flag.Status.RESOLVED, Flag.Status.DISMISSED),
}


@dataclass
class FlagFilters:
    status: str = "attention"
    kind: str = ""
    severity: str = ""
    owner: str = ""  # "", "none" (unassigned) or a user id
    engagement: int | None = None


def flag_queue(*, user: User, filters: FlagFilters | None = None) -> QuerySet[Flag]:
    """Flags the user may see, with what the flag card shows loaded.

    Live ones (the default views) are those of live engagements, most severe then newest first;
    closed ones (resolved or dismissed, any engagement) come newest decision first.
    """
    filters = filters or FlagFilters()
    closed = filters.status == "closed"
    qs = (access.flags_for(user)
          .filter(status__in=QUEUE_STATUSES.get(filters.status, QUEUE_STATUSES["attention"]))
          .select_related("engagement__client", "engagement__lead", "owner")
          .annotate(severity_rank=SEVERITY_RANK))
    if closed:
        qs = qs.order_by("-resolved_at", "-id")
    else:
        qs = qs.filter(engagement__status__in=live_engagement_statuses()).order_by("severity_rank", "-raised_on", "-id")
    if filters.engagement:
        qs = qs.filter(engagement_id=filters.engagement)
    if hasattr(Flag, "events"):
        qs = qs.prefetch_related("events__actor")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    return qs


def flag_owners() -> QuerySet[User]:
    """People a flag can be given to: active consultants and managers."""
    return (User.objects.filter(is_active=True)
            .filter(Q(is_consultant=True) | Q(is_manager=True) | Q(is_superuser=True))
            .order_by("full_name", "email"))


def portfolio_leads(*, user: User) -> QuerySet[User]:
    """Consultants leading a live engagement, for the lead filter."""
    leading = access.health_visible_engagements_for(user).filter(status__in=live_engagement_statuses())
    return User.objects.filter(pk__in=leading.values("lead_id")).order_by("full_name", "email")


# --- Weekly digest ----------------------------------------------------------------------------

DIGEST_LIMIT = 10


def new_flags(*, user: User, since: dt.date) -> QuerySet[Flag]:
    """Flags raised on or after ``since``, most severe then newest first."""
    return (access.flags_for(user).filter(raised_on__gte=since)
            .select_related("engagement__client", "engagement__lead", "owner")
            .annotate(severity_rank=SEVERITY_RANK).order_by("severity_rank", "-raised_on", "-id"))


def score_drops(*, user: User, days: int, limit: int = DIGEST_LIMIT) -> list[Engagement]:
    """The live engagements whose score fell most over ``days`` (latest snapshot against ``days`` before it)."""
    qs = (with_latest_snapshot(access.health_visible_engagements_for(user)
                               .filter(status__in=live_engagement_statuses()).select_related("client", "lead"),
                               as_of=portfolio_date(), past_days=(days,))
          .annotate(past_score=F(f"score_{days}"), change=F(f"change_{days}"))
          .filter(change__lt=0).order_by("change", "client__name", "title"))
    return list(qs[:limit])


def gone_quiet(*, user: User, limit: int = 50) -> list[Engagement]:
    """Live engagements with no session for at least twice their planned cadence, longest silence first."""
    factor = health_config().cadence_gap_factor
    qs = (with_latest_snapshot(access.health_visible_engagements_for(user).filter(status=Engagement.Status.ACTIVE)
                               .select_related("client", "lead"), as_of=portfolio_date())
          .filter(days_since_session__gte=F("planned_cadence_days") * factor)
          .order_by(F("days_since_session").desc(), "client__name"))
    return list(qs[:limit])
