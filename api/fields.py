"""Serializer fields whose choices are scoped to what the caller may see."""

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import access
from accounts.models import User


def firm_staff_for(user):
    """Consultants and managers a firm user may name (lead, team, owner, attendee); none for clients."""
    if not access.is_firm_staff(user):
        return User.objects.none()
    return User.objects.filter(Q(is_consultant=True) | Q(is_manager=True), is_active=True)


@extend_schema_field(OpenApiTypes.INT)  # every primary key in Rapport is an integer
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
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
