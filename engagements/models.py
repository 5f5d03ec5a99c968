from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clients.models import Client, Contact


class Side(models.TextChoices):
    """Which side of the relationship took an action: the firm or the client."""

    CONSULTANT = "consultant", _("Consultant")
    CLIENT = "client", _("Client")


class Engagement(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CLOSING = "closing", _("Closing")
        CLOSED = "closed", _("Closed")

    class ClosureReason(models.TextChoices):
        COMPLETED = "completed", _("Objectives met")
        CLIENT_ENDED = "client_ended", _("Ended by the client")
        FIRM_ENDED = "firm_ended", _("Ended by us")
        BUDGET = "budget", _("Budget or priorities changed")
        RELATIONSHIP = "relationship", _("Relationship could not be repaired")
        OTHER = "other", _("Other")

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT,
                               related_name="engagements")
    title = models.CharField(_("title"), max_length=200)
    # Text fields are bounded here, so the API, the pages and the admin all refuse the same lengths.
    objectives = models.TextField(_("objectives"), blank=True, max_length=5000, validators=[MaxLengthValidator(5000)])
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("lead consultant"),
                             on_delete=models.PROTECT, related_name="led_engagements")
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("team"), blank=True,
                                  related_name="engagements")
    planned_cadence_days = models.PositiveSmallIntegerField(
        _("planned cadence (days)"), default=14, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("How often we expect to meet the client."),
    )
    closure_reason = models.CharField(_("closure reason"), max_length=16, choices=ClosureReason.choices,
                                      blank=True)
    handover_notes = models.TextField(_("handover notes"), blank=True, max_length=20000,
                                      validators=[MaxLengthValidator(20000)])
    retrospective = models.TextField(_("retrospective"), blank=True, max_length=20000,
                                     validators=[MaxLengthValidator(20000)])
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Who changed what and when (django-simple-history); shown to managers on the engagement page.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["client__name", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                                   name="engagement_end_after_start",
                                   violation_error_message=_("The end date cannot be before the start date.")),
            models.CheckConstraint(condition=Q(planned_cadence_days__gte=1), name="engagement_cadence_positive"),
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(closure_reason=""),
                name="closed_engagement_has_reason",
                violation_error_message=_("A closed engagement needs a closure reason."),
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
        return f"{self.client.name} — {self.title}"


