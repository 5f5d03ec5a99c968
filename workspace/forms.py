"""Forms of the consultant workspace. They parse and check input; the services decide and write."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import access
from accounts.models import User
from clients.models import Contact
from engagements.models import Engagement, Milestone, PlannedBreak, Session, Side
from health.models import Flag

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


STALE_PAGE = _("This page is out of date: reload it to see the saved version, then make your change again.")


def require_version(form: forms.Form) -> None:
    """An edit must name the version it was made from; without it (an old cached page, a script)
    it could overwrite someone's newer save without a conflict."""
    if form.cleaned_data.get("version") is None:
        raise ValidationError(STALE_PAGE, code="stale_version")


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names when the form has that
    field, otherwise above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else NON_FIELD_ERRORS
            for message in errors:
                form.add_error(None if target == NON_FIELD_ERRORS else target, message)
    else:
        form.add_error(None, error)


class WorkspaceForm(forms.Form):
    """Labels without Django's trailing colon (the layout sets labels above their fields)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoadedChoiceIterator(ModelChoiceIterator):
    """Choices from the rows the field's queryset already holds (``use_loaded_choices``), without
    reading them again; a queryset not read yet is read as Django reads it. Validation of a
    submitted value still asks the database."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = self.queryset if self.queryset._result_cache is not None else self.queryset.iterator()
        for row in rows:
            yield self.choice(row)


def use_loaded_choices(field: forms.ModelChoiceField, rows: Iterable) -> None:
    """Offer ``rows`` (already read for the page, in the queryset's order) as ``field``'s choices."""
    field.queryset._result_cache = list(rows)
    field.queryset._prefetch_done = True


class LoadedModelChoiceField(forms.ModelChoiceField):
    iterator = LoadedChoiceIterator


class ContactChoiceField(forms.ModelMultipleChoiceField):
    iterator = LoadedChoiceIterator

    def label_from_instance(self, contact):
        return f"{contact.name} · {contact.title}" if contact.title else contact.name


def engagement_contacts(user: User, engagement: Engagement | None, *, attended: Session | None = None):
    """Active contacts of the engagement's client, the sponsor first (the attendee and owner choices).

    With ``attended``, also the contacts who attended that session and have left since: editing the
    session must not drop them from the record."""
    if engagement is None:
        return Contact.objects.none()
    wanted = Q(active=True)
    if attended is not None:
        wanted |= Q(pk__in=attended.client_attendees.values("pk"))
    return (access.contacts_for(user).filter(wanted, client_id=engagement.client_id)
            .select_related("client").order_by("-is_sponsor", "name"))


class EngagementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, engagement):
        return f"{engagement.client.name} — {engagement.title}"


