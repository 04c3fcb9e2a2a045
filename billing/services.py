"""Every write to accounts and the ledger.

All changes of a balance go through one posting path, `ledger_post_chunk`; a single posting
(`_post_entry`, behind every use case below) is the chunk of one, and the jobs that post for
many clients (renewals, daily messaging charges) hand it their chunks. In the chunk's
transaction it:
1. locks the chunk's account rows in one `SELECT ... ORDER BY id FOR UPDATE` (every writer of
   accounts locks in id order, so that concurrent chunks and single postings queue up instead
   of deadlocking, and none is lost);
2. reads the chunk's idempotency keys in the same statement: a retried key returns the entry
   it posted the first time (`entry.replayed` is True) and never posts twice; the same key
   with another account, kind or amount is an `IdempotencyConflict`. A key committed while the
   statement waited for a lock is caught by the ledger's unique key, and the chunk is posted
   again, which then reads it;
3. checks each posting's funds in order against its account's running balance (a charge may
   not take balance + credit limit below zero unless the caller allows an overdraft; the new
   balance must fit the column): a refused posting is refused alone, the rest post;
4. writes the entries with their `balance_after` chain, the balances, the last purchase
   dates and the entries' activity lines in one statement: the same statements for a chunk of
   one or of a thousand (a single posting binds them as scalars instead of arrays, and its
   statements are prepared, so that it is planned once per connection, not once per posting);
5. announces the chunk once (`billing.signals.funds_changed`, in the transaction, and
   `funds_changed_committed` after it): holds tracks negative funds and lifts financial holds
   from there.

Inside the account lock runs only what must commit with the money: the entries, the balances,
the shortfall rows (a statement only when funds cross zero) and the activity lines (in the
statement that writes the entries, only for the use cases that record one). Lifting a financial
hold, which locks a client, runs after the commit.

Each use case says whether its posting records a line in the client's activity: a top-up, an
operator's adjustment, a reversal and a refund do; a subscription purchase or refund is
recorded by the subscriptions service that made it (with its package and period, so it passes
`activity=False`), and daily messaging charges are not recorded (they would drown the
timeline). A credit-limit change records its line in `account_set_credit_limit`.

A purpose is a StoredText (core/stored_text.py), never a sentence: the services' own words are
messages (`stored_gettext("Account top-up")`), rendered in each reader's language and formats
when the entry is shown, and an operator's words are `literal_text`, shown as typed (at most
PURPOSE_MAX_LENGTH characters). A plain `str` is refused (TypeError), as for an event's
description, so that no purpose is kept in the language of whoever, or whichever job, wrote it.
A replayed key is compared by account, kind and amount, never by its purpose: a retry whose
purpose reads in another language (or with another date format) is the same posting.

Amounts are Decimal (never float), quantized to 0.01 with ROUND_HALF_UP: a computed charge such
as 1,234 messages at 0.0350 is rounded once, here. Forms refuse more than 2 decimals before
they get here, so an operator's amount is never rounded silently.

Other apps call `account_charge` (a purchase) or `ledger_post_chunk_retried` / `ledger_post_batch`
(renewals, daily messaging charges) with their own idempotency keys (e.g.
"sub-renewal:<subscription id>", "sms:<client>:<day>"), so that a job that runs twice charges
once.
"""

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.models import Client, ClientStatus
from core.formatting import format_amount
from core.languages import in_language_of
from core.sql import array_param, bound_cursor, is_postgresql, scalar_param
from core.stored_text import (
    Money,
    StoredText,
    StoredTextField,
    literal_text,
    stored_gettext,
    stored_text_required,
)
from events.outbox import OwedEmail, emails_enqueue
from events.services import (
    EVENT_COLUMNS,
    EVENT_TABLE,
    EventLine,
    event_columns,
    event_record,
    event_rows,
    events_record_bulk,
)
from tenancy.models import Tenant

from .models import (
    MONEY_LIMIT,
    MONEY_QUANTUM,
    PURCHASE_KINDS,
    PURPOSE_MAX_LENGTH,
    Account,
    CreditLimitChange,
    EntryKind,
    LedgerEntry,
)
from .signals import FundsChange, funds_changed, funds_changed_committed

logger = logging.getLogger(__name__)


class LedgerError(ValidationError):
    """A posting was refused; nothing changed. The message is fit to show an operator."""


class InsufficientFunds(LedgerError):
    pass


class IdempotencyConflict(LedgerError):
    pass


class AmountOutOfRange(LedgerError):
    pass


# The largest amount, shown in the separators of whoever reads a refusal that names it.
MONEY_LIMIT_SHOWN = Money(MONEY_LIMIT, show_currency=False)


