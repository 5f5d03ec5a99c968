"""Which roles may call which actions. *Which objects* they may touch is decided by the querysets
of accounts/access.py: an object outside a user's scope is simply not found (404)."""

from rest_framework.permissions import BasePermission

from accounts.access import role_of
from accounts.models import Role

EVERYONE = frozenset({Role.MANAGER, Role.CONSULTANT, Role.CLIENT})
FIRM_STAFF = frozenset({Role.MANAGER, Role.CONSULTANT})
MANAGERS = frozenset({Role.MANAGER})
CLIENTS = frozenset({Role.CLIENT})
NOBODY = frozenset()

READ_ONLY = {"list": EVERYONE, "retrieve": EVERYONE, "metadata": EVERYONE}


class RoleAllowed(BasePermission):
    """Grants an action to the roles the viewset lists for it in ``roles`` (action name → roles)."""

    def has_permission(self, request, view):
        if view.action is None:
            # The method is not routed at all: let DRF answer 405 rather than hiding it behind a 403.
            return True
        role = role_of(request.user)
        return role is not None and role in view.roles.get(view.action, NOBODY)
