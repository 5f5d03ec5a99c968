"""Pages of the client portal (client users only; anyone else gets 404) and its e-mailed links.

Every object comes through ``access`` (a client's own client, shared rows only), so an
engagement, milestone, session or pulse of another client, or an unshared one, is a 404 in pages
and in every form post alike. Writes go through ``portal.services``.
"""

from __future__ import annotations

import secrets
from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import access
from accounts.models import Role
from engagements.models import Engagement, Milestone
from feedback.models import PulseRequest
from feedback.services import pulse_answer
from portal import selectors, services
from portal.forms import (
    CommentForm,
    CompleteForm,
    NotificationForm,
    ProposeForm,
    PulseForm,
    RequestChangesForm,
    SetPasswordForm,
)
from portal.models import Invitation, NotificationPreference
from portal.tokens import decode_pk, invitation_tokens, pulse_tokens

COMMENTS_PER_PAGE = 50
ROWS_PER_PAGE = 20
_FORM_TOKENS = "portal_form_tokens"


def client_required(view):
    """Signed in as a client contact; firm staff and everyone else get 404 (the portal is not theirs)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if access.role_of(request.user) != Role.CLIENT:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _posted(request):
    """The submitted data on POST (even an empty form: an unticked checkbox sends nothing), else None."""
    return request.POST if request.method == "POST" else None


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


def _apply_errors(form, error: ValidationError, rename: dict | None = None) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            target = rename.get(name, name)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- One-time form tokens: a form rendered once is accepted once -------------------------------------

def _issue_form_token(request) -> str:
    token = secrets.token_urlsafe(16)
    tokens = request.session.get(_FORM_TOKENS, [])[-19:]
    request.session[_FORM_TOKENS] = [*tokens, token]
    return token


def _consume_form_token(request) -> bool:
    token = request.POST.get("form_token", "")
    tokens = request.session.get(_FORM_TOKENS, [])
    if token not in tokens:
        return False
    tokens.remove(token)
    request.session[_FORM_TOKENS] = tokens
    return True


# --- Pages ------------------------------------------------------------------------------------

@client_required
def home(request):
    """The client's engagements, what waits for them, shared milestones and session summaries."""
    return render(request, "portal/home.html", selectors.portal_home(request.user))


@client_required
def engagement(request, pk):
    """One engagement: open milestones by phase and status, then the finished ones, paginated."""
    engagement = access.get_engagement_for(request.user, pk)
    open_milestones = list(selectors.shared_milestones(request.user)
                           .filter(engagement=engagement, status__in=selectors.OPEN_STATUSES)
                           .order_by("position", "due_date", "id"))
    for milestone in open_milestones:
        milestone.engagement = engagement
    closed = Paginator(selectors.engagement_closed_milestones(request.user, engagement), ROWS_PER_PAGE)
    return render(request, "portal/engagement.html", {
        "engagement": engagement, "phases": selectors._group(open_milestones), "open_count": len(open_milestones),
        "closed_page": closed.get_page(request.GET.get("page")),
    })