def to_money(value) -> Decimal:
    """A Decimal quantized to 0.01. Floats are refused: they cannot hold cents exactly.

    The refusal's message is lazy, with its parameters beside it: it reads in the language of
    whoever shows it (an import's refused row stores it as its message)."""
    if isinstance(value, float):
        raise TypeError("Money must be Decimal, int or str, never float.")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise AmountOutOfRange(gettext_lazy("Enter a valid amount.")) from exc
    if not amount.is_finite():
        raise AmountOutOfRange(gettext_lazy("Enter a valid amount."))
    if abs(amount) <= MONEY_LIMIT:  # before quantizing: 1e400 has no cents to quantize to
        amount = amount.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)
    if abs(amount) > MONEY_LIMIT:
        raise AmountOutOfRange(
            gettext_lazy("The amount must be at most %(limit)s."),
            params={"limit": MONEY_LIMIT_SHOWN},
        )
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
    """Accounts for many clients at once (bulk loaders, demo, an import's chunk), skipping
    those that exist: on PostgreSQL one statement whatever their number, the clients as an
    array and every other column the value a new account starts with."""
    client_ids = list(client_ids)
    if not client_ids:
        return
    if not is_postgresql():  # the SQLite demo: the ORM adapts its types
        Account.objects.for_tenant(tenant).bulk_create(
            [Account(tenant=tenant, client_id=cid) for cid in client_ids],
            ignore_conflicts=True,
            batch_size=2000,
        )
        return
    with bound_cursor() as cursor:
        cursor.execute(_accounts_insert_sql(), _new_account_values(tenant, client_ids))


def _new_account_fields() -> list:
    """An account's columns besides its id and its client, from the model."""
    return [f for f in Account._meta.concrete_fields if not f.primary_key and f.name != "client"]


def _accounts_insert_sql() -> str:
    fields = _new_account_fields()
    columns = ", ".join(f.column for f in fields)
    values = ", ".join(f"%s::{f.db_type(connection)}" for f in fields)
    return (
        f"INSERT INTO {Account._meta.db_table} (client_id, {columns}) "  # noqa: S608 - names are ours
        f"SELECT client_id, {values} FROM unnest({array_param('bigint')}) AS client_id "
        "ON CONFLICT DO NOTHING"
    )


def _new_account_values(tenant: Tenant, client_ids: list[int]) -> list:
    """The parameters of `_accounts_insert_sql`: a new account's values as the model gives
    them (its defaults, the times of now), then the clients."""
    blank = Account(tenant=tenant)
    values = [
        f.get_db_prep_save(f.pre_save(blank, True), connection) for f in _new_account_fields()
    ]
    return [*values, client_ids]


def account_ids_for_clients(*, tenant: Tenant, client_ids) -> dict[int, int]:
    """The account id of each of these clients, {client id: account id}, giving an account to
    those that have none (clients loaded in bulk): one select, and for the missing ones one
    insert (`ON CONFLICT DO NOTHING`: a concurrent creator wins) and one select, whatever
    their number."""
    client_ids = set(client_ids)
    if not client_ids:
        return {}
    accounts = Account.objects.for_tenant(tenant)
    found = dict(accounts.filter(client_id__in=client_ids).values_list("client_id", "pk"))
    missing = client_ids - found.keys()
    if missing:
        accounts.bulk_create(
            [Account(tenant=tenant, client_id=cid) for cid in missing],
            ignore_conflicts=True,
            batch_size=len(missing),
        )
        found.update(accounts.filter(client_id__in=missing).values_list("client_id", "pk"))
    return found


def _locked_account(account: Account) -> Account:
    return Account.objects.for_tenant(account.tenant).select_for_update().get(pk=account.pk)


# -- the one posting path -------------------------------------------------------------------
POSTING_CHUNK = 1000  # entries per transaction in `ledger_post_batch`

# The entries' columns as the chunk's INSERT writes them, with their array types.
_ENTRY_COLUMNS = (
    ("account_id", "bigint"),
    ("created_at", "timestamptz"),
    ("amount", "numeric"),
    ("kind", "text"),
    ("purpose", "jsonb"),
    ("comment", "text"),
    ("operator_id", "bigint"),
    ("balance_after", "numeric"),
    ("idempotency_key", "text"),
    ("reverses_id", "bigint"),
)
_ENTRY_TABLE = LedgerEntry._meta.db_table
_ACCOUNT_TABLE = Account._meta.db_table
_CLIENT_TABLE = Client._meta.db_table
_ENTRY_NAMES = ", ".join(c for c, _ in _ENTRY_COLUMNS)
_EVENT_NAMES = ", ".join(c for c, _ in EVENT_COLUMNS)
_PURCHASE_KIND_LIST = ", ".join(f"'{kind}'" for kind in sorted(PURCHASE_KINDS))


def _rows_of(columns, *, one: bool) -> str:
    """The rows a statement reads, each column one array (`unnest`, numbered in order by
    WITH ORDINALITY), or for a posting of one a row of scalars numbered 1: PostgreSQL plans
    the row of scalars once for a prepared statement, and psycopg binds it faster."""
    if one:
        return "(VALUES (" + ", ".join(scalar_param(t) for _, t in columns) + ", 1))"
    return "unnest(" + ", ".join(array_param(t) for _, t in columns) + ") WITH ORDINALITY"


