"""Reads of the health engine.

``health_facts`` is the engine's input: for a batch of engagements and one scoring date it runs a
fixed number of GROUP BY queries (one per table, each with conditional aggregates for the window W
and the baseline B), whatever the batch size. The other functions are unscoped read helpers for
pages and the API; who may see what is decided by ``accounts.access``, not here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
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
from django.utils import timezone

from clients.models import Contact, SponsorPeriod
from engagements.models import Engagement, Milestone, MilestoneComment, Session, Side
from feedback.models import FeedbackResponse
from health import scoring
from health.models import Flag, HealthSnapshot


def day_start(day: dt.date) -> dt.datetime:
    """Midnight starting ``day`` in the current time zone: scoring dates are local dates."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def engagement_ids_to_score(*, as_of: dt.date, statuses: Sequence[str]) -> list[int]:
    """Engagements the nightly run scores on ``as_of``: in a scored status and started by then."""
    return list(Engagement.objects.filter(status__in=statuses, start__lte=as_of)
                .order_by("id").values_list("id", flat=True))


def health_facts(*, engagement_ids: Iterable[int], windows: scoring.Windows) -> dict[int, scoring.EngagementFacts]:
    """The aggregates ``scoring.assess`` needs, for every engagement of the batch started by the date.

    Seven queries for any batch size (one when no engagement qualifies). Rows dated after the
    scoring date are never read, so the same call backfills history.
    """
    as_of = windows.as_of
    end = day_start(as_of + dt.timedelta(days=1))
    window_start = day_start(windows.window_start)
    baseline_start = day_start(windows.baseline_start)

    facts: dict[int, scoring.EngagementFacts] = {}
    client_of: dict[int, int] = {}
    for pk, client_id, start, cadence in (
        Engagement.objects.filter(id__in=list(engagement_ids), start__lte=as_of).order_by()
        .values_list("id", "client_id", "start", "planned_cadence_days")
    ):
        facts[pk] = scoring.EngagementFacts(engagement_id=pk, start=start, planned_cadence_days=cadence)
        client_of[pk] = client_id
    if not facts:
        return facts
    ids = list(facts)

    in_w = Q(start__gte=window_start)
    in_b = Q(start__lt=window_start)
    consultative = Q(focus__in=Session.CONSULTATIVE_FOCUSES)
    for row in (
        Session.objects.filter(engagement_id__in=ids, start__gte=baseline_start, start__lt=end)
        .values("engagement_id").order_by()
        .annotate(
            sessions_w=Count("id", filter=in_w),
            minutes_w=Sum("duration_minutes", filter=in_w, default=0),
            consultative_minutes_w=Sum("duration_minutes", filter=in_w & consultative, default=0),
            advice_w=Count("id", filter=in_w & Q(advice_requested=True)),
            client_initiated_w=Count("id", filter=in_w & Q(initiated_by=Side.CLIENT)),
            sessions_b=Count("id", filter=in_b),
            minutes_b=Sum("duration_minutes", filter=in_b, default=0),
            consultative_minutes_b=Sum("duration_minutes", filter=in_b & consultative, default=0),
            last_start=Max("start"),
        )
    ):
        f = facts[row.pop("engagement_id")]
        last_start = row.pop("last_start")
        f.last_session_on = timezone.localtime(last_start).date()
        for name, value in row.items():
            setattr(f, name, value)

    # A session counts once however many executives attended. "Sponsor" is whoever the history says
    # was sponsor on the scoring date; seniority has no history, so it is today's.
    is_sponsor_on_date = Exists(
        SponsorPeriod.objects.filter(contact_id=OuterRef("contact_id"), start__lte=as_of)
        .filter(Q(end__isnull=True) | Q(end__gte=as_of))
    )
    attendance = Session.client_attendees.through.objects
    for engagement_id, sessions in (
        attendance.filter(session__engagement_id__in=ids, session__start__gte=window_start, session__start__lt=end)
        .filter(Q(contact__seniority=Contact.Seniority.EXECUTIVE) | is_sponsor_on_date)
        .values("session__engagement_id").order_by()
        .annotate(sessions=Count("session_id", distinct=True))
        .values_list("session__engagement_id", "sessions")
    ):
        facts[engagement_id].sponsor_or_executive_w = sessions

    # A milestone due today is not late yet, so "due in W" means the due date passed within W.
    due_in_w = (Q(due_date__gte=windows.window_start, due_date__lt=as_of)
                & ~Q(status=Milestone.Status.DROPPED))
    proposed_in_w = Q(created_at__gte=window_start)
    approved_in_w = Q(approved_at__gte=window_start, approved_at__lt=end)
    for row in (
        Milestone.objects.filter(engagement_id__in=ids, created_at__lt=end)
        .filter(proposed_in_w | approved_in_w | due_in_w)
        .values("engagement_id").order_by()
        .annotate(
            milestones_proposed_w=Count("id", filter=proposed_in_w),
            milestones_proposed_by_client_w=Count("id", filter=proposed_in_w & Q(proposed_by=Side.CLIENT)),
            approvals_w=Count("id", filter=approved_in_w),
            milestones_due_w=Count("id", filter=due_in_w),
            milestones_on_time_w=Count("id", filter=due_in_w & Q(completed_at__date__lte=F("due_date"))),
        )
    ):
        f = facts[row.pop("engagement_id")]
        for name, value in row.items():
            setattr(f, name, value)

    for engagement_id, comments, client_comments in (
        MilestoneComment.objects.filter(milestone__engagement_id__in=ids, created_at__gte=window_start,
                                        created_at__lt=end)
        .values("milestone__engagement_id").order_by()
        .annotate(comments=Count("id"), client_comments=Count("id", filter=Q(side=Side.CLIENT)))
        .values_list("milestone__engagement_id", "comments", "client_comments")
    ):
        facts[engagement_id].comments_w = comments
        facts[engagement_id].client_comments_w = client_comments

    client_w = Q(side=Side.CLIENT, submitted_at__gte=window_start)
    client_b = Q(side=Side.CLIENT, submitted_at__lt=window_start)
    consultant_w = Q(side=Side.CONSULTANT, submitted_at__gte=window_start)
    for row in (
        FeedbackResponse.objects.filter(engagement_id__in=ids, submitted_at__gte=baseline_start, submitted_at__lt=end)
        .values("engagement_id").order_by()
        .annotate(
            client_rating_sum_w=Sum("rating", filter=client_w, default=0),
            client_ratings_w=Count("id", filter=client_w),
            client_rating_sum_b=Sum("rating", filter=client_b, default=0),
            client_ratings_b=Count("id", filter=client_b),
            consultant_rating_sum_w=Sum("rating", filter=consultant_w, default=0),
            consultant_ratings_w=Count("id", filter=consultant_w),
        )
    ):
        f = facts[row.pop("engagement_id")]
        for name, value in row.items():
            setattr(f, name, value)

    periods: dict[int, list[scoring.SponsorPeriod]] = {}
    for client_id, contact_id, name, start, end_date in (
        SponsorPeriod.objects.filter(client_id__in=set(client_of.values()), start__lte=as_of)
        .order_by("client_id", "start", "id")
        .values_list("client_id", "contact_id", "contact__name", "start", "end")
    ):
        periods.setdefault(client_id, []).append(scoring.SponsorPeriod(contact_id, name, start, end_date))
    for pk, f in facts.items():
        f.sponsor_periods = periods.get(client_of[pk], ())
    return facts


