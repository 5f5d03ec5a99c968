"""Pages of the calendar import: the calendar page (upload, subscriptions, the inbox of meetings to
confirm, changes to review, ignored meetings) and the actions on meetings, also used by the inbox
shown on the consultant's home and on each engagement. Reads from ``workspace.calendar_selectors``,
writes through ``calendars.services``; every meeting and feed is looked up in the user's own scope (404)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

import access
from calendars import services
from calendars.models import CalendarMeeting
from engagements.models import Engagement, Session, Side
from workspace import calendar_selectors as selectors

INBOX_PAGE_SIZE = 25
HOME_INBOX_SIZE = 8


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Calendar file (.ics)"),
                           help_text=gettext_lazy("Export it from Outlook, Google Calendar, Apple Calendar or "
                                                  "Thunderbird. Up to 10 MB."))


class FeedForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("Private address of your calendar (ICS)"), max_length=2000,
                          widget=forms.URLInput(attrs={"placeholder": "https://…/calendar.ics",
                                                       "autocomplete": "off"}))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False,
                           help_text=gettext_lazy("To tell your calendars apart, e.g. “Outlook”."))


def _staff_or_404(request) -> None:
    if not access.is_firm_staff(request.user):
        raise Http404


def _meeting_or_404(request, pk) -> CalendarMeeting:
    _staff_or_404(request)
    return access.get_for(access.calendar_meetings_for(request.user), pk, user=request.user)


def _back(request, default: str | None = None):
    """Back to where the action came from (home, an engagement, the calendar page), never off-site."""
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = default or reverse("calendars:page")
    return redirect(target)


def inbox_context(request, *, engagement: Engagement | None = None, limit: int | None = None,
                  upcoming: int | None = None) -> dict:
    """What ``calendars/_inbox.html`` shows: the meetings to confirm (all, or an engagement's).

    With ``limit`` (the home and engagement pages) the upcoming meetings are counted only when the
    inbox has something to show, so an empty inbox costs those pages a single query. When the caller
    does not know whether any meeting waits (the engagement page, where most inboxes are empty), that
    query reads only ids, and the meetings with all they show are read when there are some: the
    full read's four joined tables cost the page 1.5 ms to compile for an empty answer."""
    if limit is None:
        meetings = selectors.meeting_inbox(user=request.user, engagement=engagement)
        page = Paginator(meetings, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
        rows, more = list(page.object_list), False
    else:
        page = None
        if upcoming is None:
            rows = selectors.meeting_inbox_head(user=request.user, engagement=engagement, limit=limit + 1)
        else:
            rows = list(selectors.meeting_inbox(user=request.user, engagement=engagement)[:limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
    if upcoming is None and (rows or limit is None):
        upcoming = selectors.upcoming_count(user=request.user, engagement=engagement)
    return {"inbox_meetings": rows, "inbox_more": more, "inbox_page": page, "inbox_full": limit is None,
            "inbox_engagement": engagement,
            "inbox_upcoming": upcoming or 0,
            "focus_choices": Session.Focus.choices, "side_choices": Side.choices,
            "inbox_next": request.get_full_path()}


def home_context(request) -> dict:
    """The calendar strip of the consultant's home: counts in one query, the inbox only when it has rows."""
    summary = selectors.inbox_summary(user=request.user)
    context = {"calendar_summary": summary}
    if summary.waiting:
        context.update(inbox_context(request, limit=HOME_INBOX_SIZE, upcoming=summary.upcoming))
    return context


@login_required
def page(request):
    """The calendar page: import a file, manage subscriptions, confirm meetings, review changes."""
    _staff_or_404(request)
    return render(request, "calendars/page.html", {
        **inbox_context(request),
        "upload_form": UploadForm(), "feed_form": FeedForm(),
        "feeds": selectors.feeds_for(user=request.user),
        "to_review": list(selectors.meetings_to_review(user=request.user)[:50]),
        "ignored": selectors.ignored_meetings(user=request.user),
    })


def _summary_message(summary: services.ImportSummary) -> str:
    parts = [_("%(matched)s client meetings found in %(events)s events") % {"matched": summary.matched,
                                                                            "events": summary.events},
             _("%(created)s new, %(updated)s updated, %(cancelled)s removed") % {
                 "created": summary.created, "updated": summary.updated, "cancelled": summary.cancelled}]
    if summary.to_review:
        parts.append(_("%(count)s confirmed sessions to review") % {"count": summary.to_review})
    skipped = summary.skipped_all_day + summary.skipped_unreadable + summary.skipped_declined
    if skipped:
        parts.append(_("%(count)s skipped (all-day, declined or unreadable)") % {"count": skipped})
    return "; ".join(parts) + "."


@login_required
@require_POST
def upload(request):
    """Import an uploaded .ics file; one clear error if it cannot be read, and nothing imported."""
    _staff_or_404(request)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > settings.CALENDAR_MAX_BYTES:
                raise ValidationError(_("The calendar is larger than %(size)s MB, the most we read.")
                                      % {"size": settings.CALENDAR_MAX_BYTES // (1024 * 1024)})
            summary = services.calendar_import(owner=request.user, data=upload.read())
        except ValidationError as error:
            messages.error(request, _("Nothing was imported: %(error)s") % {"error": " ".join(error.messages)})
        else:
            messages.success(request, _summary_message(summary))
    else:
        messages.error(request, _("Choose a calendar file (.ics) to import."))
    return redirect(reverse("calendars:page") + "#inbox")


@login_required
@require_POST
def feed_add(request):
    """Subscribe to a calendar by its private address; it is read in the background."""
    _staff_or_404(request)
    form = FeedForm(request.POST)
    if form.is_valid():
        try:
            feed = services.feed_create(owner=request.user, url=form.cleaned_data["url"],
                                        name=form.cleaned_data["name"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Subscribed. The calendar is read every %(minutes)s minutes.")
                             % {"minutes": settings.CALENDAR_POLL_MINUTES})
            _read_now(request, feed)
    else:
        messages.error(request, _("Enter the calendar's address."))
    return redirect(reverse("calendars:page") + "#feeds")


def _feed_or_404(request, pk):
    _staff_or_404(request)
    return access.get_for(access.calendar_feeds_for(request.user), pk, user=request.user)


@login_required
@require_POST
def feed_delete(request, pk):
    """Unsubscribe; meetings already imported stay."""
    services.feed_delete(feed=_feed_or_404(request, pk))
    messages.success(request, _("Subscription removed. Meetings already imported stay in your inbox."))
    return redirect(reverse("calendars:page") + "#feeds")


@login_required
@require_POST
def feed_refresh(request, pk):
    """Read a subscribed calendar now."""
    _read_now(request, _feed_or_404(request, pk))
    return redirect(reverse("calendars:page") + "#feeds")


def _read_now(request, feed) -> None:
    summary = services.feed_poll_now(feed=feed)
    feed.refresh_from_db()
    if summary is None:
        messages.error(request, feed.last_error or _("The calendar could not be read now; try again in a minute."))
    else:
        messages.success(request, _summary_message(summary))


# --- Meetings ------------------------------------------------------------------------------------

def _choice_for(request, meeting: CalendarMeeting) -> dict:
    """The consultant's answers for one inbox row (``focus-<id>``, ``engagement-<id>`` …)."""
    pk = meeting.pk
    choice = {"meeting": meeting, "focus": request.POST.get(f"focus-{pk}", "")}
    if choice["focus"] and choice["focus"] not in Session.Focus.values:
        choice["focus"] = ""
    initiated_by = request.POST.get(f"initiated-{pk}", Side.CONSULTANT)
    choice["initiated_by"] = initiated_by if initiated_by in Side.values else Side.CONSULTANT
    choice["advice_requested"] = request.POST.get(f"advice-{pk}") == "1"
    engagement_id = request.POST.get(f"engagement-{pk}", "")
    if engagement_id:
        engagement = next((e for e in meeting.candidate_engagements.all() if str(e.pk) == engagement_id), None)
        if engagement is None:
            raise Http404
        choice["engagement"] = engagement
    return choice


def _meeting_label(meeting: CalendarMeeting) -> str:
    when = formats.date_format(timezone.localtime(meeting.start), "SHORT_DATETIME_FORMAT")
    return f"{meeting.title or _('(no title)')} ({when})"


@login_required
@require_POST
def meetings_confirm(request):
    """Confirm one meeting (its row's button) or the selected ones, each as a session."""
    _staff_or_404(request)
    one = request.POST.get("confirm_one")
    ids = [one] if one else request.POST.getlist("meeting")
    ids = [pk for pk in ids if pk.isdigit()]
    if not ids:
        messages.error(request, _("Select at least one meeting to confirm."))
        return _back(request)
    found = {str(m.pk): m for m in selectors.meetings_for(user=request.user).filter(pk__in=ids)}
    if len(found) != len(set(ids)):
        raise Http404
    choices = [_choice_for(request, found[pk]) for pk in ids]
    try:
        sessions = services.meetings_confirm(user=request.user, choices=choices)
    except ValidationError as error:
        problems = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        for key, texts in problems.items():
            meeting = found.get(key)
            label = f"{_meeting_label(meeting)}: " if meeting else ""
            messages.error(request, label + " ".join(texts))
        return _back(request)
    messages.success(request, _("%(count)s meetings confirmed as sessions.") % {"count": len(sessions)}
                     if len(sessions) > 1 else _("Meeting confirmed as a session."))
    return _back(request)


def _meeting_action(request, pk, action, done: str):
    meeting = _meeting_or_404(request, pk)
    try:
        action(meeting=meeting, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return _back(request)


@login_required
@require_POST
def meeting_ignore(request, pk):
    """Not a client session: hidden for good (undo from the calendar page)."""
    return _meeting_action(request, pk, services.meeting_ignore,
                           _("Meeting ignored. You can bring it back from the calendar page."))


@login_required
@require_POST
def meeting_restore(request, pk):
    """Undo an ignore."""
    return _meeting_action(request, pk, services.meeting_restore, _("The meeting is back in your inbox."))


@login_required
@require_POST
def meeting_apply(request, pk):
    """Move the confirmed session as the calendar moved the meeting."""
    return _meeting_action(request, pk, services.meeting_apply_change, _("The session now matches the calendar."))


@login_required
@require_POST
def meeting_keep(request, pk):
    """Keep the confirmed session as it is."""
    return _meeting_action(request, pk, services.meeting_keep_session, _("The session is kept as it is."))


@login_required
@require_POST
def meeting_remove_session(request, pk):
    """Delete the session of a meeting that was cancelled (asked for explicitly, after a confirmation)."""
    return _meeting_action(request, pk, services.meeting_remove_session, _("The session was removed."))
