from django.contrib import admin

from portal.models import Invitation, MilestoneStatusNotice, NotificationPreference


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "contact", "invited_by", "sent_at", "expires_at", "accepted_at", "revoked_at")
    list_select_related = ("contact__client", "invited_by")
    search_fields = ("email", "contact__name", "contact__client__name")
    # Invitations change through the staff pages (portal.services), which send the e-mails.
    readonly_fields = ("contact", "email", "invited_by", "created_at", "sent_at", "expires_at", "send_count",
                       "accepted_at", "revoked_at")

    def has_add_permission(self, request):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email_enabled", "updated_at")
    list_select_related = ("user",)


@admin.register(MilestoneStatusNotice)
class MilestoneStatusNoticeAdmin(admin.ModelAdmin):
    list_display = ("milestone", "status", "noted_at")
    list_select_related = ("milestone",)
    readonly_fields = ("milestone", "status", "noted_at")
