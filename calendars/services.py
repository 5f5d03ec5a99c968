"""Writes of the calendar import: reading a calendar into meetings to confirm, confirming them as
sessions, ignoring them, following the calendar's later changes, and the subscribed feeds.

Import is set-based: whatever the calendar's size, a constant number of queries (the consultant's
engagements, contacts and colleagues; the meetings already known; bulk inserts and updates), all in
one transaction, so a file that fails half-way leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from calendars import fetch
from calendars.ics import CalendarFileError, Occurrence, parse_calendar
from calendars.models import CalendarFeed, CalendarMeeting
from calendars.suggest import suggest_channel, suggest_focus
from clients.models import Client, Contact
from engagements.models import Engagement, Session, Side
from engagements.services import session_log, session_update
from engagements.signals import engagement_changed

logger = logging.getLogger(__name__)

State = CalendarMeeting.State
Review = CalendarMeeting.Review
MAX_FEEDS_PER_OWNER = 5
MAX_BACKOFF = dt.timedelta(hours=24)


@dataclass
class ImportSummary:
    """What one import did, for the page's message and the API's answer."""

    events: int = 0            # timed occurrences in the window
    matched: int = 0           # of those, meetings with someone from a client
    created: int = 0
    updated: int = 0           # moved, lengthened, renamed… (waiting ones updated in place)
    cancelled: int = 0         # meetings to confirm removed (cancelled, declined or gone)
    to_review: int = 0         # confirmed sessions whose meeting changed or was cancelled
    unchanged: int = 0
    skipped_all_day: int = 0
    skipped_unreadable: int = 0
    skipped_declined: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def calendar_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The span a calendar is read over: the last CALENDAR_PAST_DAYS and the next CALENDAR_FUTURE_DAYS."""
    return (now - dt.timedelta(days=settings.CALENDAR_PAST_DAYS),
            now + dt.timedelta(days=settings.CALENDAR_FUTURE_DAYS))


# --- Matching events to the consultant's clients --------------------------------------------------

@dataclass
class _Match:
    occurrence: Occurrence
    candidates: list[Engagement]
    contacts: list[Contact]
    consultants: list[User]
    engagement: Engagement | None = None
    key: str = ""


@dataclass
class _Matcher:
    """Everything needed to match a calendar to one consultant's clients, loaded in a few queries."""

    owner: User
    by_client: dict[int, list[Engagement]] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    domains: dict[str, set[int]] = field(default_factory=dict)
    staff: dict[str, User] = field(default_factory=dict)

    @classmethod
    def load(cls, owner: User, emails: set[str]) -> _Matcher:
        matcher = cls(owner=owner)
        # The engagements the consultant is staffed on (a manager too: their own, not the portfolio).
        engagements = (Engagement.objects.filter(Q(lead=owner) | Q(team=owner))
                       .exclude(status=Engagement.Status.CLOSED).select_related("client").distinct()
                       .order_by("client__name", "title", "pk"))
        for engagement in engagements:
            matcher.by_client.setdefault(engagement.client_id, []).append(engagement)
        client_ids = list(matcher.by_client)
        for contact in Contact.objects.filter(client_id__in=client_ids, email__in=emails).order_by("-active", "pk"):
            matcher.contacts.setdefault(contact.email.lower(), contact)
        for client in Client.objects.filter(pk__in=client_ids).exclude(email_domains=""):
            for domain in client.domain_list:
                matcher.domains.setdefault(domain, set()).add(client.pk)
        staff = User.objects.filter(Q(is_consultant=True) | Q(is_manager=True), is_active=True, email__in=emails)
        matcher.staff = {user.email.lower(): user for user in staff}
        return matcher

    def match(self, occurrence: Occurrence) -> _Match | None:
        """The engagements, client attendees and colleagues of an event; None if no client attends."""
        emails = occurrence.emails - {self.owner.email.lower()}
        contacts = sorted((self.contacts[e] for e in emails if e in self.contacts), key=lambda c: c.pk)
        client_ids = {contact.client_id for contact in contacts}
        if not client_ids:  # failing a known contact, an address at a client's registered domain
            for email in emails:
                client_ids |= self.domains.get(email.rpartition("@")[2], set())
        if not client_ids:
            return None
        candidates = [e for client_id in sorted(client_ids) for e in self.by_client.get(client_id, [])]
        day = timezone.localtime(occurrence.start).date()
        running = [e for e in candidates if e.start <= day and (e.end is None or day <= e.end)]
        candidates = running or candidates
        consultants = sorted((self.staff[e] for e in emails if e in self.staff), key=lambda u: u.pk)
        match = _Match(occurrence=occurrence, candidates=candidates, contacts=contacts, consultants=consultants,
                       engagement=candidates[0] if len(candidates) == 1 else None)
        raw = "|".join([",".join(sorted(occurrence.emails)), ",".join(str(e.pk) for e in candidates),
                        ",".join(str(c.pk) for c in contacts), ",".join(str(u.pk) for u in consultants)])
        match.key = hashlib.sha256(raw.encode()).hexdigest()
        return match


