"""A consultant's calendars and the client meetings found in them, waiting to become sessions.

A meeting to confirm is *not* a session: the health engine reads sessions only, so nothing here
counts until the consultant confirms it (``calendars.services.meeting_confirm`` then logs a
normal session through ``engagements.services.session_log``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clients.models import Contact
from engagements.models import Engagement, Session


class CalendarFeed(models.Model):
    """A calendar a consultant subscribed to by its private ICS address, polled by Celery beat."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
                              related_name="calendar_feeds")
    name = models.CharField(_("name"), max_length=100, blank=True)
    # A secret (whoever has it reads the calendar): never logged, shown back masked, to its owner only.
    url = models.TextField(_("address"), max_length=2000)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    next_poll_at = models.DateTimeField(_("next poll at"), null=True, blank=True)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar subscription")
        verbose_name_plural = _("calendar subscriptions")
        ordering = ["owner", "created_at", "id"]
        indexes = [models.Index(fields=["next_poll_at"], name="calendarfeed_next_poll")]

    def __str__(self):
        return self.name or self.masked_url

    @property
    def masked_url(self) -> str:
        """The address with its secret part hidden: scheme, host and the last four characters."""
        from calendars.fetch import mask_url  # fetch imports nothing from models; keep models light

        return mask_url(self.url)


class CalendarMeetingQuerySet(models.QuerySet):
    def with_choices(self):
        """With what a meeting to confirm shows: its engagement and session, its feed, the open
        engagements it could belong to, its contacts and consultants (for the page and the API)."""
        candidates = Engagement.objects.select_related("client").exclude(status=Engagement.Status.CLOSED)
        return (self.select_related("engagement__client", "session", "feed")
                .prefetch_related(models.Prefetch("candidate_engagements", queryset=candidates.order_by("title")),
                                  "contacts", "consultants"))


class CalendarMeeting(models.Model):
    """One occurrence of a calendar event with a client attendee: a meeting to confirm.

    Identity is the event's UID plus RECURRENCE-ID (``identity`` is their hash), per owner, so
    importing the same calendar again, by file or feed, updates rather than duplicates.
    """

    class State(models.TextChoices):
        WAITING = "waiting", _("To confirm")
        CONFIRMED = "confirmed", _("Confirmed")
        IGNORED = "ignored", _("Ignored")
        CANCELLED = "cancelled", _("Cancelled")

    class Review(models.TextChoices):
        NONE = "", _("Nothing to review")
        CHANGED = "changed", _("Changed in the calendar")
        CANCELLED = "cancelled", _("Cancelled in the calendar")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
                              related_name="calendar_meetings")
    feed = models.ForeignKey(CalendarFeed, verbose_name=_("calendar subscription"), on_delete=models.SET_NULL,
                             null=True, blank=True, related_name="meetings",
                             help_text=_("Empty when the meeting came from an uploaded file."))
    identity = models.CharField(max_length=64)
    uid = models.TextField(_("event UID"), max_length=1000)
    recurrence_key = models.CharField(max_length=32, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    location = models.CharField(_("location"), max_length=300, blank=True)
    start = models.DateTimeField(_("start"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    attendee_emails = models.JSONField(default=list, blank=True)
    # A hash of what the match was made from (attendees, engagements that fit): re-matched when it moves.
    match_key = models.CharField(max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.WAITING)
    review = models.CharField(_("to review"), max_length=16, choices=Review.choices, blank=True, default="")
    # When several of the consultant's engagements fit (same client), the consultant picks one.
    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   null=True, blank=True, related_name="calendar_meetings")
    candidate_engagements = models.ManyToManyField(Engagement, verbose_name=_("engagements that fit"),
                                                   related_name="candidate_calendar_meetings")
    contacts = models.ManyToManyField(Contact, verbose_name=_("client attendees"), blank=True,
                                      related_name="calendar_meetings")
    consultants = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("consultant attendees"),
                                         blank=True, related_name="attended_calendar_meetings")
    suggested_focus = models.CharField(_("suggested focus"), max_length=16, choices=Session.Focus.choices,
                                       blank=True)
    suggested_channel = models.CharField(_("suggested channel"), max_length=16, choices=Session.Channel.choices,
                                         default=Session.Channel.MEETING)
    session = models.OneToOneField(Session, verbose_name=_("session"), on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="calendar_meeting")
    # What the session was confirmed with, to tell the consultant what a later calendar change would move.
    confirmed_start = models.DateTimeField(null=True, blank=True)
    confirmed_duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    # The consultant kept the session although the calendar cancelled the meeting: not raised again.
    cancellation_kept = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CalendarMeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting to confirm")
        verbose_name_plural = _("meetings to confirm")
        ordering = ["-start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "identity"], name="calendar_meeting_identity_per_owner"),
            models.CheckConstraint(condition=Q(duration_minutes__gte=1), name="calendar_meeting_duration_positive"),
            models.CheckConstraint(condition=~Q(state="confirmed") | Q(engagement__isnull=False),
                                   name="confirmed_meeting_has_engagement"),
        ]
        indexes = [models.Index(fields=["owner", "state", "start"], name="calendar_meeting_inbox")]

    def __str__(self):
        return f"{self.title or '—'} · {self.start:%Y-%m-%d %H:%M}"

    @property
    def end(self):
        import datetime as dt

        return self.start + dt.timedelta(minutes=self.duration_minutes)
