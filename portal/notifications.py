"""E-mails the portal sends: invitations, pulses, and what the other side did.

Everything is sent after the surrounding transaction commits (nothing is mailed for a write that
rolled back), through Django's e-mail backend (console by default). A person who turned
notifications off (``NotificationPreference``) gets no activity or status e-mails; invitations and
pulses are requests addressed to them and always go out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from config.mail import subject_line
from engagements.models import Milestone
from portal.models import NotificationPreference

logger = logging.getLogger(__name__)


def site_url(base_url: str | None = None) -> str:
    """Where links in e-mails point: the request's site when there is one, else ``SITE_URL``."""
    return (base_url or getattr(settings, "SITE_URL", "") or "http://localhost:8000").rstrip("/")


def absolute(path: str, base_url: str | None = None) -> str:
    return site_url(base_url) + path


def wants_email(users: Iterable[User]) -> list[User]:
    """The active users among ``users`` who have not turned e-mail notifications off (one query)."""
    users = [user for user in users if user is not None and user.is_active and user.email]
    if not users:
        return []
    muted = set(NotificationPreference.objects.filter(user__in=users, email_enabled=False)
                .values_list("user_id", flat=True))
    return [user for user in users if user.pk not in muted]


def send_after_commit(*, to: list[str], subject: str, template: str, context: dict) -> None:
    """Render now (in the current language), send once the transaction commits."""
    if not to:
        return
    body = render_to_string(template, context)
    message = EmailMessage(subject=subject_line(subject), body=body,
                           from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    # robust: the user's action has committed; a mail server hiccup must not turn it into an error page.
    transaction.on_commit(message.send, robust=True)


CLIENT_ACTIONS = {
    "comment": gettext_lazy("%(name)s commented on “%(milestone)s”"),
    "approve": gettext_lazy("%(name)s approved “%(milestone)s”"),
    "request_changes": gettext_lazy("%(name)s asked for changes to “%(milestone)s”"),
    "propose": gettext_lazy("%(name)s proposed a milestone: “%(milestone)s”"),
    "complete": gettext_lazy("%(name)s marked “%(milestone)s” as done"),
}


def client_activity(*, milestone: Milestone, actor: User, action: str, text: str = "",
                    base_url: str | None = None) -> None:
    """Tell the milestone's consultant owner (or the engagement's lead) what the client did."""
    engagement = milestone.engagement
    recipient = milestone.consultant_owner or engagement.lead
    if not wants_email([recipient]):
        return
    detail = _engagement_page(engagement.pk)
    # In the consultant's language, not in the one the client happens to use.
    with translation.override(recipient.preferred_language):
        subject = str(CLIENT_ACTIONS[action]) % {"name": actor.full_name or actor.email, "milestone": milestone.title}
        send_after_commit(to=[recipient.email], subject=subject, template="emails/portal_client_activity.txt",
                          context={"recipient": recipient, "actor": actor, "milestone": milestone,
                                   "engagement": engagement, "summary": subject, "text": text,
                                   "url": absolute(detail, base_url) if detail else ""})


def _engagement_page(engagement_pk: int) -> str:
    """The consultant's page of the engagement."""
    return reverse("engagements:detail", args=[engagement_pk])


def status_changed(*, milestone: Milestone, recipients: Iterable[User], previous: str,
                   base_url: str | None = None) -> None:
    """Tell the client users of a shared milestone that its status changed."""
    people = wants_email(recipients)
    if not people:
        return
    url = absolute(reverse("portal:milestone", args=[milestone.pk]), base_url)
    for person in people:
        with translation.override(person.preferred_language):  # each client contact in their own language
            subject = _("“%(milestone)s” is now %(status)s") % {"milestone": milestone.title,
                                                               "status": milestone.get_status_display().lower()}
            send_after_commit(to=[person.email], subject=subject, template="emails/portal_status_change.txt",
                              context={"recipient": person, "milestone": milestone, "engagement": milestone.engagement,
                                       "previous": (Milestone.Status(previous).label
                                                    if previous in Milestone.Status.values else previous),
                                       "url": url})
