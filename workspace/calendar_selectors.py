"""Reads of the calendar page and inbox (calendars/ is their domain), scoped through access and
eager-loaded."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

import access
from calendars.models import CalendarFeed, CalendarMeeting
from engagements.models import Engagement

State = CalendarMeeting.State


def _loaded(qs: QuerySet[CalendarMeeting]) -> QuerySet[CalendarMeeting]:
    return qs.with_choices()


def meetings_for(*, user) -> QuerySet[CalendarMeeting]:
    """All the user's imported meetings, eager-loaded."""
    return _loaded(access.calendar_meetings_for(user)).order_by("-start", "-id")


def _about(engagement: Engagement) -> Q:
    """Meetings matched to ``engagement`` or offering it as a candidate. A subquery, not a join: joined,
    each meeting came once per candidate and needed a DISTINCT over every column, which PostgreSQL
    took 2–6 ms to plan on every engagement page (the subquery: 0.5 ms)."""
    candidates = CalendarMeeting.candidate_engagements.through.objects.filter(engagement=engagement)
    return Q(engagement=engagement) | Q(pk__in=candidates.values("calendarmeeting_id"))


def meeting_inbox(*, user, engagement: Engagement | None = None, loaded: bool = True) -> QuerySet[CalendarMeeting]:
    """Meetings waiting to be confirmed that have taken place, most recent first (paginate it)."""
    qs = access.calendar_meetings_for(user).filter(state=State.WAITING, start__lte=timezone.now())
    if engagement is not None:
        qs = qs.filter(_about(engagement))
    return (_loaded(qs) if loaded else qs).order_by("-start", "-id")


def meeting_inbox_head(*, user, engagement: Engagement | None = None, limit: int) -> list[CalendarMeeting]:
    """The first ``limit`` meetings of ``meeting_inbox``, for a page whose inbox is usually empty: a
    narrow read of their ids, then the meetings with all they show only when some wait."""
    waiting = list(meeting_inbox(user=user, engagement=engagement, loaded=False).values_list("pk", flat=True)[:limit])
    if not waiting:
        return []
    return list(meetings_for(user=user).filter(pk__in=waiting))


def upcoming_count(*, user, engagement: Engagement | None = None) -> int:
    """Client meetings still to come: they join the inbox once they have taken place."""
    qs = access.calendar_meetings_for(user).filter(state=State.WAITING, start__gt=timezone.now())
    if engagement is not None:
        qs = qs.filter(_about(engagement))
    return qs.count()


def meetings_to_review(*, user) -> QuerySet[CalendarMeeting]:
    """Confirmed meetings the calendar changed or cancelled since: apply or keep, the consultant decides."""
    return _loaded(access.calendar_meetings_for(user).filter(state=State.CONFIRMED).exclude(review="")
                   ).order_by("-start", "-id")


def ignored_meetings(*, user, limit: int = 20) -> list[CalendarMeeting]:
    """The latest ignored meetings, to undo an ignore."""
    return list(_loaded(access.calendar_meetings_for(user).filter(state=State.IGNORED))
                .order_by("-updated_at", "-id")[:limit])


def feeds_for(*, user) -> list[CalendarFeed]:
    """The user's calendar subscriptions."""
    return list(access.calendar_feeds_for(user).order_by("created_at", "id"))


@dataclass
class InboxSummary:
    waiting: int
    to_review: int
    upcoming: int


def inbox_summary(*, user) -> InboxSummary:
    """Counts for the home page's calendar strip, in one query."""
    now = timezone.now()
    counts = access.calendar_meetings_for(user).aggregate(
        waiting=Count("id", filter=Q(state=State.WAITING, start__lte=now)),
        upcoming=Count("id", filter=Q(state=State.WAITING, start__gt=now)),
        to_review=Count("id", filter=Q(state=State.CONFIRMED) & ~Q(review="")),
    )
    return InboxSummary(waiting=counts["waiting"], to_review=counts["to_review"], upcoming=counts["upcoming"])