def _write_sql(*, one: bool) -> str:
    """The chunk's writes in one statement: the entries in the postings' order (so that their
    ids follow the chain), each account's balance and time from its last entry, the last
    purchase date of the clients who bought, and the entries' events, which learn their
    entry's id from the INSERT (data-modifying CTEs run to completion whether or not the final
    SELECT reads them); it returns the entries' ids. An event joins its entry by the key, so
    that a posting of one without an activity line binds a NULL key and writes none."""
    events = (*EVENT_COLUMNS, ("idempotency_key", "text"))
    return (
        f"WITH v AS (SELECT * FROM {_rows_of(_ENTRY_COLUMNS, one=one)} "  # noqa: S608 - names and kinds are ours
        f"AS v({_ENTRY_NAMES}, n)), "
        "last AS (SELECT DISTINCT ON (account_id) account_id, balance_after, created_at FROM v "
        "ORDER BY account_id, n DESC), "
        f"balances AS (UPDATE {_ACCOUNT_TABLE} AS a SET balance = last.balance_after, "
        "last_posted_at = last.created_at, updated_at = %s FROM last "
        "WHERE a.id = last.account_id RETURNING a.id), "
        f"purchases AS (UPDATE {_CLIENT_TABLE} AS c SET last_purchase_at = p.created_at FROM "
        "(SELECT DISTINCT ON (account_id) account_id, created_at FROM v "
        f"WHERE kind IN ({_PURCHASE_KIND_LIST}) ORDER BY account_id, n DESC) AS p, "
        f"{_ACCOUNT_TABLE} AS pa WHERE pa.id = p.account_id AND c.id = pa.client_id "
        "RETURNING c.id), "
        f"ins AS (INSERT INTO {_ENTRY_TABLE} (tenant_id, {_ENTRY_NAMES}) "
        f"SELECT %s, {_ENTRY_NAMES.replace('comment', 'COALESCE(comment, %s)')} FROM v "
        "ORDER BY n RETURNING id, idempotency_key), "
        f"act AS (INSERT INTO {EVENT_TABLE} ({_EVENT_NAMES}) "
        "SELECT l.tenant_id, l.created_at, l.type, l.actor_kind, l.actor_id, l.actor_label, "
        "l.object_type, ins.id, l.client_id, l.description, "
        "jsonb_build_object('entry', ins.id) || l.payload "
        f"FROM (SELECT * FROM {_rows_of(events, one=one)} AS l({_EVENT_NAMES}, "
        "idempotency_key, n)) AS l JOIN ins USING (idempotency_key) ORDER BY ins.id RETURNING 1) "
        "SELECT id, idempotency_key FROM ins"
    )


def _lock_accounts_sql(*, one: bool) -> str:
    """The accounts locked in id order, with their clients' status and the ids of the entries
    their keys posted before, in one round trip; for a posting of one, its account and key as
    scalars."""
    key, account = (
        ("= %s", "= %s")
        if one
        else (
            f"= ANY({array_param('text')})",
            f"= ANY({array_param('bigint')})",
        )
    )
    return (
        "SELECT a.id, a.client_id, a.balance, a.credit_limit, a.last_posted_at, "  # noqa: S608
        "c.status = %s, (SELECT array_agg(e.id) FROM "
        f"{_ENTRY_TABLE} e WHERE e.tenant_id = %s AND e.idempotency_key {key}) "
        f"FROM {_ACCOUNT_TABLE} a JOIN {_CLIENT_TABLE} c ON c.id = a.client_id "
        f"WHERE a.tenant_id = %s AND a.id {account} ORDER BY a.id FOR UPDATE OF a"
    )


_WRITE_SQL = {one: _write_sql(one=one) for one in (False, True)}
_LOCK_ACCOUNTS_SQL = {one: _lock_accounts_sql(one=one) for one in (False, True)}
_ENTRY_FIELDS = [f.attname for f in LedgerEntry._meta.concrete_fields]
_POSTED_SQL = (
    f"SELECT {', '.join(_ENTRY_FIELDS)} FROM {_ENTRY_TABLE} "  # noqa: S608
    f"WHERE tenant_id = %s AND id = ANY({array_param('bigint')})"
)


@dataclass(frozen=True, slots=True)
class Posting:
    """One entry to post. `amount` is signed: positive adds to the balance; `purpose` is a
    StoredText (a plain str is refused, see the module's docstring)."""

    account_id: int
    amount: Decimal
    kind: str
    purpose: StoredText
    idempotency_key: str
    comment: str = ""
    actor: object = None
    allow_overdraft: bool = False
    reverses: LedgerEntry | None = None
    at: datetime | None = None
    activity: bool = False

    def __post_init__(self):
        stored_text_required(self.purpose, what="A ledger entry's purpose")


@dataclass(slots=True)
class PostingResult:
    """What became of one posting: its entry (new, or `entry.replayed` when the key was posted
    before), or the LedgerError that refused it (then nothing of it was written)."""

    posting: Posting
    entry: LedgerEntry | None = None
    error: LedgerError | None = None

    @property
    def posted(self) -> bool:
        """A new entry (not refused, not a replay)."""
        return self.entry is not None and not self.entry.replayed


@dataclass(slots=True)
class _LockedAccount:
    client_id: int
    balance: Decimal
    credit_limit: Decimal
    last_posted_at: datetime | None
    client_active: bool
    available_before: Decimal
    entries: list = field(default_factory=list)

    @property
    def available(self) -> Decimal:
        return self.balance + self.credit_limit


def _replay(entry: LedgerEntry, *, posting: Posting) -> LedgerEntry:
    """The entry a key posted the first time, if the request is the same one."""
    same = (
        entry.account_id == posting.account_id
        and entry.kind == posting.kind
        and entry.amount == posting.amount
    )
    if not same:
        raise IdempotencyConflict(
            _(
                "This request was already used for a different posting; reload the page and "
                "try again."
            ),
            code="idempotency_conflict",
        )
    entry.replayed = True
    return entry


