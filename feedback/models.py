from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clients.models import Contact
from engagements.models import Engagement, Session, Side


class PulseRequest(models.Model):
    """A short feedback pulse sent to a client contact about an engagement (or one session)."""

    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   related_name="pulse_requests")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="pulse_requests")
    session = models.ForeignKey(Session, verbose_name=_("session"), on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="pulse_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"),
                                     on_delete=models.SET_NULL, null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("feedback pulse")
        verbose_name_plural = _("feedback pulses")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["contact", "answered_at"], name="pulse_contact_answered")]

    def __str__(self):
        return f"Pulse to {self.contact.name} ({self.sent_at:%Y-%m-%d})"


def _rating_field(verbose_name, low, high, **kwargs):
    return models.PositiveSmallIntegerField(
        verbose_name, validators=[MinValueValidator(low), MaxValueValidator(high)], **kwargs
    )


class FeedbackResponse(models.Model):
    """An answer to the pulse questions. From a client contact (``side=client``) or a consultant's
    self-assessment of the same relationship (``side=consultant``); comparing both shows the
    perception gap."""

    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   related_name="feedback_responses")
    request = models.OneToOneField(PulseRequest, verbose_name=_("pulse"), on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="response")
    side = models.CharField(_("side"), max_length=16, choices=Side.choices, default=Side.CLIENT)
    respondent_contact = models.ForeignKey(Contact, verbose_name=_("client respondent"),
                                           on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="feedback_responses")
    respondent_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("consultant respondent"),
                                        on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="self_assessments")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="recorded_feedback")
    submitted_at = models.DateTimeField(_("submitted at"))
    rating = _rating_field(_("how valuable is our collaboration (1–5)"), 1, 5)
    involvement = _rating_field(_("do you feel involved (1–5)"), 1, 5, null=True, blank=True)
    nps = _rating_field(_("likelihood to recommend (0–10)"), 0, 10, null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=5000, validators=[MaxLengthValidator(5000)])

    class Meta:
        verbose_name = _("feedback response")
        verbose_name_plural = _("feedback responses")
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5",
                                   violation_error_message=_("The rating must be between 1 and 5.")),
            models.CheckConstraint(condition=Q(involvement__isnull=True) | Q(involvement__gte=1, involvement__lte=5),
                                   name="feedback_involvement_1_to_5"),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10),
                                   name="feedback_nps_0_to_10"),
        ]
        indexes = [models.Index(fields=["engagement", "submitted_at"], name="feedback_engagement_submitted")]

    def __str__(self):
        return f"{self.get_side_display()} feedback {self.rating}/5 ({self.submitted_at:%Y-%m-%d})"
