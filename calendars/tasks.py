"""Celery tasks of the calendar import: thin, take ids, safe to run twice (a poll is claimed first)."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from calendars import services
from calendars.models import CalendarFeed


@shared_task(soft_time_limit=120, time_limit=180)
def poll_feed(feed_id: int) -> dict | None:
    """Read one subscribed calendar if it is due; a feed deleted meanwhile is skipped."""
    summary = services.feed_poll(feed_id=feed_id)
    return summary.as_dict() if summary else None


@shared_task(soft_time_limit=60, time_limit=120)
def poll_due_feeds() -> int:
    """Queue a poll of every feed whose time has come (beat runs this every few minutes)."""
    due = (CalendarFeed.objects.filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=timezone.now()))
           .values_list("pk", flat=True))
    ids = list(due)
    for feed_id in ids:
        poll_feed.delay(feed_id)
    return len(ids)
