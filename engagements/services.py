"""Writes on engagements and everything that happens inside one.

Every write a user can make goes through a function here, whichever door it comes in by (page,
API, admin action, seed). Each validates with ``full_clean()``, runs in one transaction when it
touches several rows, and says what changed (``engagements.signals``) so that the health engine, which
this app may not import, rescores the engagement once it commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Role, User
from clients.models import Contact
from engagements.models import (
    KPI,
    Engagement,
    KPIMeasurement,
    Milestone,
    MilestoneComment,
    PlannedBreak,
    Session,
    Side,
)
from engagements.signals import engagement_changed, engagement_closed


class EditConflict(Exception):
    """Someone saved the object since the editor loaded it (its ``version`` moved on)."""

    def __init__(self, current):
        self.current = current
        super().__init__(_("Someone else changed this in the meantime."))


def _side_of(user: User) -> str:
    return Side.CLIENT if user.role == Role.CLIENT else Side.CONSULTANT


def _check_open(engagement: Engagement) -> None:
    """A closed engagement is a record: nothing inside it changes any more, whichever door a write
    comes in by (workspace, portal, API, admin action). Reopening it (its status) is the way back."""
    if engagement.status == Engagement.Status.CLOSED:
        raise ValidationError(_("This engagement is closed: its sessions, milestones, comments and KPIs can no "
                                "longer change."))


def contacts_check_belong(engagement: Engagement, contacts: Iterable[Contact], field: str) -> list[Contact]:
    """The contacts as a list, or a ValidationError on ``field`` if one is not the engagement's client's."""
    contacts = list(contacts)
    if any(contact.client_id != engagement.client_id for contact in contacts):
        raise ValidationError({field: _("Only contacts of %(client)s can be chosen.") % {"client": engagement.client}})
    return contacts


# --- Engagements ----------------------------------------------------------------------------------

def engagement_create(*, client, title: str, lead: User, start: dt.date, objectives: str = "",
                      end: dt.date | None = None, status: str = Engagement.Status.ACTIVE,
                      planned_cadence_days: int = 14, team: Iterable[User] = ()) -> Engagement:
    """Create an engagement; the lead is always on the team."""
    engagement = Engagement(client=client, title=title.strip(), lead=lead, start=start, end=end,
                            objectives=objectives, status=status, planned_cadence_days=planned_cadence_days)
    engagement.full_clean()
    with transaction.atomic():
        engagement.save()
        engagement.team.set({lead, *team})
    return engagement


def engagement_update(*, engagement: Engagement, team: Iterable[User] | None = None, **fields) -> Engagement:
    """Change an engagement's details and, when given, its team (the lead stays on it); never its client."""
    allowed = {"title", "objectives", "start", "end", "status", "lead", "planned_cadence_days", "client"}
    # The client is fixed at creation: moving an engagement would show its milestones, session
    # summaries and contacts to another client's users. Naming the same client again is harmless.
    if "client" in fields and getattr(fields["client"], "pk", fields["client"]) != engagement.client_id:
        raise ValidationError({"client": _("An engagement's client cannot change after it is created. "
                                           "Close this engagement and start one with the other client.")})
    was_closed = engagement.status == Engagement.Status.CLOSED
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(f"engagement_update() got an unexpected field {name!r}")
        setattr(engagement, name, value)
    if engagement.status == Engagement.Status.CLOSED and not engagement.closure_reason:
        raise ValidationError({"status": _("Use the closing flow to close an engagement.")})
    engagement.full_clean()
    with transaction.atomic():
        engagement.save()
        if team is not None:
            engagement.team.set({engagement.lead, *team})
        else:
            engagement.team.add(engagement.lead)
        if engagement.status == Engagement.Status.CLOSED and not was_closed:
            # Closed again after a reopening: its live flags end as in the closing flow.
            engagement_closed.send(sender=Engagement, engagement=engagement, user=None, note=_closing_note(engagement))
    return engagement


def _closing_note(engagement: Engagement) -> str:
    return _("Resolved when the engagement was closed (%(reason)s).") % {
        "reason": engagement.get_closure_reason_display()}


