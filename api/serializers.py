"""Serializers say what the API's JSON looks like and check its shape; the rules live in services.

One serializer per resource serves every role. Fields listed in ``Meta.staff_only_fields`` are
left out for client users, who get the summary the portal shows them (docs/architecture.md); the schema marks
those fields as optional and says so in their description. Fields in ``Meta.create_only_fields``
are set when the object is created and ignored afterwards (the services cannot change them).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

import access
from accounts.models import Role
from api.fields import (
    DecimalStringField,
    ScopedPrimaryKeyRelatedField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictEmailField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
    firm_staff_for,
)
from api.models import ApiToken
from clients.models import Client, Contact
from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, MilestoneComment, PlannedBreak, Session
from feedback.models import FeedbackResponse, PulseRequest
from health import evidence
from health.models import EngagementHealth, Flag, HealthSnapshot, Mode, State

VERSION_HELP = _("The version you read. Required on update: a stale version gets 409 instead of overwriting a newer "
                 "edit.")


class ApiModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields refuse values of the wrong JSON type (see api/fields.py)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField, models.TextField: StrictCharField, models.EmailField: StrictEmailField,
        models.IntegerField: StrictIntegerField, models.SmallIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField, models.PositiveSmallIntegerField: StrictIntegerField,
        models.BooleanField: StrictBooleanField, models.DecimalField: DecimalStringField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
    serializer_choice_field = StrictChoiceField


class RoleAwareSerializer(ApiModelSerializer):
    """Hides staff-only fields from client users and freezes create-only fields on update."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and access.role_of(request.user) == Role.CLIENT:
            for name in getattr(self.Meta, "staff_only_fields", ()):
                fields.pop(name, None)
        if self.instance is not None or self.partial:  # an update (PATCH is the only partial write)
            for name in getattr(self.Meta, "create_only_fields", ()):
                if name in fields:
                    fields[name].read_only = True
        return fields


class VersionedSerializer(RoleAwareSerializer):
    """Updates must name the version they read, so two people editing at once never overwrite each other
    silently: a stale version gets 409 (the service checks it), a missing one 400."""

    # The schema marks these required on PATCH, as validate() below does (api/schema.py).
    required_on_update = ("version",)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and "version" in self.fields and attrs.get("version") is None:
            raise serializers.ValidationError(
                {"version": [_("Send the version you read with every update (it is in the object you fetched).")]},
                code="required")
        return attrs


# --- Auth -----------------------------------------------------------------------------------------

class TokenRequestSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    password = StrictCharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    name = StrictCharField(max_length=100, required=False, allow_blank=True,
                                 help_text=_("What the token is for, e.g. 'CRM sync'."))
    otp = StrictCharField(max_length=16, required=False, allow_blank=True,
                          help_text=_("The code from your authenticator app (or a recovery code), when your account "
                                      "uses two-factor authentication."))


class TokenSerializer(ApiModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]
        read_only_fields = fields


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text=_("Send as `Authorization: Token <token>`. "
                                                              "Shown once: only a hash is kept."))

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


# --- Clients and contacts -------------------------------------------------------------------------

class ClientSerializer(RoleAwareSerializer):
    """A client organisation."""

    account_lead = ScopedPrimaryKeyRelatedField(firm_staff_for, required=False, allow_null=True)

    class Meta:
        model = Client
        fields = ["id", "name", "industry", "status", "account_lead", "created_at"]
        read_only_fields = ["created_at"]
        staff_only_fields = ["industry", "status", "account_lead", "created_at"]


class ContactSerializer(RoleAwareSerializer):
    """A person at the client."""

    client = ScopedPrimaryKeyRelatedField(access.clients_for)
    is_sponsor = StrictBooleanField(
        required=False, help_text=_("On creation, makes the contact the client's sponsor from `sponsor_since` "
                                    "(today by default). Later, use the make-sponsor action."))
    active = serializers.BooleanField(
        read_only=True, help_text=_("False once the person has left the company (the deactivate action)."))

    class Meta:
        model = Contact
        fields = ["id", "client", "name", "email", "title", "seniority", "is_sponsor", "sponsor_since", "active"]
        staff_only_fields = ["seniority", "is_sponsor", "sponsor_since", "active"]
        # The sponsorship keeps a history, so it changes through its own action, not a PATCH.
        create_only_fields = ["client", "is_sponsor", "sponsor_since"]
        # The service validates (its unique constraints need the client, which an update lacks).
        validators = []


