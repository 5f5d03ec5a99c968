"""Celery tasks of the portal: the monthly pulse and the status e-mails to clients. Thin and safe to rerun."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from portal import notifications, selectors, services
from portal.models import MilestoneStatusNotice


@shared_task(soft_time_limit=5 * 60, time_limit=6 * 60)
def send_monthly_pulses(days: int = 30) -> int:
    """Send a pulse to the sponsor of every active engagement who got none in the last ``days`` days.

    Running it daily makes it monthly per engagement; running it twice the same day sends nothing
    the second time. Returns the number of pulses sent.
    """
    sent = 0
    for engagement, sponsor in selectors.monthly_pulse_targets(now=timezone.now(), days=days):
        services.pulse_send(engagement=engagement, contacts=[sponsor], requested_by=None)
        sent += 1
    return sent


@shared_task(soft_time_limit=5 * 60, time_limit=6 * 60)
def send_status_notifications() -> int:
    """E-mail client users about shared milestones whose status changed since they were last told.

    Watching the data rather than hooking each door means a change made on a page, through the API
    or in the admin is reported alike. A milestone seen for the first time only records its status
    (nothing to report yet). Each change is claimed with a conditional update, so two overlapping
    runs never send the same e-mail twice. Returns the number of milestones reported.
    """
    now = timezone.now()
    MilestoneStatusNotice.objects.bulk_create(
        [MilestoneStatusNotice(milestone_id=pk, status=status, noted_at=now)
         for pk, status in selectors.milestones_without_notice()],
        ignore_conflicts=True,
    )
    changes = selectors.status_changes()
    recipients = selectors.portal_users_of(milestone.engagement.client_id for milestone, _told in changes)
    reported = 0
    for milestone, told in changes:
        with transaction.atomic():
            claimed = MilestoneStatusNotice.objects.filter(milestone_id=milestone.pk, status=told).update(
                status=milestone.status, noted_at=now)
            if claimed:
                notifications.status_changed(milestone=milestone, previous=told,
                                             recipients=recipients[milestone.engagement.client_id])
                reported += 1
    return reported
