"""The client portal's own records: invitations, notification preferences, status notices.

Milestones, comments and pulses live in their apps; the portal only adds what it needs to let a
client contact in (``Invitation``), to let anyone turn e-mails off (``NotificationPreference``) and
to know which milestone status a client was last told about (``MilestoneStatusNotice``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Contact
from engagements.models import Milestone


class Invitation(models.Model):
    """An invitation for a client contact to set a password and use the portal.

    The link it sends is single-use and expiring (see ``portal.tokens``): resending gives a new
    link and kills the previous one; accepting or revoking ends it.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        EXPIRED = "expired", _("Expired")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="portal_invitations")
    email = models.EmailField(_("sent to"))
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("invited by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="portal_invitations_sent")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    send_count = models.PositiveSmallIntegerField(_("times sent"), default=1)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal invitation")
        verbose_name_plural = _("portal invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact"], condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_contact",
                violation_error_message=_("This contact already has an open invitation: resend it instead."),
            ),
        ]

    def __str__(self):
        return f"Invitation to {self.email} ({self.sent_at:%Y-%m-%d})"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.accepted_at is not None:
            return self.State.ACCEPTED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.PENDING

    def get_state_display(self) -> str:
        return self.State(self.state).label


class NotificationPreference(models.Model):
    """Whether a person wants the portal's e-mails (on unless they turned them off).

    Consultants get told when a client comments, approves, asks for changes or proposes; client
    users when a milestone shared with them changes status.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                                primary_key=True, related_name="notification_preference")
    email_enabled = models.BooleanField(_("send me e-mail notifications"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.user}: {'on' if self.email_enabled else 'off'}"


class MilestoneStatusNotice(models.Model):
    """The status of a shared milestone that its client was last told about.

    ``portal.tasks.send_status_notifications`` compares it with the milestone's status, whichever
    door changed it (pages, API, admin), and claims each change with a conditional update so two
    runs never send the same e-mail twice.
    """

    milestone = models.OneToOneField(Milestone, verbose_name=_("milestone"), on_delete=models.CASCADE,
                                     primary_key=True, related_name="status_notice")
    status = models.CharField(_("status told"), max_length=16, choices=Milestone.Status.choices)
    noted_at = models.DateTimeField(_("noted at"), default=timezone.now)

    class Meta:
        verbose_name = _("milestone status notice")
        verbose_name_plural = _("milestone status notices")

    def __str__(self):
        return f"{self.milestone_id}: {self.status}"
