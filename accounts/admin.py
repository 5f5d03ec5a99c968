from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import User


class TokenRevokingPasswordChangeForm(AdminPasswordChangeForm):
    """A password set in the back office also revokes the account's API tokens, as a reset does."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            services.user_credentials_revoke(user=user)
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = TokenRevokingPasswordChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_consultant", "is_manager", "is_active", "last_login"]
    list_filter = ["is_consultant", "is_manager", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "language"]}),
        (_("Roles"), {"fields": ["is_consultant", "is_manager"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"],
                            "classes": ["collapse"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"],
                "fields": ["email", "full_name", "is_consultant", "is_manager", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