def ledger_post_batch(
    *, tenant: Tenant, postings, chunk_size: int = POSTING_CHUNK
) -> list[PostingResult]:
    """Post many entries, `chunk_size` to a transaction (each chunk through
    `ledger_post_chunk_retried`)."""
    postings = list(postings)
    results = []
    for start in range(0, len(postings), chunk_size):
        results += ledger_post_chunk_retried(
            tenant=tenant, postings=postings[start : start + chunk_size]
        )
    return results


def ledger_post_chunk_retried(*, tenant: Tenant, postings, attempts: int = 3) -> list:
    """`ledger_post_chunk` in a transaction of its own, or in a savepoint of the caller's
    (the jobs that lock their own rows first), posted again when it met a key committed while
    it waited for its locks: the savepoint is rolled back, keeping the caller's work and
    locks, and the retry reads the keys once the locks are granted (one statement more), so
    that it answers such a key as a replay or a conflict. The way every caller posts a chunk."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return ledger_post_chunk(
                    tenant=tenant, postings=postings, keys_after_locks=attempt > 0
                )
        except (IntegrityError, KeyPostedWhileWaiting):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


class KeyPostedWhileWaiting(Exception):
    """A refused posting's key was committed by another writer while this chunk waited for the
    account's lock: its refusal (funds that the first posting of the key took, a date before
    it) is not the answer; the chunk is posted again with the keys read after the locks, and
    the key is answered as a replay."""


def ledger_post_chunk(
    *, tenant: Tenant, postings, keys_after_locks: bool = False
) -> list[PostingResult]:
    """Post `postings` (one tenant's) in the caller's transaction, with the same statements
    whatever their number: lock their accounts and read the keys posted before in one
    statement, in the order of the accounts' ids (every writer of accounts locks in this
    order, so that none deadlocks), then in the postings' order check each one's funds and
    chain its `balance_after`, and write the entries, balances and purchase dates in one
    statement. One refused posting (funds, a key reused for something else) is refused alone:
    the rest post. The chunk is announced once (`funds_changed`, then
    `funds_changed_committed` after the commit) and its activity lines are written with its
    entries.

    Raises IntegrityError when one of its keys was committed while it waited for the locks
    (the transaction is then broken), or KeyPostedWhileWaiting when such a key was refused
    before it was written: `ledger_post_chunk_retried`, which every caller of a chunk goes
    through, posts it again with `keys_after_locks`, so that the keys are read once the locks
    are granted, one statement more."""
    results = [PostingResult(posting) for posting in postings]
    valid = [result for result in results if _amount_checked(result)]
    if not valid:
        return results
    now = timezone.now()
    # A single posting's statements take scalars (`_rows_of`) and are prepared.
    with bound_cursor(prepared=len(valid) == 1) as cursor:
        keys = {r.posting.idempotency_key for r in valid}
        accounts, posted_ids = _lock_accounts(
            cursor, tenant, {r.posting.account_id for r in valid}, () if keys_after_locks else keys
        )
        if keys_after_locks:
            posted_ids = _posted_ids(cursor, tenant, keys)
        posted = _posted_entries(cursor, tenant, posted_ids)
        new = _chain_entries(tenant, valid, accounts, posted, now)
        if not keys_after_locks:
            _refusals_checked_for_raced_keys(cursor, tenant, valid, posted)
        if new:
            _write_entries(cursor, tenant, new, accounts, now)
    posted.update((entry.idempotency_key, entry) for _, entry in new)
    for result in valid:  # a key given twice in the chunk: the second is the first's replay
        if result.entry is None and result.error is None:
            try:
                first = posted[result.posting.idempotency_key]
                result.entry = _replay(_copied(first), posting=result.posting)
            except LedgerError as exc:
                result.error = exc
    if new:
        _announce_postings(tenant, accounts)
    return results


def _refusals_checked_for_raced_keys(cursor, tenant: Tenant, valid, posted) -> None:
    """The keys were read from the snapshot taken before the locks were granted, so a refusal
    may come from the very posting that took the funds under the same key meanwhile: one
    statement, only when something was refused, tells (KeyPostedWhileWaiting)."""
    refused = {
        r.posting.idempotency_key
        for r in valid
        if r.error is not None and r.posting.idempotency_key not in posted
    }
    if refused and _posted_ids(cursor, tenant, refused):
        raise KeyPostedWhileWaiting


def _amount_checked(result: PostingResult) -> bool:
    try:
        amount = to_money(result.posting.amount)
        if amount == 0:
            raise AmountOutOfRange(_("The amount must not be zero."), code="zero")
    except LedgerError as exc:
        result.error = exc
        return False
    if not _is_money(result.posting.amount):
        result.posting = replace(result.posting, amount=amount)
    return True


def _is_money(value) -> bool:
    """Already a Decimal of cents (the jobs pass them so): no copy of the posting needed."""
    return type(value) is Decimal and value.as_tuple().exponent == -2


def _lock_accounts(cursor, tenant: Tenant, account_ids, keys) -> tuple[dict, list]:
    """The accounts, locked, and the ids of the entries their keys posted before.

    The keys are read in the statement that waits for the locks, so from its snapshot: an
    entry that a posting holding the lock committed meanwhile is not seen, and the INSERT of
    the same key then fails on the unique key (IntegrityError), which the callers answer as
    a retry. The common case, a new key, costs no round trip of its own."""
    if not is_postgresql():
        rows = _lock_accounts_portable(tenant, account_ids, keys)
    else:
        one = len(account_ids) == 1 and len(keys) <= 1
        if one:
            key, account = next(iter(keys), None), next(iter(account_ids))
        else:
            key, account = list(keys), sorted(account_ids)
        params = [ClientStatus.ACTIVE, tenant.pk, key, tenant.pk, account]
        cursor.execute(_LOCK_ACCOUNTS_SQL[one], params)
        rows = cursor.fetchall()
    accounts, posted = {}, []
    for pk, client_id, balance, limit, last, active, posted_ids in rows:
        accounts[pk] = _LockedAccount(client_id, balance, limit, last, active, balance + limit)
        posted = posted_ids or []
    return accounts, posted


def _lock_accounts_portable(tenant: Tenant, account_ids, keys) -> list[tuple]:
    """`_LOCK_ACCOUNTS_SQL` for databases without arrays (the SQLite demo: one writer)."""
    posted = list(
        LedgerEntry.objects.for_tenant(tenant)
        .filter(idempotency_key__in=list(keys))
        .values_list("pk", flat=True)
    )
    rows = (
        Account.objects.for_tenant(tenant)
        .filter(pk__in=sorted(account_ids))
        .select_for_update()
        .order_by("pk")
        .values_list(
            "pk", "client_id", "balance", "credit_limit", "last_posted_at", "client__status"
        )
    )
    return [(*row[:5], row[5] == ClientStatus.ACTIVE, posted) for row in rows]


def _posted_ids(cursor, tenant: Tenant, keys) -> list[int]:
    """The ids of the entries these keys posted, read once the accounts' locks are granted:
    every posting that held one of them has committed by then."""
    entries = LedgerEntry.objects.for_tenant(tenant).filter(idempotency_key__in=list(keys))
    return list(entries.values_list("pk", flat=True))


def _posted_entries(cursor, tenant: Tenant, ids) -> dict[str, LedgerEntry]:
    """The entries that the chunk's keys posted before (a statement only when there are)."""
    if not ids:
        return {}
    entries = LedgerEntry.objects.for_tenant(tenant).filter(pk__in=list(ids))
    if is_postgresql():
        cursor.execute(_POSTED_SQL, [tenant.pk, list(ids)])
        rows = cursor.fetchall()
        entries = (LedgerEntry.from_db("default", _ENTRY_FIELDS, _orm_values(row)) for row in rows)
    return {entry.idempotency_key: entry for entry in entries}


