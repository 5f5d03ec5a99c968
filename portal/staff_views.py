"""The firm's side of the portal: invitations, sending pulses, self-assessments (staff only; clients get 404)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import access
from engagements.models import Side
from feedback.services import feedback_record
from portal import selectors, services
from portal.forms import SelfAssessmentForm, SendPulseForm
from portal.models import Invitation
from portal.views import ROWS_PER_PAGE, _apply_errors, _base_url, _posted


def staff_required(view):
    """Signed in as a consultant or manager; client users get 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not access.is_firm_staff(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
def staff_home(request):
    """Where the portal stands on each of the user's engagements (pulses, invitations, the client's
    visits, the user's own view), each figure leading to the page that acts on it."""
    return render(request, "portal/staff/home.html", {"engagements": selectors.staff_portal_status(request.user)})


@staff_required
def contacts(request, pk):
    """A client's contacts and their portal access: invite, resend, revoke."""
    client = access.get_for(access.clients_for(request.user), pk)
    return render(request, "portal/staff/contacts.html", {
        "client": client, "contacts": selectors.staff_contacts(request.user, client),
    })


def _invitation_for(request, pk) -> Invitation:
    return access.get_for(Invitation.objects.filter(contact__in=access.contacts_for(request.user))
                          .select_related("contact__client", "contact__user"), pk)


@staff_required
@require_POST
def invite(request, pk):
    contact = access.get_for(access.contacts_for(request.user).select_related("client", "user"), pk)
    try:
        services.invitation_send(contact=contact, invited_by=request.user, base_url=_base_url(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": contact.email})
    return redirect("portal:staff_contacts", pk=contact.client_id)


@staff_required
@require_POST
def invitation_resend(request, pk):
    invitation = _invitation_for(request, pk)
    try:
        services.invitation_resend(invitation=invitation, base_url=_base_url(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("A new link was sent to %(email)s; the previous one no longer works.")
                         % {"email": invitation.contact.email})
    return redirect("portal:staff_contacts", pk=invitation.contact.client_id)


@staff_required
@require_POST
def invitation_revoke(request, pk):
    invitation = _invitation_for(request, pk)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, _("Access withdrawn for %(name)s.") % {"name": invitation.contact.name})
    return redirect("portal:staff_contacts", pk=invitation.contact.client_id)


def _recent_sessions(user, engagement):
    """The engagement's last 20 sessions, as an unsliced queryset (a form field must filter it to validate)."""
    sessions = access.sessions_for(user).filter(engagement=engagement)
    recent = list(sessions.order_by("-start").values_list("pk", flat=True)[:20])
    return sessions.filter(pk__in=recent).only("id", "start", "focus").order_by("-start")


@staff_required
def pulses(request, pk):
    """Send a feedback pulse to the client's contacts, and see the ones sent."""
    engagement = access.get_engagement_for(request.user, pk)
    form = SendPulseForm(
        _posted(request),
        contacts=access.contacts_for(request.user).filter(client_id=engagement.client_id, active=True).order_by("name"),
        sessions=_recent_sessions(request.user, engagement),
        initial={"session": request.GET.get("session")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.pulse_send(engagement=engagement, contacts=form.cleaned_data["contacts"],
                                       session=form.cleaned_data["session"], requested_by=request.user,
                                       base_url=_base_url(request))
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            names = ", ".join(pulse.contact.name for pulse in sent)
            messages.success(request, _("Pulse sent to %(names)s.") % {"names": names})
            return redirect("portal:staff_pulses", pk=engagement.pk)
    page = Paginator(selectors.staff_pulses(request.user, engagement), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/staff/pulses.html", {"engagement": engagement, "form": form, "page": page,
                                                        "now": timezone.now()})


@staff_required
def self_assessment(request, pk):
    """The consultant answers the pulse questions about the relationship, as they see it."""
    engagement = access.get_engagement_for(request.user, pk)
    form = SelfAssessmentForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            feedback_record(engagement=engagement, side=Side.CONSULTANT, respondent_user=request.user,
                            recorded_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Your self-assessment was recorded."))
            return redirect("portal:staff_self_assessment", pk=engagement.pk)
    recent = (access.feedback_responses_for(request.user).filter(engagement=engagement)
              .select_related("respondent_user", "respondent_contact").order_by("-submitted_at")[:10])
    return render(request, "portal/staff/self_assessment.html", {"engagement": engagement, "form": form,
                                                                  "recent": recent})