def flags_for_lifecycle(*, engagement_ids: Sequence[int], as_of: dt.date) -> list[scoring.FlagState]:
    """The flags the engine weighs when it decides what to raise, keep or close on ``as_of``.

    Live flags; flags a person closed while their condition still held (episode still open); and
    any flag dated after ``as_of``, which tells a backfill not to rewrite newer history.
    """
    rows = (
        Flag.objects.filter(engagement_id__in=list(engagement_ids))
        .filter(Q(status__in=Flag.LIVE_STATUSES) | Q(episode_ended_on__isnull=True)
                | Q(raised_on__gt=as_of) | Q(last_seen_on__gt=as_of) | Q(episode_ended_on__gt=as_of))
        .order_by("id")
        .values_list("id", "engagement_id", "kind", "status", "raised_on", "last_seen_on", "episode_ended_on",
                     "snoozed_until")
    )
    return [scoring.FlagState(*row) for row in rows]


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


def live_flags(*, engagement_ids: Iterable[int] | None = None) -> QuerySet:
    """Flags still asking for attention, most severe and oldest first, with engagement and owner loaded."""
    severity_order = {Flag.Severity.HIGH: 0, Flag.Severity.MEDIUM: 1, Flag.Severity.LOW: 2}
    rows = Flag.objects.filter(status__in=Flag.LIVE_STATUSES)
    if engagement_ids is not None:
        rows = rows.filter(engagement_id__in=list(engagement_ids))
    return (rows.select_related("engagement__client", "owner")
            .annotate(severity_rank=Case(*[When(severity=k, then=Value(v)) for k, v in severity_order.items()],
                                         output_field=IntegerField()))
            .order_by("severity_rank", "raised_on", "id"))
