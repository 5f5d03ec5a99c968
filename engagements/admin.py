from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, MilestoneComment, PlannedBreak, Session


class SessionInline(admin.TabularInline):
    model = Session
    fields = ["start", "duration_minutes", "channel", "focus", "initiated_by", "advice_requested",
              "shared_with_client"]
    extra = 0
    show_change_link = True
    ordering = ["-start"]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fields = ["title", "phase", "status", "due_date", "proposed_by", "shared_with_client"]
    extra = 0
    show_change_link = True


@admin.register(Engagement)
class EngagementAdmin(SimpleHistoryAdmin):
    list_display = ["title", "client", "status", "lead", "start", "end", "planned_cadence_days"]
    list_filter = ["status", "client"]
    search_fields = ["title", "client__name", "lead__full_name"]
    list_select_related = ["client", "lead"]
    autocomplete_fields = ["client", "lead", "team"]
    date_hierarchy = "start"
    inlines = [MilestoneInline, SessionInline]
    fieldsets = [
        (None, {"fields": ["client", "title", "objectives", "status", "lead", "team"]}),
        ("Dates", {"fields": ["start", "end", "planned_cadence_days"]}),
        ("Closure", {"fields": ["closure_reason", "handover_notes", "retrospective", "closed_at"],
                     "classes": ["collapse"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The client is chosen once (engagement_update() refuses a change): moving an engagement
        # would show its milestones and session summaries to another client's users.
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "client"] if obj is not None else readonly


@admin.register(Session)
class SessionAdmin(SimpleHistoryAdmin):
    list_display = ["start", "engagement", "focus", "channel", "duration_minutes", "initiated_by",
                    "advice_requested", "shared_with_client"]
    list_filter = ["focus", "channel", "initiated_by", "advice_requested", "shared_with_client"]
    search_fields = ["engagement__title", "engagement__client__name", "notes"]
    list_select_related = ["engagement__client"]
    autocomplete_fields = ["engagement", "consultants", "client_attendees", "logged_by"]
    date_hierarchy = "start"


class MilestoneCommentInline(admin.TabularInline):
    model = MilestoneComment
    fields = ["created_at", "author", "side", "text"]
    extra = 0


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    list_display = ["title", "engagement", "phase", "status", "due_date", "proposed_by", "shared_with_client",
                    "approved_at"]
    list_filter = ["phase", "status", "proposed_by", "shared_with_client"]
    search_fields = ["title", "engagement__title", "engagement__client__name"]
    list_select_related = ["engagement__client"]
    autocomplete_fields = ["engagement", "consultant_owner", "client_owner", "approved_by"]
    inlines = [MilestoneCommentInline]


@admin.register(MilestoneComment)
class MilestoneCommentAdmin(admin.ModelAdmin):
    list_display = ["milestone", "author", "side", "created_at"]
    list_filter = ["side"]
    search_fields = ["text", "milestone__title"]
    list_select_related = ["milestone", "author"]
    autocomplete_fields = ["milestone", "author"]


class KPIMeasurementInline(admin.TabularInline):
    model = KPIMeasurement
    fields = ["date", "value", "recorded_by"]
    extra = 0


@admin.register(KPI)
class KPIAdmin(admin.ModelAdmin):
    list_display = ["name", "engagement", "unit", "target", "direction", "shared_with_client"]
    list_filter = ["direction", "shared_with_client"]
    search_fields = ["name", "engagement__title"]
    list_select_related = ["engagement__client"]
    autocomplete_fields = ["engagement"]
    inlines = [KPIMeasurementInline]


@admin.register(KPIMeasurement)
class KPIMeasurementAdmin(admin.ModelAdmin):
    list_display = ["kpi", "date", "value"]
    search_fields = ["kpi__name"]
    list_select_related = ["kpi"]
    autocomplete_fields = ["kpi"]
    date_hierarchy = "date"


@admin.register(PlannedBreak)
class PlannedBreakAdmin(SimpleHistoryAdmin):
    list_display = ["engagement", "starts_on", "ends_on", "reason", "created_by"]
    list_filter = ["reason"]
    search_fields = ["engagement__title", "engagement__client__name", "note"]
    list_select_related = ["engagement__client", "created_by"]
    autocomplete_fields = ["engagement", "created_by"]
    date_hierarchy = "starts_on"
