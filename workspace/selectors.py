"""Reads about engagements, already scoped to the user and eager-loaded for their pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Aggregate,
    CharField,
    Count,
    Max,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _

import access
from accounts.models import User
from clients.models import Contact
from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, MilestoneComment, PlannedBreak, Session
from health.models import Flag
from health.scoring import explain
from health.selectors import flag_cards, latest_snapshots, score_trend

# --- The consultant workspace ---------------------------------------------------------------------

# Home page sort keys: the URL's ?sort= value -> how to order (missing values always last).
HOME_SORTS = ("client", "status", "health", "last_session", "flags")
TREND_STEP = 2.0  # points: a smaller move of the score over a month shows as flat
TREND_DAYS = 30


def _trend(current: float | None, previous: float | None) -> str:
    if current is None or previous is None:
        return ""
    if current - previous >= TREND_STEP:
        return "up"
    if previous - current >= TREND_STEP:
        return "down"
    return "flat"


def workspace_engagements(*, user: User, sort: str = "client", include_closed: bool = False) -> list[Engagement]:
    """The engagements on a consultant's (or manager's) workspace home, each carrying its latest health
    snapshot, its score trend over a month, days since the last session and live flags: four queries."""
    last_session = Session.objects.filter(engagement=OuterRef("pk")).order_by("-start").values("start")[:1]
    live_flags = (Flag.objects.filter(engagement=OuterRef("pk"), status__in=Flag.LIVE_STATUSES).order_by()
                  .values("engagement").annotate(n=Count("id")).values("n"))
    qs = access.health_visible_engagements_for(user).select_related("client", "lead")
    if not include_closed:
        qs = qs.exclude(status=Engagement.Status.CLOSED)
    engagements = list(qs.annotate(last_session_at=Subquery(last_session),
                                   open_flags=Coalesce(Subquery(live_flags), 0)))
    ids = [engagement.pk for engagement in engagements]
    latest = latest_snapshots(engagement_ids=ids)
    today = timezone.localdate()
    month_ago = today - dt.timedelta(days=TREND_DAYS)
    earlier = score_trend(engagement_ids=ids, since=month_ago - dt.timedelta(days=14), until=month_ago)
    for engagement in engagements:
        engagement.health = latest.get(engagement.pk)
        score = engagement.health.score if engagement.health else None
        previous = [value for _date, value in earlier.get(engagement.pk, []) if value is not None]
        engagement.previous_score = previous[-1] if previous else None
        engagement.health_trend = _trend(score, engagement.previous_score)
        engagement.days_since_last_session = (
            (today - timezone.localtime(engagement.last_session_at).date()).days
            if engagement.last_session_at else None)
    return sort_engagements(engagements, sort)


def sort_engagements(engagements: list[Engagement], sort: str) -> list[Engagement]:
    """Order the home page rows by one of HOME_SORTS ("-health" reverses); empty values go last."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    status_order = {value: index for index, value in enumerate(Engagement.Status.values)}
    keys = {
        "client": lambda e: (e.client.name.lower(), e.title.lower()),
        "status": lambda e: status_order.get(e.status, 99),
        "health": lambda e: e.health.score if e.health and e.health.score is not None else None,
        "last_session": lambda e: e.days_since_last_session,
        "flags": lambda e: e.open_flags,
    }
    key = keys.get(name, keys["client"])
    present = [e for e in engagements if key(e) is not None]
    missing = [e for e in engagements if key(e) is None]
    present.sort(key=lambda e: (key(e), e.client.name.lower(), e.title.lower()), reverse=descending)
    return present + missing


def workspace_engagement(*, user: User, pk, page: bool = False) -> Engagement:
    """One engagement for its workspace page (client, lead, team, contacts loaded), or 404.

    ``client.all_contacts`` holds every contact of the client (those who left too: past sessions
    name them), ``client.active_contacts`` the active ones, the sponsor first. With ``page``, the
    engagement also carries what its page would otherwise ask in queries of their own:
    ``session_count`` (the timeline's paginator), ``kpi_count`` (no KPI query without one) and
    ``own_last_session_id`` (the user's latest session here, the log form's defaults) and
    ``break_count`` (no planned-break query without one).

    Clients never reach it: the workspace shows health and flags, which are firm-only."""
    contacts = Contact.objects.order_by("-is_sponsor", "name")
    qs = (access.health_visible_engagements_for(user).select_related("client", "lead")
          .prefetch_related("team", Prefetch("client__contacts", queryset=contacts, to_attr="all_contacts")))
    if page:
        # The engagement is already in the user's scope, and firm staff see all of its sessions and KPIs.
        sessions = Session.objects.filter(engagement=OuterRef("pk")).order_by()
        qs = qs.annotate(
            session_count=Coalesce(Subquery(sessions.values("engagement").annotate(n=Count("id")).values("n")), 0),
            kpi_count=Coalesce(Subquery(KPI.objects.filter(engagement=OuterRef("pk")).order_by()
                                        .values("engagement").annotate(n=Count("id")).values("n")), 0),
            own_last_session_id=Subquery(sessions.filter(logged_by=user).order_by("-start", "-id").values("id")[:1]),
            break_count=Coalesce(Subquery(PlannedBreak.objects.filter(engagement=OuterRef("pk")).order_by()
                                          .values("engagement").annotate(n=Count("id")).values("n")), 0),
        )
    engagement = access.get_for(qs, pk)
    engagement.client.active_contacts = [c for c in engagement.client.all_contacts if c.active]
    engagement.sponsor = next((c for c in engagement.client.active_contacts if c.is_sponsor), None)
    return engagement