class Session(models.Model):
    """A meeting, workshop, call or video conference with the client."""

    class Channel(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        WORKSHOP = "workshop", _("Workshop")
        CALL = "call", _("Call")
        VIDEO = "video", _("Video")

    class Focus(models.TextChoices):
        STRATEGY = "strategy", _("Strategy")
        POSITIONING = "positioning", _("Positioning")
        ADVISORY = "advisory", _("Advisory")
        CO_CREATION = "co_creation", _("Co-creation")
        KPI_REVIEW = "kpi_review", _("KPI review")
        REPORTING = "reporting", _("Reporting")
        OPERATIONAL = "operational", _("Operational")
        ADMIN = "admin", _("Admin")

    CONSULTATIVE_FOCUSES = (Focus.STRATEGY, Focus.POSITIONING, Focus.ADVISORY, Focus.CO_CREATION)

    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   related_name="sessions")
    start = models.DateTimeField(_("start"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.MEETING)
    focus = models.CharField(_("focus"), max_length=16, choices=Focus.choices)
    initiated_by = models.CharField(_("initiated by"), max_length=16, choices=Side.choices,
                                    default=Side.CONSULTANT)
    consultants = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("consultant attendees"),
                                         blank=True, related_name="attended_sessions")
    client_attendees = models.ManyToManyField(Contact, verbose_name=_("client attendees"), blank=True,
                                              related_name="attended_sessions")
    advice_requested = models.BooleanField(_("the client asked for our view"), default=False)
    notes = models.TextField(_("notes"), blank=True, max_length=20000, validators=[MaxLengthValidator(20000)],
                             help_text=_("Markdown."))
    next_steps = models.TextField(_("next steps"), blank=True, max_length=5000, validators=[MaxLengthValidator(5000)])
    shared_with_client = models.BooleanField(_("shared with the client"), default=False)
    kpis_discussed = models.ManyToManyField("KPI", verbose_name=_("KPIs discussed"), blank=True,
                                            related_name="sessions")
    sentiment = models.PositiveSmallIntegerField(
        _("consultant's sentiment"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("How the session felt, 1 (poor) to 5 (excellent)."),
    )
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("logged by"),
                                  on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="logged_sessions")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Who changed what and when (django-simple-history); shown to managers on the engagement page.
    history = HistoricalRecords(excluded_fields=["version", "updated_at"])

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gte=1), name="session_duration_positive",
                                   violation_error_message=_("The duration must be at least one minute.")),
            models.CheckConstraint(condition=Q(sentiment__isnull=True) | Q(sentiment__gte=1, sentiment__lte=5),
                                   name="session_sentiment_1_to_5"),
        ]
        # Covering: the health engine's nightly aggregates read only these columns, so PostgreSQL
        # answers them from the index without visiting the table (other databases ignore INCLUDE).
        indexes = [models.Index(fields=["engagement", "start"], name="session_engagement_start_incl",
                                include=["id", "duration_minutes", "focus", "initiated_by", "advice_requested"])]

    def __str__(self):
        return f"{self.get_focus_display()} · {self.start:%Y-%m-%d}"

    @property
    def is_consultative(self):
        return self.focus in self.CONSULTATIVE_FOCUSES


class Milestone(models.Model):
    """A co-production milestone, worked on in a reflection or an action phase."""

    class Phase(models.TextChoices):
        REFLECTION = "reflection", _("Reflection")
        ACTION = "action", _("Action")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        AGREED = "agreed", _("Agreed")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        BLOCKED = "blocked", _("Blocked")
        DROPPED = "dropped", _("Dropped")

    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=5000,
                                   validators=[MaxLengthValidator(5000)], help_text=_("Markdown."))
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, default=Phase.ACTION)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.AGREED)
    proposed_by = models.CharField(_("proposed by"), max_length=16, choices=Side.choices,
                                   default=Side.CONSULTANT)
    consultant_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("consultant owner"),
                                         on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="owned_milestones")
    client_owner = models.ForeignKey(Contact, verbose_name=_("client owner"), on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="owned_milestones")
    shared_with_client = models.BooleanField(_("shared with the client"), default=True)
    approval_requested = models.BooleanField(
        _("awaits the client's approval"), default=False,
        help_text=_("Set when the client is asked to approve; cleared when they approve."),
    )
    approved_at = models.DateTimeField(_("approved by the client at"), null=True, blank=True)
    approved_by = models.ForeignKey(Contact, verbose_name=_("approved by"), on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="approved_milestones")
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Who changed what and when (django-simple-history); shown to managers on the engagement page.
    history = HistoricalRecords(excluded_fields=["version", "updated_at"])

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["engagement", "position", "due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(status="done") | Q(completed_at__isnull=False),
                                   name="done_milestone_has_completed_at"),
        ]
        indexes = [
            models.Index(fields=["engagement", "due_date"], name="milestone_engagement_due"),
            models.Index(fields=["engagement", "created_at"], name="milestone_engagement_created"),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        engagement = self.engagement if self.engagement_id else None
        if engagement and self.due_date and self.due_date < engagement.start:
            raise ValidationError(
                {"due_date": _("The due date cannot be before the engagement starts (%(start)s).")
                 % {"start": date_format(engagement.start)}}
            )
        if self.client_owner_id and engagement and self.client_owner.client_id != engagement.client_id:
            raise ValidationError({"client_owner": _("The client owner must be a contact of this client.")})

    @property
    def is_open(self):
        return self.status not in (self.Status.DONE, self.Status.DROPPED)


class MilestoneComment(models.Model):
    milestone = models.ForeignKey(Milestone, verbose_name=_("milestone"), on_delete=models.CASCADE,
                                  related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"),
                               on_delete=models.SET_NULL, null=True, related_name="milestone_comments")
    side = models.CharField(_("side"), max_length=16, choices=Side.choices)
    text = models.TextField(_("comment"), max_length=5000, validators=[MaxLengthValidator(5000)])
    created_at = models.DateTimeField(_("posted at"))

    class Meta:
        verbose_name = _("milestone comment")
        verbose_name_plural = _("milestone comments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["milestone", "created_at"], name="comment_milestone_created")]

    def __str__(self):
        return f"{self.author} on {self.milestone}"


class KPI(models.Model):
    class Direction(models.TextChoices):
        HIGHER_IS_BETTER = "up", _("Higher is better")
        LOWER_IS_BETTER = "down", _("Lower is better")

    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   related_name="kpis")
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2, null=True, blank=True)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices,
                                 default=Direction.HIGHER_IS_BETTER)
    shared_with_client = models.BooleanField(_("shared with the client"), default=True)
    # When the KPI was added: the health engine notices a KPI set that changes after a new sponsor
    # arrives. Empty for KPIs added before this was recorded.
    created_at = models.DateTimeField(_("created at"), default=timezone.now, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        ordering = ["engagement", "name"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "name"], name="kpi_name_unique_per_engagement",
                                    violation_error_message=_("This engagement already has a KPI with this name.")),
        ]

    def __str__(self):
        return self.name


