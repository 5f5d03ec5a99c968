"""Reads of the portal pages: scoped by ``access``, eager-loaded, a fixed number of queries.

A client only ever gets rows through ``access`` (their own client's engagements, the shared
milestones and sessions, their own pulses), and sessions are loaded with their summary fields
only: notes and the consultant's sentiment never leave the database for a client page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

import access
from accounts.models import Role, User
from clients.models import Contact
from engagements.models import Engagement, Milestone, MilestoneComment, Session, Side
from feedback.models import FeedbackResponse, PulseRequest
from portal.models import Invitation

SESSION_SUMMARY_FIELDS = ("id", "engagement_id", "start", "duration_minutes", "channel", "focus", "next_steps")
OPEN_STATUSES = (Milestone.Status.PROPOSED, Milestone.Status.AGREED, Milestone.Status.IN_PROGRESS,
                 Milestone.Status.BLOCKED)
CLOSED_STATUSES = (Milestone.Status.DONE, Milestone.Status.DROPPED)
DUE_SOON_DAYS = 14
SESSIONS_ON_HOME = 3


def engagement_list(*, user: User, include_closed: bool = False) -> QuerySet[Engagement]:
    """The engagements a user may see, with what the staff home lists for each, in one query."""
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


def portal_engagements(user: User) -> QuerySet[Engagement]:
    """The client's engagements that are not closed."""
    return (access.engagements_for(user).exclude(status=Engagement.Status.CLOSED)
            .select_related("client", "lead").order_by("title"))


def shared_milestones(user: User) -> QuerySet[Milestone]:
    """Shared milestones with their owners and comment count, as the board and lists show them."""
    return (access.milestones_for(user).select_related("client_owner", "consultant_owner", "approved_by")
            .annotate(comment_count=Count("comments")))


def session_summaries(user: User) -> QuerySet[Session]:
    """Shared sessions, summary fields only, newest first."""
    return access.sessions_for(user).only(*SESSION_SUMMARY_FIELDS).order_by("-start", "-id")


def open_pulses(user: User) -> QuerySet[PulseRequest]:
    """Pulses addressed to the user, unanswered and not expired."""
    return (access.pulse_requests_for(user).filter(answered_at__isnull=True, expires_at__gt=timezone.now())
            .select_related("engagement").order_by("expires_at"))


@dataclass
class Board:
    """One engagement's open milestones, by phase then status, in board order."""

    engagement: Engagement
    phases: list = field(default_factory=list)  # [(phase, label, [(status, label, [milestones])])]
    sessions: list = field(default_factory=list)
    open_count: int = 0


def _group(milestones) -> list:
    by_phase: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for milestone in milestones:
        by_phase[milestone.phase][milestone.status].append(milestone)
    return [
        (phase, label, [(status, Milestone.Status(status).label, by_phase[phase][status])
                        for status in Milestone.Status.values if by_phase[phase][status]])
        for phase, label in Milestone.Phase.choices
    ]


def portal_home(user: User) -> dict:
    """Everything the portal home shows, in six queries whatever the number of rows."""
    contact = user.client_contact
    engagements = list(portal_engagements(user))
    ids = [engagement.pk for engagement in engagements]
    milestones = list(shared_milestones(user).filter(engagement_id__in=ids, status__in=OPEN_STATUSES)
                      .order_by("engagement_id", "position", "due_date", "id"))
    ranked = (session_summaries(user).filter(engagement_id__in=ids)
              .annotate(rank=Window(RowNumber(), partition_by=[F("engagement_id")],
                                    order_by=[F("start").desc(), F("id").desc()]))
              .filter(rank__lte=SESSIONS_ON_HOME))
    sessions_by_engagement = defaultdict(list)
    for session in ranked:
        sessions_by_engagement[session.engagement_id].append(session)
    per_engagement = defaultdict(list)
    for milestone in milestones:
        per_engagement[milestone.engagement_id].append(milestone)
    boards = []
    for engagement in engagements:
        own = per_engagement[engagement.pk]
        for milestone in own:
            milestone.engagement = engagement  # already loaded: no query per row in the template
        boards.append(Board(engagement=engagement, phases=_group(own),
                            sessions=sorted(sessions_by_engagement[engagement.pk], key=lambda s: s.start,
                                            reverse=True),
                            open_count=len(own)))
    soon = timezone.localdate() + dt.timedelta(days=DUE_SOON_DAYS)
    awaiting = [m for m in milestones if m.approval_requested and m.approved_at is None]
    due_soon = [m for m in milestones if contact and m.client_owner_id == contact.pk and m.due_date
                and m.due_date <= soon and m.status != Milestone.Status.PROPOSED
                and m not in awaiting]  # listed once, under the approval it waits for
    due_soon.sort(key=lambda m: m.due_date)
    pulses = list(open_pulses(user).filter(engagement_id__in=ids))
    return {"boards": boards, "awaiting": awaiting, "due_soon": due_soon, "pulses": pulses,
            "waiting_count": len(awaiting) + len(due_soon) + len(pulses)}


