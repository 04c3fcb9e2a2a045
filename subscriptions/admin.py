"""Packages and subscriptions in the Django admin (superusers, across tenants). Subscriptions
are read here; purchases, cancellations and refunds go through the portal's services, which
move the money on the ledger."""

from django.contrib import admin

from tenancy.admin import ReadOnlyAdmin, TenantOwnedAdmin

from .models import Package, Subscription


@admin.register(Package)
class PackageAdmin(TenantOwnedAdmin):
    list_display = ("name", "tenant", "price", "period_count", "period_unit", "is_active")
    list_filter = ("tenant", "is_active", "period_unit")
    search_fields = ("name", "pppoe_profile")
    list_select_related = ("tenant",)
    readonly_fields = ("retired_at", "created_at", "updated_at")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "client",
        "package",
        "status",
        "start_date",
        "end_date",
        "auto_renew",
        "amount_paid",
        "refunded_amount",
    )
    list_filter = ("tenant", "status", "auto_renew", "start_date", "end_date")
    search_fields = ("=client__number", "client__name", "package__name")
    list_select_related = ("tenant", "client", "package")
    raw_id_fields = (
        "client",
        "package",
        "charge_entry",
        "refund_entry",
        "renewal_of",
        "origin",
        "created_by",
        "cancelled_by",
    )
    readonly_fields = ("created_at", "updated_at", "charge_entry", "refund_entry")
