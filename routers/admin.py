"""Admin for routers and PPPoE accounts. Passwords are write-only here too: the encrypted
column is never shown, and the router form takes a new password or keeps the stored one."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.numbers import BoundedInputMixin
from tenancy.admin import ReadOnlyAdmin, StoredTextAdminMixin, TenantOwnedAdmin

from .models import PppoeAccount, Router, RouterAdoption
from .services import router_address_check


class RouterAdminForm(BoundedInputMixin, forms.ModelForm):
    new_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored password."),
    )

    class Meta:
        model = Router
        fields = ("tenant", "name", "host", "port", "use_tls", "verify_tls", "username")
        fields += ("timeout", "enabled")

    def clean(self):
        """The same address rule as the portal's router form: a superuser cannot point a
        router at an address the outbound policy refuses either (switching one off is fine)."""
        cleaned = super().clean()
        host, port = cleaned.get("host"), cleaned.get("port")
        moved = {"host", "port"} & set(self.changed_data)
        if host and port and (cleaned.get("enabled") or moved):
            try:
                router_address_check(host=host, port=port)
            except ValidationError as error:
                self.add_error("host", error.message_dict["host"])
        return cleaned

    def save(self, commit=True):
        router = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            router.set_password(self.cleaned_data["new_password"])
        if commit:
            router.save()
        return router


@admin.register(Router)
class RouterAdmin(StoredTextAdminMixin, TenantOwnedAdmin):
    form = RouterAdminForm
    list_display = (
        "name",
        "tenant",
        "host",
        "port",
        "use_tls",
        "enabled",
        "is_reachable",
        "last_polled_at",
    )
    list_filter = ("tenant", "enabled", "is_reachable")
    search_fields = ("name", "host")
    readonly_fields = (
        "is_reachable",
        "last_polled_at",
        "last_success_at",
        "last_error_shown",
        "last_error_kind",
        "sessions_online",
        "identity",
        "version",
    )


@admin.register(PppoeAccount)
class PppoeAccountAdmin(StoredTextAdminMixin, ReadOnlyAdmin):
    """Accounts are changed in the portal, whose services bring the router to the same state."""

    list_display = ("username", "tenant", "client", "router", "status", "enabled", "sync_state")
    list_filter = ("tenant", "status", "enabled", "sync_state")
    list_select_related = ("tenant", "client", "router")
    search_fields = ("username", "client__name")
    raw_id_fields = ("client", "router")
    readonly_fields = (
        "status",
        "last_seen_at",
        "address",
        "caller_id",
        "uptime",
        "checked_at",
        "sync_state",
        "sync_error_shown",
        "synced_at",
        "sync_version",
    )


@admin.register(RouterAdoption)
class RouterAdoptionAdmin(StoredTextAdminMixin, ReadOnlyAdmin):
    """Adoptions of a router's existing secrets, as the job ran them: read here, started in
    the portal."""

    list_display = ("id", "tenant", "router", "created_by", "status", "secrets_done", "total")
    list_display += ("clients_created", "created_at", "finished_at")
    list_filter = ("tenant", "status")
    list_select_related = ("tenant", "router", "created_by")
    search_fields = ("router__name", "created_by__username")
    raw_id_fields = ("router", "created_by")
    exclude = ("refused",)
    readonly_fields = ("refusals_shown",)

    @admin.display(description=_("Refused"))
    def refusals_shown(self, job: RouterAdoption) -> str:
        """Each refused secret with its reason, in the admin's language (the column holds
        their messages)."""
        return "\n".join(f"{name}: {reason}" for name, reason in job.refusals)
