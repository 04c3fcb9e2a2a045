"""Every write to accounts and the ledger.

All changes of a balance go through `_post_entry`, which, in one transaction:
1. locks the account row (`SELECT ... FOR UPDATE`), so that concurrent postings on one account
   queue up and none is lost;
2. looks up the idempotency key: a retried key returns the entry it posted the first time
   (`entry.replayed` is True) and never posts twice; the same key with another account, kind
   or amount is an `IdempotencyConflict`;
3. checks the funds (a charge may not take balance + credit limit below zero unless the caller
   allows an overdraft) and that the new balance fits the column;
4. writes the entry with its `balance_after` and the new balance;
5. announces the change (`billing.signals.funds_changed`, in the transaction, and
   `funds_changed_committed` after it): holds tracks negative funds and lifts financial holds
   from there.

Each use case records its own line in the client's activity (`_record_entry`, in the posting's
transaction): a top-up, an operator's adjustment, a reversal and a refund do; a subscription
purchase or refund is recorded by the subscriptions service that made it (with its package and
period, so it passes `activity=False`), and daily messaging charges are not recorded (they
would drown the timeline). A credit-limit change records its line in `account_set_credit_limit`.

Amounts are Decimal (never float), quantized to 0.01 with ROUND_HALF_UP: a computed charge such
as 1,234 messages at 0.0350 is rounded once, here. Forms refuse more than 2 decimals before
they get here, so an operator's amount is never rounded silently.

Other apps call `account_charge` (subscription purchases, daily messaging charges) with their
own idempotency keys (e.g. "sub-renewal:<subscription id>", "sms:<client>:<day>"), so that a
job that runs twice charges once.
"""

import logging
import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone

from clients.models import Client
from clients.services import activity_record
from core.formatting import money
from tenancy.models import Tenant

from .models import (
    MONEY_LIMIT,
    MONEY_QUANTUM,
    PURCHASE_KINDS,
    Account,
    CreditLimitChange,
    EntryKind,
    LedgerEntry,
)
from .signals import funds_changed, funds_changed_committed

logger = logging.getLogger(__name__)


class LedgerError(ValidationError):
    """A posting was refused; nothing changed. The message is fit to show an operator."""


class InsufficientFunds(LedgerError):
    pass


class IdempotencyConflict(LedgerError):
    pass


class AmountOutOfRange(LedgerError):
    pass


def to_money(value) -> Decimal:
    """A Decimal quantized to 0.01. Floats are refused: they cannot hold cents exactly."""
    if isinstance(value, float):
        raise TypeError("Money must be Decimal, int or str, never float.")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise AmountOutOfRange("Enter a valid amount.") from exc
    if not amount.is_finite():
        raise AmountOutOfRange("Enter a valid amount.")
    amount = amount.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)
    if abs(amount) > MONEY_LIMIT:
        raise AmountOutOfRange(f"The amount must be at most {MONEY_LIMIT:,}.")
    return amount


def new_idempotency_key(prefix: str = "auto") -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


# -- accounts --------------------------------------------------------------------------------
def account_for_client(*, client: Client) -> Account:
    """The client's account, created on first use. Safe under concurrency: the insert is
    `ON CONFLICT DO NOTHING` on the one-account-per-client constraint, then the row is read."""
    accounts = Account.objects.for_tenant(client.tenant)
    account = accounts.filter(client=client).first()
    if account is None:
        accounts.bulk_create(
            [Account(tenant_id=client.tenant_id, client=client)], ignore_conflicts=True
        )
        account = accounts.get(client=client)
    account.client = client
    return account


def accounts_create_for_clients(*, tenant: Tenant, client_ids) -> None:
    """Accounts for many clients at once (bulk loaders, demo), skipping those that exist."""
    Account.objects.for_tenant(tenant).bulk_create(
        [Account(tenant=tenant, client_id=cid) for cid in client_ids],
        ignore_conflicts=True,
        batch_size=2000,
    )


def _locked_account(account: Account) -> Account:
    return Account.objects.for_tenant(account.tenant).select_for_update().get(pk=account.pk)


# -- the one posting function ---------------------------------------------------------------
def _same_request(entry: LedgerEntry, *, account: Account, kind: str, amount: Decimal) -> bool:
    return entry.account_id == account.pk and entry.kind == kind and entry.amount == amount


