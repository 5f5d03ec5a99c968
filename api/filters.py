"""Query-string filters of the list endpoints: ``?engagement=``, ``?client=``, ``?status=``, date ranges.

References to other objects are filtered by plain id rather than validated against a queryset:
an id the caller may not see then yields an empty list, exactly like an id that exists nowhere,
instead of an error that would tell the two apart. Date ranges are inclusive and come in pairs
named ``<field>_after`` / ``<field>_before``.
"""

import django_filters
from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from clients.models import Client, Contact
from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, PlannedBreak, Session
from feedback.models import FeedbackResponse, PulseRequest
from health.models import Flag, HealthSnapshot

# Ids are positive 64-bit integers; bigger numbers would overflow the database's integer type.
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    field_class = IdField


class StrictBooleanField(forms.NullBooleanField):
    """``true`` / ``false`` (or 1 / 0); anything else is a 400, not silently "no filter"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise forms.ValidationError("Enter true or false.", code="invalid")

    def validate(self, value):
        pass


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # A plain text widget hands us the raw value; the select widgets map unknown values to None.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class StrictFilterSet(filters.FilterSet):
    """A filter given with an empty value (``?status=``) is a 400, like any other invalid value,
    rather than quietly ignored."""

    def is_valid(self):
        valid = super().is_valid()
        for name, field in self.form.fields.items():
            widget = field.widget
            parameters = [widget.suffixed(name, suffix) for suffix in widget.suffixes] \
                if hasattr(widget, "suffixes") else [name]
            if any("" in self.data.getlist(parameter) for parameter in parameters):
                self.form.add_error(name, forms.ValidationError("Give a value, or leave the filter out.",
                                                                code="blank"))
                valid = False
        return valid


class ClientFilter(StrictFilterSet):
    class Meta:
        model = Client
        fields = ["status"]


class ContactFilter(StrictFilterSet):
    client = IdFilter(field_name="client_id")
    is_sponsor = BooleanFilter()
    active = BooleanFilter()

    class Meta:
        model = Contact
        fields = ["client", "is_sponsor", "active"]


class EngagementFilter(StrictFilterSet):
    client = IdFilter(field_name="client_id")
    start = filters.DateFromToRangeFilter()

    class Meta:
        model = Engagement
        fields = ["client", "status", "start"]


class SessionFilter(StrictFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    client = IdFilter(field_name="engagement__client_id")
    start = filters.DateFromToRangeFilter()

    class Meta:
        model = Session
        fields = ["engagement", "client", "focus", "channel", "start"]


class PlannedBreakFilter(StrictFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    client = IdFilter(field_name="engagement__client_id")

    class Meta:
        model = PlannedBreak
        fields = ["engagement", "client", "reason"]


class MilestoneFilter(StrictFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    client = IdFilter(field_name="engagement__client_id")
    due_date = filters.DateFromToRangeFilter()

    class Meta:
        model = Milestone
        fields = ["engagement", "client", "status", "phase", "due_date"]


class KPIFilter(StrictFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    client = IdFilter(field_name="engagement__client_id")

    class Meta:
        model = KPI
        fields = ["engagement", "client"]


class KPIMeasurementFilter(StrictFilterSet):
    kpi = IdFilter(field_name="kpi_id")
    engagement = IdFilter(field_name="kpi__engagement_id")
    date = filters.DateFromToRangeFilter()

    class Meta:
        model = KPIMeasurement
        fields = ["kpi", "engagement", "date"]


class FeedbackResponseFilter(StrictFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    client = IdFilter(field_name="engagement__client_id")
    submitted_at = filters.DateFromToRangeFilter()

    class Meta:
        model = FeedbackResponse
        fields = ["engagement", "client", "side", "submitted_at"]


class PulseFilter(StrictFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    pending = BooleanFilter(field_name="answered_at", lookup_expr="isnull", label="Only pulses not answered yet.")

    class Meta:
        model = PulseRequest
        fields = ["engagement", "pending"]


class HealthSnapshotFilter(StrictFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    client = IdFilter(field_name="engagement__client_id")
    date = filters.DateFromToRangeFilter()

    class Meta:
        model = HealthSnapshot
        fields = ["engagement", "client", "mode", "state", "date"]


class FlagFilter(StrictFilterSet):
    engagement = IdFilter(field_name="engagement_id")
    client = IdFilter(field_name="engagement__client_id")
    raised_at = filters.DateFromToRangeFilter(field_name="raised_on")

    class Meta:
        model = Flag
        fields = ["engagement", "client", "status", "kind", "severity", "raised_at"]