def engagement_close(*, engagement: Engagement, reason: str, handover_notes: str = "",
                     retrospective: str = "", end: dt.date | None = None,
                     closed_by: User | None = None) -> Engagement:
    """End an engagement well: record why, the handover and the retrospective, then close it and its live flags."""
    if engagement.status == Engagement.Status.CLOSED:
        raise ValidationError(_("This engagement is already closed."))
    engagement.closure_reason = reason
    engagement.handover_notes = handover_notes
    engagement.retrospective = retrospective
    engagement.end = end or timezone.localdate()
    engagement.status = Engagement.Status.CLOSED
    engagement.closed_at = timezone.now()
    errors = {}
    if not reason:
        errors["closure_reason"] = _("Say why the engagement ends.")
    if not retrospective.strip():
        errors["retrospective"] = _("Write a short retrospective: what worked, what we would change.")
    if errors:
        raise ValidationError(errors)
    engagement.full_clean()
    with transaction.atomic():
        engagement.save()
        # Closed engagements are no longer scored: their live flags would stay in the queue for good.
        engagement_closed.send(sender=Engagement, engagement=engagement, user=closed_by, note=_closing_note(engagement))
    return engagement


# --- Sessions -------------------------------------------------------------------------------------

_SESSION_FIELDS = ("start", "duration_minutes", "channel", "focus", "initiated_by", "advice_requested",
                   "notes", "next_steps", "shared_with_client", "sentiment")


def session_log(*, engagement: Engagement, logged_by: User | None, start: dt.datetime, duration_minutes: int,
                focus: str, channel: str = Session.Channel.MEETING, initiated_by: str = Side.CONSULTANT,
                advice_requested: bool = False, notes: str = "", next_steps: str = "",
                shared_with_client: bool = False, sentiment: int | None = None,
                consultants: Iterable[User] | None = None, client_attendees: Iterable[Contact] = (),
                kpis_discussed: Iterable[KPI] = ()) -> Session:
    """Record a session with the client; the person logging it attends unless told otherwise."""
    _check_open(engagement)
    session = Session(engagement=engagement, logged_by=logged_by, start=start, duration_minutes=duration_minutes,
                      focus=focus, channel=channel, initiated_by=initiated_by, advice_requested=advice_requested,
                      notes=notes, next_steps=next_steps, shared_with_client=shared_with_client,
                      sentiment=sentiment)
    session.full_clean()
    attendees = contacts_check_belong(engagement, client_attendees, "client_attendees")
    kpis = list(kpis_discussed)
    if any(kpi.engagement_id != engagement.pk for kpi in kpis):
        raise ValidationError({"kpis_discussed": _("Only this engagement's KPIs can be chosen.")})
    if consultants is None:
        consultants = [logged_by] if logged_by and logged_by.is_firm_staff else []
    with transaction.atomic():
        session.save()
        session.consultants.set(consultants)
        session.client_attendees.set(attendees)
        session.kpis_discussed.set(kpis)
        engagement_changed.send(sender=Engagement, engagement_id=engagement.pk)
    return session


def session_update(*, session: Session, version: int | None = None,
                   client_attendees: Iterable[Contact] | None = None, **fields) -> Session:
    """Edit a logged session; with ``version``, refuse to overwrite someone else's newer edit."""
    _check_open(session.engagement)
    before = {name: getattr(session, name) for name in fields if name in _SESSION_FIELDS}
    for name, value in fields.items():
        if name not in _SESSION_FIELDS:
            raise TypeError(f"session_update() got an unexpected field {name!r}")
        setattr(session, name, value)
    session.full_clean()
    attendees = None
    if client_attendees is not None:
        attendees = contacts_check_belong(session.engagement, client_attendees, "client_attendees")
    with transaction.atomic():
        _save_versioned(session, version, [*fields.keys(), "updated_at"],
                        changed=[name for name, old in before.items() if getattr(session, name) != old])
        if attendees is not None:
            session.client_attendees.set(attendees)
        engagement_changed.send(sender=Engagement, engagement_id=session.engagement_id)
    return session