def _replay(entry: LedgerEntry, *, account: Account, kind: str, amount: Decimal) -> LedgerEntry:
    if not _same_request(entry, account=account, kind=kind, amount=amount):
        raise IdempotencyConflict(
            "This request was already used for a different posting; reload the page and try again.",
            code="idempotency_conflict",
        )
    entry.replayed = True
    return entry


def _post_entry(
    *,
    account: Account,
    kind: str,
    amount,
    purpose: str,
    comment: str = "",
    actor=None,
    idempotency_key: str | None = None,
    allow_overdraft: bool = False,
    reverses: LedgerEntry | None = None,
    at: datetime | None = None,
    activity: bool = False,
) -> LedgerEntry:
    amount = to_money(amount)
    if amount == 0:
        raise AmountOutOfRange("The amount must not be zero.", code="zero")
    key = idempotency_key or new_idempotency_key(kind)
    try:
        entry = _post_entry_locked(
            account=account,
            kind=kind,
            amount=amount,
            purpose=purpose,
            comment=comment,
            actor=actor,
            key=key,
            allow_overdraft=allow_overdraft,
            reverses=reverses,
            at=at,
            activity=activity,
        )
    except IntegrityError:
        # The same key was committed meanwhile for another account of this tenant (the
        # same account cannot race: its row lock serialises postings). The transaction (or
        # its savepoint, when the caller has one open) is rolled back; answer as a retry.
        existing = LedgerEntry.objects.for_tenant(account.tenant).filter(idempotency_key=key)
        existing = existing.first()
        if existing is None:
            raise
        return _replay(existing, account=account, kind=kind, amount=amount)
    return entry


def _post_entry_locked(
    *, account, kind, amount, purpose, comment, actor, key, allow_overdraft, reverses, at, activity
) -> LedgerEntry:
    tenant = account.tenant
    entries = LedgerEntry.objects.for_tenant(tenant)
    with transaction.atomic():
        # Lock the account and look the key up in one round trip (the lock is held until
        # commit, so every statement less shortens the queue on a busy account). The key is
        # read after the lock is granted: a concurrent posting with the same key on this
        # account has committed by then (READ COMMITTED: each statement sees what committed).
        locked = (
            Account.objects.for_tenant(tenant)
            .select_for_update(of=("self",))
            .annotate(
                existing_entry_id=Subquery(entries.filter(idempotency_key=key).values("pk")[:1])
            )
            .get(pk=account.pk)
        )
        if locked.existing_entry_id is not None:
            existing = entries.get(pk=locked.existing_entry_id)
            return _replay(existing, account=locked, kind=kind, amount=amount)
        new_balance = locked.balance + amount
        if abs(new_balance) > MONEY_LIMIT:
            raise AmountOutOfRange(
                f"The balance would exceed {MONEY_LIMIT:,}; nothing was posted.",
                code="balance_limit",
            )
        if amount < 0 and not allow_overdraft and new_balance + locked.credit_limit < 0:
            raise InsufficientFunds(
                f"Insufficient funds: available {locked.available:,.2f} "
                f"{tenant.currency}, needed {-amount:,.2f}.",
                code="insufficient_funds",
            )
        now = timezone.now()
        when = at or now
        if locked.last_posted_at and when < locked.last_posted_at:
            if at is not None:
                raise LedgerError("An entry cannot be dated before the account's latest entry.")
            when = locked.last_posted_at  # the clock stepped back: keep the ledger in order
        entry = LedgerEntry(
            tenant=tenant,
            account=locked,
            created_at=when,
            amount=amount,
            kind=kind,
            purpose=purpose[:255],
            comment=(comment or "")[:500],
            operator=actor,
            balance_after=new_balance,
            idempotency_key=key,
            reverses=reverses,
        )
        entry.save(force_insert=True)
        Account.objects.for_tenant(tenant).filter(pk=locked.pk).update(
            balance=new_balance, last_posted_at=when, updated_at=now
        )
        if kind in PURCHASE_KINDS:
            Client.objects.for_tenant(tenant).filter(pk=locked.client_id).update(
                last_purchase_at=when
            )
        locked.balance = new_balance
        entry.replayed = False
        _announce(locked, before=locked.available - amount, entry=entry, at=when)
        if activity:
            _record_entry(entry)
    account.balance = new_balance
    account.last_posted_at = when
    return entry