class SponsorSerializer(serializers.Serializer):
    since = serializers.DateField(required=False, help_text=_("The first day as sponsor; defaults to today."))


# --- Health (used by engagements below) -----------------------------------------------------------

class WatchItemSerializer(serializers.Serializer):
    """An early-warning sign, below a flag: shown on the pages, never e-mailed."""

    kind = serializers.CharField(read_only=True, help_text=_("What is being watched, e.g. `sponsor_change_kpi_only`."))
    since = serializers.DateField(read_only=True, help_text=_("The first scoring date the sign showed."))
    evidence = serializers.JSONField(read_only=True, help_text=_("The numbers behind the sign."))
    summary = serializers.SerializerMethodField(help_text=_("The sign in a sentence, in the request's language."))

    def get_summary(self, item) -> str:
        return evidence.watch_summary(item)


class EngagementHealthSerializer(ApiModelSerializer):
    """An engagement's latest health figures (as of the newest scoring run that covered it)."""

    mode = serializers.ChoiceField(choices=Mode.choices, allow_blank=True, read_only=True)
    state = serializers.ChoiceField(choices=State.choices, allow_blank=True, read_only=True)
    watch = WatchItemSerializer(many=True, read_only=True)

    class Meta:
        model = EngagementHealth
        fields = ["as_of", "score", "mode", "state", "depth", "balance", "days_since_last_session",
                  "score_change_30", "score_change_90", "live_flags", "watch", "watch_count"]
        read_only_fields = fields


# --- Engagements ----------------------------------------------------------------------------------

class EngagementSerializer(RoleAwareSerializer):
    """An engagement with a client; closed through the `close` action."""

    client = ScopedPrimaryKeyRelatedField(
        access.clients_for, help_text=_("Set at creation. A PATCH naming another client is refused (400): close "
                                        "the engagement and start one with the other client."))
    lead = ScopedPrimaryKeyRelatedField(firm_staff_for, required=False,
                                        help_text=_("Defaults to the person creating the engagement."))
    team = ScopedPrimaryKeyRelatedField(firm_staff_for, many=True, required=False,
                                        help_text=_("The lead is always on the team."))
    closure_reason = serializers.ChoiceField(choices=Engagement.ClosureReason.choices, allow_blank=True,
                                             read_only=True, help_text=_("Set by the close action."))
    health = EngagementHealthSerializer(source="latest_health", read_only=True, allow_null=True,
                                        help_text=_("The latest health figures, with the early-warning signs "
                                                    "(`watch`); null until the engagement is scored."))

    class Meta:
        model = Engagement
        fields = ["id", "client", "title", "objectives", "start", "end", "status", "lead", "team",
                  "planned_cadence_days", "closure_reason", "handover_notes", "retrospective", "closed_at",
                  "created_at", "health"]
        read_only_fields = ["closure_reason", "handover_notes", "retrospective", "closed_at", "created_at"]
        staff_only_fields = ["lead", "team", "planned_cadence_days", "closure_reason", "handover_notes",
                             "retrospective", "closed_at", "created_at", "health"]


class EngagementCloseSerializer(serializers.Serializer):
    closure_reason = StrictChoiceField(choices=Engagement.ClosureReason.choices)
    retrospective = StrictCharField(max_length=20000,
                                          help_text=_("What worked, what we would change."))
    handover_notes = StrictCharField(max_length=20000, required=False, allow_blank=True)
    end = serializers.DateField(required=False, help_text=_("Defaults to today."))


# --- Sessions -------------------------------------------------------------------------------------

class SessionSerializer(VersionedSerializer):
    """A meeting, workshop, call or video conference with the client."""

    engagement = ScopedPrimaryKeyRelatedField(access.engagements_for)
    consultants = ScopedPrimaryKeyRelatedField(
        firm_staff_for, many=True, required=False,
        help_text=_("Consultant attendees; defaults to the person logging the session."))
    client_attendees = ScopedPrimaryKeyRelatedField(access.contacts_for, many=True, required=False)
    kpis_discussed = ScopedPrimaryKeyRelatedField(access.kpis_for, many=True, required=False)
    version = StrictIntegerField(required=False, min_value=1, max_value=2**31 - 1, help_text=VERSION_HELP)

    class Meta:
        model = Session
        fields = ["id", "engagement", "start", "duration_minutes", "channel", "focus", "initiated_by",
                  "advice_requested", "consultants", "client_attendees", "notes", "next_steps",
                  "shared_with_client", "kpis_discussed", "sentiment", "logged_by", "version", "created_at",
                  "updated_at"]
        read_only_fields = ["logged_by", "created_at", "updated_at"]
        staff_only_fields = ["initiated_by", "advice_requested", "consultants", "client_attendees", "notes",
                             "shared_with_client", "kpis_discussed", "sentiment", "logged_by", "version",
                             "created_at", "updated_at"]
        # session_update() changes the session's own fields and client attendees only.
        create_only_fields = ["engagement", "consultants", "kpis_discussed"]