_PURPOSE_FIELD: StoredTextField = LedgerEntry._meta.get_field("purpose")
_PURPOSE_INDEX = _ENTRY_FIELDS.index("purpose")


def _orm_values(row: tuple) -> list:
    """A row of `_POSTED_SQL` as the ORM reads it: the purpose's JSON text as its StoredText."""
    values = list(row)
    values[_PURPOSE_INDEX] = _PURPOSE_FIELD.from_db_value(values[_PURPOSE_INDEX], None, connection)
    return values


def _copied(entry: LedgerEntry) -> LedgerEntry:
    return LedgerEntry.from_db("default", _ENTRY_FIELDS, [getattr(entry, f) for f in _ENTRY_FIELDS])


def _chain_entries(tenant, valid, accounts, posted, now) -> list[tuple]:
    """Check each posting in order against its account's running balance and build its entry;
    returns (result, entry) of those to write. A key met a second time is left for later."""
    new = []
    pending = set()
    for result in valid:
        posting = result.posting
        key = posting.idempotency_key
        if key in posted:
            try:
                result.entry = _replay(posted[key], posting=posting)
            except LedgerError as exc:
                result.error = exc
            continue
        if key in pending:  # given twice in the chunk: answered from the first, later
            continue
        account = accounts.get(posting.account_id)
        try:
            entry = _entry_for(tenant, posting, account, now)
        except LedgerError as exc:
            result.error = exc
            continue
        account.balance = entry.balance_after
        account.last_posted_at = entry.created_at
        account.entries.append(entry)
        result.entry = entry
        new.append((result, entry))
        pending.add(key)
    return new


def _entry_for(tenant, posting: Posting, account: _LockedAccount | None, now) -> LedgerEntry:
    if account is None:
        raise LedgerError(_("This account does not exist."), code="no_account")
    amount = posting.amount
    new_balance = account.balance + amount
    if abs(new_balance) > MONEY_LIMIT:
        raise AmountOutOfRange(
            gettext_lazy("The balance would exceed %(limit)s; nothing was posted."),
            code="balance_limit",
            params={"limit": MONEY_LIMIT_SHOWN},
        )
    if amount < 0 and not posting.allow_overdraft and new_balance + account.credit_limit < 0:
        raise InsufficientFunds(
            _("Insufficient funds: available %(available)s, needed %(needed)s.")
            % {
                "available": format_amount(account.available, currency=tenant.currency),
                "needed": format_amount(-amount, currency=tenant.currency),
            },
            code="insufficient_funds",
        )
    when = posting.at or now
    if account.last_posted_at and when < account.last_posted_at:
        if posting.at is not None:
            raise LedgerError(_("An entry cannot be dated before the account's latest entry."))
        when = account.last_posted_at  # the clock stepped back: keep the ledger in order
    operator = _operator(posting.actor)
    entry = LedgerEntry(  # positional, in the order of _ENTRY_FIELDS: the fastest way in
        None,
        tenant.pk,
        posting.account_id,
        when,
        amount,
        posting.kind,
        _purpose_kept(posting.purpose),
        (posting.comment or "")[:500],
        operator.pk if operator else None,
        new_balance,
        posting.idempotency_key,
        posting.reverses.pk if posting.reverses else None,
    )
    entry._state.fields_cache["tenant"] = tenant
    if operator is not None:
        entry.operator = operator
    if posting.reverses is not None:
        entry.reverses = posting.reverses
    entry.replayed = False
    return entry


