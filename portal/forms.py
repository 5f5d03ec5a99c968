"""Forms of the portal. They check what was typed; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from engagements.models import Milestone, MilestoneComment, Session
from feedback.models import FeedbackResponse

COMMENT_MAX = MilestoneComment._meta.get_field("text").max_length


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Your comment"), max_length=COMMENT_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Markdown is welcome: **bold**, lists, links."))


class RequestChangesForm(forms.Form):
    comment = forms.CharField(label=_("What should change?"), max_length=COMMENT_MAX,
                              widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("A note for the team (optional)"), max_length=COMMENT_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ProposeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=Milestone._meta.get_field("title").max_length)
    phase = forms.ChoiceField(label=_("Phase"), choices=Milestone.Phase.choices, initial=Milestone.Phase.ACTION,
                              widget=forms.RadioSelect,
                              help_text=_("Reflection: understand and decide together. Action: make it happen."))
    description = forms.CharField(label=_("Description"), required=False,
                                  max_length=Milestone._meta.get_field("description").max_length,
                                  widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_("What it is, and what “done” means for you."))
    due_date = forms.DateField(label=_("Wished due date"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def _scale(low, high):
    return [(value, str(value)) for value in range(low, high + 1)]


class PulseForm(forms.Form):
    """The pulse questions, for the client and for the consultant's self-assessment alike."""

    rating = forms.TypedChoiceField(label=_("How valuable is our collaboration? (1 = not at all, 5 = very)"),
                                    choices=_scale(1, 5), coerce=int, widget=forms.RadioSelect)
    involvement = forms.TypedChoiceField(label=_("Do you feel involved in the work? (1 = not at all, 5 = fully)"),
                                         choices=_scale(1, 5), coerce=int, widget=forms.RadioSelect)
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a colleague? (0 = not at all, 10 = extremely)"),
        choices=_scale(0, 10), coerce=int, widget=forms.RadioSelect, required=False, empty_value=None)
    comment = forms.CharField(label=_("Anything you would like to tell us? (optional)"), required=False,
                              max_length=FeedbackResponse._meta.get_field("comment").max_length,
                              widget=forms.Textarea(attrs={"rows": 3}))


class SelfAssessmentForm(PulseForm):
    """The same questions, answered by the consultant about the relationship as they see it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rating"].label = _("How valuable do you think the client finds our collaboration? (1–5)")
        self.fields["involvement"].label = _("How involved do you think the client feels? (1–5)")
        self.fields["nps"].label = _("How likely do you think they are to recommend us? (0–10)")
        self.fields["comment"].label = _("Notes on the relationship (optional, internal)")


class SendPulseForm(forms.Form):
    contacts = forms.ModelMultipleChoiceField(label=_("Send to"), queryset=None,
                                              widget=forms.CheckboxSelectMultiple)
    session = forms.ModelChoiceField(label=_("About a session (optional)"), queryset=None, required=False,
                                     empty_label=_("The engagement as a whole"))

    def __init__(self, *args, contacts, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = contacts
        self.fields["session"].queryset = sessions
        self.fields["session"].label_from_instance = _session_label
        # Contact's own str() names the client: one query per box. Its name and e-mail say enough here.
        self.fields["contacts"].label_from_instance = lambda contact: f"{contact.name} · {contact.email}"

    def clean_contacts(self):
        contacts = self.cleaned_data["contacts"]
        if not contacts:
            raise forms.ValidationError(_("Choose at least one contact."))
        return contacts


def _session_label(session: Session) -> str:
    from django.utils.formats import date_format
    from django.utils.timezone import localtime

    return f"{date_format(localtime(session.start), 'SHORT_DATE_FORMAT')} · {session.get_focus_display()}"


class SetPasswordForm(forms.Form):
    """Choose a password when accepting an invitation (Django's validators apply)."""

    password1 = forms.CharField(label=_("Choose a password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("Type it again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, user, **kwargs):
        self.user = user  # unsaved or existing: the validators compare the password with the name and e-mail
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                password_validation.validate_password(first, self.user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class NotificationForm(forms.Form):
    email_enabled = forms.BooleanField(label=_("Send me e-mail notifications"), required=False)