class SessionForm(WorkspaceForm):
    """Log a session: everything on one screen, in the order a consultant remembers it.

    With ``session``, edit that logged session instead: its engagement stays as it is (the field is
    dropped) and ``version`` carries the copy the editor started from."""

    engagement = EngagementChoiceField(label=_("Engagement"), queryset=Engagement.objects.none(),
                                       empty_label=None)
    start = forms.DateTimeField(label=_("Date and time"), input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, max_value=24 * 60,
                                          widget=forms.NumberInput(attrs={"step": 5, "list": "duration-choices",
                                                                          "inputmode": "numeric"}))
    channel = forms.ChoiceField(label=_("Channel"), choices=Session.Channel.choices, widget=forms.RadioSelect)
    focus = forms.ChoiceField(label=_("Focus"), choices=Session.Focus.choices, widget=forms.RadioSelect)
    initiated_by = forms.ChoiceField(label=_("Who proposed the session?"), choices=Side.choices,
                                     widget=forms.RadioSelect)
    client_attendees = ContactChoiceField(label=_("Client attendees"), queryset=Contact.objects.none(),
                                          required=False, widget=forms.CheckboxSelectMultiple)
    advice_requested = forms.BooleanField(label=_("Did the client ask for our advice in it?"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=20000,
                            help_text=_("Markdown: **bold**, *italic*, lists with -, links."),
                            widget=forms.Textarea(attrs={"rows": 6}))
    next_steps = forms.CharField(label=_("Next steps"), required=False, max_length=5000,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    shared_with_client = forms.BooleanField(label=_("Share the summary with the client"), required=False)
    # Ignored when logging a new session.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    # What an edit may change, in the order of the form.
    FIELDS = ("start", "duration_minutes", "focus", "channel", "initiated_by", "client_attendees",
              "advice_requested", "notes", "next_steps", "shared_with_client")

    def __init__(self, *args, user: User, engagement: Engagement | None = None, fixed_engagement: bool = False,
                 session: Session | None = None, attendees_loaded: bool = False, **kwargs):
        """``attendees_loaded``: an empty form for a fixed engagement whose caller offers the attendees it
        has already read (``use_loaded_choices``) and whose engagement is a hidden field (no menu), so
        neither queryset is built for nothing. A submitted form needs them, to check its values."""
        super().__init__(*args, **kwargs)
        self.session = session
        if attendees_loaded:
            if self.is_bound or session is not None or not fixed_engagement:
                raise ValueError("Only an empty form for a fixed engagement can take loaded attendees.")
            self.fields["engagement"].widget = forms.HiddenInput()
            return
        if session is not None:
            del self.fields["engagement"]
            engagement = session.engagement
        else:
            self.fields["engagement"].queryset = (
                access.engagements_for(user).exclude(status=Engagement.Status.CLOSED)
                .select_related("client").order_by("client__name", "title"))
            if fixed_engagement:
                self.fields["engagement"].widget = forms.HiddenInput()
        self.fields["client_attendees"].queryset = engagement_contacts(user, engagement, attended=session)

    def clean(self):
        cleaned = super().clean()
        if self.session is not None:
            require_version(self)
        return cleaned

    def clean_start(self):
        start = self.cleaned_data["start"]
        # The field has minute precision: an unchanged minute keeps the stored start (which may
        # carry seconds, from the API), so the edit does not count as a change of date.
        if (self.session is not None and start is not None
                and start == self.session.start.replace(second=0, microsecond=0)):
            return self.session.start
        return start

    @classmethod
    def initial_from(cls, session: Session) -> dict:
        """The form's values for an edit of ``session`` (its attendees as ids)."""
        values = {name: getattr(session, name) for name in cls.FIELDS if name != "client_attendees"}
        values["start"] = timezone.localtime(session.start)
        values["client_attendees"] = [contact.pk for contact in session.client_attendees.all()]
        values["version"] = session.version
        return values

    @staticmethod
    def defaults(*, engagement: Engagement | None, last: Session | None) -> dict:
        """Now, and what the user chose last time on this engagement (the notes start empty)."""
        initial = {"start": timezone.localtime().replace(second=0, microsecond=0), "duration_minutes": 60,
                   "channel": Session.Channel.MEETING, "focus": Session.Focus.STRATEGY,
                   "initiated_by": Side.CONSULTANT, "shared_with_client": False}
        if engagement is not None:
            initial["engagement"] = engagement.pk
        if last is not None:
            initial.update(duration_minutes=last.duration_minutes, channel=last.channel, focus=last.focus,
                           initiated_by=last.initiated_by, shared_with_client=last.shared_with_client,
                           client_attendees=[c.pk for c in last.client_attendees.all() if c.active])
        return initial


class MilestoneForm(WorkspaceForm):
    """Create or edit a milestone; ``version`` carries the copy the editor started from.

    Prefixed: on the engagement page it sits next to the session form, and both have
    ``shared_with_client``; without the prefix both checkboxes had the id ``id_shared_with_client``
    and the milestone form's label ticked the *session's* box (sharing its summary unasked)."""

    prefix = "milestone"

    title = forms.CharField(label=_("Title"), max_length=200)
    phase = forms.ChoiceField(label=_("Phase"), choices=Milestone.Phase.choices, widget=forms.RadioSelect)
    status = forms.ChoiceField(label=_("Status"), choices=Milestone.Status.choices)
    due_date = forms.DateField(label=_("Due date"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  max_length=Milestone._meta.get_field("description").max_length,
                                  help_text=_("Markdown."))
    consultant_owner = LoadedModelChoiceField(label=_("Our owner"), queryset=User.objects.none(), required=False,
                                              empty_label=_("Nobody yet"))
    client_owner = LoadedModelChoiceField(label=_("Their owner (client side)"), queryset=Contact.objects.none(),
                                          required=False, empty_label=_("Nobody yet"))
    client_owner.label_from_instance = lambda contact: contact.name
    shared_with_client = forms.BooleanField(label=_("Shared with the client"), required=False, initial=True)
    approval_requested = forms.BooleanField(label=_("Ask the client to approve it"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELDS = ("title", "phase", "status", "due_date", "description", "consultant_owner", "client_owner",
              "shared_with_client", "approval_requested")

    def __init__(self, *args, user: User, engagement: Engagement, editing: bool = False,
                 owners_loaded: bool = False, **kwargs):
        """``owners_loaded``: an empty form whose caller offers in its owner menus the team and contacts
        it has already read (``use_loaded_choices``), so their querysets are not built for nothing. A
        submitted form needs them, to check the owners chosen against the database."""
        super().__init__(*args, **kwargs)
        self.editing = editing
        if owners_loaded:
            if self.is_bound:
                raise ValueError("A submitted milestone form checks its owners against the database.")
            return
        self.fields["consultant_owner"].queryset = engagement.team.order_by("full_name")
        self.fields["client_owner"].queryset = engagement_contacts(user, engagement)

    def clean(self):
        cleaned = super().clean()
        if self.editing:
            require_version(self)
        return cleaned

    @classmethod
    def initial_from(cls, milestone: Milestone) -> dict:
        values = {name: getattr(milestone, name) for name in cls.FIELDS}
        values["consultant_owner"] = milestone.consultant_owner_id
        values["client_owner"] = milestone.client_owner_id
        values["version"] = milestone.version
        return values


class CommentForm(WorkspaceForm):
    text = forms.CharField(label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(WorkspaceForm):
    """Ending well: why, what the client keeps, what we learnt, and a last word from the client."""

    closure_reason = forms.ChoiceField(label=_("Why does the engagement end?"),
                               choices=[("", "—"), *Engagement.ClosureReason.choices])
    end = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    handover_notes = forms.CharField(
        label=_("Handover notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        max_length=Engagement._meta.get_field("handover_notes").max_length,
        help_text=_("What the client's team needs to carry on: documents, contacts, open points."))
    retrospective = forms.CharField(
        label=_("Retrospective"), widget=forms.Textarea(attrs={"rows": 4}),
        max_length=Engagement._meta.get_field("retrospective").max_length,
        help_text=_("What worked, what we would do differently."))
    feedback_from = ContactChoiceField(label=_("Ask for final feedback from"), queryset=Contact.objects.none(),
                                       required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, user: User, engagement: Engagement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feedback_from"].queryset = engagement_contacts(user, engagement)


# --- Planned breaks ------------------------------------------------------------------------------

class PlannedBreakForm(WorkspaceForm):
    """Mark a planned pause (holiday, budget freeze…): the health engine raises no cadence flag during it.

    Prefixed (``break-…`` ids and names): the engagement page holds other forms with a ``note``."""

    prefix = "break"
    FIELDS = ("starts_on", "ends_on", "reason", "note")

    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                error_messages={"required": _("Give the first day of the break.")})
    ends_on = forms.DateField(label=_("To (last day)"),
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                              error_messages={"required": _("Give the last day of the break.")})
    reason = forms.ChoiceField(label=_("Reason"), choices=PlannedBreak.Reason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. the client's summer shutdown")}))


# --- Flags ---------------------------------------------------------------------------------------

class FlagNoteForm(WorkspaceForm):
    note = forms.CharField(label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class FlagAssignForm(WorkspaceForm):
    owner = forms.ModelChoiceField(label=_("Owner"), required=False, empty_label=_("Nobody"),
                                   queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners()


def assignable_owners():
    """People a flag can be given to: active consultants and managers."""
    return (User.objects.filter(is_active=True).filter(Q(is_consultant=True) | Q(is_manager=True)
                                                       | Q(is_superuser=True)).order_by("full_name", "email"))


class FlagSnoozeForm(WorkspaceForm):
    # Named as the service names them, so its errors land on the right field.
    snoozed_until = forms.DateField(label=_("Until"),
                                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                    error_messages={"required": _("Choose a date after today.")})
    snooze_reason = forms.CharField(label=_("Why it can wait"), max_length=2000,
                                    error_messages={"required": _("Say why the flag can wait.")})


class FlagResolveForm(WorkspaceForm):
    # The same messages as the service's, whichever of the two catches the gap first.
    action_plan = forms.ChoiceField(label=_("Action plan"), choices=Flag.ActionPlan.choices, widget=forms.RadioSelect,
                                    error_messages={"required": _("Choose repair or end.")})
    resolution_note = forms.CharField(label=_("What will be done, by when"), max_length=5000,
                                      widget=forms.Textarea(attrs={"rows": 2}),
                                      error_messages={"required": _("Write down what will be done.")})


class FlagDismissForm(WorkspaceForm):
    note = forms.CharField(label=_("Why it is not a real problem"), required=False, max_length=5000)