def _save_versioned(obj, version: int | None, update_fields: list[str], *, changed: list[str] | None = None) -> None:
    """Save ``obj`` only if its stored version is still ``version`` (optimistic locking).

    ``changed`` names the fields whose values really changed, for the audit trail (default: all).
    """
    model = type(obj)
    expected = obj.version if version is None else version
    values = {name: getattr(obj, name) for name in update_fields if name != "updated_at"}
    values["updated_at"] = timezone.now()
    updated = model.objects.filter(pk=obj.pk, version=expected).update(version=F("version") + 1, **values)
    if not updated:
        raise EditConflict(model.objects.get(pk=obj.pk))
    obj.version = expected + 1
    obj.updated_at = values["updated_at"]
    # A conditional UPDATE bypasses save(), so record the audit-trail entry here, naming the
    # fields changed; the author comes from the request (simple-history's middleware).
    names = ", ".join(sorted(changed if changed is not None else (n for n in values if n != "updated_at")))
    # history_change_reason holds 100 characters; a longer list is cut with an ellipsis.
    reason = names if len(names) <= 100 else names[:99] + "…"
    model.history.bulk_history_create([obj], update=True, default_change_reason=reason)


# --- Milestones -----------------------------------------------------------------------------------

_MILESTONE_FIELDS = ("title", "description", "phase", "due_date", "status", "consultant_owner", "client_owner",
                     "shared_with_client", "approval_requested")


def _next_position(engagement: Engagement) -> int:
    last = engagement.milestones.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


def _apply_status(milestone: Milestone, status: str) -> None:
    """Keep ``completed_at`` in step with the status: it says when the work was really done."""
    if status == Milestone.Status.DONE and milestone.completed_at is None:
        milestone.completed_at = timezone.now()
    elif status != Milestone.Status.DONE:
        milestone.completed_at = None
    milestone.status = status


def milestone_create(*, engagement: Engagement, created_by: User, title: str,
                     phase: str = Milestone.Phase.ACTION, description: str = "", due_date: dt.date | None = None,
                     status: str = Milestone.Status.AGREED, consultant_owner: User | None = None,
                     client_owner: Contact | None = None, shared_with_client: bool = True,
                     approval_requested: bool = False) -> Milestone:
    """Add a milestone on the firm's side. One sent for the client's approval is not agreed yet: it
    starts as proposed, and the client's approval makes it agreed."""
    if approval_requested and status == Milestone.Status.AGREED:
        status = Milestone.Status.PROPOSED
    _check_open(engagement)
    milestone = Milestone(engagement=engagement, title=title.strip(), phase=phase, description=description,
                          due_date=due_date, proposed_by=Side.CONSULTANT,
                          consultant_owner=consultant_owner or created_by, client_owner=client_owner,
                          shared_with_client=shared_with_client, approval_requested=approval_requested,
                          created_at=timezone.now())
    _apply_status(milestone, status)
    milestone.full_clean(exclude=["position"])
    with transaction.atomic():
        milestone.position = _next_position(engagement)
        milestone.save()
        engagement_changed.send(sender=Engagement, engagement_id=engagement.pk)
    return milestone


def milestone_propose(*, engagement: Engagement, proposed_by: User, title: str,
                      phase: str = Milestone.Phase.ACTION, description: str = "",
                      due_date: dt.date | None = None) -> Milestone:
    """The client proposes a milestone: it arrives as ``proposed`` for the consultants to agree."""
    _check_open(engagement)
    contact = proposed_by.client_contact
    if contact is None or contact.client_id != engagement.client_id:
        raise ValidationError(_("Only a contact of this client can propose a milestone here."))
    milestone = Milestone(engagement=engagement, title=title.strip(), phase=phase, description=description,
                          due_date=due_date, status=Milestone.Status.PROPOSED, proposed_by=Side.CLIENT,
                          client_owner=contact, shared_with_client=True, created_at=timezone.now())
    milestone.full_clean(exclude=["position"])
    with transaction.atomic():
        milestone.position = _next_position(engagement)
        milestone.save()
        engagement_changed.send(sender=Engagement, engagement_id=engagement.pk)
    return milestone


def milestone_update(*, milestone: Milestone, version: int | None = None, **fields) -> Milestone:
    """Edit a milestone; with ``version``, an edit based on a stale copy raises ``EditConflict``."""
    _check_open(milestone.engagement)
    before = {name: getattr(milestone, name) for name in fields if name in _MILESTONE_FIELDS}
    for name, value in fields.items():
        if name not in _MILESTONE_FIELDS:
            raise TypeError(f"milestone_update() got an unexpected field {name!r}")
        if name == "status":
            _apply_status(milestone, value)
        else:
            setattr(milestone, name, value)
    milestone.full_clean()
    changed = list(fields.keys())
    if "status" in fields:
        changed.append("completed_at")
    with transaction.atomic():
        _save_versioned(milestone, version, [*changed, "updated_at"],
                        changed=[name for name, old in before.items() if getattr(milestone, name) != old])
        engagement_changed.send(sender=Engagement, engagement_id=milestone.engagement_id)
    return milestone


