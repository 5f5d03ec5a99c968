"""What people do with a health flag, from its card (engagement page, manager's flag queue).

Every view answers a POST. With HTMX it returns the re-rendered card (``workspace/_flag_card.html``)
so the card updates in place; without, it goes back to the engagement page. Consultants on the
engagement may acknowledge a flag and add notes; managers may also assign, snooze, resolve and
dismiss. A flag outside the user's scope is a 404; an action beyond their role is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import access
from health import services as health_services
from health.models import Flag
from health.selectors import flag_cards
from workspace.forms import (
    FlagAssignForm,
    FlagDismissForm,
    FlagNoteForm,
    FlagResolveForm,
    FlagSnoozeForm,
    add_service_errors,
)


def _flag_for(request, pk, *, manage: bool = False) -> Flag:
    flag = access.get_for(flag_cards(access.flags_for(request.user)), pk)
    if manage and not access.can_manage_flags(request.user):
        raise PermissionDenied
    return flag


def _card(request, flag: Flag, *, form=None, action: str = "", done: str = ""):
    """The card again (HTMX), or back to where the card was shown."""
    if not request.htmx:
        if form is not None and form.errors:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        elif done:
            messages.success(request, done)
        back = request.POST.get("next", "")
        if not back.startswith("/") or back.startswith("//"):
            back = reverse("engagements:detail", args=[flag.engagement_id])
        return redirect(back + f"#flag-{flag.pk}")
    flag = flag_cards(access.flags_for(request.user)).get(pk=flag.pk)
    return render(request, "workspace/_flag_card.html", {
        "flag": flag, "flag_form": form if form is not None and form.errors else None, "flag_action": action,
        "flag_done": done, "next": request.POST.get("next", "")})


def _run(request, flag: Flag, form, action: str, call):
    """Validate the form and call the service; the card with errors if either refuses, else None."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return None
    return _card(request, flag, form=form, action=action)


@login_required
@require_POST
def flag_acknowledge(request, pk):
    flag = _flag_for(request, pk)
    try:
        health_services.flag_acknowledge(flag=flag, user=request.user)
    except ValidationError as error:
        form = FlagNoteForm()
        form.add_error(None, error)
        return _card(request, flag, form=form, action="acknowledge")
    return _card(request, flag, done=_("Flag acknowledged."))


@login_required
@require_POST
def flag_note(request, pk):
    flag = _flag_for(request, pk)
    form = FlagNoteForm(request.POST)
    error = _run(request, flag, form, "note",
                 lambda data: health_services.flag_note_add(flag=flag, user=request.user, text=data["note"]))
    return error or _card(request, flag, done=_("Note added."))


@login_required
@require_POST
def flag_assign(request, pk):
    flag = _flag_for(request, pk, manage=True)
    form = FlagAssignForm(request.POST)
    error = _run(request, flag, form, "assign",
                 lambda data: health_services.flag_assign(flag=flag, owner=data["owner"], user=request.user))
    return error or _card(request, flag, done=_("Owner changed."))


@login_required
@require_POST
def flag_snooze(request, pk):
    flag = _flag_for(request, pk, manage=True)
    form = FlagSnoozeForm(request.POST)
    error = _run(request, flag, form, "snooze",
                 lambda data: health_services.flag_snooze(flag=flag, user=request.user, until=data["snoozed_until"],
                                                          reason=data["snooze_reason"]))
    return error or _card(request, flag, done=_("Flag snoozed."))


@login_required
@require_POST
def flag_resolve(request, pk):
    """Resolve with an action plan; "end the engagement well" continues in the closing flow."""
    flag = _flag_for(request, pk, manage=True)
    form = FlagResolveForm(request.POST)
    error = _run(request, flag, form, "resolve",
                 lambda data: health_services.flag_resolve(flag=flag, user=request.user,
                                                           action_plan=data["action_plan"],
                                                           note=data["resolution_note"]))
    if error:
        return error
    if form.cleaned_data["action_plan"] == Flag.ActionPlan.END:
        close_url = reverse("engagements:close", args=[flag.engagement_id])
        messages.info(request, _("Flag resolved. Now close the engagement well."))
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = close_url
            return response
        return redirect(close_url)
    return _card(request, flag, done=_("Flag resolved."))


@login_required
@require_POST
def flag_dismiss(request, pk):
    flag = _flag_for(request, pk, manage=True)
    form = FlagDismissForm(request.POST)
    error = _run(request, flag, form, "dismiss",
                 lambda data: health_services.flag_dismiss(flag=flag, user=request.user, note=data["note"]))
    return error or _card(request, flag, done=_("Flag dismissed."))
