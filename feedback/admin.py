from django.contrib import admin

from feedback.models import FeedbackResponse, PulseRequest


@admin.register(PulseRequest)
class PulseRequestAdmin(admin.ModelAdmin):
    list_display = ["engagement", "contact", "sent_at", "expires_at", "answered_at"]
    list_filter = ["answered_at"]
    search_fields = ["contact__name", "engagement__title"]
    list_select_related = ["engagement__client", "contact__client"]
    autocomplete_fields = ["engagement", "contact", "session", "requested_by"]


@admin.register(FeedbackResponse)
class FeedbackResponseAdmin(admin.ModelAdmin):
    list_display = ["engagement", "side", "rating", "involvement", "nps", "respondent_contact", "respondent_user",
                    "submitted_at"]
    list_filter = ["side", "rating"]
    search_fields = ["engagement__title", "respondent_contact__name", "respondent_user__full_name", "comment"]
    list_select_related = ["engagement__client", "respondent_contact", "respondent_user"]
    autocomplete_fields = ["engagement", "respondent_contact", "respondent_user", "recorded_by", "request"]
    date_hierarchy = "submitted_at"