@client_required
def sessions(request, pk):
    """The engagement's shared session summaries, newest first, paginated."""
    engagement = access.get_engagement_for(request.user, pk)
    page = Paginator(selectors.session_summaries(request.user).filter(engagement=engagement),
                     ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/sessions.html", {"engagement": engagement, "page": page})


def _get_milestone(request, pk) -> Milestone:
    return access.get_for(selectors.shared_milestones(request.user).select_related("engagement__client",
                                                                                    "engagement__lead"), pk)


def _thread_context(request, milestone, *, comment_form=None, page_number=None) -> dict:
    paginator = Paginator(selectors.milestone_thread(milestone), COMMENTS_PER_PAGE)
    page = paginator.get_page(page_number or request.GET.get("page") or paginator.num_pages)
    contact = request.user.client_contact
    # A closed engagement is a record (the services refuse changes): offer no action on it.
    closed = milestone.engagement.status == Engagement.Status.CLOSED
    return {
        "milestone": milestone, "comments": page, "form_token": _issue_form_token(request),
        "comment_form": comment_form or CommentForm(), "engagement_closed": closed,
        "awaiting_approval": milestone.approval_requested and milestone.approved_at is None and not closed,
        "may_complete": (not closed and contact is not None and milestone.client_owner_id == contact.pk
                         and milestone.status in (Milestone.Status.AGREED, Milestone.Status.IN_PROGRESS,
                                                  Milestone.Status.BLOCKED)),
    }


@client_required
def milestone(request, pk):
    """A shared milestone and its thread, with what the client can do on it."""
    milestone = _get_milestone(request, pk)
    context = _thread_context(request, milestone)
    context.update(changes_form=RequestChangesForm(), complete_form=CompleteForm())
    return render(request, "portal/milestone.html", context)


@client_required
@require_POST
def milestone_comment(request, pk):
    """Post a comment (HTMX swaps the thread in place; without JavaScript the page reloads)."""
    milestone = _get_milestone(request, pk)
    form = CommentForm(request.POST)
    fresh = _consume_form_token(request)
    if form.is_valid():
        if fresh:
            try:
                services.portal_comment_add(milestone=milestone, user=request.user, text=form.cleaned_data["text"],
                                            base_url=_base_url(request))
            except ValidationError as error:
                _apply_errors(form, error, {"text": "text"})
        if form.is_valid():  # still: no service error
            if not request.htmx:
                if fresh:
                    messages.success(request, _("Your comment was posted."))
                return redirect(reverse("portal:milestone", args=[pk]) + "#thread")
            return render(request, "portal/_thread.html", _thread_context(request, milestone))
    if request.htmx:
        return render(request, "portal/_thread.html", _thread_context(request, milestone, comment_form=form))
    context = _thread_context(request, milestone, comment_form=form)
    context.update(changes_form=RequestChangesForm(), complete_form=CompleteForm())
    return render(request, "portal/milestone.html", context)


@client_required
@require_POST
def milestone_approve(request, pk):
    milestone = _get_milestone(request, pk)
    try:
        services.portal_milestone_approve(milestone=milestone, user=request.user, base_url=_base_url(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Approved. Thank you — the team has been told."))
    return redirect("portal:milestone", pk=pk)


@client_required
@require_POST
def milestone_request_changes(request, pk):
    milestone = _get_milestone(request, pk)
    form = RequestChangesForm(request.POST)
    if form.is_valid():
        try:
            services.portal_milestone_request_changes(milestone=milestone, user=request.user,
                                                      comment=form.cleaned_data["comment"],
                                                      base_url=_base_url(request))
        except ValidationError as error:
            if not hasattr(error, "error_dict"):  # e.g. no longer awaiting approval: the form is gone
                messages.error(request, " ".join(error.messages))
                return redirect("portal:milestone", pk=pk)
            _apply_errors(form, error, {"text": "comment"})
        else:
            messages.success(request, _("Your request for changes was sent to the team."))
            return redirect("portal:milestone", pk=pk)
    context = _thread_context(request, milestone)
    context.update(changes_form=form, complete_form=CompleteForm())
    return render(request, "portal/milestone.html", context, status=200)


@client_required
@require_POST
def milestone_complete(request, pk):
    milestone = _get_milestone(request, pk)
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            services.portal_milestone_complete(milestone=milestone, user=request.user, note=form.cleaned_data["note"],
                                               base_url=_base_url(request))
        except ValidationError as error:
            if not hasattr(error, "error_dict"):  # not the note's fault: say why on the milestone page
                messages.error(request, " ".join(error.messages))
                return redirect("portal:milestone", pk=pk)
            _apply_errors(form, error, {"text": "note"})
        else:
            messages.success(request, _("Marked as done. Thank you!"))
            return redirect("portal:milestone", pk=pk)
    context = _thread_context(request, milestone)
    context.update(changes_form=RequestChangesForm(), complete_form=form)
    return render(request, "portal/milestone.html", context)


@client_required
def propose(request, pk):
    """Propose a milestone on one of the client's engagements."""
    engagement = access.get_engagement_for(request.user, pk)
    if engagement.status == engagement.Status.CLOSED:
        raise Http404
    form = ProposeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            milestone = services.portal_milestone_propose(engagement=engagement, user=request.user,
                                                          base_url=_base_url(request), **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Your proposal was sent to the team. They will confirm it shortly."))
            return redirect("portal:milestone", pk=milestone.pk)
    return render(request, "portal/propose.html", {"engagement": engagement, "form": form})


# --- Pulses -----------------------------------------------------------------------------------

def _answer_pulse(request, pulse: PulseRequest, *, template_context: dict):
    """Show the pulse questions or record the answer; shared by the portal and the e-mailed link."""
    problem = _pulse_problem(pulse)
    if problem:
        return render(request, "portal/link_problem.html", {"message": problem}, status=410)
    form = PulseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            pulse_answer(pulse=pulse, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return render(request, "portal/pulse_done.html", {"pulse": pulse, **template_context})
    return render(request, "portal/pulse.html", {"pulse": pulse, "form": form, **template_context})


def _pulse_problem(pulse: PulseRequest) -> str:
    from django.utils import timezone

    if pulse.answered_at is not None:
        return _("This pulse has already been answered. Thank you!")
    if pulse.expires_at <= timezone.now():
        return _("This pulse has expired. Thank you anyway — the team will ask again soon.")
    return ""


@client_required
def pulse(request, pk):
    """Answer a pulse from the portal."""
    pulse = access.get_for(access.pulse_requests_for(request.user).select_related("engagement", "session"), pk)
    return _answer_pulse(request, pulse, template_context={"signed_in": True})


# --- E-mailed links: the token is swapped for a session value on first use ------------------------
# As Django's password reset does: the first GET of a link with a valid token keeps the token in
# the session and redirects to the same URL with this placeholder instead, so the token stays out
# of the pages' URLs (history, Referer headers, the access log of every later request).
_LINK_TOKENS = "portal_link_tokens"
LINK_IN_SESSION = "continue"


def _link_token(request, kind: str, uidb64: str, token: str) -> str:
    """The link's token: from the URL, or from the session once the URL no longer carries it."""
    if token == LINK_IN_SESSION:
        return request.session.get(_LINK_TOKENS, {}).get(f"{kind}:{uidb64}", "")
    return token


def _swap_token_for_session(request, kind: str, url_name: str, uidb64: str, token: str):
    """On the first GET of a valid link, remember its token and redirect to the URL without it."""
    if request.method != "GET" or token == LINK_IN_SESSION:
        return None
    tokens = request.session.get(_LINK_TOKENS, {})
    tokens[f"{kind}:{uidb64}"] = token
    request.session[_LINK_TOKENS] = dict(list(tokens.items())[-10:])
    return redirect(url_name, uidb64=uidb64, token=LINK_IN_SESSION)


def pulse_link(request, uidb64, token):
    """Answer one pulse from the e-mailed link, without signing in: the link authorises that pulse only."""
    pk = decode_pk(uidb64)
    pulse = (PulseRequest.objects.select_related("engagement__client", "contact", "session").filter(pk=pk).first()
             if pk else None)
    secret = _link_token(request, "pulse", uidb64, token)
    if pulse is None or not pulse.contact.active or not pulse_tokens.check_token(pulse, secret):
        return render(request, "portal/link_problem.html", {"message": str(services.LINK_PROBLEMS["invalid"])},
                      status=404)
    swapped = _swap_token_for_session(request, "pulse", "portal:pulse_link", uidb64, token)
    if swapped is not None:
        return swapped
    return _answer_pulse(request, pulse, template_context={"signed_in": False})


# --- Invitations ------------------------------------------------------------------------------

def invitation_accept(request, uidb64, token):
    """Follow an invitation link: choose a password, then land in the portal signed in."""
    pk = decode_pk(uidb64)
    invitation = (Invitation.objects.select_related("contact__client", "contact__user").filter(pk=pk).first()
                  if pk else None)
    secret = _link_token(request, "invitation", uidb64, token)
    if invitation is None or not invitation.contact.active or not invitation_tokens.check_token(invitation, secret):
        return render(request, "portal/link_problem.html", {"message": str(services.LINK_PROBLEMS["invalid"])},
                      status=404)
    swapped = _swap_token_for_session(request, "invitation", "portal:invitation_accept", uidb64, token)
    if swapped is not None:
        return swapped
    if invitation.state != Invitation.State.PENDING:
        return render(request, "portal/link_problem.html", {
            "message": str(services.LINK_PROBLEMS[invitation.state]),
            "sign_in": invitation.state == Invitation.State.ACCEPTED,
        }, status=410)
    contact = invitation.contact
    from accounts.models import User

    would_be = contact.user or User(email=contact.email, full_name=contact.name)
    form = SetPasswordForm(_posted(request), user=would_be)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(invitation=invitation, password=form.cleaned_data["password1"])
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome, %(name)s. This is your shared workspace with us.")
                             % {"name": user.get_short_name()})
            return redirect("portal:home")
    return render(request, "portal/invitation_accept.html", {"invitation": invitation, "contact": contact,
                                                             "form": form})


# --- Settings (clients and firm staff) ----------------------------------------------------------

@login_required
def notification_settings(request):
    """Turn the portal's e-mail notifications on or off."""
    role = access.role_of(request.user)
    if role is None:
        raise Http404
    current = NotificationPreference.objects.filter(user=request.user).values_list("email_enabled", flat=True).first()
    enabled = True if current is None else current
    form = NotificationForm(_posted(request), initial={"email_enabled": enabled})
    if request.method == "POST" and form.is_valid():
        services.notification_preference_set(user=request.user, email_enabled=form.cleaned_data["email_enabled"])
        messages.success(request, _("Your notification settings were saved."))
        return redirect("portal:notifications")
    return render(request, "portal/notifications.html", {"form": form, "role": role})
