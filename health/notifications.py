"""E-mails about flags: the lead and the managers hear of a high-severity flag the day it is raised.

Each high flag is e-mailed once: ``Flag.notified_at`` says it went out. The scoring run calls
``queue_high_flag_notices`` inside its transaction when it inserted a high flag; once that
commits, a task sends the notices still due on those engagements. If the broker could not take
that task (down, restarting) or the mail server refused the e-mails, nothing is lost: the notice
stays due, and ``notify_pending_flags``, run by beat every few minutes, sends it. A rerun for the
same date raises nothing new and sends nothing; backfills of past dates stay quiet, since a flag
raised months ago in history is not news.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from accounts.models import User
from config.mail import subject_line
from health.models import Flag

logger = logging.getLogger(__name__)

# A flag raised for a scoring date older than this is history being backfilled, not news.
NEWS_DAYS = 1


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def engagement_url(engagement_id: int) -> str:
    try:
        return absolute_url(reverse("engagements:detail", args=[engagement_id]))
    except NoReverseMatch:
        return absolute_url(reverse("dashboard:flags"))


def active_managers():
    """Everyone who handles flags: active managers (superusers count as managers)."""
    return User.objects.filter(is_active=True).filter(Q(is_manager=True) | Q(is_superuser=True)).exclude(email="")


def queue_high_flag_notices(*, as_of: dt.date, engagement_ids: Iterable[int]) -> None:
    """After the current transaction commits, e-mail about the high flags due on these engagements.

    No query here (the scoring run's cost stays fixed): the task finds the flags after commit.
    """
    if as_of < timezone.localdate() - dt.timedelta(days=NEWS_DAYS):
        return
    ids = sorted(set(engagement_ids))

    def send():
        # A late import: health.tasks imports this module (its tasks call notify_pending_flags).
        from health import tasks

        tasks.send_flag_notifications.delay(engagement_ids=ids)

    # robust: the scores are saved; a broker hiccup must not undo or fail the run (the sweep sends later).
    transaction.on_commit(send, robust=True)


def flags_due_for_notice(*, engagement_ids: Iterable[int] | None = None) -> list[int]:
    """Ids of the live high flags raised lately whose notice has not gone out (one query)."""
    recent = timezone.localdate() - dt.timedelta(days=NEWS_DAYS)
    due = Flag.objects.filter(severity=Flag.Severity.HIGH, status__in=Flag.LIVE_STATUSES, notified_at__isnull=True,
                              raised_on__gte=recent)
    if engagement_ids is not None:
        due = due.filter(engagement_id__in=list(engagement_ids))
    return list(due.order_by("id").values_list("id", flat=True))


def notify_pending_flags(*, engagement_ids: Iterable[int] | None = None) -> int:
    """Send every notice still due (on these engagements, or anywhere); returns the e-mails sent."""
    ids = flags_due_for_notice(engagement_ids=engagement_ids)
    return notify_flags_raised(ids) if ids else 0


def notify_flags_raised(flag_ids: Iterable[int]) -> int:
    """E-mail each engagement's lead and every active manager about these high-severity flags.

    One e-mail per recipient listing all their flags (a manager gets every flag, a lead those of
    their engagements). Returns the number of e-mails sent. A fixed number of queries whatever the
    count.

    The flags are claimed first (``notified_at`` set in a short transaction, rows another sender
    holds skipped), so two senders at once (the run's task and the sweep) never e-mail the same
    flag twice. Each recipient's e-mail is sent on its own: one refused address (a mailbox
    deleted, a typo) is logged and skipped, never a reason to mail the others again. Only when no
    e-mail at all could be sent (the mail server is down) is the claim given back for the next
    try, and the error raised.
    """
    with transaction.atomic():
        flags = list(Flag.objects.select_for_update(skip_locked=True, of=("self",))
                     .filter(id__in=list(flag_ids), severity=Flag.Severity.HIGH, status__in=Flag.LIVE_STATUSES,
                             notified_at__isnull=True)
                     .select_related("engagement__client", "engagement__lead")
                     .order_by("engagement__client__name", "id"))
        if not flags:
            return 0
        claimed = [flag.pk for flag in flags]
        Flag.objects.filter(pk__in=claimed).update(notified_at=timezone.now())
    try:
        return _send_flag_notices(flags)
    except Exception:
        Flag.objects.filter(pk__in=claimed).update(notified_at=None)
        raise


def _send_flag_notices(flags: list[Flag]) -> int:
    recipients: dict[int, tuple[User, list[Flag]]] = {}
    for manager in active_managers():
        recipients[manager.pk] = (manager, list(flags))
    for flag in flags:
        lead = flag.engagement.lead
        if lead.is_active and lead.email and lead.pk not in recipients:
            recipients.setdefault(lead.pk, (lead, []))[1].append(flag)
    messages = [_flag_message(person, person_flags) for person, person_flags in recipients.values() if person_flags]
    if not messages:
        return 0
    sent, refused = 0, []
    with get_connection() as connection:
        for message in messages:
            try:
                sent += connection.send_messages([message]) or 0
            except OSError as error:  # smtplib's errors are OSErrors
                refused.append((message.to[0], error))
    for address, error in refused:
        logger.warning("Flag notice refused for one recipient", extra={"to": address, "error": repr(error)})
    if refused and not sent:
        raise refused[0][1]
    logger.info("Flag notices sent", extra={"flags": [f.pk for f in flags], "emails": sent})
    return sent


def _flag_message(person: User, flags: list[Flag]) -> EmailMultiAlternatives:
    # In the recipient's language, whoever's request or task caused the flag.
    with translation.override(person.preferred_language):
        context = {
            "person": person,
            "flags": [{"flag": flag, "url": engagement_url(flag.engagement_id), **flag_in_words(flag)}
                      for flag in flags],
            "queue_url": absolute_url(reverse("dashboard:flags")),
            "is_manager": person.role == "manager",
        }
        subject = subject_line(render_to_string("emails/flag_raised_subject.txt", context))
        text = render_to_string("emails/flag_raised.txt", context)
        html = render_to_string("emails/flag_raised.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[person.email])
    message.attach_alternative(html, "text/html")
    return message


def flag_in_words(flag: Flag) -> dict:
    """What an e-mail says about a flag, in the active language (the recipient's): ``summary``, the
    sentence of what changed since when; ``key_figure``, ``(figure, caption)`` or None; ``details``,
    the other numbers as (label, value) pairs. The same words as the flag's card on the pages."""
    from health import evidence

    data = flag.evidence or {}
    return {"summary": evidence.flag_summary(flag.kind, data), "key_figure": evidence.key_figure(flag.kind, data),
            "details": evidence.evidence_details(flag.kind, data)}
