"""Back-office views of snapshots and flags. The engine owns their numbers, so they are read-only
here; flags change status only through the lifecycle services, never by editing the field."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from health import services
from health.models import Flag, HealthSnapshot


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(admin.ModelAdmin):
    list_display = ["engagement", "date", "score", "mode", "state", "depth", "balance", "cadence", "client_rating",
                    "algorithm_version"]
    list_filter = ["mode", "state", "algorithm_version", "date"]
    search_fields = ["engagement__title", "engagement__client__name"]
    list_select_related = ["engagement__client"]
    date_hierarchy = "date"
    ordering = ["-date", "engagement"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Flag)
class FlagAdmin(SimpleHistoryAdmin):
    list_display = ["engagement", "kind", "severity", "status", "raised_on", "last_seen_on", "owner", "action_plan"]
    list_filter = ["status", "severity", "kind", "action_plan"]
    search_fields = ["engagement__title", "engagement__client__name", "owner__email", "owner__full_name"]
    list_select_related = ["engagement__client", "owner"]
    date_hierarchy = "raised_on"
    raw_id_fields = ["owner"]
    actions = ["acknowledge"]
    fields = ["engagement", "kind", "severity", "status", "evidence", "raised_on", "episode_start", "last_seen_on",
              "episode_ended_on", "owner", "action_plan", "acknowledged_at", "snoozed_until", "snooze_reason",
              "resolved_at", "resolved_by", "resolution_note"]

    def get_readonly_fields(self, request, obj=None):
        # Owner goes through flag_assign in save_model; everything else is the engine's or a service's.
        return [name for name in self.fields if name != "owner"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "owner" in form.changed_data:
            try:
                services.flag_assign(flag=obj, owner=obj.owner)
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)

    @admin.action(description=_("Acknowledge selected flags"))
    def acknowledge(self, request, queryset):
        done = 0
        for flag in queryset.filter(status__in=[Flag.Status.OPEN, Flag.Status.SNOOZED]):
            services.flag_acknowledge(flag=flag, user=request.user)
            done += 1
        self.message_user(request, _("%(count)d flag(s) acknowledged.") % {"count": done}, messages.SUCCESS)