def engagement_closed_milestones(user: User, engagement: Engagement) -> QuerySet[Milestone]:
    """Done and dropped shared milestones of one engagement, most recent first (paginated by the page)."""
    return (shared_milestones(user).filter(engagement=engagement, status__in=CLOSED_STATUSES)
            .order_by(F("completed_at").desc(nulls_last=True), "-id"))


def milestone_thread(milestone: Milestone) -> QuerySet[MilestoneComment]:
    """A milestone's comments, oldest first, with their authors."""
    return milestone.comments.select_related("author").order_by("created_at", "id")


# --- Staff pages ----------------------------------------------------------------------------------

def _count(rows: QuerySet, key: str) -> Coalesce:
    """The number of ``rows`` per outer row, as a subquery (several counts joined in one query would multiply)."""
    counted = rows.order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def staff_portal_status(user: User) -> QuerySet[Engagement]:
    """The user's open engagements with where the portal stands on each, in one query: pulses sent,
    answered and waiting, invitations pending, the client's portal users and when one last signed in,
    and when the user last recorded their own view (self-assessment)."""
    now = timezone.now()
    pulses = PulseRequest.objects.filter(engagement_id=OuterRef("pk"))
    invitations = Invitation.objects.filter(contact__client_id=OuterRef("client_id"), accepted_at__isnull=True,
                                            revoked_at__isnull=True, expires_at__gt=now)
    portal_users = Contact.objects.filter(client_id=OuterRef("client_id"), active=True, user__is_active=True)
    last_sign_in = (Contact.objects.filter(client_id=OuterRef("client_id"), user__isnull=False)
                    .order_by().values("client_id").annotate(last=Max("user__last_login")).values("last"))
    own_view = (FeedbackResponse.objects.filter(engagement_id=OuterRef("pk"), side=Side.CONSULTANT,
                                                respondent_user=user)
                .order_by("-submitted_at").values("submitted_at")[:1])
    return engagement_list(user=user).annotate(
        pulses_sent=_count(pulses, "engagement_id"),
        pulses_answered=_count(pulses.filter(answered_at__isnull=False), "engagement_id"),
        pulses_waiting=_count(pulses.filter(answered_at__isnull=True, expires_at__gt=now), "engagement_id"),
        invitations_pending=_count(invitations, "contact__client_id"),
        portal_users=_count(portal_users, "client_id"),
        last_client_sign_in=Subquery(last_sign_in),
        own_view_at=Subquery(own_view),
    )


def staff_contacts(user: User, client) -> QuerySet[Contact]:
    """A client's contacts with their portal user and invitations, for the invitations page."""
    return (access.contacts_for(user).filter(client=client).select_related("user")
            .prefetch_related(Prefetch("portal_invitations", queryset=Invitation.objects.order_by("-created_at", "-id"),
                                       to_attr="invitations"))
            .order_by("-active", "name"))


def staff_pulses(user: User, engagement: Engagement) -> QuerySet[PulseRequest]:
    """An engagement's pulses with contact, session and answer, newest first."""
    return (access.pulse_requests_for(user).filter(engagement=engagement)
            .select_related("contact", "session", "requested_by", "response").order_by("-sent_at", "-id"))


def monthly_pulse_targets(*, now: dt.datetime, days: int = 30) -> list[tuple[Engagement, Contact]]:
    """Active engagements whose client's current sponsor got no pulse about it in the last ``days`` days."""
    sponsor = Contact.objects.filter(client_id=OuterRef("client_id"), is_sponsor=True, active=True).values("pk")[:1]
    recent = PulseRequest.objects.filter(engagement_id=OuterRef("pk"), contact_id=OuterRef("sponsor_id"),
                                         sent_at__gte=now - dt.timedelta(days=days))
    engagements = list(
        Engagement.objects.filter(status=Engagement.Status.ACTIVE)
        .annotate(sponsor_id=Subquery(sponsor)).filter(sponsor_id__isnull=False)
        .exclude(Exists(recent)).select_related("client", "lead").order_by("id")
    )
    sponsors = Contact.objects.in_bulk([engagement.sponsor_id for engagement in engagements])
    return [(engagement, sponsors[engagement.sponsor_id]) for engagement in engagements]


def status_changes() -> list[tuple[Milestone, str]]:
    """Shared milestones whose status moved since their client was last told, with the status told."""
    rows = (Milestone.objects.filter(shared_with_client=True, status_notice__isnull=False)
            .exclude(status=F("status_notice__status"))
            .select_related("engagement__client", "status_notice").order_by("id"))
    return [(milestone, milestone.status_notice.status) for milestone in rows]


def milestones_without_notice() -> QuerySet:
    return Milestone.objects.filter(shared_with_client=True, status_notice__isnull=True).values_list("pk", "status")


def portal_users_of(client_ids) -> dict[int, list[User]]:
    """Active portal users of each client (one query)."""
    users = defaultdict(list)
    for contact in (Contact.objects.filter(client_id__in=set(client_ids), active=True, user__is_active=True)
                    .select_related("user")):
        users[contact.client_id].append(contact.user)
    return users