def _announce(account: Account, *, before: Decimal, at, entry=None, credit_change=None) -> None:
    """`funds_changed` now (the account row is locked) and `funds_changed_committed` after the
    commit; see billing/signals.py."""
    details = {
        "tenant": account.tenant,
        "account": account,
        "client_id": account.client_id,
        "before": before,
        "after": account.available,
        "entry": entry,
        "credit_change": credit_change,
        "at": at,
    }
    funds_changed.send(sender=Account, **details)
    if funds_changed_committed.has_listeners(Account):
        transaction.on_commit(lambda: funds_changed_committed.send(sender=Account, **details))


def _record_entry(entry: LedgerEntry) -> None:
    """The entry's line in the client's activity."""
    currency = entry.tenant.currency
    description = f"{entry.get_kind_display()} {money(abs(entry.amount))} {currency}"
    description += f", balance {money(entry.balance_after)} {currency}"
    if entry.comment:
        description += f" ({entry.comment})"
    activity_record(
        tenant=entry.tenant,
        client_id=entry.account.client_id,
        actor=entry.operator,
        verb=entry.kind,
        description=description,
        data={
            "entry": entry.pk,
            "amount": str(entry.amount),
            "balance_after": str(entry.balance_after),
        },
        at=entry.created_at,
    )


# -- use cases ------------------------------------------------------------------------------
def positive_money(value, *, what: str) -> Decimal:
    """`value` as money, refused unless it is greater than zero (e.g. what="A refund")."""
    amount = to_money(value)
    if amount <= 0:
        raise AmountOutOfRange(f"{what} must be greater than zero.", code="not_positive")
    return amount


