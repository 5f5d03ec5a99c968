"""Who may see what: the one place that scopes reads to a user (docs/architecture.md).

The access policy sits above every domain app and the health engine (it knows all their models) and
below the pages, which ask it for their querysets; ``role_of`` itself is identity (``accounts``).

Every page, form and API endpoint gets its querysets from here, so one rule serves them all.
Anything outside a user's scope is simply absent from these querysets, which is how callers turn
it into a 404 (never a 403: we do not confirm that someone else's object exists).

- managers (and superusers) see everything;
- consultants see the engagements they lead or staff, and what hangs off them;
- a client user sees their own client's engagements, and of those only what is shared;
- anyone else (anonymous, inactive, a contact who left) sees nothing.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import Role, User, role_of
from accounts.security_log import security_event
from calendars.models import CalendarFeed, CalendarMeeting
from clients.models import Client, Contact, SponsorPeriod
from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, MilestoneComment, PlannedBreak, Session
from feedback.models import FeedbackResponse, PulseRequest
from health.models import Flag, HealthSnapshot


def _staffed_engagement_ids(user: User) -> QuerySet:
    return Engagement.objects.filter(Q(lead=user) | Q(team=user)).values("pk")


def _client_id(user: User) -> int | None:
    contact = user.client_contact
    return contact.client_id if contact else None


def engagements_for(user) -> QuerySet[Engagement]:
    """Engagements the user may open."""
    role = role_of(user)
    qs = Engagement.objects.all()
    if role == Role.MANAGER:
        return qs
    if role == Role.CONSULTANT:
        return qs.filter(pk__in=_staffed_engagement_ids(user))
    if role == Role.CLIENT:
        return qs.filter(client_id=_client_id(user))
    return qs.none()


def clients_for(user) -> QuerySet[Client]:
    """Clients the user may see: all for managers, those a consultant leads or staffs, their own."""
    role = role_of(user)
    qs = Client.objects.all()
    if role == Role.MANAGER:
        return qs
    if role == Role.CONSULTANT:
        staffed = Engagement.objects.filter(pk__in=_staffed_engagement_ids(user)).values("client_id")
        return qs.filter(Q(pk__in=staffed) | Q(account_lead=user))
    if role == Role.CLIENT:
        return qs.filter(pk=_client_id(user))
    return qs.none()


def contacts_for(user) -> QuerySet[Contact]:
    """Client contacts: firm staff see their clients' people; a client user their active colleagues."""
    role = role_of(user)
    if role in (Role.MANAGER, Role.CONSULTANT):
        return Contact.objects.filter(client__in=clients_for(user))
    if role == Role.CLIENT:
        return Contact.objects.filter(client_id=_client_id(user), active=True)
    return Contact.objects.none()


def sponsor_periods_for(user) -> QuerySet[SponsorPeriod]:
    """Sponsor history is internal account knowledge: firm staff only."""
    if role_of(user) in (Role.MANAGER, Role.CONSULTANT):
        return SponsorPeriod.objects.filter(client__in=clients_for(user))
    return SponsorPeriod.objects.none()


def sessions_for(user) -> QuerySet[Session]:
    """Sessions: full on the user's engagements; for clients only the shared ones."""
    role = role_of(user)
    qs = Session.objects.filter(engagement__in=engagements_for(user))
    if role == Role.CLIENT:
        return qs.filter(shared_with_client=True)
    return qs


def planned_breaks_for(user) -> QuerySet[PlannedBreak]:
    """Planned breaks: firm staff on their engagements (like sessions); never clients."""
    if role_of(user) in (Role.MANAGER, Role.CONSULTANT):
        return PlannedBreak.objects.filter(engagement__in=engagements_for(user))
    return PlannedBreak.objects.none()


def milestones_for(user) -> QuerySet[Milestone]:
    """Milestones: full on the user's engagements; for clients only the shared ones."""
    role = role_of(user)
    qs = Milestone.objects.filter(engagement__in=engagements_for(user))
    if role == Role.CLIENT:
        return qs.filter(shared_with_client=True)
    return qs


def milestone_comments_for(user) -> QuerySet[MilestoneComment]:
    """Comments on the milestones the user may see."""
    return MilestoneComment.objects.filter(milestone__in=milestones_for(user))


def kpis_for(user) -> QuerySet[KPI]:
    """KPIs: firm staff on their engagements; clients the shared ones of their engagements."""
    role = role_of(user)
    qs = KPI.objects.filter(engagement__in=engagements_for(user))
    if role == Role.CLIENT:
        return qs.filter(shared_with_client=True)
    return qs


def kpi_measurements_for(user) -> QuerySet[KPIMeasurement]:
    """Measured values of the KPIs the user may see."""
    return KPIMeasurement.objects.filter(kpi__in=kpis_for(user))


def feedback_responses_for(user) -> QuerySet[FeedbackResponse]:
    """Feedback: firm staff on their engagements; a client user only their own answers."""
    role = role_of(user)
    if role in (Role.MANAGER, Role.CONSULTANT):
        return FeedbackResponse.objects.filter(engagement__in=engagements_for(user))
    if role == Role.CLIENT:
        return FeedbackResponse.objects.filter(respondent_contact=user.client_contact, side="client")
    return FeedbackResponse.objects.none()


