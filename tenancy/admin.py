from django.contrib import admin
from django.utils.text import capfirst

from core.stored_text import StoredTextField

from .models import (
    ApiIdempotencyRecord,
    ApiToken,
    Membership,
    OperatorProfile,
    SavedView,
    Tenant,
    TenantSequence,
)


def stored_text_column(field: StoredTextField):
    """An admin column showing a StoredText column as its sentence in the admin's language."""

    @admin.display(description=capfirst(field.verbose_name))
    def shown(obj) -> str:
        return str(getattr(obj, field.attname))

    shown.__name__ = f"{field.name}_shown"
    return shown


class StoredTextAdminMixin:
    """Shows the model's StoredText columns (core/stored_text.py: a job's error, a router's
    last error) as their sentences in the admin's language rather than their JSON. Each is
    `<name>_shown`, a column list_display may name; the detail page shows it in place of the
    raw field."""

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        for field in self.stored_text_fields():
            setattr(self, f"{field.name}_shown", stored_text_column(field))

    def stored_text_fields(self) -> list[StoredTextField]:
        return [f for f in self.model._meta.concrete_fields if isinstance(f, StoredTextField)]

    def get_exclude(self, request, obj=None):
        raw = [field.name for field in self.stored_text_fields()]
        return (*(super().get_exclude(request, obj) or ()), *raw)

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        shown = [f"{field.name}_shown" for field in self.stored_text_fields()]
        return (*readonly, *(name for name in shown if name not in readonly))


class TenantOwnedAdmin(admin.ModelAdmin):
    """Base for every tenant-owned model in the admin: filterable and shown by tenant."""

    list_filter = ("tenant",)
    list_select_related = ("tenant",)


class ReadOnlyAdmin(TenantOwnedAdmin):
    """Rows whose every change has a business rule (a service, the ledger, a job): the admin
    shows them and changes nothing, so no superuser edit bypasses the portal's rules."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "currency",
        "time_zone",
        "uses_routers",
        "uses_messaging",
        "uses_reseller",
    )
    list_filter = ("is_active", "uses_routers", "uses_messaging", "uses_reseller")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(OperatorProfile)
class OperatorProfileAdmin(admin.ModelAdmin):
    """A person's own language (they choose it under My account)."""

    list_display = ("user", "language")
    list_filter = ("language",)
    search_fields = ("user__username", "user__email")
    autocomplete_fields = ("user",)


@admin.register(Membership)
class MembershipAdmin(TenantOwnedAdmin):
    list_display = ("user", "tenant", "role", "is_active", "created_at")
    list_filter = ("tenant", "role", "is_active")
    search_fields = ("user__username", "user__email")
    list_select_related = ("tenant", "user")
    autocomplete_fields = ("user",)


@admin.register(TenantSequence)
class TenantSequenceAdmin(ReadOnlyAdmin):
    """Client numbers are handed out by the sequence; an edited value would reuse numbers."""

    list_display = ("tenant", "name", "last_value")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are issued and revoked by owners on the API tokens page; only a digest is kept."""

    list_display = ("name", "tenant", "scope", "prefix", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix")


@admin.register(ApiIdempotencyRecord)
class ApiIdempotencyRecordAdmin(ReadOnlyAdmin):
    """The first answers to API retries; an edited one would answer a retry wrongly."""

    list_display = ("tenant", "caller", "key", "status", "created_at")
    search_fields = ("key",)


@admin.register(SavedView)
class SavedViewAdmin(ReadOnlyAdmin):
    """Operators' saved views of lists (a filter, sort, columns and page size under a name)."""

    list_display = ("name", "tenant", "list_name", "owner", "shared")
    list_select_related = ("tenant", "owner__user")
    search_fields = ("name", "list_name")
    raw_id_fields = ("owner",)