def _duration(occurrence: Occurrence) -> int:
    minutes = round((occurrence.end - occurrence.start).total_seconds() / 60)
    # An event without an end (DTSTART only) lasts no time by the RFC; half an hour is the better guess.
    return 30 if minutes < 1 else min(minutes, 24 * 60)


# --- Import ---------------------------------------------------------------------------------------

def calendar_import(*, owner: User, data: bytes, feed: CalendarFeed | None = None,
                    now: dt.datetime | None = None) -> ImportSummary:
    """Read an .ics calendar into the owner's meetings to confirm; all or nothing.

    From a feed, a meeting that is no longer in it (within the window) counts as cancelled; an
    uploaded file may be a partial export, so there only an explicit cancellation counts.
    """
    if not owner.is_firm_staff:
        raise ValidationError(_("Only consultants and managers can import a calendar."))
    if len(data) > settings.CALENDAR_MAX_BYTES:
        raise ValidationError(_("The calendar is larger than %(size)s MB, the most we read.")
                              % {"size": settings.CALENDAR_MAX_BYTES // (1024 * 1024)})
    now = now or timezone.now()
    window_start, window_end = calendar_window(now)
    try:
        parsed = parse_calendar(data, window_start=window_start, window_end=window_end,
                                default_tz=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    except CalendarFileError as error:
        raise ValidationError(str(error)) from None
    summary = ImportSummary(events=len(parsed.occurrences), skipped_all_day=parsed.skipped_all_day,
                            skipped_unreadable=parsed.skipped_unreadable)
    owner_email = owner.email.lower()
    emails = {email for occurrence in parsed.occurrences for email in occurrence.emails}
    matcher = _Matcher.load(owner, emails)
    matches: dict[str, _Match] = {}
    withdrawn: set[str] = set()   # cancelled or declined: their meeting to confirm goes away
    for occurrence in parsed.occurrences:
        declined = occurrence.partstat_of(owner_email) == "DECLINED"
        if occurrence.cancelled or declined:
            withdrawn.add(occurrence.identity)
            summary.skipped_declined += declined and not occurrence.cancelled
            continue
        match = matcher.match(occurrence)
        if match is not None:
            matches[occurrence.identity] = match
    summary.matched = len(matches)
    with transaction.atomic():
        _apply(owner=owner, feed=feed, matches=matches, withdrawn=withdrawn, summary=summary,
               window=(window_start, window_end))
    return summary


_UPDATABLE = ["title", "description", "location", "start", "duration_minutes", "attendee_emails", "state",
              "review", "engagement", "suggested_focus", "suggested_channel", "feed", "match_key",
              "cancellation_kept", "updated_at"]


def _meeting_values(match: _Match) -> dict:
    occurrence = match.occurrence
    return {
        "title": occurrence.title, "description": occurrence.description, "location": occurrence.location,
        "start": occurrence.start, "duration_minutes": _duration(occurrence),
        "attendee_emails": sorted(occurrence.emails),
        "suggested_focus": suggest_focus(occurrence.title, occurrence.description),
        "suggested_channel": suggest_channel(occurrence.title, occurrence.description, occurrence.location),
    }


def _apply(*, owner, feed, matches: dict[str, _Match], withdrawn: set[str], summary: ImportSummary, window):
    identities = set(matches) | withdrawn
    existing = {m.identity: m for m in CalendarMeeting.objects.filter(owner=owner, identity__in=identities)}
    if feed is not None:
        # Gone from the feed: the feed's meetings in the window that it no longer holds.
        gone = (CalendarMeeting.objects.filter(owner=owner, feed=feed, start__gte=window[0], start__lt=window[1],
                                               state__in=[State.WAITING, State.CONFIRMED])
                .exclude(identity__in=identities))
        for meeting in gone:
            existing[meeting.identity] = meeting
            withdrawn.add(meeting.identity)
    now = timezone.now()
    to_create, to_update, rematch = [], [], []
    for identity in withdrawn:
        meeting = existing.get(identity)
        if meeting is None:
            continue
        if meeting.state == State.WAITING:
            meeting.state = State.CANCELLED
            summary.cancelled += 1
        elif (meeting.state == State.CONFIRMED and meeting.review != Review.CANCELLED
              and not meeting.cancellation_kept):
            meeting.review = Review.CANCELLED
            summary.to_review += 1
        else:
            continue
        meeting.updated_at = now
        to_update.append(meeting)
    for identity, match in matches.items():
        values = _meeting_values(match)
        meeting = existing.get(identity)
        if meeting is None:
            meeting = CalendarMeeting(owner=owner, feed=feed, identity=identity, uid=match.occurrence.uid,
                                      recurrence_key=match.occurrence.recurrence_key, engagement=match.engagement,
                                      match_key=match.key, **values)
            to_create.append((meeting, match))
            continue
        changed = any(getattr(meeting, name) != value for name, value in values.items())
        if meeting.state == State.CANCELLED:  # the event is on again
            meeting.state = State.WAITING
            changed = True
        if meeting.state == State.CONFIRMED:
            if meeting.cancellation_kept:  # the event is on again: a later cancellation is news
                meeting.cancellation_kept = False
                changed = True
            moved = (values["start"], values["duration_minutes"]) != (meeting.confirmed_start,
                                                                      meeting.confirmed_duration_minutes)
            review = Review.CHANGED if moved else Review.NONE
            if review != meeting.review:
                summary.to_review += review != Review.NONE
                meeting.review = review
                changed = True
        elif meeting.match_key != match.key:
            meeting.match_key = match.key
            if meeting.engagement_id is None or meeting.engagement not in match.candidates:
                meeting.engagement = match.engagement
            rematch.append((meeting, match))
            changed = True
        if feed is not None and meeting.feed_id != feed.pk:
            meeting.feed = feed
            changed = True
        if not changed:
            summary.unchanged += 1
            continue
        for name, value in values.items():
            setattr(meeting, name, value)
        meeting.updated_at = now
        to_update.append(meeting)
        summary.updated += 1
    if to_update:
        CalendarMeeting.objects.bulk_update(to_update, _UPDATABLE, batch_size=500)
    if to_create:
        CalendarMeeting.objects.bulk_create([meeting for meeting, _match in to_create], batch_size=500)
        summary.created = len(to_create)
    _write_attendance([*to_create, *rematch], replace=[meeting.pk for meeting, _match in rematch])


def _write_attendance(pairs: Iterable[tuple[CalendarMeeting, _Match]], *, replace: list[int]) -> None:
    """The engagements that fit, client attendees and colleagues of new or re-matched meetings."""
    relations = [(CalendarMeeting.candidate_engagements.through, "engagement_id", "candidates"),
                 (CalendarMeeting.contacts.through, "contact_id", "contacts"),
                 (CalendarMeeting.consultants.through, "user_id", "consultants")]
    pairs = list(pairs)
    for through, column, attribute in relations:
        if replace:
            through.objects.filter(calendarmeeting_id__in=replace).delete()
        rows = [through(calendarmeeting_id=meeting.pk, **{column: item.pk})
                for meeting, match in pairs for item in getattr(match, attribute)]
        through.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


# --- The consultant's answers ---------------------------------------------------------------------

def _locked(meeting: CalendarMeeting, user: User) -> CalendarMeeting:
    current = CalendarMeeting.objects.select_for_update().filter(pk=meeting.pk, owner=user).first()
    if current is None:
        raise ValidationError(_("This meeting is not in your calendar."))
    return current


def meeting_confirm(*, meeting: CalendarMeeting, user: User, focus: str, engagement: Engagement | None = None,
                    channel: str = "", initiated_by: str = Side.CONSULTANT, advice_requested: bool = False,
                    now: dt.datetime | None = None) -> Session:
    """Turn a meeting to confirm into a session, through the same service as the session form."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(meeting, user)
        if current.state != State.WAITING:
            raise ValidationError(_("This meeting is no longer waiting to be confirmed."))
        if current.start > now:
            raise ValidationError(_("This meeting has not taken place yet: confirm it once it has."))
        candidates = {e.pk: e for e in current.candidate_engagements.select_related("client")
                      .exclude(status=Engagement.Status.CLOSED).filter(Q(lead=user) | Q(team=user)).distinct()}
        chosen = engagement.pk if engagement is not None else current.engagement_id
        if chosen is None and len(candidates) == 1:
            chosen = next(iter(candidates))
        if chosen is None:
            raise ValidationError({"engagement": _("Choose the engagement this meeting belongs to.")})
        if chosen not in candidates:
            raise ValidationError({"engagement": _("This meeting cannot be confirmed on that engagement.")})
        if not focus:
            raise ValidationError({"focus": _("Choose what the meeting was about.")})
        target = candidates[chosen]
        contacts = [c for c in current.contacts.all() if c.client_id == target.client_id]
        consultants = {u.pk: u for u in current.consultants.all()}
        consultants[user.pk] = user
        session = session_log(engagement=target, logged_by=user, start=current.start,
                              duration_minutes=current.duration_minutes, focus=focus,
                              channel=channel or current.suggested_channel, initiated_by=initiated_by,
                              advice_requested=advice_requested, client_attendees=contacts,
                              consultants=list(consultants.values()))
        current.state = State.CONFIRMED
        current.session = session
        current.engagement = target
        current.review = Review.NONE
        current.confirmed_start = current.start
        current.confirmed_duration_minutes = current.duration_minutes
        current.save(update_fields=["state", "session", "engagement", "review", "confirmed_start",
                                    "confirmed_duration_minutes", "updated_at"])
    meeting.refresh_from_db()
    return session


def meetings_confirm(*, user: User, choices: list[dict], now: dt.datetime | None = None) -> list[Session]:
    """Confirm several meetings at once, all or none: ``choices`` holds, per meeting, ``meeting``,
    ``focus`` and optionally ``engagement``, ``channel``, ``initiated_by``, ``advice_requested``.

    A refusal names the meeting: ``ValidationError({meeting_pk: [message]})``.
    """
    if not choices:
        raise ValidationError(_("Select at least one meeting to confirm."))
    errors, sessions = {}, []
    with transaction.atomic():
        for choice in choices:
            options = dict(choice)
            meeting = options.pop("meeting")
            try:
                with transaction.atomic():
                    sessions.append(meeting_confirm(meeting=meeting, user=user, now=now, **options))
            except ValidationError as error:
                errors[str(meeting.pk)] = error.messages
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(errors)
    return sessions


def meeting_ignore(*, meeting: CalendarMeeting, user: User) -> CalendarMeeting:
    """Not a client session after all: hide it, and keep it hidden on every later import."""
    with transaction.atomic():
        current = _locked(meeting, user)
        if current.state != State.WAITING:
            raise ValidationError(_("Only a meeting waiting to be confirmed can be ignored."))
        current.state = State.IGNORED
        current.save(update_fields=["state", "updated_at"])
    return current


def meeting_restore(*, meeting: CalendarMeeting, user: User) -> CalendarMeeting:
    """Undo an ignore: the meeting waits to be confirmed again."""
    with transaction.atomic():
        current = _locked(meeting, user)
        if current.state != State.IGNORED:
            raise ValidationError(_("This meeting is not ignored."))
        current.state = State.WAITING
        current.save(update_fields=["state", "updated_at"])
    return current


def meeting_apply_change(*, meeting: CalendarMeeting, user: User) -> CalendarMeeting:
    """Move the confirmed session to the meeting's new time and length, as the calendar now says."""
    with transaction.atomic():
        current = _locked(meeting, user)
        if current.review != Review.CHANGED:
            raise ValidationError(_("There is no calendar change to apply to this session."))
        if current.session_id is not None:
            session = Session.objects.select_related("engagement").get(pk=current.session_id)
            session_update(session=session, start=current.start, duration_minutes=current.duration_minutes)
        current.review = Review.NONE
        current.confirmed_start = current.start
        current.confirmed_duration_minutes = current.duration_minutes
        current.save(update_fields=["review", "confirmed_start", "confirmed_duration_minutes", "updated_at"])
    return current


def meeting_keep_session(*, meeting: CalendarMeeting, user: User) -> CalendarMeeting:
    """Leave the confirmed session as it is despite the calendar's change or cancellation."""
    with transaction.atomic():
        current = _locked(meeting, user)
        if not current.review:
            raise ValidationError(_("There is nothing to review on this meeting."))
        # Remember what was seen, so the same change or cancellation is not raised again on the next import.
        if current.review == Review.CHANGED:
            current.confirmed_start = current.start
            current.confirmed_duration_minutes = current.duration_minutes
        else:
            current.cancellation_kept = True
        current.review = Review.NONE
        current.save(update_fields=["review", "confirmed_start", "confirmed_duration_minutes", "cancellation_kept",
                                    "updated_at"])
    return current


def meeting_remove_session(*, meeting: CalendarMeeting, user: User) -> CalendarMeeting:
    """The meeting was cancelled and did not take place: delete its session, at the consultant's request."""
    with transaction.atomic():
        current = _locked(meeting, user)
        if current.review != Review.CANCELLED:
            raise ValidationError(_("Only the session of a meeting cancelled in the calendar can be removed here."))
        if current.session_id is not None:
            engagement_id = current.session.engagement_id
            current.session.delete()
            engagement_changed.send(sender=Engagement, engagement_id=engagement_id)
        current.session = None
        current.state = State.CANCELLED
        current.review = Review.NONE
        current.save(update_fields=["session", "state", "review", "updated_at"])
    return current


# --- Feeds ----------------------------------------------------------------------------------------

def feed_create(*, owner: User, url: str, name: str = "") -> CalendarFeed:
    """Subscribe to a calendar by its private address; it is due for reading at once."""
    if not owner.is_firm_staff:
        raise ValidationError(_("Only consultants and managers can subscribe to a calendar."))
    url = fetch.normalise_url(url)
    if len(url) > 2000:
        raise ValidationError({"url": _("This address is too long.")})
    try:
        fetch.check_url_shape(url)
    except fetch.FeedError as error:
        raise ValidationError({"url": str(error)}) from None
    if CalendarFeed.objects.filter(owner=owner).count() >= MAX_FEEDS_PER_OWNER:
        raise ValidationError(_("You can subscribe to at most %(count)s calendars.") % {"count": MAX_FEEDS_PER_OWNER})
    if CalendarFeed.objects.filter(owner=owner, url=url).exists():
        raise ValidationError(_("You already subscribe to this calendar."))
    # Due at once: the scheduler reads it within minutes (the page reads it right away).
    feed = CalendarFeed(owner=owner, url=url, name=name.strip()[:100], next_poll_at=timezone.now())
    feed.full_clean()
    feed.save()
    return feed


def feed_delete(*, feed: CalendarFeed) -> None:
    """Unsubscribe. Meetings already imported stay (confirmed ones are sessions; waiting ones can still
    be confirmed or ignored)."""
    feed.delete()


def feed_poll(*, feed_id: int, now: dt.datetime | None = None, force: bool = False) -> ImportSummary | None:
    """Read one feed if it is due (or ``force``): conditional GET, import, and the next poll's time.

    Two runners cannot read the same feed at once: the poll is claimed by moving ``next_poll_at``
    with a conditional update first. Errors are recorded on the feed (shown to its owner) and put
    the next poll further away each time; the address itself is never logged.
    """
    now = now or timezone.now()
    feed = CalendarFeed.objects.select_related("owner").filter(pk=feed_id).first()
    if feed is None:
        return None
    due = Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    claim = CalendarFeed.objects.filter(pk=feed.pk, next_poll_at=feed.next_poll_at)
    if not force:
        claim = claim.filter(due)
    # A poll in progress holds the claim for the fetch timeout plus a margin.
    if not claim.update(next_poll_at=now + dt.timedelta(seconds=settings.CALENDAR_FETCH_TIMEOUT * 4)):
        return None
    try:
        result = fetch.fetch_feed(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        summary = ImportSummary() if result.not_modified else calendar_import(owner=feed.owner, data=result.body,
                                                                              feed=feed, now=now)
    except (fetch.FeedError, ValidationError) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        feed.failure_count += 1
        backoff = dt.timedelta(minutes=settings.CALENDAR_POLL_MINUTES) * (2 ** min(feed.failure_count, 6))
        CalendarFeed.objects.filter(pk=feed.pk).update(
            last_polled_at=now, last_error=message[:500], failure_count=feed.failure_count,
            next_poll_at=now + min(backoff, MAX_BACKOFF))
        logger.info("calendar feed %s failed (%s in a row)", feed.pk, feed.failure_count)
        return None
    updates = {"last_polled_at": now, "last_success_at": now, "last_error": "", "failure_count": 0,
               "next_poll_at": now + dt.timedelta(minutes=settings.CALENDAR_POLL_MINUTES)}
    if not result.not_modified:
        updates.update(etag=result.etag[:500], last_modified=result.last_modified[:100])
    CalendarFeed.objects.filter(pk=feed.pk).update(**updates)
    return summary


def feed_poll_now(*, feed: CalendarFeed) -> ImportSummary | None:
    """Read the feed now, at its owner's request."""
    return feed_poll(feed_id=feed.pk, force=True)
