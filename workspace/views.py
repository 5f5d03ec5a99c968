"""The consultant workspace: my engagements, one engagement's page, logging and editing a session,
milestones, closing an engagement. Views are thin: reads come from ``workspace.selectors``
(scoped through ``access``), writes go through ``engagements.services``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import access
from accounts.models import Role, role_of
from engagements import services
from engagements.models import Engagement, Milestone, Session
from feedback import services as feedback_services
from health.selectors import flag_card_content
from workspace import calendar_views, selectors
from workspace.forms import (
    CloseForm,
    CommentForm,
    MilestoneForm,
    PlannedBreakForm,
    SessionForm,
    add_service_errors,
    assignable_owners,
    use_loaded_choices,
)
from workspace.markdown import MAX_RENDERED_CHARS, render_markdown

HOME_PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 10


def _firm_staff_or_404(request) -> None:
    """The workspace shows health and flags: firm staff only (clients have their portal)."""
    if not access.is_firm_staff(request.user):
        raise Http404


# --- Home -----------------------------------------------------------------------------------------

@login_required
def home(request):
    """My engagements (all engagements for a manager): health, trend, mode, cadence, open flags."""
    if not access.is_firm_staff(request.user):
        return redirect("home")
    sort = request.GET.get("sort", "client")
    if sort.lstrip("-") not in selectors.HOME_SORTS:
        sort = "client"
    include_closed = request.GET.get("closed") == "1"
    engagements = selectors.workspace_engagements(user=request.user, sort=sort, include_closed=include_closed)
    page = Paginator(engagements, HOME_PAGE_SIZE).get_page(request.GET.get("page"))
    columns = []
    for key, label in [("client", _("Client")), ("status", _("Status")), ("health", _("Health")),
                       ("last_session", _("Last session")), ("flags", _("Open flags"))]:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        # First click on health or flags shows the worst first: lowest score, most flags.
        next_sort = (key if descending else f"-{key}") if current else (f"-{key}" if key == "flags" else key)
        columns.append({"key": key, "label": label, "sort": next_sort,
                        "aria_sort": ("descending" if descending else "ascending") if current else ""})
    sort_choices = [("client", _("Client")), ("health", _("Health, lowest first")),
                    ("-health", _("Health, highest first")),
                    ("last_session", _("Last session, most recent first")),
                    ("-last_session", _("Last session, longest ago first")), ("-flags", _("Most open flags")),
                    ("status", _("Status"))]
    return render(request, "workspace/home.html", {
        **calendar_views.home_context(request),
        "sort_choices": sort_choices,
        "page": page, "engagements": page.object_list, "columns": columns, "sort": sort,
        "include_closed": include_closed, "is_manager": access.can_manage_flags(request.user),
    })


# --- Engagement page ------------------------------------------------------------------------------

def _timeline_context(request, engagement: Engagement) -> dict:
    focus = request.GET.get("focus", "")
    if focus not in Session.Focus.values:
        focus = ""
    sessions = selectors.session_timeline(user=request.user, engagement=engagement, focus=focus)
    paginator = Paginator(sessions, TIMELINE_PAGE_SIZE)
    if not focus and hasattr(engagement, "session_count"):
        paginator.__dict__["count"] = engagement.session_count  # counted with the engagement
    page = paginator.get_page(request.GET.get("page"))
    # The page's sessions and their attendees in one query (the client's contacts are already read).
    page.object_list = (selectors.timeline_rows(sessions[page.start_index() - 1:page.end_index()],
                                                contacts=engagement.client.all_contacts)
                        if paginator.count else [])
    return {"engagement": engagement, "sessions_page": page, "focus": focus,
            "focus_choices": Session.Focus.choices}


def _board_context(request, engagement: Engagement, *, form: MilestoneForm | None = None,
                   board_error: str = "") -> dict:
    milestones = list(selectors.engagement_milestones(user=request.user, engagement=engagement))
    if form is None:
        form = MilestoneForm(user=request.user, engagement=engagement,
                             # A new milestone is a proposal until it is agreed with the client.
                             initial={"phase": Milestone.Phase.ACTION, "status": Milestone.Status.PROPOSED,
                                      "shared_with_client": True, "consultant_owner": request.user.pk},
                             owners_loaded=True)
    # The owner menus offer the team and the active contacts, already read with the engagement.
    use_loaded_choices(form.fields["consultant_owner"], sorted(engagement.team.all(), key=lambda u: u.full_name))
    use_loaded_choices(form.fields["client_owner"], engagement.client.active_contacts)
    # What the empty form shows (its fragment-cache key): its initial values and its menus' choices.
    form_content = ("milestone-form", sorted((k, str(v)) for k, v in form.initial.items()),
                    tuple((u.pk, str(u)) for u in form.fields["consultant_owner"].queryset),
                    tuple((c.pk, c.name) for c in form.fields["client_owner"].queryset))
    return {"engagement": engagement, "board": selectors.milestone_board(milestones),
            "milestone_count": len(milestones), "milestone_form": form, "milestone_form_content": form_content,
            "board_error": board_error,
            "can_edit": engagement.status != Engagement.Status.CLOSED}


def _session_form_for(request, engagement: Engagement | None, *, fixed: bool, shown=()) -> SessionForm:
    """The log form, with the user's choices of their last session here as defaults. The engagement
    page knows that session's id (``own_last_session_id``) and usually shows it (``shown``)."""
    if engagement is None:
        last = None
    elif hasattr(engagement, "own_last_session_id"):
        own = engagement.own_last_session_id
        last = None if own is None else next((s for s in shown if s.pk == own), None)
        if own is not None and last is None:
            last = selectors.last_session_by(user=request.user, engagement=engagement)
    else:
        last = selectors.last_session_by(user=request.user, engagement=engagement)
    form = SessionForm(user=request.user, engagement=engagement, fixed_engagement=fixed,
                       initial=SessionForm.defaults(engagement=engagement, last=last),
                       attendees_loaded=fixed and engagement is not None)
    if engagement is not None:
        use_loaded_choices(form.fields["client_attendees"], engagement.client.active_contacts)
    return form