# --- Planned breaks -------------------------------------------------------------------------------

class PlannedBreakSerializer(ApiModelSerializer):
    """A pause agreed with the client (holiday, budget freeze): no cadence flag during it, nor for one
    planned interval after it."""

    engagement = ScopedPrimaryKeyRelatedField(access.engagements_for)

    class Meta:
        model = PlannedBreak
        fields = ["id", "engagement", "starts_on", "ends_on", "reason", "note", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]
        # Say why: the pages ask for it too (the model's default is only for data entered elsewhere).
        extra_kwargs = {"reason": {"required": True}}
        # The service checks the dates (order, overlaps): its errors come back as field errors.
        validators = []


# --- Milestones -----------------------------------------------------------------------------------

class MilestoneSerializer(VersionedSerializer):
    """A co-production milestone, worked on in a reflection or an action phase."""

    engagement = ScopedPrimaryKeyRelatedField(access.engagements_for)
    consultant_owner = ScopedPrimaryKeyRelatedField(
        firm_staff_for, required=False, allow_null=True, help_text=_("Defaults to the person creating it."))
    client_owner = ScopedPrimaryKeyRelatedField(access.contacts_for, required=False, allow_null=True)
    version = StrictIntegerField(required=False, min_value=1, max_value=2**31 - 1, help_text=VERSION_HELP)

    class Meta:
        model = Milestone
        fields = ["id", "engagement", "title", "description", "phase", "due_date", "status", "proposed_by",
                  "consultant_owner", "client_owner", "shared_with_client", "approval_requested", "approved_at",
                  "approved_by", "completed_at", "position", "version", "created_at", "updated_at"]
        read_only_fields = ["proposed_by", "approved_at", "approved_by", "completed_at", "position", "created_at",
                            "updated_at"]
        staff_only_fields = ["consultant_owner", "shared_with_client", "position", "version", "updated_at"]
        create_only_fields = ["engagement"]


class MilestoneProposalSerializer(ApiModelSerializer):
    """What a client user sends to propose a milestone; it arrives as ``proposed``."""

    engagement = ScopedPrimaryKeyRelatedField(access.engagements_for)

    class Meta:
        model = Milestone
        fields = ["engagement", "title", "description", "phase", "due_date"]


