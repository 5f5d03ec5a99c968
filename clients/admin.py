from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from clients.models import Client, Contact, SponsorPeriod
from clients.services import contact_set_sponsor


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["name", "email", "title", "seniority", "is_sponsor", "sponsor_since", "active"]
    readonly_fields = ["is_sponsor", "sponsor_since"]
    extra = 0
    show_change_link = True


class SponsorPeriodInline(admin.TabularInline):
    model = SponsorPeriod
    fields = ["contact", "start", "end"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # The history is written by the sponsor-change service, never typed in by hand.
        return False


@admin.register(Client)
class ClientAdmin(SimpleHistoryAdmin):
    list_display = ["name", "industry", "status", "account_lead", "created_at"]
    list_filter = ["status", "industry"]
    search_fields = ["name", "industry", "contacts__name"]
    autocomplete_fields = ["account_lead"]
    inlines = [ContactInline, SponsorPeriodInline]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "client", "email", "title", "seniority", "is_sponsor", "active"]
    list_filter = ["seniority", "is_sponsor", "active"]
    search_fields = ["name", "email", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client", "user"]
    # Sponsorship changes go through the action below, which keeps the sponsor history.
    readonly_fields = ["is_sponsor", "sponsor_since"]
    actions = ["make_sponsor"]

    @admin.action(description=_("Make sponsor from today (retires the current sponsor)"))
    def make_sponsor(self, request, queryset):
        contacts = list(queryset.select_related("client"))
        if len({contact.client_id for contact in contacts}) != len(contacts):
            self.message_user(request, _("Choose at most one contact per client."), messages.ERROR)
            return
        try:
            for contact in contacts:
                contact_set_sponsor(contact=contact)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, _("Sponsor updated."), messages.SUCCESS)
