"""What the health engine stores: a daily snapshot per engagement, and the flags it raises.

The numbers come from ``health.scoring``; these models only hold them. See docs/health.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from engagements.models import Engagement


class Mode(models.TextChoices):
    """How the two sides work together (the balance axis)."""

    EXPERT_LED = "expert_led", _("Expert-led")
    CO_PRODUCTION = "co_production", _("Co-production")
    CLIENT_LED = "client_led", _("Client-led")


class State(models.TextChoices):
    """What the conversations are about (the depth axis)."""

    CONSULTATIVE = "consultative", _("Consultative")
    TRANSACTIONAL = "transactional", _("Transactional")


class HealthSnapshot(models.Model):
    """The health of one engagement as of one date, computed from rows dated on or before it.

    Signal values are nullable: a signal without data (no sessions, no feedback yet) is empty,
    and the score is the weighted mean of the components that have data. ``components`` holds,
    per component, its 0–1 value, weight, points and the counts behind it, so a page can explain
    the score line by line.
    """

    # No index of its own: the unique (engagement, date) constraint's index serves engagement lookups.
    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   related_name="health_snapshots", db_index=False)
    date = models.DateField(_("as of"))
    score = models.FloatField(_("score (0–100)"), null=True, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, blank=True)
    depth = models.FloatField(_("depth (consultative share)"), null=True, blank=True)
    balance = models.FloatField(_("balance (client initiative)"), null=True, blank=True)
    advice_rate = models.FloatField(_("advice rate"), null=True, blank=True)
    cadence = models.FloatField(_("cadence (share of planned sessions)"), null=True, blank=True)
    days_since_last_session = models.PositiveIntegerField(_("days since last session"), null=True, blank=True)
    sponsor_presence = models.FloatField(_("sponsor or executive presence"), null=True, blank=True)
    client_rating = models.FloatField(_("mean client rating (1–5)"), null=True, blank=True)
    consultant_rating = models.FloatField(_("mean consultant self-assessment (1–5)"), null=True, blank=True)
    perception_gap = models.FloatField(_("perception gap"), null=True, blank=True)
    delivery = models.FloatField(_("delivery (milestones on time)"), null=True, blank=True)
    components = models.JSONField(_("components"), default=dict, blank=True)
    # The early warnings below a flag: [{"kind": a Flag.Kind value, "since": "YYYY-MM-DD",
    # "evidence": {...}}], empty when nothing is on watch. Watch items never e-mail.
    watch = models.JSONField(_("on watch"), default=list, blank=True)
    algorithm_version = models.PositiveSmallIntegerField(_("algorithm version"))

    class Meta:
        verbose_name = _("health snapshot")
        verbose_name_plural = _("health snapshots")
        ordering = ["engagement", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "date"], name="one_snapshot_per_engagement_and_date"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                                   name="snapshot_score_0_to_100"),
        ]
        # Portfolio pages read "all engagements on one date".
        indexes = [models.Index(fields=["date"], name="snapshot_date")]

    def __str__(self):
        return f"{self.engagement_id} @ {self.date}: {self.score}"


class Flag(models.Model):
    """A warning about one engagement, with the evidence that raised it and what people did about it.

    ``episode_start`` / ``last_seen_on`` / ``episode_ended_on`` track the run of scoring dates on
    which the condition held: a flag a person closed (resolved or dismissed) is not raised again
    until that episode has ended.
    """

    class Kind(models.TextChoices):
        DRIFT_TO_TRANSACTIONAL = "drift_to_transactional", _("Drift to transactional")
        SPONSOR_CHANGE = "sponsor_change", _("Sponsor change")
        CADENCE_DROP = "cadence_drop", _("Cadence drop")
        FEEDBACK_DECLINE = "feedback_decline", _("Feedback decline")
        ONE_SIDED = "one_sided", _("One-sided relationship")
        MILESTONE_SLIPPAGE = "milestone_slippage", _("Milestone slippage")
        PERCEPTION_GAP = "perception_gap", _("Perception gap")

    class Severity(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        SNOOZED = "snoozed", _("Snoozed")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")

    class ActionPlan(models.TextChoices):
        REPAIR = "repair", _("Repair the relationship")
        END = "end", _("End the engagement well")

    # A live flag still asks for attention; at most one per engagement and kind.
    LIVE_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED, Status.SNOOZED)

    # Indexed by the (engagement, kind) index below.
    engagement = models.ForeignKey(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                   related_name="flags", db_index=False)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True,
                                help_text=_("The numbers that raised the flag."))
    raised_on = models.DateField(_("raised on"), help_text=_("The scoring date that raised the flag."))
    episode_start = models.DateField(_("condition holds since"))
    last_seen_on = models.DateField(_("condition last seen on"))
    episode_ended_on = models.DateField(_("condition ended on"), null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="owned_flags")
    action_plan = models.CharField(_("action plan"), max_length=8, choices=ActionPlan.choices, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    snooze_reason = models.TextField(_("snooze reason"), blank=True)
    resolved_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"),
                                    on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolution_note = models.TextField(_("resolution note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    notified_at = models.DateTimeField(
        _("lead and managers e-mailed at"), null=True, blank=True,
        help_text=_("When the notice of a new high-severity flag went out; empty while it is still due."))

    # Who changed what and when (django-simple-history); the e-mail bookkeeping is no one's change.
    history = HistoricalRecords(excluded_fields=["notified_at"])

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-raised_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "kind"],
                condition=Q(status__in=["open", "acknowledged", "snoozed"]),
                name="one_live_flag_per_engagement_and_kind",
                violation_error_message=_("This engagement already has a live flag of this kind."),
            ),
            models.CheckConstraint(condition=~Q(status="snoozed") | Q(snoozed_until__isnull=False),
                                   name="snoozed_flag_has_date"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "acknowledged", "snoozed"]) | Q(resolved_at__isnull=False),
                name="closed_flag_has_resolved_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "severity"], name="flag_status_severity"),
                   models.Index(fields=["engagement", "kind"], name="flag_engagement_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_live(self):
        return self.status in self.LIVE_STATUSES


class PendingRescore(models.Model):
    """A rescore of the engagement is queued and has not started yet.

    Lets saves from several requests share one queued task: only the save that creates the mark
    queues a task; the task deletes the mark before it reads, so a later save queues a new one.
    """

    engagement = models.OneToOneField(Engagement, on_delete=models.CASCADE, primary_key=True,
                                      related_name="+")
    requested_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pending rescore")
        verbose_name_plural = _("pending rescores")

    def __str__(self):
        return f"Rescore of {self.engagement_id} requested at {self.requested_at}"


class FlagEvent(models.Model):
    """One step in a flag's history: who did what to it, when, and what they wrote.

    The flag keeps only its latest state; the card on the engagement page and the flag queue show
    this trail so the people handling a flag can read what was already tried.
    """

    class Action(models.TextChoices):
        RAISED = "raised", _("Raised")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        NOTE = "note", _("Note")
        ASSIGNED = "assigned", _("Assigned")
        SNOOZED = "snoozed", _("Snoozed")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")
        AUTO_RESOLVED = "auto_resolved", _("Resolved automatically")
        REOPENED = "reopened", _("Reopened")

    flag = models.ForeignKey(Flag, verbose_name=_("flag"), on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    note = models.TextField(_("note"), blank=True, max_length=5000)
    # Facts the history line is written from in the reader's language (a snooze's date), rather
    # than frozen into the note in the language of whoever acted.
    until = models.DateField(_("snoozed until"), null=True, blank=True)

    class Meta:
        verbose_name = _("flag event")
        verbose_name_plural = _("flag events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["flag", "created_at"], name="flag_event_flag_created")]

    def __str__(self):
        return f"{self.get_action_display()} on flag {self.flag_id}"


class EngagementHealth(models.Model):
    """The latest figures of one engagement, one row each: what the dashboard lists, sorts and filters.

    Written by the scoring run in the same transaction as the snapshots (one upsert per batch),
    only when the date scored is not older than the row's: a backfill of past dates leaves the
    newest figures in place. The live-flag columns follow the flags (scoring runs and the flag
    services). A copy of the newest snapshot, so the portfolio is a read of one narrow row per
    engagement instead of a search for each one's newest snapshot among a year of them.
    """

    engagement = models.OneToOneField(Engagement, verbose_name=_("engagement"), on_delete=models.CASCADE,
                                      primary_key=True, related_name="latest_health")
    as_of = models.DateField(_("as of"))
    score = models.FloatField(_("score (0–100)"), null=True, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, blank=True)
    depth = models.FloatField(_("depth (consultative share)"), null=True, blank=True)
    balance = models.FloatField(_("balance (client initiative)"), null=True, blank=True)
    days_since_last_session = models.PositiveIntegerField(_("days since last session"), null=True, blank=True)
    score_change_30 = models.FloatField(_("score change over 30 days"), null=True, blank=True,
                                        help_text=_("Against the snapshot 30 days before; empty without one."))
    score_change_90 = models.FloatField(_("score change over 90 days"), null=True, blank=True,
                                        help_text=_("Against the snapshot 90 days before; empty without one."))
    # The newest snapshot's watch items (see HealthSnapshot.watch) and how many there are.
    watch = models.JSONField(_("on watch"), default=list, blank=True)
    watch_count = models.PositiveSmallIntegerField(_("items on watch"), default=0)
    live_flags = models.PositiveIntegerField(_("live flags"), default=0)
    # 0 high, 1 medium, 2 low (sorts most severe first); empty without a live flag.
    worst_flag_severity = models.PositiveSmallIntegerField(_("most severe live flag"), null=True, blank=True)

    class Meta:
        verbose_name = _("engagement health")
        verbose_name_plural = _("engagement health")
        indexes = [models.Index(fields=["score"], name="engagement_health_score"),
                   models.Index(fields=["score_change_30"], name="engagement_health_change_30"),
                   models.Index(fields=["score_change_90"], name="engagement_health_change_90"),
                   models.Index(fields=["state", "score"], name="engagement_health_state_score"),
                   models.Index(fields=["mode", "score"], name="engagement_health_mode_score"),
                   models.Index(fields=["watch_count"], name="engagement_health_watch_count")]

    def __str__(self):
        return f"{self.engagement_id} @ {self.as_of}: {self.score}"
