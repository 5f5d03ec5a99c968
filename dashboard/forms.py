"""Filter forms of the dashboard pages (GET forms: they change what is shown, never the data)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dashboard import selectors
from engagements.models import Engagement
from health.models import Flag, Mode, State

ANY = [("", _("Any"))]
# French agrees "any" with the noun: « Gravité : Toutes », « Alerte active : Toutes », but « Type : Tous ».
ANY_FLAG_OR_SEVERITY = [("", pgettext_lazy("any flag, any severity", "Any"))]


class PortfolioFilterForm(forms.Form):
    lead = forms.ModelChoiceField(label=_("Lead"), queryset=None, required=False, empty_label=_("Any"))
    client = forms.CharField(label=_("Client"), required=False, max_length=100,
                             widget=forms.TextInput(attrs={"placeholder": _("Name contains…"), "type": "search"}))
    status = forms.ChoiceField(label=_("Status"), required=False)
    mode = forms.ChoiceField(label=_("Mode"), required=False, choices=[
        *ANY, *Mode.choices, (selectors.ONE_SIDED, _("One-sided (expert- or client-led)"))])
    state = forms.ChoiceField(label=_("State"), required=False, choices=ANY + list(State.choices))
    flag_kind = forms.ChoiceField(label=_("Live flag"), required=False,
                                  choices=ANY_FLAG_OR_SEVERITY + list(Flag.Kind.choices))
    watch = forms.ChoiceField(label=_("Early signs"), required=False,
                              choices=ANY + [("1", _("On watch"))])
    score_min = forms.IntegerField(label=_("Score from"), required=False, min_value=0, max_value=100)
    score_max = forms.IntegerField(label=_("Score to"), required=False, min_value=0, max_value=100)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = selectors.portfolio_leads(user=user)  # what a submitted lead is checked against
        # The menu, read once: its people are part of the rendered form's fragment-cache key (lead_choices).
        self.lead_choices = tuple((lead.pk, str(lead)) for lead in self.fields["lead"].queryset)
        self.fields["lead"].choices = [("", self.fields["lead"].empty_label), *self.lead_choices]
        live = selectors.live_engagement_statuses()
        self.fields["status"].choices = ANY + [(v, label) for v, label in Engagement.Status.choices if v in live]
        for name in ("score_min", "score_max"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "placeholder": "0–100"})

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("score_min"), cleaned.get("score_max")
        if low is not None and high is not None and low > high:
            # Neither bound is applied: the lower one alone would show a range nobody asked for.
            self.add_error("score_max", _("The upper bound must not be below the lower bound."))
            cleaned.pop("score_min", None)
        return cleaned

    def filters(self) -> selectors.PortfolioFilters:
        """The filters to apply: what validated; a field with an error is left out, not guessed."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        lead = data.get("lead")
        return selectors.PortfolioFilters(
            lead=lead.pk if lead else None, client=(data.get("client") or "").strip(),
            status=data.get("status") or "", mode=data.get("mode") or "", state=data.get("state") or "",
            flag_kind=data.get("flag_kind") or "", on_watch=data.get("watch") == "1",
            score_min=data.get("score_min"), score_max=data.get("score_max"),
        )


class FlagFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("attention", _("Needing attention")), ("snoozed", _("Snoozed")), ("live", _("All live flags")),
        ("closed", _("Resolved or dismissed"))])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=ANY + list(Flag.Kind.choices))
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=ANY_FLAG_OR_SEVERITY + list(Flag.Severity.choices))
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    # Set by the portfolio table's flag count: one engagement's flags.
    engagement = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = (ANY + [("none", _("Unassigned"))]
                                        + [(str(u.pk), str(u)) for u in owners])

    def filters(self) -> selectors.FlagFilters:
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return selectors.FlagFilters(status=data.get("status") or "attention", kind=data.get("kind") or "",
                                     severity=data.get("severity") or "", owner=data.get("owner") or "",
                                     engagement=data.get("engagement"))
