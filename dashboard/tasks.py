"""Celery tasks of the dashboard: the managers' weekly digest. Thin, safe to run twice a week.

(The notice of a new high flag is the health engine's: ``health.tasks.send_flag_notifications``.)
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from config.mail import subject_line
from dashboard import selectors
from health import notifications

logger = logging.getLogger(__name__)
_RETRY = {"retry_backoff": 30, "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 5}


@shared_task(autoretry_for=(OSError,), soft_time_limit=10 * 60, time_limit=12 * 60, **_RETRY)
def send_weekly_digests(today: str | None = None) -> int:
    """Each active manager's weekly digest: new flags, biggest score drops, relationships gone quiet."""
    return weekly_digests(today=dt.date.fromisoformat(today) if today else timezone.localdate())


def weekly_digests(*, today: dt.date) -> int:
    """Build and send the digests; returns how many were sent. Seven queries per manager, whatever the portfolio."""
    sent = 0
    messages = []
    for manager in notifications.active_managers():
        with translation.override(manager.preferred_language):
            context = digest_context(user=manager, today=today)
            subject = subject_line(render_to_string("emails/digest_subject.txt", context))
            text = render_to_string("emails/digest.txt", context)
            html = render_to_string("emails/digest.html", context)
        message = EmailMultiAlternatives(subject=subject, body=text, to=[manager.email])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    if messages:
        with get_connection() as connection:
            sent = connection.send_messages(messages) or 0
    logger.info("Weekly digests sent", extra={"emails": sent})
    return sent


def digest_context(*, user, today: dt.date) -> dict:
    """What one manager's digest shows (reads scoped to that manager through access)."""
    week_ago = today - dt.timedelta(days=7)
    flags = list(selectors.new_flags(user=user, since=week_ago)[:50])
    return {
        "person": user,
        "today": today,
        "since": week_ago,
        "new_flags": [{"flag": f, "url": notifications.engagement_url(f.engagement_id),
                       **notifications.flag_in_words(f)} for f in flags],
        "drops_7": _with_urls(selectors.score_drops(user=user, days=7)),
        "drops_30": _with_urls(selectors.score_drops(user=user, days=30)),
        "quiet": _with_urls(selectors.gone_quiet(user=user)),
        "dashboard_url": notifications.absolute_url(reverse("dashboard:home")),
        "queue_url": notifications.absolute_url(reverse("dashboard:flags")),
    }


def _with_urls(engagements):
    for engagement in engagements:
        engagement.url = notifications.engagement_url(engagement.pk)
    return engagements