def account_top_up(
    *,
    account: Account,
    amount,
    actor=None,
    comment: str = "",
    purpose: str = "Account top-up",
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Money in, recorded in the client's activity. The amount must be positive."""
    amount = positive_money(amount, what="A top-up")
    return _post_entry(
        account=account,
        kind=EntryKind.TOP_UP,
        amount=amount,
        purpose=purpose,
        comment=comment,
        actor=actor,
        idempotency_key=idempotency_key,
        at=at,
        activity=True,
    )


def account_charge(
    *,
    account: Account,
    amount,
    purpose: str,
    kind: str = EntryKind.ADJUSTMENT,
    actor=None,
    comment: str = "",
    idempotency_key: str | None = None,
    allow_overdraft: bool = False,
    at: datetime | None = None,
) -> LedgerEntry:
    """Money out (`amount` is the positive cost). Refused with InsufficientFunds when balance +
    credit limit would fall below zero, unless `allow_overdraft`. A subscription purchase also
    sets the client's last purchase date. Only an adjustment (an operator's correction) is
    recorded in the activity here; a purchase is recorded by its service, a daily messaging
    charge not at all."""
    amount = positive_money(amount, what="A charge")
    if kind in (EntryKind.TOP_UP, EntryKind.REFUND, EntryKind.REVERSAL):
        raise ValueError(f"{kind} is not a charge.")
    return _post_entry(
        account=account,
        kind=kind,
        amount=-amount,
        purpose=purpose,
        comment=comment,
        actor=actor,
        idempotency_key=idempotency_key,
        allow_overdraft=allow_overdraft,
        at=at,
        activity=kind == EntryKind.ADJUSTMENT,
    )


def account_refund(
    *,
    account: Account,
    amount,
    purpose: str = "Refund",
    actor=None,
    comment: str = "",
    idempotency_key: str | None = None,
    activity: bool = True,
) -> LedgerEntry:
    """Money given back to the client's balance (e.g. a messaging overcharge corrected), and
    its activity line unless the caller records its own (`activity=False`)."""
    amount = positive_money(amount, what="A refund")
    return _post_entry(
        account=account,
        kind=EntryKind.REFUND,
        amount=amount,
        purpose=purpose,
        comment=comment,
        actor=actor,
        idempotency_key=idempotency_key,
        activity=activity,
    )


def entry_reverse(
    *, entry: LedgerEntry, actor=None, comment: str = "", idempotency_key: str | None = None
) -> LedgerEntry:
    """Correct a mistake: post the opposite amount, pointing at the entry. Allowed to overdraw
    (undoing a top-up that was spent must still be possible). An entry is reversed at most
    once, and a reversal is not itself reversed."""
    if entry.kind == EntryKind.REVERSAL:
        raise LedgerError("A reversal cannot be reversed; post a new entry instead.")
    key = idempotency_key or f"reversal:{entry.pk}"
    existing = LedgerEntry.objects.for_tenant(entry.tenant).filter(reverses=entry).first()
    if existing is not None and existing.idempotency_key != key:
        raise LedgerError("This entry has already been reversed.", code="already_reversed")
    try:
        return _post_entry(
            account=entry.account,
            kind=EntryKind.REVERSAL,
            amount=-entry.amount,
            purpose=f"Reversal of entry {entry.pk}: {entry.purpose}"[:255],
            comment=comment,
            actor=actor,
            idempotency_key=key,
            allow_overdraft=True,
            reverses=entry,
            activity=True,
        )
    except IntegrityError as exc:  # reversed concurrently under another key
        raise LedgerError("This entry has already been reversed.", code="already_reversed") from exc


def account_set_credit_limit(
    *,
    account: Account,
    credit_limit,
    actor=None,
    notify: bool = False,
    idempotency_key: str | None = None,
) -> CreditLimitChange | None:
    """Set how far below zero the balance may go; logged with old and new value. With
    `notify`, the client (and its accounting e-mail) is told by a Celery task once the change
    has committed. The limit the account already has records nothing (no change row, no
    notice) and returns None: a form saved unchanged changed nothing."""
    credit_limit = to_money(credit_limit)
    if credit_limit < 0:
        raise AmountOutOfRange("The credit limit cannot be negative.", code="negative")
    tenant = account.tenant
    key = idempotency_key or new_idempotency_key("credit")
    changes = CreditLimitChange.objects.for_tenant(tenant)
    with transaction.atomic():
        locked = _locked_account(account)
        existing = changes.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.account_id != locked.pk or existing.new_limit != credit_limit:
                raise IdempotencyConflict(
                    "This request was already used for a different change; reload the page.",
                    code="idempotency_conflict",
                )
            existing.replayed = True
            return existing
        if locked.credit_limit == credit_limit:
            return None
        change = changes.create(
            tenant=tenant,
            account=locked,
            old_limit=locked.credit_limit,
            new_limit=credit_limit,
            operator=actor,
            notify=notify,
            idempotency_key=key,
        )
        Account.objects.for_tenant(tenant).filter(pk=locked.pk).update(
            credit_limit=credit_limit, updated_at=timezone.now()
        )
        before = locked.available
        locked.credit_limit = credit_limit
        change.replayed = False
        _announce(locked, before=before, credit_change=change, at=change.created_at)
        _record_credit_change(change)
        if notify:
            from .tasks import credit_limit_change_notify  # the task calls back: a circle

            transaction.on_commit(
                lambda: credit_limit_change_notify.delay(change.pk, tenant_id=tenant.pk)
            )
    account.credit_limit = credit_limit
    return change


def _record_credit_change(change: CreditLimitChange) -> None:
    """The change's line in the client's activity."""
    activity_record(
        tenant=change.tenant,
        client_id=change.account.client_id,
        actor=change.operator,
        verb="credit_limit_changed",
        description=(
            f"Credit limit {money(change.old_limit)} → {money(change.new_limit)} "
            f"{change.tenant.currency}"
        ),
        data={"old": str(change.old_limit), "new": str(change.new_limit)},
        at=change.created_at,
    )


def credit_limit_change_send_notice(*, change: CreditLimitChange) -> bool:
    """E-mail the client (and the accounting e-mail when set) about a credit-limit change, once.
    Returns False when there was nothing to send or it was sent already."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    with transaction.atomic():
        change = (
            CreditLimitChange.objects.for_tenant(change.tenant)
            .select_for_update()
            .select_related("account__client", "tenant")
            .get(pk=change.pk)
        )
        if not change.notify or change.notified_at is not None:
            return False
        client = change.account.client
        recipients = list(dict.fromkeys(e for e in (client.email, client.accounting_email) if e))
        if not recipients:
            logger.info("Credit change %s: client %s has no e-mail", change.pk, client.pk)
            return False
        context = {"change": change, "client": client, "tenant": change.tenant}
        send_mail(
            subject=f"{change.tenant.name}: your credit limit is now "
            f"{change.new_limit:,.2f} {change.tenant.currency}",
            message=render_to_string("billing/email/credit_limit_changed.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
        CreditLimitChange.objects.for_tenant(change.tenant).filter(pk=change.pk).update(
            notified_at=timezone.now()
        )
    return True