class KPIMeasurement(models.Model):
    kpi = models.ForeignKey(KPI, verbose_name=_("KPI"), on_delete=models.CASCADE, related_name="measurements")
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        verbose_name = _("KPI measurement")
        verbose_name_plural = _("KPI measurements")
        ordering = ["kpi", "date"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "date"], name="one_measurement_per_kpi_and_date",
                                    violation_error_message=_("This KPI already has a value for this date.")),
        ]

    def __str__(self):
        return f"{self.kpi}: {self.value} on {self.date}"


class PlannedBreak(models.Model):
    """A pause in the engagement that both sides planned (a holiday, a budget freeze).

    The health engine raises no cadence flag during a planned break, nor for one planned interval
    after it (the first session back needs time to be booked). See docs/health.md.
    """

    class Reason(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        BUDGET_FREEZE = "budget_freeze", _("Budget freeze")
        CLIENT_REQUEST = "client_request", _("Client request")
        OTHER = "other", _("Other")

    MAX_DAYS = 120

    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   related_name="planned_breaks")
    starts_on = models.DateField(_("first day of the break"))
    ends_on = models.DateField(_("last day of the break"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices, default=Reason.HOLIDAY)
    note = models.TextField(_("note"), blank=True, max_length=500, validators=[MaxLengthValidator(500)])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Who changed what and when (django-simple-history); shown to managers on the engagement page.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("planned break")
        verbose_name_plural = _("planned breaks")
        ordering = ["engagement", "starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="planned_break_ends_after_start",
                                   violation_error_message=_("A break cannot end before it starts.")),
        ]
        indexes = [models.Index(fields=["engagement", "ends_on"], name="planned_break_engagement_end")]

    def __str__(self):
        return f"{self.get_reason_display()} {self.starts_on:%Y-%m-%d}–{self.ends_on:%Y-%m-%d}"

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    def clean(self):
        super().clean()
        if self.starts_on and self.ends_on:
            if self.ends_on < self.starts_on:
                raise ValidationError({"ends_on": _("A break cannot end before it starts.")})
            if self.days > self.MAX_DAYS:
                raise ValidationError({"ends_on": _("A planned break lasts at most %(days)d days; "
                                                    "a longer pause is a paused engagement.")
                                       % {"days": self.MAX_DAYS}})