class MilestoneCommentSerializer(ApiModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = MilestoneComment
        fields = ["id", "milestone", "author_name", "side", "text", "created_at"]
        read_only_fields = ["milestone", "side", "created_at"]

    def get_author_name(self, comment) -> str:
        return str(comment.author) if comment.author_id else ""


# --- KPIs -----------------------------------------------------------------------------------------

class KPISerializer(RoleAwareSerializer):
    """A KPI tracked on an engagement."""

    engagement = ScopedPrimaryKeyRelatedField(access.engagements_for)

    class Meta:
        model = KPI
        fields = ["id", "engagement", "name", "unit", "target", "direction", "shared_with_client"]
        staff_only_fields = ["shared_with_client"]
        create_only_fields = ["engagement"]
        validators = []  # (engagement, name) uniqueness is checked by the model's full_clean().


class KPIMeasurementSerializer(RoleAwareSerializer):
    """A KPI's value on a date."""

    kpi = ScopedPrimaryKeyRelatedField(access.kpis_for)

    class Meta:
        model = KPIMeasurement
        fields = ["id", "kpi", "date", "value", "recorded_by"]
        read_only_fields = ["recorded_by"]
        staff_only_fields = ["recorded_by"]
        # Recording a value for a (kpi, date) that has one corrects it, so there is no uniqueness error.
        create_only_fields = ["kpi", "date"]
        validators = []


# --- Feedback -------------------------------------------------------------------------------------

class FeedbackResponseSerializer(RoleAwareSerializer):
    """An answer to the pulse questions, from the client or a consultant's self-assessment."""

    engagement = ScopedPrimaryKeyRelatedField(access.engagements_for)
    pulse = serializers.PrimaryKeyRelatedField(source="request", read_only=True, allow_null=True,
                                               help_text=_("The pulse this answers, if any."))
    respondent_contact = ScopedPrimaryKeyRelatedField(
        access.contacts_for, required=False, allow_null=True,
        help_text=_("For client feedback recorded by a manager: who gave it."))
    respondent_user = ScopedPrimaryKeyRelatedField(
        firm_staff_for, required=False, allow_null=True,
        help_text=_("For a self-assessment: the consultant assessing; defaults to the caller."))
    submitted_at = serializers.DateTimeField(
        required=False, help_text=_("When the feedback was given; defaults to now. Managers may backdate "
                                    "feedback received by other channels."))

    class Meta:
        model = FeedbackResponse
        fields = ["id", "engagement", "pulse", "side", "respondent_contact", "respondent_user", "recorded_by",
                  "submitted_at", "rating", "involvement", "nps", "comment"]
        read_only_fields = ["recorded_by"]
        staff_only_fields = ["side", "respondent_user", "recorded_by"]


class PulseSerializer(RoleAwareSerializer):
    """A short feedback pulse sent to a client contact."""

    engagement = ScopedPrimaryKeyRelatedField(access.engagements_for)
    contact = ScopedPrimaryKeyRelatedField(access.contacts_for)
    session = ScopedPrimaryKeyRelatedField(access.sessions_for, required=False, allow_null=True)

    class Meta:
        model = PulseRequest
        fields = ["id", "engagement", "contact", "session", "requested_by", "sent_at", "expires_at", "answered_at"]
        read_only_fields = ["requested_by", "sent_at", "expires_at", "answered_at"]
        staff_only_fields = ["requested_by"]


class PulseAnswerSerializer(ApiModelSerializer):
    class Meta:
        model = FeedbackResponse
        fields = ["rating", "involvement", "nps", "comment"]


# --- Health ---------------------------------------------------------------------------------------

class HealthSnapshotSerializer(ApiModelSerializer):
    """The health of one engagement as of one date; ``components`` explains the score line by line."""

    mode = serializers.ChoiceField(choices=Mode.choices, allow_blank=True, read_only=True)
    state = serializers.ChoiceField(choices=State.choices, allow_blank=True, read_only=True)
    watch = WatchItemSerializer(many=True, read_only=True,
                                help_text=_("Early-warning signs below a flag on that date (never e-mailed)."))

    class Meta:
        model = HealthSnapshot
        fields = ["id", "engagement", "date", "score", "components", "depth", "balance", "mode", "state",
                  "advice_rate", "cadence", "days_since_last_session", "sponsor_presence", "client_rating",
                  "consultant_rating", "perception_gap", "delivery", "watch", "algorithm_version"]
        read_only_fields = fields


class FlagSerializer(ApiModelSerializer):
    """A warning about an engagement, with the evidence that raised it and what was done about it."""

    raised_at = serializers.DateField(source="raised_on", read_only=True,
                                      help_text=_("The scoring date that raised the flag."))
    action_plan = serializers.ChoiceField(choices=Flag.ActionPlan.choices, allow_blank=True, read_only=True)
    summary = serializers.SerializerMethodField(
        help_text=_("What changed since when, in one or two sentences in the request's language (Accept-Language); "
                    "`evidence` holds the numbers."))

    class Meta:
        model = Flag
        fields = ["id", "engagement", "kind", "severity", "status", "summary", "evidence", "raised_at", "owner",
                  "action_plan", "acknowledged_at", "snoozed_until", "snooze_reason", "resolved_at", "resolved_by",
                  "resolution_note"]
        read_only_fields = fields

    def get_summary(self, flag) -> str:
        return evidence.flag_summary(flag.kind, flag.evidence or {})


class FlagSnoozeSerializer(serializers.Serializer):
    snoozed_until = serializers.DateField(help_text=_("A date after today; the flag reopens then if its "
                                                      "condition still holds."))
    snooze_reason = StrictCharField(max_length=2000, help_text=_("Why the flag can wait."))


class FlagResolveSerializer(serializers.Serializer):
    action_plan = StrictChoiceField(choices=Flag.ActionPlan.choices)
    resolution_note = StrictCharField(max_length=5000, help_text=_("What will be done."))


class FlagDismissSerializer(serializers.Serializer):
    resolution_note = StrictCharField(max_length=5000, required=False, allow_blank=True,
                                            help_text=_("Why this is not a real problem."))


class FlagAssignSerializer(serializers.Serializer):
    owner = ScopedPrimaryKeyRelatedField(firm_staff_for, allow_null=True,
                                         help_text=_("A consultant or manager, or null for nobody."))