def milestone_set_status(*, milestone: Milestone, status: str, version: int | None = None) -> Milestone:
    """Move a milestone along its board (agreed → in progress → done, or blocked / dropped)."""
    return milestone_update(milestone=milestone, version=version, status=status)


def milestone_reorder(*, engagement: Engagement, milestone_ids: list[int]) -> None:
    """Put the engagement's milestones in the given order; ids of other engagements are refused."""
    _check_open(engagement)
    milestones = list(engagement.milestones.filter(pk__in=milestone_ids))
    if len(milestones) != len(set(milestone_ids)):
        raise ValidationError(_("Some milestones do not belong to this engagement."))
    position = {pk: index for index, pk in enumerate(milestone_ids, start=1)}
    for milestone in milestones:
        milestone.position = position[milestone.pk]
    Milestone.objects.bulk_update(milestones, ["position"])


def milestone_approve(*, milestone: Milestone, approved_by: User) -> Milestone:
    """The client approves a milestone the consultants asked them to approve; approving twice changes nothing."""
    contact = approved_by.client_contact
    if contact is None or contact.client_id != milestone.engagement.client_id or not milestone.shared_with_client:
        raise ValidationError(_("Only a contact of this client can approve this milestone."))
    if milestone.approved_at is not None:
        return milestone
    _check_open(milestone.engagement)
    # Only on request: a client's own proposal is agreed by the consultants, not approved by its author.
    if not milestone.approval_requested:
        raise ValidationError(_("This milestone is not awaiting your approval."))
    milestone.approved_at = timezone.now()
    milestone.approved_by = contact
    milestone.approval_requested = False
    if milestone.status == Milestone.Status.PROPOSED:
        milestone.status = Milestone.Status.AGREED
    with transaction.atomic():
        _save_versioned(milestone, None, ["approved_at", "approved_by", "approval_requested", "status", "updated_at"])
        engagement_changed.send(sender=Engagement, engagement_id=milestone.engagement_id)
    return milestone


def milestone_comment_add(*, milestone: Milestone, author: User, text: str) -> MilestoneComment:
    """Add a comment to a milestone's thread; the side is taken from the author."""
    _check_open(milestone.engagement)
    comment = MilestoneComment(milestone=milestone, author=author, side=_side_of(author), text=text.strip(),
                               created_at=timezone.now())
    comment.full_clean()
    with transaction.atomic():
        comment.save()
        engagement_changed.send(sender=Engagement, engagement_id=milestone.engagement_id)
    return comment


# --- KPIs -----------------------------------------------------------------------------------------

def kpi_create(*, engagement: Engagement, name: str, unit: str = "", target: Decimal | None = None,
               direction: str = KPI.Direction.HIGHER_IS_BETTER, shared_with_client: bool = True) -> KPI:
    """Track a new KPI on an engagement."""
    _check_open(engagement)
    kpi = KPI(engagement=engagement, name=name.strip(), unit=unit, target=target, direction=direction,
              shared_with_client=shared_with_client, created_at=timezone.now())
    kpi.full_clean()
    kpi.save()
    return kpi