def pulse_requests_for(user) -> QuerySet[PulseRequest]:
    """Pulses: firm staff on their engagements; a client user only those addressed to them."""
    role = role_of(user)
    if role in (Role.MANAGER, Role.CONSULTANT):
        return PulseRequest.objects.filter(engagement__in=engagements_for(user))
    if role == Role.CLIENT:
        return PulseRequest.objects.filter(contact=user.client_contact)
    return PulseRequest.objects.none()


def health_visible_engagements_for(user) -> QuerySet[Engagement]:
    """Engagements whose health and flags the user may see: never for clients."""
    if role_of(user) in (Role.MANAGER, Role.CONSULTANT):
        return engagements_for(user)
    return Engagement.objects.none()


def health_snapshots_for(user) -> QuerySet[HealthSnapshot]:
    """Health snapshots of the engagements whose health the user may see: never for clients."""
    return HealthSnapshot.objects.filter(engagement__in=health_visible_engagements_for(user))


def flags_for(user) -> QuerySet[Flag]:
    """Flags of the engagements whose health the user may see: never for clients."""
    return Flag.objects.filter(engagement__in=health_visible_engagements_for(user))


def calendar_meetings_for(user) -> QuerySet[CalendarMeeting]:
    """Meetings imported from a calendar: each consultant or manager sees only their own, never anyone
    else's (a manager included: a calendar is personal)."""
    if role_of(user) in (Role.MANAGER, Role.CONSULTANT):
        return CalendarMeeting.objects.filter(owner=user)
    return CalendarMeeting.objects.none()


def calendar_feeds_for(user) -> QuerySet[CalendarFeed]:
    """Calendar subscriptions: only their owner's (their address is a secret)."""
    if role_of(user) in (Role.MANAGER, Role.CONSULTANT):
        return CalendarFeed.objects.filter(owner=user)
    return CalendarFeed.objects.none()


def can_manage_flags(user) -> bool:
    """Assigning, snoozing and resolving flags is a manager's call."""
    return role_of(user) == Role.MANAGER


def is_firm_staff(user) -> bool:
    return role_of(user) in (Role.MANAGER, Role.CONSULTANT)


# The scopes whose rows hang off one engagement and which give firm staff all of them (clients get fewer).
_ENGAGEMENT_ROWS = {sessions_for: Session, milestones_for: Milestone, kpis_for: KPI,
                    planned_breaks_for: PlannedBreak, health_snapshots_for: HealthSnapshot, flags_for: Flag}


def _visibly_staffs(user, engagement: Engagement) -> bool:
    """Whether ``engagement`` is in the firm staff member's scope by what is already loaded: any
    engagement for a manager; for a consultant one they lead or, with the team prefetched, staff
    (the rule of ``_staffed_engagement_ids``). False when that cannot be told without a query."""
    role = role_of(user)
    if role == Role.MANAGER:
        return True
    if role != Role.CONSULTANT:
        return False
    if engagement.lead_id == user.pk:
        return True
    team = getattr(engagement, "_prefetched_objects_cache", {}).get("team")
    return team is not None and any(person.pk == user.pk for person in team)


def engagement_rows_for(scope, user, engagement: Engagement) -> QuerySet:
    """``scope(user)`` (``sessions_for``, ``milestones_for``, ``kpis_for``, ``planned_breaks_for``,
    ``health_snapshots_for`` or ``flags_for``) narrowed to one engagement: the same rows.

    Firm staff see every one of these rows of an engagement in their scope. When the engagement in
    hand shows that it is (``_visibly_staffs``), its rows are read by engagement alone, without the
    scope's subquery, which Django compiles and PostgreSQL plans again in each query (about 1 ms a
    query on the engagement page), and through the engagement's own related manager, so each row's
    ``engagement`` is the one in hand (no join, no query to reach it); otherwise the scope decides
    in SQL, as everywhere else."""
    model = _ENGAGEMENT_ROWS.get(scope)
    if model is not None and _visibly_staffs(user, engagement):
        return getattr(engagement, model._meta.get_field("engagement").remote_field.get_accessor_name()).all()
    return scope(user).filter(engagement=engagement)


def get_for(queryset: QuerySet, pk, *, user=None):
    """The object with this pk inside an already scoped queryset, or 404.

    With ``user``, a 404 on an object that does exist (someone else's) is logged as a security
    event: people typing other tenants' ids is worth knowing about.
    """
    try:
        return get_object_or_404(queryset, pk=pk)
    except Http404:
        if user is not None:
            log_out_of_scope(user=user, model=queryset.model, pk=pk)
        raise


def log_out_of_scope(*, user, model, pk, request=None) -> None:
    """Record an attempt to reach an existing object outside the user's scope."""
    try:
        exists = model._default_manager.filter(pk=pk).exists()
    except (TypeError, ValueError):  # a malformed id is not an attempt on a real object
        return
    if exists:
        security_event("out_of_scope", request=request, user_id=getattr(user, "pk", None),
                       model=model._meta.label, object_id=str(pk))


def get_engagement_for(user, pk) -> Engagement:
    """One engagement the user may open, or 404."""
    return get_for(engagements_for(user).select_related("client", "lead"), pk, user=user)


def get_milestone_for(user, pk) -> Milestone:
    """One milestone the user may see, or 404."""
    return get_for(milestones_for(user).select_related("engagement__client"), pk, user=user)


def get_session_for(user, pk) -> Session:
    """One session the user may see, or 404."""
    return get_for(sessions_for(user).select_related("engagement__client"), pk, user=user)