_START_MARK = dt.datetime(1901, 1, 1, 0, 1)


def _cacheable_session_fields(form: SessionForm) -> dict:
    """Context for rendering the empty log form's fields from the fragment cache: what they show
    (the key) and the swap of the start, which changes every minute, for a mark."""
    field = form.fields["start"]
    start = field.widget.format_value(field.prepare_value(form.initial["start"]))
    form.initial["start"] = _START_MARK
    content = ("session-fields", sorted((k, str(v)) for k, v in form.initial.items()),
               tuple((c.pk, field_label) for c, field_label in
                     ((c, form.fields["client_attendees"].label_from_instance(c))
                      for c in form.fields["client_attendees"].queryset)))
    return {"session_fields_content": content,
            "session_fields_swap": (field.widget.format_value(_START_MARK), start)}


def _flags_context(request, engagement: Engagement) -> dict:
    """The open flags, each with its card's fragment-cache key (``health.selectors.flag_card_content``)."""
    flags = selectors.engagement_flags(user=request.user, engagement=engagement)
    for flag in flags:
        flag.card_content = flag_card_content(flag)
    # A manager's cards carry the owner menu: its people are part of the key (read once, as the menu
    # was); a consultant's cards have no menu.
    owners = list(assignable_owners()) if flags and role_of(request.user) == Role.MANAGER else []
    return {"flags": flags, "assignable_owners": owners or None,
            "flag_card_context": (tuple((person.pk, str(person)) for person in owners), timezone.localdate())}


@login_required
def detail(request, pk):
    """One engagement: header, timeline, milestones board, KPIs, health card and open flags."""
    _firm_staff_or_404(request)
    engagement = selectors.workspace_engagement(user=request.user, pk=pk, page=True)
    health, health_history = selectors.engagement_health_and_history(user=request.user, engagement=engagement)
    context = {
        **_timeline_context(request, engagement),
        **_board_context(request, engagement),
        "engagement": engagement,
        "team": list(engagement.team.all()),
        "kpis": selectors.engagement_kpis(user=request.user, engagement=engagement) if engagement.kpi_count else [],
        "health": health,
        "health_history": health_history,
        **_flags_context(request, engagement),
        **_breaks_context(request, engagement),
        "audit_trail": selectors.engagement_audit_trail(user=request.user, engagement=engagement),
        "is_closed": engagement.status == Engagement.Status.CLOSED,
    }
    context["health_card_content"] = selectors.health_card_content(health, health_history, context["planned_breaks"])
    if not context["is_closed"]:
        context.update(calendar_views.inbox_context(request, engagement=engagement,
                                                    limit=calendar_views.HOME_INBOX_SIZE))
        context["session_form"] = _session_form_for(request, engagement, fixed=True,
                                                    shown=context["sessions_page"].object_list)
        context.update(_cacheable_session_fields(context["session_form"]))
    return render(request, "workspace/detail.html", context)


