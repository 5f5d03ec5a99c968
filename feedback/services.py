"""Writes on feedback: pulses sent to clients, their answers, consultants' self-assessments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from clients.models import Contact
from engagements import services as engagement_services
from engagements.models import Engagement, Session, Side
from engagements.signals import engagement_changed
from feedback.models import FeedbackResponse, PulseRequest

PULSE_VALID_DAYS = 14


def feedback_record(*, engagement: Engagement, rating: int, side: str = Side.CLIENT,
                    involvement: int | None = None, nps: int | None = None, comment: str = "",
                    respondent_contact: Contact | None = None, respondent_user: User | None = None,
                    recorded_by: User | None = None, submitted_at: dt.datetime | None = None,
                    request: PulseRequest | None = None) -> FeedbackResponse:
    """Record one answer to the pulse questions, from the client or a consultant's self-assessment."""
    errors = {}
    if side == Side.CLIENT:
        if respondent_contact is None:
            errors["respondent_contact"] = _("Say which client contact gave this feedback.")
        elif respondent_contact.client_id != engagement.client_id:
            errors["respondent_contact"] = _("The respondent must be a contact of %(client)s.") % {
                "client": engagement.client}
    elif respondent_user is None:
        errors["respondent_user"] = _("Say which consultant assessed the relationship.")
    if errors:
        raise ValidationError(errors)
    response = FeedbackResponse(
        engagement=engagement, side=side, rating=rating, involvement=involvement, nps=nps, comment=comment.strip(),
        respondent_contact=respondent_contact if side == Side.CLIENT else None,
        respondent_user=respondent_user if side == Side.CONSULTANT else None,
        recorded_by=recorded_by, submitted_at=submitted_at or timezone.now(), request=request,
    )
    response.full_clean()
    with transaction.atomic():
        response.save()
        engagement_changed.send(sender=Engagement, engagement_id=engagement.pk)
    return response


def pulse_request_create(*, engagement: Engagement, contact: Contact, requested_by: User | None,
                         session: Session | None = None, valid_days: int = PULSE_VALID_DAYS) -> PulseRequest:
    """Ask a client contact for a short pulse about the engagement (or one session)."""
    if contact.client_id != engagement.client_id or not contact.active:
        raise ValidationError({"contact": _("Choose an active contact of %(client)s.") % {"client": engagement.client}})
    if session is not None and session.engagement_id != engagement.pk:
        raise ValidationError({"session": _("That session belongs to another engagement.")})
    now = timezone.now()
    pulse = PulseRequest(engagement=engagement, contact=contact, session=session, requested_by=requested_by,
                         sent_at=now, expires_at=now + dt.timedelta(days=valid_days))
    pulse.full_clean()
    pulse.save()
    return pulse


def pulse_answer(*, pulse: PulseRequest, rating: int, involvement: int | None = None, nps: int | None = None,
                 comment: str = "") -> FeedbackResponse:
    """The client answers a pulse, once, before it expires."""
    with transaction.atomic():
        # The row lock makes a double submit wait, then see the pulse already answered.
        pulse = PulseRequest.objects.select_for_update().select_related("engagement", "contact").get(pk=pulse.pk)
        if pulse.answered_at is not None:
            raise ValidationError(_("This pulse has already been answered. Thank you!"))
        if pulse.expires_at < timezone.now():
            raise ValidationError(_("This pulse has expired."))
        response = feedback_record(engagement=pulse.engagement, side=Side.CLIENT, rating=rating,
                                   involvement=involvement, nps=nps, comment=comment,
                                   respondent_contact=pulse.contact, request=pulse)
        pulse.answered_at = response.submitted_at
        pulse.save(update_fields=["answered_at"])
    return response


# --- Closing well: close the engagement and ask for final feedback (feedback builds on engagements) --

def engagement_close_well(*, engagement: Engagement, closed_by: User, reason: str, handover_notes: str = "",
                          retrospective: str = "", end: dt.date | None = None,
                          feedback_from: Iterable[Contact] = ()) -> Engagement:
    """Close an engagement (reason, handover, retrospective) and ask the chosen contacts for final
    feedback, all or nothing."""
    contacts = engagement_services.contacts_check_belong(engagement, feedback_from, "feedback_from")
    if any(not contact.active for contact in contacts):
        raise ValidationError({"feedback_from": _("Only contacts still at %(client)s can be asked.")
                               % {"client": engagement.client}})
    with transaction.atomic():
        engagement_services.engagement_close(engagement=engagement, reason=reason, handover_notes=handover_notes,
                                             retrospective=retrospective, end=end, closed_by=closed_by)
        for contact in contacts:
            pulse_request_create(engagement=engagement, contact=contact, requested_by=closed_by)
    return engagement
