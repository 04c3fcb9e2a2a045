"""Messaging in the admin: read only. Sender IDs are decided in the portal (Names), messages
and reports arrive through ingestion, and rollups and charges are written by their jobs."""

from django.contrib import admin

from tenancy.admin import ReadOnlyAdmin

from .models import DailyRouteStat, DailySenderStat, DirtyDay, Message, MessagingCharge, SenderId


class MessagingAdmin(ReadOnlyAdmin):
    list_select_related = ("tenant", "client")
    raw_id_fields = ("client",)
    show_full_result_count = False


@admin.register(SenderId)
class SenderIdAdmin(MessagingAdmin):
    list_display = ("name", "channel", "status", "client", "tenant", "created_at")
    list_filter = ("tenant", "channel", "status")
    search_fields = ("name",)
    raw_id_fields = ("client", "decided_by")


@admin.register(Message)
class MessageAdmin(MessagingAdmin):
    list_display = (
        "key",
        "client",
        "channel",
        "sender",
        "recipient",
        "country",
        "operator",
        "parts",
        "status",
        "price",
        "sent_at",
    )
    list_filter = ("tenant", "channel", "status", "operator_source")
    search_fields = ("=key", "=recipient")
    date_hierarchy = None


@admin.register(DailySenderStat)
class DailySenderStatAdmin(MessagingAdmin):
    list_display = ("day", "client", "channel", "sender", "sent_parts", "delivered_parts", "price")
    list_filter = ("tenant", "channel")


@admin.register(DailyRouteStat)
class DailyRouteStatAdmin(MessagingAdmin):
    list_display = (
        "day",
        "client",
        "channel",
        "country",
        "operator",
        "sent_parts",
        "delivered_parts",
        "price",
    )
    list_filter = ("tenant", "channel")


@admin.register(DirtyDay)
class DirtyDayAdmin(MessagingAdmin):
    list_display = ("day", "client", "generation")
    list_filter = ("tenant",)


@admin.register(MessagingCharge)
class MessagingChargeAdmin(MessagingAdmin):
    list_display = (
        "day",
        "client",
        "due_parts",
        "due_amount",
        "charged_parts",
        "charged_amount",
        "postings",
        "settled",
    )
    list_filter = ("tenant", "settled")
