"""The Django admin of clients: superusers work across tenants here (scopes are disabled for
the admin by the tenancy middleware). Its search and filters mirror the client list's, which
is also what bench/client_list.py compares the list against.

Clients are read here and edited in the portal: its form keeps untouched legacy values and
checks changed ones, and its services number new clients, open their accounts, record the
activity line and keep the status in line with the holds in force (a status edited here would
contradict the holds)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tenancy.admin import ReadOnlyAdmin, StoredTextAdminMixin, TenantOwnedAdmin

from .models import Client, ClientBulkAction, ClientGroup, ClientImport, ClientImportRefusal


@admin.register(ClientGroup)
class ClientGroupAdmin(TenantOwnedAdmin):
    list_display = ("name", "tenant", "description")
    list_filter = ("tenant",)
    search_fields = ("name",)


@admin.register(Client)
class ClientAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "name",
        "tenant",
        "login",
        "company",
        "itn",
        "status",
        "group",
        "created_at",
        "last_purchase_at",
    )
    list_display_links = ("number", "name")
    list_filter = ("tenant", "status", "property_type", "group", "created_at", "last_purchase_at")
    search_fields = (
        "=number",
        "login",
        "company",
        "name",
        "itn",
        "email",
        "contact_name",
        "contact_email",
    )
    list_select_related = ("tenant", "group")
    ordering = ("-last_purchase_at", "-id")
    readonly_fields = ("number", "created_at", "updated_at", "search_text")
    raw_id_fields = ("group",)


@admin.register(ClientImport)
class ClientImportAdmin(StoredTextAdminMixin, ReadOnlyAdmin):
    list_display = ("id", "tenant", "file_name", "created_by", "status", "rows_done", "total")
    list_display += ("created_at", "finished_at")
    list_filter = ("tenant", "status", "match_by")
    list_select_related = ("tenant", "created_by")
    search_fields = ("file_name", "created_by__username")
    raw_id_fields = ("created_by",)


@admin.register(ClientImportRefusal)
class ClientImportRefusalAdmin(ReadOnlyAdmin):
    """The rows an import refused, as the operator downloads them to fix."""

    list_display = ("job", "tenant", "line", "field_shown", "reason_shown")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "job")
    raw_id_fields = ("job",)

    # The field and the reason are stored messages: shown in the admin's language.
    @admin.display(description=_("Field"))
    def field_shown(self, refusal: ClientImportRefusal) -> str:
        return refusal.field_label

    @admin.display(description=_("Reason"))
    def reason_shown(self, refusal: ClientImportRefusal) -> str:
        return str(refusal.reason)


@admin.register(ClientBulkAction)
class ClientBulkActionAdmin(StoredTextAdminMixin, ReadOnlyAdmin):
    list_display = ("id", "tenant", "title_shown", "created_by", "status", "done", "total")
    list_display += ("created_at", "finished_at")
    list_filter = ("tenant", "status", "action")
    list_select_related = ("tenant", "created_by")
    search_fields = ("title", "created_by__username")
    raw_id_fields = ("created_by",)