@login_required
def timeline(request, pk):
    """The timeline alone (focus filter, next page), for HTMX; a plain request gets the whole page."""
    _firm_staff_or_404(request)
    engagement = selectors.workspace_engagement(user=request.user, pk=pk)
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(reverse("engagements:detail", args=[pk]) + (f"?{query}" if query else "") + "#timeline")
    template = "workspace/_timeline_page.html" if request.GET.get("page") else "workspace/_timeline.html"
    return render(request, template, _timeline_context(request, engagement))


# --- Log a session --------------------------------------------------------------------------------

def _default_engagement(request) -> Engagement | None:
    """The engagement asked for in the URL, else the one of my latest session, else my first open one."""
    open_engagements = access.engagements_for(request.user).exclude(status=Engagement.Status.CLOSED)
    wanted = request.GET.get("engagement") or request.POST.get("engagement")
    if wanted:
        try:
            return selectors.workspace_engagement(user=request.user, pk=int(wanted))
        except (TypeError, ValueError):
            raise Http404 from None
    latest = (access.sessions_for(request.user).filter(logged_by=request.user,
                                                        engagement__in=open_engagements)
              .order_by("-start").values_list("engagement_id", flat=True).first())
    fallback = latest or open_engagements.order_by("client__name", "title").values_list("pk", flat=True).first()
    return selectors.workspace_engagement(user=request.user, pk=fallback) if fallback else None


