"""Reads about engagements, already scoped to the user and eager-loaded for their pages."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from accounts import access
from accounts.models import Role, User
from engagements.models import Engagement, Milestone


def engagement_list(*, user: User, include_closed: bool = False) -> QuerySet[Engagement]:
    """The engagements a user sees on their home page, with what the list shows, in one query."""
    qs = access.engagements_for(user).select_related("client", "lead")
    if not include_closed:
        qs = qs.exclude(status=Engagement.Status.CLOSED)
    closed = (Milestone.Status.DONE, Milestone.Status.DROPPED)
    milestone_filter = ~Q(milestones__status__in=closed)
    session_filter = None
    if access.role_of(user) == Role.CLIENT:
        # Clients only ever count what is shared with them.
        milestone_filter &= Q(milestones__shared_with_client=True)
        session_filter = Q(sessions__shared_with_client=True)
    return qs.annotate(
        last_session_at=Max("sessions__start", filter=session_filter),
        open_milestones=Count("milestones", filter=milestone_filter, distinct=True),
    ).order_by("client__name", "title")
