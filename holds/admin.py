from django.contrib import admin

from core.models import JobRun
from tenancy.admin import ReadOnlyAdmin, StoredTextAdminMixin, TenantOwnedAdmin

from .models import ClientHold, FundsShortfall, NotificationTemplate
from .notifications import DEFAULTS


@admin.register(ClientHold)
class ClientHoldAdmin(StoredTextAdminMixin, ReadOnlyAdmin):
    list_display = ("client", "kind", "reason_shown", "set_at", "set_by", "set_by_job")
    list_display += ("lifted_at",)
    list_filter = ("tenant", "kind", ("lifted_at", admin.EmptyFieldListFilter))
    raw_id_fields = ("client", "set_by", "lifted_by")
    # The reasons are stored messages (JSON): the search matches the stored JSON's text, that
    # is an operator's words as typed, and a message's English msgid and parameters.
    search_fields = ("reason", "lift_reason", "client__name")


@admin.register(FundsShortfall)
class FundsShortfallAdmin(ReadOnlyAdmin):
    list_display = ("client", "since")
    raw_id_fields = ("client",)


@admin.register(JobRun)
class JobRunAdmin(StoredTextAdminMixin, ReadOnlyAdmin):
    """Core's record of every scheduled job's runs, read beside the dashboard that shows them
    (core has no admin of its own: it is below tenancy, whose ReadOnlyAdmin this is)."""

    list_display = ("job", "tenant", "started_at", "finished_at", "status", "result", "error_shown")
    list_filter = ("tenant", "job", "status")


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(TenantOwnedAdmin):
    """The e-mails a tenant sends, in Django's template language. Context: client, tenant,
    hold, subscription, package, currency. Without a row, the default wording is used."""

    list_display = ("tenant", "kind", "subject", "updated_at")
    list_filter = ("tenant", "kind")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        kind = initial.get("kind")
        if kind in DEFAULTS:
            initial.setdefault("subject", DEFAULTS[kind][0])
            initial.setdefault("body", DEFAULTS[kind][1])
        return initial
