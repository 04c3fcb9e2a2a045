from django.contrib import admin

from .models import (
    ApiIdempotencyRecord,
    ApiToken,
    Membership,
    OperatorProfile,
    SavedView,
    Tenant,
    TenantSequence,
)


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
