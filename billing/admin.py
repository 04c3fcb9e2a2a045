"""Admin for accounts and the ledger. Balances and entries are read-only here: every change of
money goes through billing.services (a superuser corrects a mistake with a reversing entry,
posted by a service, never by editing a row)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tenancy.admin import ReadOnlyAdmin

from .models import Account, CreditLimitChange, LedgerEntry


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant", "client", "balance", "credit_limit", "last_posted_at")
    list_select_related = ("tenant", "client")
    search_fields = ("client__name", "client__number")
    raw_id_fields = ("client",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant", "account", "created_at", "kind", "amount", "balance_after")
    list_display += ("purpose_text", "operator")
    list_filter = ("tenant", "kind")
    list_select_related = ("tenant", "account", "operator")
    # The purpose is a stored message (JSON): its search matches the stored JSON's text, that
    # is an operator's words, names and dates as stored, and a message's English msgid, not
    # the words a Russian admin reads (the comment and the key are searched as typed).
    search_fields = ("idempotency_key", "purpose", "comment")
    readonly_fields = ("purpose_text",)
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over millions of entries

    @admin.display(description=_("Purpose"))
    def purpose_text(self, entry: LedgerEntry) -> str:
        """The purpose in the admin's language (the column holds its message)."""
        return str(entry.purpose)


@admin.register(CreditLimitChange)
class CreditLimitChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant", "account", "created_at", "old_limit", "new_limit")
    list_display += ("operator", "notify")
    list_filter = ("tenant", "notify")
    list_select_related = ("tenant", "account", "operator")
