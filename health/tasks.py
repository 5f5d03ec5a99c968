"""Celery tasks of the health engine: thin, take ids and ISO dates, safe to run twice.

Idempotence comes from the data: snapshots are upserted on (engagement, date) and flags move
through conditional updates under a partial unique constraint, so a task redelivered after a
worker died (acks late) redoes the same work with the same result.
"""

from __future__ import annotations

import datetime as dt

from celery import group, shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from health import notifications, selectors, services
from health.conf import health_config

# Lost connections, deadlocks and serialisation failures pass; anything else is a bug to see.
_TRANSIENT = (OperationalError, InterfaceError)
_RETRY = {"autoretry_for": _TRANSIENT, "retry_backoff": 5, "retry_backoff_max": 300, "retry_jitter": True,
          "max_retries": 5}
# A mail server that cannot be reached is retried for about half an hour.
_MAIL_RETRY = {"retry_backoff": 30, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 5}


def _date(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else timezone.localdate()


@shared_task(soft_time_limit=60, time_limit=120, **_RETRY)
def score_engagement(engagement_id: int, as_of: str | None = None) -> int:
    """Rescore one engagement after a save; an engagement deleted meanwhile is skipped quietly."""
    return services.rescore_engagement(engagement_id=engagement_id, as_of=_date(as_of)).snapshots


@shared_task(soft_time_limit=10 * 60, time_limit=12 * 60, **_RETRY)
def score_batch(engagement_ids: list[int], as_of: str) -> int:
    """Score one chunk of the nightly run."""
    return services.score_engagements(engagement_ids=engagement_ids, as_of=_date(as_of)).snapshots


@shared_task(soft_time_limit=5 * 60, time_limit=6 * 60, **_RETRY)
def score_all(as_of: str | None = None) -> int:
    """Fan the nightly run out as a group of chunk tasks, so every worker takes a share.

    The date is fixed here, once, so chunks that run after midnight still score the same day.
    Returns the number of chunks queued.
    """
    day = _date(as_of)
    config = health_config()
    ids = selectors.engagement_ids_to_score(as_of=day, statuses=config.scored_statuses)
    chunks = [ids[i:i + config.batch_size] for i in range(0, len(ids), config.batch_size)]
    if chunks:
        group(score_batch.s(chunk, day.isoformat()) for chunk in chunks).apply_async()
    # Rescores lost with a broker outage are queued again too (the chunks may cover them already;
    # scoring twice the same day writes nothing new).
    services.pending_rescores_sweep()
    return len(chunks)


@shared_task(soft_time_limit=60, time_limit=120, **_RETRY)
def sweep_pending_rescores() -> int:
    """Queue again the rescores that could not be queued or were lost (beat runs it every few minutes)."""
    return services.pending_rescores_sweep()


@shared_task(autoretry_for=(OSError,), soft_time_limit=120, time_limit=180, **_MAIL_RETRY)
def send_flag_notifications(engagement_ids: list[int], **_older_arguments) -> int:
    """E-mail the lead and the managers about the high-severity flags due on these engagements.

    (Tasks queued before the notices were tracked by ``Flag.notified_at`` also carry ``as_of`` and
    ``raised_since``; they are no longer needed.)
    """
    return notifications.notify_pending_flags(engagement_ids=engagement_ids)


@shared_task(autoretry_for=(OSError,), soft_time_limit=120, time_limit=180, **_MAIL_RETRY)
def sweep_flag_notifications() -> int:
    """Send the high-flag notices still due anywhere: their task was lost with the broker, or the mail failed."""
    return notifications.notify_pending_flags()