@login_required
def session_new(request):
    """Log a session in under a minute: one form, defaults from my last session on the engagement."""
    _firm_staff_or_404(request)
    engagement = _default_engagement(request)
    fixed = request.POST.get("context") == "detail"
    if request.method == "POST":
        form = SessionForm(request.POST, user=request.user, engagement=engagement, fixed_engagement=fixed)
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = services.session_log(
                    engagement=data["engagement"], logged_by=request.user, start=data["start"],
                    duration_minutes=data["duration_minutes"], focus=data["focus"], channel=data["channel"],
                    initiated_by=data["initiated_by"], advice_requested=data["advice_requested"],
                    notes=data["notes"], next_steps=data["next_steps"],
                    shared_with_client=data["shared_with_client"], client_attendees=data["client_attendees"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return _session_logged(request, session, fixed=fixed)
    else:
        form = _session_form_for(request, engagement, fixed=False)
        if request.htmx:  # the engagement changed: new defaults and attendees, keep what was written
            for name in ("start", "notes", "next_steps"):
                if request.GET.get(name):
                    form.initial[name] = request.GET[name]
    context = {"form": form, "engagement": engagement, "fixed": fixed,
               "recent": _recent_sessions(request, engagement)}
    if request.htmx:
        template = "workspace/_session_form.html" if fixed else "workspace/_log_session_panel.html"
        return render(request, template, context)
    return render(request, "workspace/session_new.html", context)


def _recent_sessions(request, engagement: Engagement | None):
    if engagement is None:
        return []
    return list(selectors.session_timeline(user=request.user, engagement=engagement)[:5])


def _session_logged(request, session: Session, *, fixed: bool):
    engagement = selectors.workspace_engagement(user=request.user, pk=session.engagement_id)
    if not request.htmx:
        messages.success(request, _("Session logged."))
        return redirect(reverse("engagements:detail", args=[engagement.pk]) + f"#session-{session.pk}")
    session = selectors.session_timeline(user=request.user, engagement=engagement).get(pk=session.pk)
    form = _session_form_for(request, engagement, fixed=fixed)
    recent = _recent_sessions(request, engagement)
    return render(request, "workspace/_session_logged.html", {
        "form": form, "engagement": engagement, "fixed": fixed, "session": session, "just_logged": True,
        "new_session_id": session.pk, "recent": recent,
        # The "no session yet" line exists only on an empty timeline; asking htmx to delete it
        # otherwise logs htmx:oobErrorNoTarget.
        "timeline_was_empty": len(recent) == 1,
    })


def _session_for(request, pk) -> Session:
    """A session the user may edit: in their scope, on an open engagement (a closed one is a record)."""
    _firm_staff_or_404(request)
    return access.get_for(access.sessions_for(request.user).select_related("engagement__client")
                          .exclude(engagement__status=Engagement.Status.CLOSED), pk)


@login_required
def session_edit(request, pk):
    """Edit a logged session. If someone saved it meanwhile, show both versions and keep the user's input."""
    session = _session_for(request, pk)
    engagement = session.engagement
    conflict = None
    if request.method == "POST":
        form = SessionForm(request.POST, user=request.user, session=session)
        saved = False
        if form.is_valid():
            try:
                saved, current, conflict = _save_versioned_edit(
                    form, lambda version, data: services.session_update(session=session, version=version, **data))
            except ValidationError as error:
                add_service_errors(form, error)
                session.refresh_from_db()  # the service set the refused values on it: show the stored ones
            else:
                session = current
            if saved:
                messages.success(request, _("Session saved."))
                return redirect(reverse("engagements:detail", args=[engagement.pk]) + f"#session-{session.pk}")
    else:
        form = SessionForm(user=request.user, session=session, initial=SessionForm.initial_from(session))
    return render(request, "workspace/session_edit.html",
                  {"engagement": engagement, "session": session, "form": form, "conflict": conflict})


@login_required
@require_POST
def markdown_preview(request):
    """The sanitised HTML of the Markdown being written (the preview button under a notes field)."""
    _firm_staff_or_404(request)
    text = next((request.POST[name] for name in ("notes", "description", "text") if name in request.POST), "")
    if not text.strip():
        return HttpResponse(format_html('<p class="muted">{}</p>', _("Nothing to preview yet.")))
    if len(text) > MAX_RENDERED_CHARS:  # longer than any field takes: saving it would be refused anyway
        return HttpResponse(format_html(
            '<p class="muted">{}</p>', _("Too long to preview: %(count)s characters, at most %(max)s.")
            % {"count": formats.number_format(len(text), force_grouping=True),
               "max": formats.number_format(MAX_RENDERED_CHARS, force_grouping=True)}))
    return HttpResponse(render_markdown(text))


# --- Milestones -----------------------------------------------------------------------------------

def _board_response(request, engagement: Engagement, **kwargs):
    if not request.htmx:
        if kwargs.get("board_error"):
            messages.error(request, kwargs["board_error"])
        return redirect(reverse("engagements:detail", args=[engagement.pk]) + "#milestones")
    return render(request, "workspace/_milestones.html", _board_context(request, engagement, **kwargs))


def _open_engagement_or_404(request, pk) -> Engagement:
    engagement = selectors.workspace_engagement(user=request.user, pk=pk)
    if engagement.status == Engagement.Status.CLOSED:
        raise Http404
    return engagement


def _milestone_for(request, pk) -> Milestone:
    _firm_staff_or_404(request)
    return access.get_for(access.milestones_for(request.user)
                          .select_related("engagement__client").exclude(engagement__status=Engagement.Status.CLOSED),
                          pk)


@login_required
@require_POST
def milestone_create(request, pk):
    """Add a milestone from the board; the board comes back with it."""
    _firm_staff_or_404(request)
    engagement = _open_engagement_or_404(request, pk)
    form = MilestoneForm(request.POST, user=request.user, engagement=engagement)
    if form.is_valid():
        data = {name: form.cleaned_data[name] for name in MilestoneForm.FIELDS}
        try:
            milestone = services.milestone_create(engagement=engagement, created_by=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("Milestone added."))
                return _board_response(request, engagement)
            return render(request, "workspace/_milestones.html",
                          _board_context(request, engagement) | {"board_done": _("Milestone added."),
                                                                 "new_milestone_id": milestone.pk})
    if not request.htmx:
        return render(request, "workspace/milestone_edit.html",
                      {"engagement": engagement, "form": form, "creating": True})
    return render(request, "workspace/_milestones.html",
                  _board_context(request, engagement, form=form) | {"form_open": True})


@login_required
def milestone_edit(request, pk):
    """Edit a milestone. If someone saved it meanwhile, show both versions and keep the user's input."""
    milestone = _milestone_for(request, pk)
    engagement = selectors.workspace_engagement(user=request.user, pk=milestone.engagement_id)
    conflict = None
    if request.method == "POST":
        form = MilestoneForm(request.POST, user=request.user, engagement=engagement, editing=True)
        saved = False
        if form.is_valid():
            try:
                saved, current, conflict = _save_versioned_edit(
                    form, lambda version, data: services.milestone_update(milestone=milestone, version=version,
                                                                          **data))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                milestone = current
            if saved:
                messages.success(request, _("Milestone saved."))
                return redirect(reverse("engagements:detail", args=[engagement.pk]) + f"#milestone-{milestone.pk}")
    else:
        form = MilestoneForm(user=request.user, engagement=engagement, initial=MilestoneForm.initial_from(milestone))
    return render(request, "workspace/milestone_edit.html",
                  {"engagement": engagement, "milestone": milestone, "form": form, "conflict": conflict})


def _display(form: forms.Form, name: str, value) -> str:
    """A value of the form's field ``name`` as the conflict table shows it: choices by their
    label, dates in the reader's format and time zone."""
    field = form.fields[name]
    if isinstance(field, forms.ModelMultipleChoiceField):
        pks = {getattr(item, "pk", item) for item in value or ()}
        return ", ".join(field.label_from_instance(obj) for obj in field.queryset if obj.pk in pks) or "—"
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if hasattr(value, "isoformat"):
        return formats.date_format(value)
    if hasattr(field, "queryset"):
        pk = getattr(value, "pk", value)
        return next((field.label_from_instance(obj) for obj in field.queryset if obj.pk == pk), str(value))
    if hasattr(field, "choices"):
        return str(dict(field.choices).get(value, value))
    return str(value)


def _save_versioned_edit(form, save):
    """Save a valid edit form through ``save(version, data)``, built on the version the editor read.

    Returns ``(saved, current, conflict)``: on success ``(True, the saved object, None)``. If someone
    saved the object meanwhile, ``(False, the stored object, the field-by-field comparison)``; the
    form keeps the user's values but now builds on the stored version, so saving again re-applies
    their edit knowingly. A ValidationError from the service is left to the caller.
    """
    data = {name: form.cleaned_data[name] for name in form.FIELDS}
    try:
        saved = save(form.cleaned_data["version"], data)
    except services.EditConflict as error:
        conflict = _conflict_rows(form, form.initial_from(error.current), form.FIELDS)
        form.data = form.data.copy()
        form.data[form.add_prefix("version")] = error.current.version
        return False, error.current, conflict
    return True, saved, None


def _conflict_rows(form: forms.Form, saved: dict, names: Iterable[str]) -> list[dict]:
    """Field by field: what the user typed next to what is saved now.

    ``saved`` holds the stored row as the form's initial values (``initial_from``), so both sides
    are shown the same way."""
    rows = []
    for name in names:
        mine = _display(form, name, form.cleaned_data.get(name))
        theirs = _display(form, name, saved[name])
        rows.append({"label": form.fields[name].label, "mine": mine, "theirs": theirs, "differs": mine != theirs})
    return rows


@login_required
@require_POST
def milestone_status(request, pk):
    """Move a milestone to another status column (checked against the version the board showed)."""
    milestone = _milestone_for(request, pk)
    engagement = selectors.workspace_engagement(user=request.user, pk=milestone.engagement_id)
    status = request.POST.get("status", "")
    error = ""
    if status not in Milestone.Status.values:
        error = _("Choose a status.")
    else:
        try:
            version = int(request.POST["version"]) if request.POST.get("version") else None
        except ValueError:
            version = None
        try:
            services.milestone_set_status(milestone=milestone, status=status, version=version)
        except services.EditConflict:
            error = _("“%(title)s” was changed by someone else meanwhile, so your change was not applied. "
                      "The board now shows the current state.") % {"title": milestone.title}
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return _board_response(request, engagement, board_error=error)


@login_required
@require_POST
def milestone_move(request, pk):
    """Move a milestone up or down within its column."""
    milestone = _milestone_for(request, pk)
    engagement = selectors.workspace_engagement(user=request.user, pk=milestone.engagement_id)
    error = ""
    try:
        services.milestone_move(milestone=milestone, direction=request.POST.get("direction", ""))
    except ValidationError as exc:
        error = " ".join(exc.messages)
    return _board_response(request, engagement, board_error=error)


@login_required
@require_POST
def milestone_comment(request, pk):
    """Add a comment to a milestone's thread; the card comes back with the thread open."""
    milestone = _milestone_for(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.milestone_comment_add(milestone=milestone, author=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = CommentForm()
    if not request.htmx:
        if form.errors:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(reverse("engagements:detail", args=[milestone.engagement_id]) + f"#milestone-{milestone.pk}")
    engagement = selectors.workspace_engagement(user=request.user, pk=milestone.engagement_id)
    milestone = selectors.engagement_milestones(user=request.user, engagement=engagement).get(pk=milestone.pk)
    selectors.milestone_board([milestone])  # sets is_late
    return render(request, "workspace/_milestone_card.html", {
        "milestone": milestone, "engagement": engagement, "comment_form": form, "comments_open": True,
        "can_edit": True})


# --- Planned breaks -------------------------------------------------------------------------------

def _breaks_context(request, engagement: Engagement, *, form: PlannedBreakForm | None = None,
                    done: str = "", error: str = "") -> dict:
    open_engagement = engagement.status != Engagement.Status.CLOSED
    if form is None and open_engagement:
        form = PlannedBreakForm()
    return {"engagement": engagement, "break_form": form, "breaks_done": done, "breaks_error": error,
            "breaks_can_edit": open_engagement,
            "planned_breaks": selectors.engagement_planned_breaks(user=request.user, engagement=engagement)}


def _breaks_response(request, engagement: Engagement, *, form: PlannedBreakForm | None = None, done: str = "",
                     error: str = ""):
    """The section again (HTMX); without HTMX, back to the page, or the form page to correct the input."""
    if request.htmx:
        return render(request, "workspace/_planned_breaks.html",
                      _breaks_context(request, engagement, form=form, done=done, error=error))
    if form is not None and form.errors:
        return render(request, "workspace/planned_break_new.html", {"engagement": engagement, "form": form})
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect(reverse("engagements:detail", args=[engagement.pk]) + "#planned-breaks")


@login_required
def planned_break_create(request, pk):
    """Mark a planned pause on an open engagement; the service checks the dates."""
    _firm_staff_or_404(request)
    engagement = _open_engagement_or_404(request, pk)
    if request.method != "POST":
        return render(request, "workspace/planned_break_new.html",
                      {"engagement": engagement, "form": PlannedBreakForm()})
    form = PlannedBreakForm(request.POST)
    if form.is_valid():
        try:
            services.planned_break_create(engagement=engagement, user=request.user,
                                          **{name: form.cleaned_data[name] for name in PlannedBreakForm.FIELDS})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _breaks_response(request, engagement, done=_("Planned break added."))
    return _breaks_response(request, engagement, form=form)


@login_required
def planned_break_delete(request, pk):
    """Delete a planned break, after a confirmation (a page without JavaScript, a dialog with it)."""
    _firm_staff_or_404(request)
    planned_break = access.get_for(access.planned_breaks_for(request.user).select_related("created_by")
                                   .exclude(engagement__status=Engagement.Status.CLOSED), pk, user=request.user)
    engagement = selectors.workspace_engagement(user=request.user, pk=planned_break.engagement_id)
    if request.method != "POST":
        return render(request, "workspace/planned_break_delete.html",
                      {"engagement": engagement, "planned_break": planned_break})
    try:
        services.planned_break_delete(planned_break=planned_break, user=request.user)
    except ValidationError as error:
        return _breaks_response(request, engagement, error=" ".join(error.messages))
    return _breaks_response(request, engagement, done=_("Planned break deleted."))


# --- Closing ---------------------------------------------------------------------------------------

@login_required
def close(request, pk):
    """End the engagement well: reason, handover, retrospective, and final feedback from the client."""
    _firm_staff_or_404(request)
    engagement = selectors.workspace_engagement(user=request.user, pk=pk)
    if engagement.status == Engagement.Status.CLOSED:
        messages.info(request, _("This engagement is already closed."))
        return redirect("engagements:detail", pk=engagement.pk)
    if request.method == "POST":
        form = CloseForm(request.POST, user=request.user, engagement=engagement)
        if form.is_valid():
            data = form.cleaned_data
            try:
                feedback_services.engagement_close_well(
                    engagement=engagement, closed_by=request.user, reason=data["closure_reason"],
                    handover_notes=data["handover_notes"], retrospective=data["retrospective"], end=data["end"],
                    feedback_from=data["feedback_from"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                asked = len(data["feedback_from"])
                messages.success(request, _("The engagement is closed.") + (" " + _(
                    "Final feedback was asked from %(count)s contact(s).") % {"count": asked} if asked else ""))
                return redirect("engagements:detail", pk=engagement.pk)
    else:
        form = CloseForm(user=request.user, engagement=engagement, initial={
            "end": timezone.localdate(),
            "feedback_from": [engagement.sponsor.pk] if engagement.sponsor else [],
        })
    return render(request, "workspace/close.html", {"engagement": engagement, "form": form})
