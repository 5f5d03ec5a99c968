"""Writes of the client portal.

Invitations are the portal's own rows. Client actions on milestones call the engagement services
(which validate, lock, record the client-side event and queue a rescore after commit) and add the
e-mail to the consultant. Pulses are created by ``feedback.services`` and mailed from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import user_credentials_revoke
from clients.models import Contact
from engagements import services as engagement_services
from engagements.models import Engagement, Milestone, MilestoneComment, Session
from feedback.models import PulseRequest
from feedback.services import pulse_request_create
from portal import notifications
from portal.models import Invitation, MilestoneStatusNotice, NotificationPreference
from portal.tokens import encode_pk, invitation_tokens, pulse_tokens

INVITATION_VALID_DAYS = 7


# --- Invitations ----------------------------------------------------------------------------------

def invitation_link(invitation: Invitation, base_url: str | None = None) -> str:
    token = invitation_tokens.make_token(invitation)
    path = reverse("portal:invitation_accept", args=[encode_pk(invitation.pk), token])
    return notifications.absolute(path, base_url)


def _mail_invitation(invitation: Invitation, base_url: str | None) -> None:
    contact = invitation.contact
    notifications.send_after_commit(
        to=[invitation.email],
        subject=_("%(client)s: your access to our shared workspace") % {"client": contact.client.name},
        template="emails/portal_invitation.txt",
        context={"contact": contact, "invitation": invitation, "url": invitation_link(invitation, base_url),
                 "invited_by": invitation.invited_by, "valid_days": INVITATION_VALID_DAYS},
    )


def invitation_send(*, contact: Contact, invited_by: User, base_url: str | None = None) -> Invitation:
    """Invite a client contact to the portal: an e-mail with a link to set their password."""
    if not contact.active:
        raise ValidationError(_("%(name)s has left the company and cannot be invited.") % {"name": contact.name})
    if contact.user_id and contact.user.is_active:
        raise ValidationError(_("%(name)s already has access to the portal.") % {"name": contact.name})
    if User.objects.filter(email__iexact=contact.email).exclude(pk=contact.user_id).exists():
        raise ValidationError(_("Another account already uses %(email)s.") % {"email": contact.email})
    now = timezone.now()
    invitation = Invitation(contact=contact, email=contact.email, invited_by=invited_by, created_at=now, sent_at=now,
                            expires_at=now + dt.timedelta(days=INVITATION_VALID_DAYS))
    invitation.full_clean()
    with transaction.atomic():
        invitation.save()
        _mail_invitation(invitation, base_url)
    return invitation


def _locked(invitation: Invitation, *related: str) -> Invitation:
    """The invitation re-read and locked; only its own row (PostgreSQL cannot lock an outer join's side)."""
    return Invitation.objects.select_for_update(of=("self",)).select_related(*related).get(pk=invitation.pk)


def invitation_resend(*, invitation: Invitation, base_url: str | None = None) -> Invitation:
    """Send a fresh link (valid another week); the link sent before stops working."""
    with transaction.atomic():
        invitation = _locked(invitation, "contact__client", "invited_by")
        if invitation.accepted_at or invitation.revoked_at:
            raise ValidationError(_("This invitation is closed; send a new one."))
        if not invitation.contact.active:
            raise ValidationError(_("%(name)s has left the company.") % {"name": invitation.contact.name})
        now = timezone.now()
        invitation.email = invitation.contact.email
        invitation.sent_at = now
        invitation.expires_at = now + dt.timedelta(days=INVITATION_VALID_DAYS)
        invitation.send_count += 1
        invitation.save(update_fields=["email", "sent_at", "expires_at", "send_count"])
        _mail_invitation(invitation, base_url)
    return invitation


def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Withdraw an invitation; if it was accepted, the contact's portal access ends too."""
    with transaction.atomic():
        invitation = _locked(invitation, "contact__user")
        if invitation.revoked_at is not None:
            return invitation
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        user = invitation.contact.user
        if invitation.accepted_at is not None and user is not None and user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
    return invitation


def invitation_accept(*, invitation: Invitation, password: str) -> User:
    """The contact follows the link and sets a password: their portal user is created (or reopened)."""
    with transaction.atomic():
        invitation = _locked(invitation, "contact__user")
        state = invitation.state
        if state != Invitation.State.PENDING:
            raise ValidationError(str(LINK_PROBLEMS[state]))
        contact = invitation.contact
        if not contact.active:
            raise ValidationError(str(LINK_PROBLEMS["invalid"]))
        user = contact.user
        reopened = user is not None
        if user is None:
            if User.objects.filter(email__iexact=contact.email).exists():
                raise ValidationError(_("Another account already uses %(email)s.") % {"email": contact.email})
            user = User(email=contact.email, full_name=contact.name)
        user.set_password(password)
        user.is_active = True
        user.full_clean(exclude=["password"])
        user.save()
        if reopened:
            # A new password, as after a reset: what was issued with the old one (API tokens, perhaps
            # by whoever knew it) must not come back to life with the account.
            user_credentials_revoke(user=user)
        if contact.user_id != user.pk:
            contact.user = user
            contact.save(update_fields=["user"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return user


LINK_PROBLEMS = {
    Invitation.State.ACCEPTED: gettext_lazy("This invitation has already been used. Sign in with your e-mail address "
                                 "and the password you chose."),
    Invitation.State.EXPIRED: gettext_lazy("This invitation has expired. Ask your contact at the firm to send "
                                           "a new one."),
    Invitation.State.REVOKED: gettext_lazy("This invitation was withdrawn. Ask your contact at the firm if you "
                                           "need access."),
    "invalid": gettext_lazy("This link is not valid. Check that you copied all of it, or ask for a new one."),
}


# --- Client actions on milestones -----------------------------------------------------------------

def portal_comment_add(*, milestone: Milestone, user: User, text: str,
                       base_url: str | None = None) -> MilestoneComment:
    """A client comments on a shared milestone (a repeat of the same text within seconds is ignored)."""
    with transaction.atomic():
        comment, created = engagement_services.milestone_comment_add_once(milestone=milestone, author=user,
                                                                          text=text)
        if created:  # not the double submit's original
            notifications.client_activity(milestone=milestone, actor=user, action="comment", text=comment.text,
                                          base_url=base_url)
    return comment


def portal_milestone_approve(*, milestone: Milestone, user: User, base_url: str | None = None) -> Milestone:
    """A client approves a milestone that awaits their approval; approving twice changes nothing."""
    if milestone.approved_at is not None:
        return milestone
    try:
        with transaction.atomic():
            engagement_services.milestone_approve(milestone=milestone, approved_by=user)
            notifications.client_activity(milestone=milestone, actor=user, action="approve", base_url=base_url)
    except engagement_services.EditConflict as conflict:
        # Changed since the page was loaded: fine if it was this very approval arriving twice.
        if conflict.current.approved_at is None:
            raise ValidationError(_("Someone else changed this milestone in the meantime. Please check it again.")) \
                from None
        return conflict.current
    return milestone


def portal_milestone_request_changes(*, milestone: Milestone, user: User, comment: str,
                                     base_url: str | None = None) -> MilestoneComment:
    """A client asks for changes on a milestone awaiting approval, saying what should change."""
    with transaction.atomic():
        note = engagement_services.milestone_request_changes(milestone=milestone, requested_by=user, comment=comment)
        _note_status_told(milestone)
        notifications.client_activity(milestone=milestone, actor=user, action="request_changes", text=note.text,
                                      base_url=base_url)
    return note


def portal_milestone_propose(*, engagement: Engagement, user: User, title: str, phase: str, description: str = "",
                             due_date: dt.date | None = None, base_url: str | None = None) -> Milestone:
    """A client proposes a milestone; it arrives as ``proposed`` for the consultants to agree."""
    with transaction.atomic():
        milestone = engagement_services.milestone_propose(engagement=engagement, proposed_by=user, title=title,
                                                          phase=phase, description=description, due_date=due_date)
        _note_status_told(milestone)
        notifications.client_activity(milestone=milestone, actor=user, action="propose", text=description,
                                      base_url=base_url)
    return milestone


def portal_milestone_complete(*, milestone: Milestone, user: User, note: str = "",
                              base_url: str | None = None) -> Milestone:
    """The client owner marks a milestone done; the consultant is told."""
    with transaction.atomic():
        already_done = milestone.status == Milestone.Status.DONE
        engagement_services.milestone_complete_by_client(milestone=milestone, user=user, note=note)
        if not already_done:
            _note_status_told(milestone)
            notifications.client_activity(milestone=milestone, actor=user, action="complete", text=note,
                                          base_url=base_url)
    return milestone


def _note_status_told(milestone: Milestone) -> None:
    """The client made this status themselves: no need to e-mail the client about it."""
    MilestoneStatusNotice.objects.update_or_create(milestone_id=milestone.pk,
                                                   defaults={"status": milestone.status, "noted_at": timezone.now()})


# --- Pulses ---------------------------------------------------------------------------------------

def pulse_link(pulse: PulseRequest, base_url: str | None = None) -> str:
    path = reverse("portal:pulse_link", args=[encode_pk(pulse.pk), pulse_tokens.make_token(pulse)])
    return notifications.absolute(path, base_url)


def pulse_send(*, engagement: Engagement, contacts: Iterable[Contact], requested_by: User | None,
               session: Session | None = None, base_url: str | None = None) -> list[PulseRequest]:
    """Ask each contact for a short pulse: one request each, e-mailed with a single-use link."""
    contacts = list(contacts)
    if not contacts:
        raise ValidationError({"contacts": _("Choose at least one contact.")})
    pulses = []
    # A contact who signs in to the portal and chose a language is asked in it (one query).
    languages = dict(User.objects.filter(contact__in=contacts).exclude(language="")
                     .values_list("contact", "language"))
    with transaction.atomic():
        for contact in contacts:
            pulse = pulse_request_create(engagement=engagement, contact=contact, requested_by=requested_by,
                                         session=session)
            pulses.append(pulse)
            with translation.override(languages.get(contact.pk, translation.get_language())):
                notifications.send_after_commit(
                    to=[contact.email],
                    subject=_("Two minutes on our collaboration: %(engagement)s") % {"engagement": engagement.title},
                    template="emails/portal_pulse.txt",
                    context={"contact": contact, "engagement": engagement, "session": session, "pulse": pulse,
                             "requested_by": requested_by, "url": pulse_link(pulse, base_url)},
                )
    return pulses


# --- Preferences ----------------------------------------------------------------------------------

def notification_preference_set(*, user: User, email_enabled: bool) -> NotificationPreference:
    """Turn the portal's e-mail notifications on or off for one person."""
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_enabled": email_enabled})
    return preference