class _IdList(Aggregate):
    """The ids of a to-many relation as one comma-separated string per row (PostgreSQL, SQLite)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="STRING_AGG",
                           template="%(function)s((%(expressions)s)::text, ',')", **extra_context)


def _prefetched(instance, name: str, rows: list) -> None:
    """Hand ``instance.<name>.all()`` the rows already read, as prefetch_related would."""
    queryset = getattr(instance, name).get_queryset()
    queryset._result_cache, queryset._prefetch_done = rows, True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def timeline_rows(sessions: QuerySet[Session], *, contacts: list[Contact]) -> list[Session]:
    """Evaluate a slice of ``session_timeline`` with its attendees in the same query: their ids ride
    along as a list and are matched with ``contacts`` (the client's, already read); an attendee not
    among them (a contact of another client) is read in one more query."""
    rows = list(sessions.prefetch_related(None).annotate(attendee_ids=_IdList("client_attendees__id")))
    wanted = {int(pk) for row in rows for pk in (row.attendee_ids or "").split(",") if pk}
    by_id = {contact.pk: contact for contact in contacts}
    missing = wanted - by_id.keys()
    if missing:
        by_id.update((contact.pk, contact) for contact in Contact.objects.filter(pk__in=missing))
    for row in rows:
        ids = {int(pk) for pk in (row.attendee_ids or "").split(",") if pk}
        attendees = sorted((by_id[pk] for pk in ids if pk in by_id), key=lambda c: (c.name, c.pk))
        _prefetched(row, "client_attendees", attendees)
        row.card_content = session_card_content(row, attendees)
    return rows


def session_card_content(session: Session, attendees: list[Contact]) -> tuple:
    """Every value ``workspace/_session_item.html`` shows of a session (its fragment-cache key)."""
    return (session.pk, session.start, session.focus, session.channel, session.duration_minutes,
            session.initiated_by, session.advice_requested, session.shared_with_client, session.notes,
            session.next_steps, str(session.logged_by) if session.logged_by else None,
            tuple(contact.name for contact in attendees))


def milestone_card_content(milestone: Milestone) -> tuple:
    """Every value ``workspace/_milestone_card.html`` shows of a milestone and its comments (its
    fragment-cache key; the comments are already loaded)."""
    return (milestone.pk, milestone.version, milestone.title, milestone.description, milestone.phase,
            milestone.status, milestone.due_date, milestone.is_late, milestone.proposed_by,
            milestone.consultant_owner.get_short_name() if milestone.consultant_owner else None,
            milestone.client_owner.name if milestone.client_owner else None, milestone.shared_with_client,
            milestone.approved_at, milestone.approved_by.name if milestone.approved_by else None,
            milestone.approval_requested,
            tuple((c.pk, str(c.author) if c.author else None, c.side, c.created_at, c.text)
                  for c in milestone.comments.all()))


def session_timeline(*, user: User, engagement: Engagement, focus: str = "") -> QuerySet[Session]:
    """The engagement's sessions, newest first, with attendees loaded (paginate it)."""
    qs = (access.engagement_rows_for(access.sessions_for, user, engagement).select_related("logged_by")
          .prefetch_related("client_attendees").order_by("-start", "-id"))
    if focus:
        qs = qs.filter(focus=focus)
    return qs


def last_session_by(*, user: User, engagement: Engagement) -> Session | None:
    """The user's latest session on an engagement (the log form's defaults), with its attendees."""
    return (access.engagement_rows_for(access.sessions_for, user, engagement).filter(logged_by=user)
            .prefetch_related("client_attendees").order_by("-start", "-id").first())


BOARD_STATUSES = (Milestone.Status.PROPOSED, Milestone.Status.AGREED, Milestone.Status.IN_PROGRESS,
                  Milestone.Status.BLOCKED, Milestone.Status.DONE, Milestone.Status.DROPPED)
# Always shown, even when empty, so a card always has somewhere to go; the others only when used.
BOARD_ALWAYS = (Milestone.Status.PROPOSED, Milestone.Status.AGREED, Milestone.Status.IN_PROGRESS,
                Milestone.Status.DONE)
FOLD_AFTER = 3  # done / dropped cards shown before "n more"


def engagement_milestones(*, user: User, engagement: Engagement) -> QuerySet[Milestone]:
    """The engagement's milestones in board order, with owners, approver and comments loaded (each
    milestone's ``engagement`` is the one given: access.engagement_rows_for)."""
    comments = MilestoneComment.objects.select_related("author").order_by("created_at", "id")
    return (access.engagement_rows_for(access.milestones_for, user, engagement)
            .select_related("consultant_owner", "client_owner", "approved_by")
            .prefetch_related(Prefetch("comments", queryset=comments))
            .order_by("position", "due_date", "id"))


def milestone_board(milestones) -> list[dict]:
    """Milestones grouped by phase, then by status column, in their position order."""
    today = timezone.localdate()
    board = []
    for phase, phase_label in Milestone.Phase.choices:
        columns = []
        for status in BOARD_STATUSES:
            cards = [m for m in milestones if m.phase == phase and m.status == status]
            for m in cards:
                m.is_late = bool(m.is_open and m.due_date and m.due_date < today)
                m.card_content = milestone_card_content(m)
            if cards or status in BOARD_ALWAYS:
                # Finished work folds away past a few cards, the most recently finished shown first.
                finished = status in (Milestone.Status.DONE, Milestone.Status.DROPPED)
                if finished:
                    cards.sort(key=lambda m: (m.completed_at or m.updated_at), reverse=True)
                fold = finished and len(cards) > FOLD_AFTER
                columns.append({"status": status, "label": Milestone.Status(status).label, "milestones": cards,
                                "shown": cards[:FOLD_AFTER] if fold else cards,
                                "folded": cards[FOLD_AFTER:] if fold else []})
        board.append({"phase": phase, "label": phase_label, "columns": columns,
                      "count": sum(len(c["milestones"]) for c in columns)})
    return board


def engagement_kpis(*, user: User, engagement: Engagement, months: int = 12) -> list:
    """The engagement's KPIs with their values of the last ``months`` months, oldest first (two queries)."""
    since = timezone.localdate() - dt.timedelta(days=31 * months)
    values = KPIMeasurement.objects.filter(date__gte=since).order_by("date")
    kpis = list(access.engagement_rows_for(access.kpis_for, user, engagement)
                .prefetch_related(Prefetch("measurements", queryset=values, to_attr="recent")))
    for kpi in kpis:
        kpi.latest = kpi.recent[-1] if kpi.recent else None
        kpi.json_id = f"kpi-data-{kpi.pk}"
        kpi.chart = {"labels": [m.date.isoformat() for m in kpi.recent],
                     "values": [float(m.value) for m in kpi.recent],
                     "target": float(kpi.target) if kpi.target is not None else None}
    return kpis


def _months_back(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, 1)


def health_history(*, user: User, engagement: Engagement, months: int = 12) -> dict:
    """Monthly points (the last snapshot of each month) of the score and the consultative share over
    the last ``months`` months, read from stored snapshots in one query."""
    since = _months_back(timezone.localdate(), months - 1)
    rows = (access.engagement_rows_for(access.health_snapshots_for, user, engagement).filter(date__gte=since)
            .order_by("date").values_list("date", "score", "depth"))
    by_month: dict[tuple[int, int], tuple] = {}
    for date, score, depth in rows:
        by_month[(date.year, date.month)] = (date, score, depth)
    points = sorted(by_month.values())
    return {
        "labels": [date.isoformat() for date, _score, _depth in points],
        "score": [score for _date, score, _depth in points],
        "depth": [None if depth is None else round(depth * 100, 1) for _date, _score, depth in points],
    }


def engagement_health_and_history(*, user: User, engagement: Engagement, months: int = 12) -> tuple:
    """``(engagement_health(...), health_history(...))`` in one query: the last snapshot of each of
    the last ``months`` months, the newest of them being the latest snapshot (read apart only when
    the engagement has none in that time)."""
    since = _months_back(timezone.localdate(), months - 1)
    mine = access.engagement_rows_for(access.health_snapshots_for, user, engagement).filter(date__gte=since)
    month_ends = (mine.annotate(month=TruncMonth("date")).order_by().values("month")
                  .annotate(last=Max("date")).values("last"))
    points = list(mine.filter(date__in=month_ends).order_by("date"))
    if points:
        snapshot = points[-1]
        snapshot.lines = explain(snapshot.components or {})
    else:
        snapshot = engagement_health(user=user, engagement=engagement)
    history = {
        "labels": [p.date.isoformat() for p in points],
        "score": [p.score for p in points],
        "depth": [None if p.depth is None else round(p.depth * 100, 1) for p in points],
    }
    return snapshot, history


def health_card_content(health, history: dict, breaks: PlannedBreaks) -> tuple:
    """Every value ``workspace/_health_card.html`` shows (its fragment-cache key): the latest
    snapshot's figures, components and watch items, the chart's points and the break running today."""
    figures = None if health is None else (health.pk, health.date, health.score, health.mode, health.state,
                                           health.watch, health.components)
    return ("health-card", figures, history, breaks.until)


def engagement_health(*, user: User, engagement: Engagement):
    """The latest stored snapshot of an engagement (or None), with its components explained."""
    # ``engagement`` comes from workspace_engagement, already checked against health visibility.
    snapshot = latest_snapshots(engagement_ids=[engagement.pk]).get(engagement.pk)
    if snapshot is not None:
        snapshot.lines = explain(snapshot.components or {})
    return snapshot


@dataclass(frozen=True)
class PlannedBreaks:
    """An engagement's planned breaks as its page shows them, each list earliest first."""

    running: list  # today falls within them
    upcoming: list
    past: list

    @property
    def until(self) -> dt.date | None:
        """The last day of the pause running today (overlapping breaks: the latest end), or None."""
        return max((b.ends_on for b in self.running), default=None)

    @property
    def count(self) -> int:
        return len(self.running) + len(self.upcoming) + len(self.past)


def engagement_planned_breaks(*, user: User, engagement: Engagement, today: dt.date | None = None) -> PlannedBreaks:
    """The engagement's planned breaks, split into running today, to come and past (one query, with who
    added each)."""
    today = today or timezone.localdate()
    if getattr(engagement, "break_count", None) == 0:  # counted with the engagement (workspace_engagement)
        return PlannedBreaks(running=[], upcoming=[], past=[])
    breaks = list(access.engagement_rows_for(access.planned_breaks_for, user, engagement).select_related("created_by")
                  .order_by("starts_on", "ends_on", "id"))
    return PlannedBreaks(running=[b for b in breaks if b.starts_on <= today <= b.ends_on],
                         upcoming=[b for b in breaks if b.starts_on > today],
                         past=[b for b in breaks if b.ends_on < today])


def engagement_flags(*, user: User, engagement: Engagement) -> list:
    """Live flags of the engagement, most severe first, with owner and history loaded.

    ``flag_cards`` joins each flag's engagement and client, which the flag queue needs; here they are
    the engagement in hand (client loaded), so the join, a third of the query's columns, is left out."""
    rows = access.engagement_rows_for(access.flags_for, user, engagement).filter(status__in=Flag.LIVE_STATUSES)
    flags = list(flag_cards(rows).select_related(None).select_related("owner", "resolved_by"))
    for flag in flags:
        flag.engagement = engagement
    return flags


@dataclass(frozen=True)
class AuditEntry:
    when: object
    who: object
    action: str          # "+" created, "~" changed, "-" deleted (simple-history's history_type)
    kind: str            # what was changed, in words
    label: str           # which one
    fields: str          # the fields changed, when known


def _session_label(record) -> str:
    day = formats.date_format(timezone.localtime(record.start), "SHORT_DATE_FORMAT")
    return f"{record.get_focus_display()} · {day}"


def engagement_audit_trail(*, user, engagement, limit: int = 25) -> list[AuditEntry]:
    """Who changed what and when on an engagement, its sessions, milestones and flags (managers only).

    Four queries whatever the history's length: the latest ``limit`` records of each table,
    merged newest first.
    """
    if not access.can_manage_flags(user):
        return []
    # Each source with the fields its label reads: the records carry every field of their model
    # (a session's notes among them), which the trail does not show.
    sources = [
        (Engagement.history.filter(id=engagement.pk), ("title",), _("engagement"), lambda r: r.title),
        (Session.history.filter(engagement_id=engagement.pk), ("start", "focus"), _("session"), _session_label),
        (Milestone.history.filter(engagement_id=engagement.pk), ("title",), _("milestone"), lambda r: r.title),
        (Flag.history.filter(engagement_id=engagement.pk), ("kind",), _("flag"), lambda r: r.get_kind_display()),
    ]
    entries = []
    for queryset, fields, kind, label in sources:
        records = (queryset.select_related("history_user")
                   .only(*fields, "history_date", "history_type", "history_change_reason", "history_user",
                         "history_user__full_name", "history_user__email")
                   .order_by("-history_date")[:limit])
        for record in records:
            entries.append(AuditEntry(when=record.history_date, who=record.history_user, action=record.history_type,
                                      kind=kind, label=label(record), fields=record.history_change_reason or ""))
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]
