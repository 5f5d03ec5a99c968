"""Which roles may call which actions. *Which objects* they may touch is decided by the querysets
of access/: an object outside a user's scope is simply not found (404)."""

from rest_framework.permissions import BasePermission

from accounts.models import Role, role_of

EVERYONE = frozenset({Role.MANAGER, Role.CONSULTANT, Role.CLIENT})
FIRM_STAFF = frozenset({Role.MANAGER, Role.CONSULTANT})
MANAGERS = frozenset({Role.MANAGER})
CLIENTS = frozenset({Role.CLIENT})
NOBODY = frozenset()

READ_ONLY = {"list": EVERYONE, "retrieve": EVERYONE, "metadata": EVERYONE}


class RoleAllowed(BasePermission):
    """Grants an action as the viewset's ``roles`` says: action name → a set of roles, or a predicate
    on the user taken from access/ (e.g. ``can_manage_flags``)."""

    def has_permission(self, request, view):
        if view.action is None:
            # The method is not routed at all: let DRF answer 405 rather than hiding it behind a 403.
            return True
        role = role_of(request.user)
        if role is None:
            return False
        rule = view.roles.get(view.action, NOBODY)
        return rule(request.user) if callable(rule) else role in rule