def kpi_measurement_record(*, kpi: KPI, date: dt.date, value: Decimal,
                           recorded_by: User | None = None) -> KPIMeasurement:
    """Record a KPI's value on a date; recording the same date again corrects the value."""
    _check_open(kpi.engagement)
    measurement = KPIMeasurement(kpi=kpi, date=date, value=value, recorded_by=recorded_by)
    measurement.full_clean(validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        measurement, _created = KPIMeasurement.objects.update_or_create(
            kpi=kpi, date=date, defaults={"value": value, "recorded_by": recorded_by}
        )
        engagement_changed.send(sender=Engagement, engagement_id=kpi.engagement_id)
    return measurement


def kpi_update(*, kpi: KPI, **fields) -> KPI:
    """Change a KPI's name, unit, target, direction or sharing."""
    _check_open(kpi.engagement)
    allowed = {"name", "unit", "target", "direction", "shared_with_client"}
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(f"kpi_update() got an unexpected field {name!r}")
        setattr(kpi, name, value.strip() if name == "name" else value)
    kpi.full_clean()
    kpi.save()
    return kpi


# --- Planned breaks -------------------------------------------------------------------------------

def planned_break_create(*, engagement: Engagement, user: User | None, starts_on: dt.date, ends_on: dt.date,
                         reason: str, note: str = "") -> PlannedBreak:
    """Mark a planned pause (a holiday, a budget freeze): no cadence flag during it nor one planned
    interval after. Refused on a closed engagement, when it ends before it starts, lasts more than
    ``PlannedBreak.MAX_DAYS`` days or overlaps another break of the engagement."""
    planned = PlannedBreak(engagement=engagement, starts_on=starts_on, ends_on=ends_on, reason=reason,
                           note=note.strip(), created_by=user)
    planned._history_user = user  # the audit trail names the author whichever door the write came by
    planned.full_clean()
    with transaction.atomic():
        # Lock the engagement so two overlapping breaks saved together cannot both pass the check.
        current = Engagement.objects.select_for_update().get(pk=engagement.pk)
        if current.status == Engagement.Status.CLOSED:
            raise ValidationError(_("This engagement is closed; it takes no planned break."))
        overlapping = (PlannedBreak.objects.filter(engagement=engagement, starts_on__lte=ends_on,
                                                   ends_on__gte=starts_on).order_by("starts_on").first())
        if overlapping is not None:
            raise ValidationError({"starts_on": _("This break overlaps the one from %(start)s to %(end)s.")
                                   % {"start": date_format(overlapping.starts_on),
                                      "end": date_format(overlapping.ends_on)}})
        planned.save()
        engagement_changed.send(sender=Engagement, engagement_id=engagement.pk)
    return planned


def planned_break_delete(*, planned_break: PlannedBreak, user: User | None) -> None:
    """Remove a planned break (it was cancelled or entered by mistake); the engagement is rescored."""
    engagement_id = planned_break.engagement_id
    with transaction.atomic():
        # The audit trail names who removed it (simple-history reads the request's user otherwise).
        planned_break._history_user = user
        planned_break.delete()
        engagement_changed.send(sender=Engagement, engagement_id=engagement_id)


# --- Deletions (the API's DELETE; the pages never delete) ------------------------------------------

def session_delete(*, session: Session) -> None:
    """Delete a session logged by mistake; the engagement is rescored."""
    _check_open(session.engagement)
    with transaction.atomic():
        session.delete()
        engagement_changed.send(sender=Engagement, engagement_id=session.engagement_id)


def milestone_delete(*, milestone: Milestone) -> None:
    """Delete a milestone (and its thread); the engagement is rescored."""
    _check_open(milestone.engagement)
    with transaction.atomic():
        milestone.delete()
        engagement_changed.send(sender=Engagement, engagement_id=milestone.engagement_id)


def kpi_delete(*, kpi: KPI) -> None:
    """Stop tracking a KPI, with its measurements."""
    _check_open(kpi.engagement)
    with transaction.atomic():
        kpi.delete()
        engagement_changed.send(sender=Engagement, engagement_id=kpi.engagement_id)


def kpi_measurement_delete(*, measurement: KPIMeasurement) -> None:
    """Delete a KPI value recorded by mistake; the engagement is rescored."""
    _check_open(measurement.kpi.engagement)
    with transaction.atomic():
        measurement.delete()
        engagement_changed.send(sender=Engagement, engagement_id=measurement.kpi.engagement_id)


# --- Client actions from the portal ---------------------------------------------------------------

def _check_client_may_act(milestone: Milestone, user: User) -> Contact:
    """The acting client contact, if ``user`` is a client of this milestone's client and it is shared."""
    contact = user.client_contact
    if contact is None or contact.client_id != milestone.engagement.client_id or not milestone.shared_with_client:
        raise ValidationError(_("Only a contact of this client can act on this milestone."))
    _check_open(milestone.engagement)
    return contact


def milestone_comment_add_once(*, milestone: Milestone, author: User, text: str,
                               within_seconds: int = 30) -> tuple[MilestoneComment, bool]:
    """Add a comment unless the same author just posted the same text there (a double submit).

    Returns ``(comment, created)``. The milestone row is locked while checking, so two copies of
    one request arriving together are serialised and the second gets the first's comment back.
    """
    if _side_of(author) == Side.CLIENT:
        _check_client_may_act(milestone, author)
    with transaction.atomic():
        Milestone.objects.select_for_update().filter(pk=milestone.pk).first()
        recent = (MilestoneComment.objects
                  .filter(milestone=milestone, author=author, text=text.strip(),
                          created_at__gte=timezone.now() - dt.timedelta(seconds=within_seconds))
                  .order_by("-created_at").first())
        if recent is not None:
            return recent, False
        return milestone_comment_add(milestone=milestone, author=author, text=text), True


def milestone_request_changes(*, milestone: Milestone, requested_by: User, comment: str) -> MilestoneComment:
    """The client asks for changes instead of approving: their comment says what should change.

    The approval request is withdrawn (the ball is back with the consultants, who ask again once
    the changes are made) and an agreed or done milestone goes back in progress; a proposed one stays
    proposed. The comment is a client-side event, so the health engine counts the initiative.
    """
    _check_client_may_act(milestone, requested_by)
    if not comment.strip():
        raise ValidationError({"comment": _("Say what should change.")})
    with transaction.atomic():
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if not current.approval_requested or current.approved_at is not None:
            raise ValidationError(_("This milestone is not awaiting your approval."))
        note = milestone_comment_add(milestone=current, author=requested_by, text=comment)
        current.approval_requested = False
        if current.status in (Milestone.Status.AGREED, Milestone.Status.DONE):
            _apply_status(current, Milestone.Status.IN_PROGRESS)
        _save_versioned(current, None, ["approval_requested", "status", "completed_at", "updated_at"])
        engagement_changed.send(sender=Engagement, engagement_id=current.engagement_id)
    for name in ("approval_requested", "status", "completed_at", "version", "updated_at"):
        setattr(milestone, name, getattr(current, name))
    return note


def milestone_complete_by_client(*, milestone: Milestone, user: User, note: str = "") -> Milestone:
    """The client owner marks their milestone done; doing it twice changes nothing.

    A client-side comment records it in the thread (the note, or a plain "Marked as done."), which
    is also how the health engine counts it as client initiative: it has no "completed by" to read.
    """
    contact = _check_client_may_act(milestone, user)
    if milestone.client_owner_id != contact.pk:
        raise ValidationError(_("Only the milestone's client owner can mark it as done."))
    with transaction.atomic():
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if current.status == Milestone.Status.DONE:
            return current
        if current.status == Milestone.Status.DROPPED:
            raise ValidationError(_("This milestone was dropped; it cannot be marked as done."))
        if current.status == Milestone.Status.PROPOSED:
            raise ValidationError(_("This milestone is still a proposal; it cannot be marked as done yet."))
        _apply_status(current, Milestone.Status.DONE)
        _save_versioned(current, None, ["status", "completed_at", "updated_at"])
        milestone_comment_add(milestone=current, author=user, text=note.strip() or _("Marked as done."))
        engagement_changed.send(sender=Engagement, engagement_id=current.engagement_id)
    for name in ("status", "completed_at", "version", "updated_at"):
        setattr(milestone, name, getattr(current, name))
    return current


def milestone_move(*, milestone: Milestone, direction: str) -> None:
    """Move a milestone one place up or down among the milestones of its board column (same phase
    and status), keeping every other milestone's relative order."""
    if direction not in ("up", "down"):
        raise ValidationError(_("A milestone moves up or down."))
    engagement = milestone.engagement
    ordered = list(engagement.milestones.order_by("position", "due_date", "id")
                   .values_list("pk", "phase", "status"))
    column = [pk for pk, phase, status in ordered if (phase, status) == (milestone.phase, milestone.status)]
    index = column.index(milestone.pk)
    neighbour_index = index - 1 if direction == "up" else index + 1
    if not 0 <= neighbour_index < len(column):
        return
    ids = [pk for pk, _phase, _status in ordered]
    a, b = ids.index(milestone.pk), ids.index(column[neighbour_index])
    ids[a], ids[b] = ids[b], ids[a]
    with transaction.atomic():
        milestone_reorder(engagement=engagement, milestone_ids=ids)
