"""Serializer fields of the API: strictly typed, and with references scoped to what the caller may see.

DRF is lenient by default: it takes ``"5"`` for an integer, ``1`` for a string and ``"yes"`` for a
boolean. An integration that sends the wrong type has a bug, and the schema promises types, so the
API refuses them with the usual field error instead of guessing.
"""

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import access
from accounts.models import User


class StrictTypeMixin:
    """Refuse JSON values of the wrong type before DRF's own coercion gets to them."""

    accepted_types: tuple[type, ...] = (str,)
    wrong_type_error = "invalid"

    def to_internal_value(self, data):
        if isinstance(data, bool) and bool not in self.accepted_types or not isinstance(data, self.accepted_types):
            self.fail(self.wrong_type_error, data_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictCharField(StrictTypeMixin, serializers.CharField):
    pass


class StrictEmailField(StrictTypeMixin, serializers.EmailField):
    pass


class StrictIntegerField(StrictTypeMixin, serializers.IntegerField):
    accepted_types = (int,)


class StrictBooleanField(StrictTypeMixin, serializers.BooleanField):
    accepted_types = (bool,)


class StrictChoiceField(StrictTypeMixin, serializers.ChoiceField):
    wrong_type_error = "invalid_choice"

    def fail(self, key, **kwargs):
        kwargs.setdefault("input", kwargs.pop("data_type", ""))
        super().fail(key, **kwargs)


class StrictPrimaryKeyRelatedField(StrictTypeMixin, serializers.PrimaryKeyRelatedField):
    accepted_types = (int,)
    wrong_type_error = "incorrect_type"


def firm_staff_for(user):
    """Consultants and managers a firm user may name (lead, team, owner, attendee); none for clients."""
    if not access.is_firm_staff(user):
        return User.objects.none()
    return User.objects.filter(Q(is_consultant=True) | Q(is_manager=True), is_active=True)


@extend_schema_field(OpenApiTypes.INT)  # every primary key in Rapport is an integer
class ScopedPrimaryKeyRelatedField(StrictPrimaryKeyRelatedField):
    """A reference by id, resolved only among the objects ``scope(user)`` returns.

    An id outside the caller's scope gets the same "does not exist" error as an id that exists
    nowhere, so the API never confirms that someone else's object is there.
    """

    def __init__(self, scope=None, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(request.user if request else None)


class DecimalStringField(StrictTypeMixin, serializers.DecimalField):
    """DRF's decimal, sent and returned as a string ("12.50"). Its own class so that the schema can
    give the exact pattern (at least one digit; drf-spectacular's default also matches "")."""
