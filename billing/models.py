"""Accounts, the ledger and the credit-limit log.

Every change of an account's balance is one LedgerEntry, written by `billing.services` in the
same transaction that locks the account row, so that `balance == sum(entries)` always holds and
each entry's `balance_after` continues the previous one. Entries are never updated or deleted
(`save()` refuses an update, `delete()` refuses outright); a mistake is corrected by a reversing
entry that points at the entry it reverses.

Money is Decimal with 2 places, in the tenant's currency. MONEY_MAX_DIGITS bounds every amount
and balance: the services refuse a posting that would not fit the column.

An entry's purpose is written once and read for years by operators of either language, so it
is stored as its message (core/stored_text.py, like an event's description): a renewal written
by the beat job reads in Russian for a Russian operator, its dates in the tenant's format. An
operator's own words are literal text, shown as typed; a row from before messages holds its
sentence as a JSON string and shows it unchanged (migration 0006).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from core.formatting import money
from core.stored_text import StoredTextField
from core.tenant_keys import TenantForeignKey, TenantOneToOneField
from tenancy.models import TenantOwnedModel, TenantQuerySet, _TenantManagerBase

MONEY_MAX_DIGITS = 14
MONEY_PLACES = 2
MONEY_QUANTUM = Decimal("0.01")
# The largest absolute value a money column holds: 999,999,999,999.99.
MONEY_LIMIT = Decimal(10 ** (MONEY_MAX_DIGITS - MONEY_PLACES)) - MONEY_QUANTUM
# The longest purpose an operator may type (the column's length before purposes were messages).
PURPOSE_MAX_LENGTH = 255


def money_field(verbose_name=None, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_PLACES, **kwargs
    )


class Account(TenantOwnedModel):
    """A client's money: one per client, created with the client or on first use
    (`billing.services.account_for_client`). Available funds are balance + credit_limit."""

    client = TenantOneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="account", verbose_name=_("client")
    )
    balance = money_field(_("Balance"), default=Decimal("0.00"))
    credit_limit = money_field(
        _("Credit limit"),
        default=Decimal("0.00"),
        help_text=_("How far below zero the balance may go."),
    )
    # The time of the latest entry: postings never go back in time, so that ordering the ledger
    # by (created_at, id) is the order in which the balance changed.
    last_posted_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last posting at")
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            # The client list sorts by balance.
            models.Index(fields=["tenant", "balance", "id"], name="account_balance_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credit_limit__gte=0), name="account_credit_limit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return _("Account of client %(client)s: %(balance)s") % {
            "client": self.client_id,
            "balance": money(self.balance),
        }

    @property
    def available(self) -> Decimal:
        return self.balance + self.credit_limit


class EntryKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    SUBSCRIPTION_PURCHASE = "subscription_purchase", _("Subscription purchase")
    MESSAGING_CHARGE = "messaging_charge", _("Messaging charge")
    REFUND = "refund", _("Refund")
    ADJUSTMENT = "adjustment", _("Adjustment")
    REVERSAL = "reversal", _("Reversal")


# Kinds that are the client buying something: they move Client.last_purchase_at.
PURCHASE_KINDS = frozenset({EntryKind.SUBSCRIPTION_PURCHASE})


class LedgerEntryQuerySet(TenantQuerySet):
    def update(self, **kwargs):
        raise TypeError("Ledger entries are never updated; post a reversing entry instead.")

    def delete(self):
        raise TypeError("Ledger entries are never deleted; post a reversing entry instead.")


class LedgerEntry(TenantOwnedModel):
    """One change of an account's balance: signed amount (positive adds to the balance),
    what it was for, who posted it, and the balance right after it."""

    account = TenantForeignKey(
        Account, on_delete=models.RESTRICT, related_name="entries", verbose_name=_("account")
    )
    created_at = models.DateTimeField(_("Date"), default=timezone.now, editable=False)
    amount = money_field(_("Amount"))
    kind = models.CharField(_("Kind"), max_length=24, choices=EntryKind.choices)
    purpose = StoredTextField(_("Purpose"))
    comment = models.CharField(_("Comment"), max_length=500, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Operator"),
        help_text=_("Empty when the system posted it (scheduled charges)."),
    )
    balance_after = money_field(_("Balance after"))
    idempotency_key = models.CharField(max_length=100, verbose_name=_("idempotency key"))
    reverses = TenantOneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="reversed_by",
        verbose_name=_("Reverses"),
        help_text=_("The entry this one reverses (each entry is reversed at most once)."),
    )

    objects = ScopedManager(
        tenant="tenant", _manager_class=_TenantManagerBase.from_queryset(LedgerEntryQuerySet)
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="ledger_entry_unique_key"
            ),
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_not_zero"),
        ]
        indexes = [
            # The Finance tab: one account's entries in a period, by date.
            models.Index(
                fields=["tenant", "account", "created_at", "id"], name="ledger_account_date_idx"
            ),
        ]

    def __str__(self) -> str:  # the purpose in the language active now, the reader's
        amount, after = money(self.amount), money(self.balance_after)
        return f"{self.get_kind_display()} {amount} → {after}: {self.purpose}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Ledger entries are never updated; post a reversing entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are never deleted; post a reversing entry instead.")

    @property
    def credit(self) -> Decimal | None:
        """Costs (money out), shown as a positive amount."""
        return -self.amount if self.amount < 0 else None

    @property
    def debit(self) -> Decimal | None:
        """Top-ups (money in)."""
        return self.amount if self.amount > 0 else None


class CreditLimitChange(TenantOwnedModel):
    """The log of credit-limit changes: old and new value, who, when, and whether the client
    was (to be) told."""

    account = TenantForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="credit_limit_changes",
        verbose_name=_("account"),
    )
    old_limit = money_field(_("Old credit limit"))
    new_limit = money_field(_("New credit limit"))
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("operator"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    notify = models.BooleanField(_("Notify customer"), default=False)
    idempotency_key = models.CharField(max_length=100, verbose_name=_("idempotency key"))

    class Meta:
        verbose_name = _("credit limit change")
        verbose_name_plural = _("credit limit changes")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="credit_change_unique_key"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "account", "created_at"], name="credit_change_idx"),
        ]

    def __str__(self) -> str:
        return _("Credit limit %(old)s → %(new)s") % {
            "old": money(self.old_limit),
            "new": money(self.new_limit),
        }