def _operator(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _purpose_kept(purpose: StoredText) -> StoredText:
    """An operator's words at most PURPOSE_MAX_LENGTH characters long (a message is kept
    whole: its words are the catalogue's)."""
    if purpose.literal and len(purpose.msgid) > PURPOSE_MAX_LENGTH:
        return literal_text(purpose.msgid[:PURPOSE_MAX_LENGTH])
    return purpose


def _write_entries(cursor, tenant, new, accounts, now) -> None:
    """The entries, the balances, the last purchase dates and the activity lines, in one
    statement (for one entry, its columns as scalars)."""
    entries = [entry for _, entry in new]
    if not is_postgresql():
        _write_entries_portable(tenant, entries, accounts, now)
        events_record_bulk(tenant=tenant, lines=_event_lines(tenant, new, accounts))
        return
    rows = event_rows(tenant=tenant, lines=_event_lines(tenant, new, accounts, with_entry=False))
    keys = [entry.idempotency_key for result, entry in new if result.posting.activity]
    one = len(entries) == 1
    if one:
        entry_values = [_value(entries[0], name) for name, _ in _ENTRY_COLUMNS]
        event_values = [column[0] for column in event_columns(rows)] if rows else None
    else:
        entry_values = [_column(entries, name) for name, _ in _ENTRY_COLUMNS]
        event_values = event_columns(rows) if rows else None
    params = [
        *entry_values,
        now,
        tenant.pk,
        "",
        *(event_values or [None] * len(EVENT_COLUMNS)),
        (keys[0] if one else keys) if keys else None,
    ]
    cursor.execute(_WRITE_SQL[one], params)
    ids = {key: pk for pk, key in cursor.fetchall()}
    for entry in entries:
        entry.pk = ids[entry.idempotency_key]
        entry._state.adding = False
        entry._state.db = "default"


def _value(entry: LedgerEntry, name: str):
    """The entry's value of one column, as `_column` sends it."""
    if name == "purpose":
        return entry.purpose.to_json_text()
    return getattr(entry, name)


def _column(entries, name: str) -> list | None:
    """The entries' values of one column (the purpose as JSON text); None (an empty array,
    which unnest pads with NULLs) when all are NULL or empty, which saves sending a thousand of
    them."""
    values = [_value(entry, name) for entry in entries]
    return None if name in _NULLABLE_COLUMNS and not any(values) else values


_NULLABLE_COLUMNS = frozenset({"operator_id", "reverses_id", "comment"})  # comment: COALESCE


def _write_entries_portable(tenant, entries, accounts, now) -> None:
    """`_write_entries` for databases without arrays (the SQLite demo)."""
    LedgerEntry.objects.for_tenant(tenant).bulk_create(entries)
    for entry in entries:
        entry._state.adding = False
    changed = [
        Account(pk=pk, balance=a.balance, last_posted_at=a.last_posted_at, updated_at=now)
        for pk, a in accounts.items()
        if a.entries
    ]
    Account.objects.for_tenant(tenant).bulk_update(
        changed, ["balance", "last_posted_at", "updated_at"]
    )
    for entry in entries:
        if entry.kind in PURCHASE_KINDS:
            Client.objects.for_tenant(tenant).filter(
                pk=accounts[entry.account_id].client_id
            ).update(last_purchase_at=entry.created_at)


def _announce_postings(tenant: Tenant, accounts: dict[int, _LockedAccount]) -> None:
    _announce(
        tenant,
        [
            FundsChange(
                account_id=pk,
                client_id=a.client_id,
                before=a.available_before,
                after=a.available,
                at=a.last_posted_at,
                entries=tuple(a.entries),
                client_active=a.client_active,
            )
            for pk, a in accounts.items()
            if a.entries
        ],
    )


def _announce(tenant: Tenant, changes: list[FundsChange]) -> None:
    """`funds_changed` now (the account rows are locked) and `funds_changed_committed` after
    the commit; see billing/signals.py."""
    funds_changed.send(sender=Account, tenant=tenant, changes=changes)
    if funds_changed_committed.has_listeners(Account):
        transaction.on_commit(
            lambda: funds_changed_committed.send(sender=Account, tenant=tenant, changes=changes)
        )


def _event_lines(tenant: Tenant, new, accounts, *, with_entry: bool = True) -> list[EventLine]:
    """The events of the entries that ask for one; without `with_entry`, their payload and
    object leave out the entry's id, which the write statement adds."""
    currency = tenant.currency
    lines = []
    for result, entry in new:
        if not result.posting.activity:
            continue
        values = {
            "kind": EntryKind(entry.kind).label,
            "amount": Money(abs(entry.amount), currency),
            "balance": Money(entry.balance_after, currency),
        }
        if entry.comment:
            description = stored_gettext(
                "%(kind)s %(amount)s, balance %(balance)s (%(comment)s)",
                comment=entry.comment,
                **values,
            )
        else:
            description = stored_gettext("%(kind)s %(amount)s, balance %(balance)s", **values)
        payload = {"amount": str(entry.amount), "balance_after": str(entry.balance_after)}
        payload["kind"] = entry.kind
        if with_entry:
            payload = {"entry": entry.pk, **payload}
        lines.append(
            EventLine(
                type="ledger.entry_posted",
                client_id=accounts[entry.account_id].client_id,
                description=description,
                payload=payload,
                object_type="ledger_entry",
                object_id=entry.pk if with_entry else None,
                actor=entry.operator,
                at=entry.created_at,
            )
        )
    return lines


def _post_entry(
    *,
    account: Account,
    kind: str,
    amount,
    purpose: StoredText,
    comment: str = "",
    actor=None,
    idempotency_key: str | None = None,
    allow_overdraft: bool = False,
    reverses: LedgerEntry | None = None,
    at: datetime | None = None,
    activity: bool = False,
) -> LedgerEntry:
    """One posting: the chunk of one, in its own transaction (or the caller's). Raises what
    refused it; `account` is given its new balance."""
    posting = Posting(
        account_id=account.pk,
        amount=amount,
        kind=kind,
        purpose=purpose,
        idempotency_key=idempotency_key or new_idempotency_key(kind),
        comment=comment,
        actor=actor,
        allow_overdraft=allow_overdraft,
        reverses=reverses,
        at=at,
        activity=activity,
    )
    tenant = account.tenant
    try:
        with transaction.atomic():
            (result,) = ledger_post_chunk(tenant=tenant, postings=[posting])
    except (IntegrityError, KeyPostedWhileWaiting):
        # The same key was committed while the posting waited for its account's lock (the
        # keys are read from the snapshot of the statement that waited, see _lock_accounts),
        # for this account or another: its write failed on the key, or it was refused for
        # funds that posting took. The transaction (or its savepoint, when the caller has one
        # open) is rolled back; answer as a retry.
        key = posting.idempotency_key
        existing = LedgerEntry.objects.for_tenant(tenant).filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _replay(existing, posting=replace(posting, amount=to_money(amount)))
    if result.error is not None:
        raise result.error
    entry = result.entry
    if not entry.replayed:
        account.balance = entry.balance_after
        account.last_posted_at = entry.created_at
    entry.account = account
    return entry


# -- use cases ------------------------------------------------------------------------------
def positive_money(value, *, what: str) -> Decimal:
    """`value` as money, refused unless it is greater than zero (e.g. what="A refund")."""
    amount = to_money(value)
    if amount <= 0:
        raise AmountOutOfRange(
            _("%(what)s must be greater than zero.") % {"what": what}, code="not_positive"
        )
    return amount


def account_top_up(
    *,
    account: Account,
    amount,
    actor=None,
    comment: str = "",
    purpose: StoredText | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Money in, recorded in the client's activity. The amount must be positive; the purpose
    is "Account top-up" unless the caller says what the money came with."""
    amount = positive_money(amount, what=_("A top-up"))
    return _post_entry(
        account=account,
        kind=EntryKind.TOP_UP,
        amount=amount,
        purpose=purpose or stored_gettext("Account top-up"),
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
    purpose: StoredText,
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
    amount = positive_money(amount, what=_("A charge"))
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
    purpose: StoredText | None = None,
    actor=None,
    comment: str = "",
    idempotency_key: str | None = None,
    activity: bool = True,
) -> LedgerEntry:
    """Money given back to the client's balance (e.g. a messaging overcharge corrected), and
    its activity line unless the caller records its own (`activity=False`)."""
    amount = positive_money(amount, what=_("A refund"))
    return _post_entry(
        account=account,
        kind=EntryKind.REFUND,
        amount=amount,
        purpose=purpose or stored_gettext("Refund"),
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
        raise LedgerError(_("A reversal cannot be reversed; post a new entry instead."))
    key = idempotency_key or f"reversal:{entry.pk}"
    existing = LedgerEntry.objects.for_tenant(entry.tenant).filter(reverses=entry).first()
    if existing is not None and existing.idempotency_key != key:
        raise LedgerError(_("This entry has already been reversed."), code="already_reversed")
    try:
        return _post_entry(
            account=entry.account,
            kind=EntryKind.REVERSAL,
            amount=-entry.amount,
            purpose=stored_gettext(
                "Reversal of entry %(entry)s: %(purpose)s", entry=entry.pk, purpose=entry.purpose
            ),
            comment=comment,
            actor=actor,
            idempotency_key=key,
            allow_overdraft=True,
            reverses=entry,
            activity=True,
        )
    except IntegrityError as exc:  # reversed concurrently under another key
        raise LedgerError(
            _("This entry has already been reversed."), code="already_reversed"
        ) from exc


def account_set_credit_limit(
    *,
    account: Account,
    credit_limit,
    actor=None,
    notify: bool = False,
    idempotency_key: str | None = None,
) -> CreditLimitChange | None:
    """Set how far below zero the balance may go; logged with old and new value. With
    `notify`, the client (and its accounting e-mail) is owed an e-mail in the change's
    transaction, sent once after the commit (the outbox). The limit the account already has
    records nothing (no change row, no notice) and returns None: a form saved unchanged
    changed nothing."""
    credit_limit = to_money(credit_limit)
    if credit_limit < 0:
        raise AmountOutOfRange(_("The credit limit cannot be negative."), code="negative")
    tenant = account.tenant
    key = idempotency_key or new_idempotency_key("credit")
    changes = CreditLimitChange.objects.for_tenant(tenant)
    with transaction.atomic():
        locked = _locked_account(account)
        existing = changes.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.account_id != locked.pk or existing.new_limit != credit_limit:
                raise IdempotencyConflict(
                    _("This request was already used for a different change; reload the page."),
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
        _announce(
            tenant,
            [
                FundsChange(
                    account_id=locked.pk,
                    client_id=locked.client_id,
                    before=before,
                    after=locked.available,
                    at=change.created_at,
                    credit_change=change,
                )
            ],
        )
        _record_credit_change(change)
        if notify:
            _owe_credit_notice(change)
    account.credit_limit = credit_limit
    return change


def _record_credit_change(change: CreditLimitChange) -> None:
    """The change's line in the client's activity."""
    event_record(
        tenant=change.tenant,
        type="credit_limit.changed",
        client_id=change.account.client_id,
        object_type="credit_limit_change",
        object_id=change.pk,
        actor=change.operator,
        description=stored_gettext(
            "Credit limit %(old)s → %(new)s",
            old=Money(change.old_limit, show_currency=False),
            new=Money(change.new_limit, change.tenant.currency),
        ),
        payload={"old": str(change.old_limit), "new": str(change.new_limit)},
        at=change.created_at,
    )


def _owe_credit_notice(change: CreditLimitChange) -> None:
    """The notice, owed in the change's transaction and sent once after the commit
    (events/outbox.py), in the client's language and the tenant's formats."""
    client, tenant = change.account.client, change.tenant
    with in_language_of(client, tenant):
        notice = credit_notice_email(change=change, client=client, tenant=tenant)
    if notice is None:
        logger.info("Credit change %s: client %s has no e-mail", change.pk, client.pk)
        return
    emails_enqueue(tenant=tenant, emails=[notice])


def credit_notice_email(*, change, client, tenant) -> OwedEmail | None:
    """The client's e-mail (and its accounting e-mail's) about a credit-limit change, in the
    active language, under its outbox key `credit:<change id>`; None without an address.
    It reads only fields that the change, client and tenant have had since the first notice,
    so that billing's migration to the outbox renders an old unsent notice with it too."""
    recipients = tuple(dict.fromkeys(e for e in (client.email, client.accounting_email) if e))
    if not recipients:
        return None
    old_limit = format_amount(change.old_limit, currency=tenant.currency)
    new_limit = format_amount(change.new_limit, currency=tenant.currency)
    context = {
        "change": change,
        "client": client,
        "tenant": tenant,
        "old_limit": old_limit,
        "new_limit": new_limit,
    }
    return OwedEmail(
        key=credit_notice_key(change.pk),
        kind=CREDIT_NOTICE_KIND,
        client_id=client.pk,
        to=recipients,
        subject=_("%(tenant)s: your credit limit is now %(amount)s")
        % {"tenant": tenant.name, "amount": new_limit},
        body=render_to_string("billing/email/credit_limit_changed.txt", context),
    )


CREDIT_NOTICE_KIND = "credit_limit_changed"


def credit_notice_key(change_id: int) -> str:
    """The outbox key of a credit-limit change's notice: owed once, whoever owes it."""
    return f"credit:{change_id}"


# -- opening balances of imported clients ------------------------------------------------------
def opening_balance_key(*, tenant: Tenant, client_id: int, file_hash: str) -> str:
    """One opening balance per client and file: a commit that runs again posts nothing."""
    return f"opening:{tenant.pk}:{client_id}:{file_hash[:32]}"


def opening_balances_post(
    *, tenant: Tenant, actor, file_name: str, file_hash: str, values
) -> list[PostingResult]:
    """Post the opening balances of clients just imported, `values` as (client id, signed
    amount), in the caller's transaction (the import's chunk) through the one posting path.
    A debt carried over may take funds below zero (`allow_overdraft`)."""
    values = [(client_id, amount) for client_id, amount in values if amount]
    if not values:
        return []
    accounts = account_ids_for_clients(
        tenant=tenant, client_ids=[client_id for client_id, _ in values]
    )
    postings = [
        Posting(
            account_id=accounts[client_id],
            amount=to_money(amount),
            kind=EntryKind.ADJUSTMENT,
            purpose=stored_gettext("Opening balance"),
            comment=file_name[:255],  # a name, the same in every reader's language
            idempotency_key=opening_balance_key(
                tenant=tenant, client_id=client_id, file_hash=file_hash
            ),
            actor=actor,
            allow_overdraft=True,
            activity=True,
        )
        for client_id, amount in values
    ]
    return ledger_post_chunk_retried(tenant=tenant, postings=postings)
