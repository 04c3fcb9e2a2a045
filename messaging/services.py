"""Every write of the messaging app: ingestion, delivery reports, rollups, daily charges and
sender IDs. Each use case is one function with keyword-only arguments.

Ingestion (`messages_ingest`) takes records in batches; each batch is one transaction that
inserts the new messages (one INSERT ... ON CONFLICT DO NOTHING on (tenant, key), its columns
as arrays bound in binary, core/sql.py) and marks their (client, day) pairs dirty. A record
whose key exists already is skipped and answered "duplicate", so a re-import changes nothing.
Delivery reports (`messages_apply_reports`) update status, delivery time and the gateway's
operator, and mark the day the message was *sent* on dirty, however late they come. Each
record is checked in Python (its number resolved, remembered for the next ones, and its parts
counted); a batch then costs the same few statements whatever its size, since per-row
statements and values quoted into the SQL were what made ingestion slow (bench/README.md,
api.py).

The rollup job (`rollups_refresh`) rebuilds the rollups of the dirty pairs set-wise: for a batch
of pairs, DELETE their rows and INSERT ... SELECT ... GROUP BY from the messages, in one
transaction; then it removes the dirty marks whose generation it has seen (a mark bumped while
it worked stays, and is rebuilt on the next run). It also refreshes what each (client, day) owes
(`MessagingCharge.due_*`). One run per tenant at a time (the "messaging_rollups" job's lock,
core/jobs.py, taken by beat's recorded run and by a direct call alike), so two workers never
rebuild the same day at once; a second run returns at once.

The charge job (`messaging_charges_post`) posts, for each closed day (before today in the
tenant's time zone) whose due amount differs from what was charged, the difference to the
ledger through billing's chunk (`ledger_post_chunk_retried`, never touching a balance itself),
by chunks of CHARGE_CHUNK client-days, one transaction each: the first posting is "SMS sending
on DATE, N parts" with the key "sms:<tenant>:<client>:<day>", later ones are corrections with
their own sequence-numbered keys (a refund when the day now owes less). The chunk's charge rows
are locked with SKIP LOCKED while it posts, so two runs at once post once, and a rerun finds
them settled.

Decisions where the requirements were silent:
* failed and expired messages are charged (the gateway sent them); rejected ones are not;
* the price of a message is the client's SMS price × parts, unless the record carries a price;
* Viber messages are not segmented: one message is one part;
* the charge is posted with an overdraft allowed (the traffic has happened); the financial-hold
  job decides what a negative balance means.
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import islice
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from billing.models import Account, EntryKind
from billing.services import Posting, account_ids_for_clients, ledger_post_chunk_retried
from clients.models import Client
from core.jobs import job_lock
from core.sql import array_param, bound_cursor, is_postgresql, unnest_arrays
from core.stored_text import (
    Count,
    Money,
    StoredText,
    field_labels,
    stored_gettext,
    stored_ngettext,
    stored_pgettext,
)
from core.text import clean_text, describe_character, refused_characters
from core.validators import full_clean_changed
from events.services import event_record
from tenancy.models import Tenant

from .models import (
    FINAL_STATUSES,
    DailyRouteStat,
    DailySenderStat,
    DirtyDay,
    Message,
    MessageChannel,
    MessageStatus,
    MessagingCharge,
    SenderId,
    SenderStatus,
)
from .numbers import InvalidRecipient, OperatorSource, resolve_recipient
from .parts import count_parts

logger = logging.getLogger(__name__)

INGEST_BATCH = 2000
ROLLUP_BATCH = 1000
CHARGE_CHUNK = 1000  # client-days settled in one transaction
MAX_KEPT_ERRORS = 1000
CENT = Decimal("0.01")
PRICE_QUANTUM = Decimal("0.0001")
CHANNELS = frozenset(MessageChannel.values)
STATUSES = frozenset(MessageStatus.values)
ROLLUPS_JOB = "messaging_rollups"  # registered jobs (core/jobs.py), in MessagingConfig.ready()
CHARGES_JOB = "messaging_charges"


# -- helpers ---------------------------------------------------------------------------------
def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def dirty_days_mark(*, tenant: Tenant, pairs: Iterable[tuple[int, date]]) -> int:
    """Mark (client id, day) pairs for re-aggregation; an existing mark's generation grows.
    In the pairs' order, so that two writers marking the same days wait rather than deadlock;
    on PostgreSQL one statement whatever their number, the pairs as two arrays."""
    pairs = sorted(set(pairs))
    if not pairs:
        return 0
    table = _table(DirtyDay)
    upsert = (
        f"ON CONFLICT (tenant_id, client_id, day) DO UPDATE SET generation = {table}.generation + 1"
    )
    if is_postgresql():
        fields = [DirtyDay._meta.get_field(name) for name in ("client", "day")]
        with bound_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, client_id, day, generation) "  # noqa: S608
                f"SELECT %b::bigint, u.*, 1 FROM {unnest_arrays(fields)} AS u {upsert}",
                [tenant.pk, *map(list, zip(*pairs, strict=True))],
            )
        return len(pairs)
    for batch in _batches(pairs, 300):  # the SQLite demo: rows as values
        values = ", ".join(["(%s, %s, %s, 1)"] * len(batch))
        params = [value for client_id, day in batch for value in (tenant.pk, client_id, day)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, client_id, day, generation) "  # noqa: S608
                f"VALUES {values} {upsert}",
                params,
            )
    return len(pairs)


def local_day(moment: datetime, tenant: Tenant) -> date:
    return timezone.localtime(moment, tenant.zone).date()


def _parse_moment(value, tenant: Tenant, field_name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = parse_datetime(str(value).strip())
        if moment is None:
            raise ValueError(
                _("%(field)s: “%(value)s” is not a date and time (ISO 8601).")
                % {"field": field_name, "value": value}
            )
    if timezone.is_naive(moment):  # a naive time is the tenant's wall clock
        moment = timezone.make_aware(moment, tenant.zone)
    return moment


# -- ingestion -------------------------------------------------------------------------------
@dataclass
class IngestError:
    index: int
    key: str
    message: str


class ItemState:
    """What became of one record or report, for a caller that answers per item (the API)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    UNKNOWN = "unknown"  # a report of a message never ingested
    UNCHANGED = "unchanged"  # a report that repeats what is known


@dataclass
class ItemOutcome:
    index: int
    key: str
    state: str
    reason: str = ""


@dataclass(kw_only=True)
class BatchResult:
    """What a batch of records or reports gave: the refused ones counted and the first
    MAX_KEPT_ERRORS described; with `items`, each one's outcome (the API's answer)."""

    received: int = 0
    failed: int = 0
    errors: list[IngestError] = field(default_factory=list)
    items: list[ItemOutcome] | None = None

    def add_error(self, index: int, key: str, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(IngestError(index, key, message))
        self.answer(index, key, ItemState.REFUSED, message)

    def answer(self, index: int, key: str, state: str, reason: str = "") -> None:
        if self.items is not None:
            self.items.append(ItemOutcome(index, key, state, reason))


@dataclass(kw_only=True)
class IngestResult(BatchResult):
    """Counts; with `answer_items`, also each record's outcome, in the order received."""

    created: int = 0
    duplicates: int = 0
    days_marked: int = 0


class _ClientCache:
    """Client number -> (id, SMS price), read per batch for the numbers not yet seen."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.known: dict[int, tuple[int, Decimal] | None] = {}

    def load(self, numbers: set[int]) -> None:
        missing = numbers - self.known.keys()
        if not missing:
            return
        for number in missing:
            self.known[number] = None
        for number, pk, price in _clients_by_number(self.tenant, missing):
            self.known[number] = (pk, price)

    def get(self, number: int) -> tuple[int, Decimal] | None:
        return self.known.get(number)


BIGINT_MAX = 2**63 - 1


def _clients_by_number(tenant: Tenant, numbers: set[int]) -> Iterable[tuple]:
    """(number, id, SMS price) of the tenant's clients with these numbers: on PostgreSQL the
    numbers as one array bound in binary (a thousand numbers quoted into the statement's text
    cost four times as much), elsewhere the ORM."""
    if not is_postgresql():
        clients = Client.objects.for_tenant(tenant).filter(number__in=numbers)
        return clients.values_list("number", "id", "sms_price")
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT number, id, sms_price FROM {_table(Client)} "  # noqa: S608 - names are ours
            "WHERE tenant_id = %b::bigint AND number = ANY(%b::bigint[])",
            [tenant.pk, [n for n in numbers if 0 < n <= BIGINT_MAX]],
        )
        return cursor.fetchall()


def _client_number(record: dict) -> int | None:
    value = record.get("client")
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# Only counted into parts, never stored: a control character there harms nothing.
UNSTORED_FIELDS = frozenset({"text"})


def _refuse_control_characters(record: dict) -> None:
    """A record from a gateway or a file with a character PostgreSQL refuses (NUL) or no screen
    shows is refused with the field and the character named, like any other bad value."""
    for name, value in record.items():
        if name in UNSTORED_FIELDS or not isinstance(value, str):
            continue
        refused = refused_characters(value)
        if refused:
            shown = ", ".join(describe_character(c) for c in refused)
            raise ValueError(
                _("%(field)s: control character %(shown)s is not allowed.")
                % {"field": clean_text(str(name)), "shown": shown}
            )


class MessageRow(NamedTuple):
    """A message as its row is written: the columns of `Message` but its id and tenant, in
    the order of the ingestion's INSERT (one array a column)."""

    client_id: int
    key: str
    channel: str
    sender: str
    recipient: str
    country: str
    operator: str
    operator_source: str
    mcc_mnc: str
    parts: int
    status: str
    price: Decimal
    sent_at: datetime
    day: date
    delivered_at: datetime | None
    status_changed_at: datetime | None


def _message_row(record: dict, *, tenant: Tenant, clients: _ClientCache) -> MessageRow:
    """The row of one record, or ValueError with a message an operator can act on."""
    _refuse_control_characters(record)
    key = str(record.get("key") or "").strip()
    if not key:
        raise ValueError(_("key: missing (each message needs its gateway id)."))
    if len(key) > 100:
        raise ValueError(_("key: longer than 100 characters."))
    number = _client_number(record)
    client = clients.get(number) if number is not None else None
    if client is None:
        raise ValueError(
            _("client: no client with ID “%(client)s”.") % {"client": record.get("client")}
        )
    client_id, sms_price = client
    channel = str(record.get("channel") or MessageChannel.SMS).strip().lower()
    if channel not in CHANNELS:
        raise ValueError(_("channel: “%(channel)s” is not sms or viber.") % {"channel": channel})
    sender = str(record.get("sender") or "").strip()
    if not sender or len(sender) > 16:
        raise ValueError(_("sender: missing or longer than 16 characters."))
    try:
        resolved = resolve_recipient(
            str(record.get("recipient") or ""), gateway_operator=str(record.get("operator") or "")
        )
    except InvalidRecipient as exc:
        raise ValueError(_("recipient: %(error)s") % {"error": exc}) from exc
    status = str(record.get("status") or MessageStatus.SENT).strip().lower()
    if status not in STATUSES:
        raise ValueError(
            _("status: “%(status)s” is not one of %(statuses)s.")
            % {"status": status, "statuses": ", ".join(MessageStatus.values)}
        )
    sent_at = _parse_moment(record.get("sent_at"), tenant, "sent_at")
    if sent_at is None:
        raise ValueError(_("sent_at: missing."))
    delivered_at = _parse_moment(record.get("delivered_at"), tenant, "delivered_at")
    parts = _record_parts(record, channel)
    raw_price = record.get("price")
    if raw_price in (None, ""):
        price = (sms_price * parts).quantize(PRICE_QUANTUM)
    else:
        try:
            price = Decimal(str(raw_price)).quantize(PRICE_QUANTUM)
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(
                _("price: “%(price)s” is not a number.") % {"price": raw_price}
            ) from exc
        if not price.is_finite() or price < 0 or price >= Decimal("1e9"):
            raise ValueError(_("price: must be zero or more."))
    mcc_mnc = str(record.get("mcc_mnc") or "").strip()
    if mcc_mnc and not (mcc_mnc.isdigit() and 5 <= len(mcc_mnc) <= 6):
        raise ValueError(_("mcc_mnc: five or six digits."))
    return MessageRow(
        client_id=client_id,
        key=key,
        channel=channel,
        sender=sender,
        recipient=resolved.e164,
        country=resolved.country,
        operator=resolved.operator,
        operator_source=resolved.operator_source,
        mcc_mnc=mcc_mnc,
        parts=parts,
        status=status,
        price=price,
        sent_at=sent_at,
        day=local_day(sent_at, tenant),
        delivered_at=delivered_at if status == MessageStatus.DELIVERED else None,
        status_changed_at=delivered_at or (sent_at if status != MessageStatus.SENT else None),
    )


def _record_parts(record: dict, channel: str) -> int:
    """Parts from the text, else the record's own count; a Viber message is one part."""
    text = record.get("text")
    if channel == MessageChannel.VIBER:
        return 1
    if text is not None:
        return count_parts(str(text)).parts
    try:
        raw_parts = record.get("parts")
        parts = 1 if raw_parts in (None, "") else int(raw_parts)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: infinity
        raise ValueError(_("parts: not a whole number.")) from exc
    if not 1 <= parts <= 255:
        raise ValueError(_("parts: must be between 1 and 255."))
    return parts


_MESSAGE_FIELDS = [Message._meta.get_field(name) for name in MessageRow._fields]


def _messages_insert(tenant: Tenant, rows: list[MessageRow]) -> set[str]:
    """Insert the rows whose key the tenant has not stored yet and return the keys inserted:
    on PostgreSQL one statement, its columns as arrays, whose ON CONFLICT on (tenant, key)
    both skips a stored key and waits for one a concurrent batch is inserting, so that a
    key is inserted and answered "accepted" once."""
    if not rows:
        return set()
    if not is_postgresql():  # the SQLite demo: the ORM adapts its types
        messages = Message.objects.for_tenant(tenant)
        stored = set(messages.filter(key__in=[r.key for r in rows]).values_list("key", flat=True))
        new = [Message(tenant=tenant, **r._asdict()) for r in rows if r.key not in stored]
        messages.bulk_create(new, ignore_conflicts=True)
        return {m.key for m in new}
    columns = ", ".join(MessageRow._fields)
    with bound_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(Message)} (tenant_id, {columns}) "  # noqa: S608 - names are ours
            f"SELECT %b::bigint, u.* FROM {unnest_arrays(_MESSAGE_FIELDS)} AS u "
            "ON CONFLICT (tenant_id, key) DO NOTHING RETURNING key",
            [tenant.pk, *map(list, zip(*rows, strict=True))],
        )
        return {key for (key,) in cursor.fetchall()}


def messages_ingest(
    *,
    tenant: Tenant,
    records: Iterable[dict],
    batch_size: int = INGEST_BATCH,
    answer_items: bool = False,
) -> IngestResult:
    """Store message records (dicts: key, client (number), channel, sender, recipient, text or
    parts, status, price, sent_at, delivered_at, operator, mcc_mnc). Bad records are counted and
    described in the result; they do not stop the others. The command-line import and the API
    both come here; the API asks for each record's outcome (`answer_items`).

    Each record is checked and made into its row in Python (its number resolved, its parts
    counted); a batch is then written with the same statements whatever its size: its
    clients read, its rows inserted, its (client, day) pairs marked."""
    result = IngestResult(items=[] if answer_items else None)
    clients = _ClientCache(tenant)
    index = 0
    for batch in _batches(records, batch_size):
        clients.load({n for r in batch if (n := _client_number(r)) is not None})
        rows: dict[str, MessageRow] = {}
        positions: list[tuple[int, str]] = []  # (index, key) of each row made
        for record in batch:
            index += 1
            result.received += 1
            try:
                row = _message_row(record, tenant=tenant, clients=clients)
            except ValueError as exc:
                result.add_error(index, clean_text(str(record.get("key") or "")), str(exc))
                continue
            if row.key in rows:
                result.duplicates += 1
                result.answer(index, row.key, ItemState.DUPLICATE)
                continue
            rows[row.key] = row
            positions.append((index, row.key))
        with transaction.atomic():
            inserted = _messages_insert(tenant, list(rows.values()))
            result.created += len(inserted)
            result.duplicates += len(rows) - len(inserted)
            result.days_marked += dirty_days_mark(
                tenant=tenant, pairs={(rows[k].client_id, rows[k].day) for k in inserted}
            )
        for position, key in positions:
            state = ItemState.ACCEPTED if key in inserted else ItemState.DUPLICATE
            result.answer(position, key, state)
    if result.items is not None:
        result.items.sort(key=lambda item: item.index)
    return result


# -- delivery reports ------------------------------------------------------------------------
@dataclass(kw_only=True)
class ReportResult(BatchResult):
    """Counts; with `answer_items`, also each report's outcome, in the order received."""

    applied: int = 0
    unchanged: int = 0
    unknown: int = 0


class ReportedRow(NamedTuple):
    """What a delivery report writes on its message: the columns of the reports' UPDATE."""

    id: int
    status: str
    status_changed_at: datetime
    delivered_at: datetime | None
    operator: str
    operator_source: str
    mcc_mnc: str


REPORTED_FIELDS = ReportedRow._fields[1:]
_REPORTED_FIELDS = [Message._meta.get_field(name) for name in ReportedRow._fields]


def _update_reported(tenant: Tenant, changed: list[ReportedRow]) -> None:
    """Write the reported fields of many messages: on PostgreSQL one UPDATE ... FROM unnest,
    its columns as arrays bound in binary (Django's bulk_update builds a CASE per field with a
    branch per row, which made 2,600 reports take 8 s); elsewhere bulk_update."""
    if not is_postgresql():
        Message.objects.for_tenant(tenant).bulk_update(
            [Message(tenant=tenant, **row._asdict()) for row in changed],
            list(REPORTED_FIELDS),
            batch_size=500,
        )
        return
    assignments = ", ".join(f"{name} = v.{name}" for name in REPORTED_FIELDS)
    with bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(Message)} AS m SET {assignments} "  # noqa: S608 - names are ours
            f"FROM {unnest_arrays(_REPORTED_FIELDS)} AS v({', '.join(ReportedRow._fields)}) "
            "WHERE m.tenant_id = %b::bigint AND m.id = v.id",
            [*map(list, zip(*changed, strict=True)), tenant.pk],
        )


def _reported_row(report: dict, stored: tuple) -> ReportedRow | None:
    """The message's reported fields after `report`, or None when it repeats what is stored.
    `stored` is the message's (id, status, operator, operator source, MCC/MNC)."""
    pk, status, stored_operator, stored_source, stored_mcc = stored
    operator = str(report.get("operator") or "").strip()[:64]
    mcc_mnc = str(report.get("mcc_mnc") or "").strip()[:6]
    new_operator = bool(operator) and (
        operator != stored_operator or stored_source != OperatorSource.GATEWAY
    )
    if report["status"] == status and not new_operator:
        return None
    return ReportedRow(
        id=pk,
        status=report["status"],
        status_changed_at=report["at"],
        delivered_at=report["at"] if report["status"] == MessageStatus.DELIVERED else None,
        operator=operator if new_operator else stored_operator,
        operator_source=OperatorSource.GATEWAY if new_operator else stored_source,
        mcc_mnc=mcc_mnc if mcc_mnc.isdigit() else stored_mcc,
    )


LOCKED_COLUMNS = (
    "key",
    "client_id",
    "day",
    "id",
    "status",
    "operator",
    "operator_source",
    "mcc_mnc",
)


def _messages_locked(tenant: Tenant, keys: list[str]) -> Iterable[tuple]:
    """The LOCKED_COLUMNS of the tenant's messages with these keys, locked in id order (two
    batches reporting on the same messages wait rather than deadlock); on PostgreSQL the keys
    as one array bound in binary."""
    if not keys:
        return []
    if not is_postgresql():
        messages = Message.objects.for_tenant(tenant).select_for_update().filter(key__in=keys)
        return messages.order_by("id").values_list(*LOCKED_COLUMNS)
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(LOCKED_COLUMNS)} FROM {_table(Message)} "  # noqa: S608
            "WHERE tenant_id = %b::bigint AND key = ANY(%b::varchar[]) ORDER BY id FOR UPDATE",
            [tenant.pk, keys],
        )
        return cursor.fetchall()


def messages_apply_reports(
    *,
    tenant: Tenant,
    reports: Iterable[dict],
    batch_size: int = INGEST_BATCH,
    answer_items: bool = False,
) -> ReportResult:
    """Apply delivery reports (dicts: key, status, at / delivered_at, operator, mcc_mnc).

    A final status (delivered, failed, expired, rejected) may replace "sent" or another final
    status (gateways correct themselves), but a report never takes a message back to "sent".
    A report naming an unknown message is counted and ignored; the same report twice changes
    nothing. The day the message was sent on is marked for re-aggregation. A batch takes the
    same statements whatever its size: its messages read and locked, the changed ones
    updated, their days marked.
    """
    result = ReportResult(items=[] if answer_items else None)
    index = 0
    for batch in _batches(reports, batch_size):
        wanted: dict[str, dict] = {}
        positions: dict[str, list[int]] = {}  # key -> indexes of its reports in this batch
        for report in batch:
            index += 1
            result.received += 1
            key = clean_text(str(report.get("key") or "")).strip()
            status = str(report.get("status") or "").strip().lower()
            try:
                _refuse_control_characters(report)
            except ValueError as exc:
                result.add_error(index, key, str(exc))
                continue
            if not key or status not in FINAL_STATUSES:
                result.add_error(index, key, _("A report needs a key and a final status."))
                continue
            try:
                at = _parse_moment(report.get("at") or report.get("delivered_at"), tenant, "at")
            except ValueError as exc:
                result.add_error(index, key, str(exc))
                continue
            wanted[key] = {**report, "status": status, "at": at or timezone.now()}
            positions.setdefault(key, []).append(index)
        with transaction.atomic():
            found = _messages_locked(tenant, list(wanted))
            states = dict.fromkeys(wanted, ItemState.UNKNOWN)
            changed: list[ReportedRow] = []
            days: set[tuple[int, date]] = set()
            for key, client_id, day, *stored in found:
                row = _reported_row(wanted[key], stored)
                if row is None:
                    states[key] = ItemState.UNCHANGED
                    continue
                states[key] = ItemState.ACCEPTED
                changed.append(row)
                days.add((client_id, day))
            if changed:
                _update_reported(tenant, changed)
                dirty_days_mark(tenant=tenant, pairs=days)
        outcomes = list(states.values())
        result.unknown += outcomes.count(ItemState.UNKNOWN)
        result.unchanged += outcomes.count(ItemState.UNCHANGED)
        result.applied += len(changed)
        for key, indexes in positions.items():
            # Of several reports of one message in a batch the last one counts.
            for position in indexes[:-1]:
                result.answer(position, key, ItemState.UNCHANGED, _("A later report replaces it."))
            result.answer(indexes[-1], key, states[key])
    if result.items is not None:
        result.items.sort(key=lambda item: item.index)
    return result


# -- rollups ---------------------------------------------------------------------------------
@dataclass
class RollupResult:
    days: int = 0
    batches: int = 0
    skipped_locked: bool = False


COUNTER_COLUMNS = (
    "messages, sent_parts, delivered_parts, pending_parts, failed_parts, rejected_parts, price"
)
COUNTER_SQL = """COUNT(*),
    SUM(CASE WHEN m.status <> 'rejected' THEN m.parts ELSE 0 END),
    SUM(CASE WHEN m.status = 'delivered' THEN m.parts ELSE 0 END),
    SUM(CASE WHEN m.status = 'sent' THEN m.parts ELSE 0 END),
    SUM(CASE WHEN m.status IN ('failed', 'expired') THEN m.parts ELSE 0 END),
    SUM(CASE WHEN m.status = 'rejected' THEN m.parts ELSE 0 END),
    SUM(CASE WHEN m.status <> 'rejected' THEN m.price ELSE 0 END)"""

ROLLUP_GRAINS = (
    (DailySenderStat, ("channel", "sender")),
    (DailyRouteStat, ("channel", "country", "operator")),
)


def _insert_grains_one_scan(cursor, tenant, message, pairs_sql, pair_params) -> None:
    """PostgreSQL: read the messages once, grouped by every dimension of every grain, and fill
    each rollup from that (a data-modifying CTE), instead of one scan of the messages per
    grain."""
    all_dims = list(dict.fromkeys(d for _m, dims in ROLLUP_GRAINS for d in dims))
    counters = [c.strip() for c in COUNTER_COLUMNS.split(",")]
    fine_dims = ", ".join(f"m.{d}" for d in all_dims)
    fine_counters = ", ".join(
        f"{expr.strip()} AS {name}"
        for expr, name in zip(COUNTER_SQL.split(",\n"), counters, strict=True)
    )
    sums = ", ".join(f"SUM({c})" for c in counters)
    inserts = []
    for model, dims in ROLLUP_GRAINS:
        dim_cols = ", ".join(dims)
        inserts.append(
            f"INSERT INTO {_table(model)} (tenant_id, client_id, day, {dim_cols}, "
            f"{COUNTER_COLUMNS}) SELECT %s, client_id, day, {dim_cols}, {sums} FROM fine "
            f"GROUP BY client_id, day, {dim_cols}"
        )
    ctes = ", ".join(f"g{i} AS ({sql})" for i, sql in enumerate(inserts[:-1]))
    cursor.execute(
        f"WITH fine AS (SELECT m.client_id, m.day, {fine_dims}, {fine_counters} "
        f"FROM {message} m WHERE m.tenant_id = %s AND (m.client_id, m.day) IN ({pairs_sql}) "
        f"GROUP BY m.client_id, m.day, {fine_dims})"
        + (f", {ctes} " if ctes else " ")
        + inserts[-1],
        [tenant.pk, *pair_params] + [tenant.pk] * len(inserts),
    )


def _rebuild_batch(tenant: Tenant, batch: list[tuple[int, int, date, int]]) -> None:
    """Rebuild the rollups and the due charges of one batch of dirty marks.

    The messages are read as `(client_id, day) IN (SELECT ... dirty marks)`, which both
    PostgreSQL and SQLite drive from the marks into the (tenant, client, day) index; SQLite
    planned the equivalent JOIN as a scan of every message of the tenant (700x slower). On
    PostgreSQL the pairs are passed as arrays rather than read back from the marks."""
    dirty = _table(DirtyDay)
    message = _table(Message)
    charge = _table(MessagingCharge)
    if connection.vendor == "postgresql":
        # The pairs as two arrays: PostgreSQL knows their length (unnest's row estimate) and
        # drives a nested loop into the (tenant, client, day) indexes of messages and rollups.
        pairs_sql = "SELECT u.c, u.d FROM unnest(%s::bigint[], %s::date[]) AS u(c, d)"
        pair_params = [[row[1] for row in batch], [row[2] for row in batch]]
    else:
        ids = [row[0] for row in batch]
        id_list = ", ".join(["%s"] * len(ids))
        pairs_sql = f"SELECT client_id, day FROM {dirty} WHERE tenant_id = %s AND id IN ({id_list})"
        pair_params = [tenant.pk, *ids]
    with transaction.atomic(), connection.cursor() as cursor:
        for model, _dims in ROLLUP_GRAINS:
            cursor.execute(
                f"DELETE FROM {_table(model)} WHERE tenant_id = %s "
                f"AND (client_id, day) IN ({pairs_sql})",
                [tenant.pk, *pair_params],
            )
        if connection.vendor == "postgresql":
            _insert_grains_one_scan(cursor, tenant, message, pairs_sql, pair_params)
        else:
            for model, dims in ROLLUP_GRAINS:
                dim_cols = ", ".join(dims)
                dim_m = ", ".join(f"m.{d}" for d in dims)
                cursor.execute(
                    f"INSERT INTO {_table(model)} "
                    f"(tenant_id, client_id, day, {dim_cols}, {COUNTER_COLUMNS}) "
                    f"SELECT m.tenant_id, m.client_id, m.day, {dim_m}, {COUNTER_SQL} "
                    f"FROM {message} m WHERE m.tenant_id = %s "
                    f"AND (m.client_id, m.day) IN ({pairs_sql}) "
                    f"GROUP BY m.tenant_id, m.client_id, m.day, {dim_m}",
                    [tenant.pk, *pair_params],
                )
        sender = _table(DailySenderStat)
        cursor.execute(
            f"INSERT INTO {charge} (tenant_id, client_id, day, due_parts, due_amount, "
            f"charged_parts, charged_amount, postings, settled, updated_at) "
            f"SELECT s.tenant_id, s.client_id, s.day, SUM(s.sent_parts), SUM(s.price), 0, 0, 0, "
            f"(SUM(s.sent_parts) = 0 AND SUM(s.price) = 0), %s "
            f"FROM {sender} s WHERE s.tenant_id = %s AND (s.client_id, s.day) IN ({pairs_sql}) "
            f"GROUP BY s.tenant_id, s.client_id, s.day "
            f"ON CONFLICT (tenant_id, client_id, day) DO UPDATE SET "
            f"due_parts = excluded.due_parts, due_amount = excluded.due_amount, "
            f"settled = ({charge}.charged_parts = excluded.due_parts "
            f"AND {charge}.charged_amount = ROUND(excluded.due_amount, 2)), "
            f"updated_at = excluded.updated_at",
            [timezone.now(), tenant.pk, *pair_params],
        )
        seen = ", ".join(["(%s, %s)"] * len(batch))
        params: list = [tenant.pk]
        for row in batch:
            params.extend([row[0], row[3]])
        cursor.execute(
            f"DELETE FROM {dirty} WHERE tenant_id = %s AND (id, generation) IN (VALUES {seen})",
            params,
        )


def rollups_refresh(*, tenant: Tenant, batch_size: int = ROLLUP_BATCH) -> RollupResult:
    """Rebuild the rollups of every dirty (client, day) of the tenant; see the module doc."""
    with job_lock(ROLLUPS_JOB, tenant.pk) as granted:
        if not granted:
            return RollupResult(skipped_locked=True)
        return _rollups_rebuild_dirty(tenant, batch_size)


def _rollups_rebuild_dirty(tenant: Tenant, batch_size: int) -> RollupResult:
    """The rollup job's work, under its lock (taken by the caller)."""
    result = RollupResult()
    marks = DirtyDay.objects.for_tenant(tenant)
    last_id = 0
    while True:
        batch = list(
            marks.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "client_id", "day", "generation")[:batch_size]
        )
        if not batch:
            break
        _rebuild_batch(tenant, batch)
        last_id = batch[-1][0]
        result.days += len(batch)
        result.batches += 1
    return result


def rollups_job(*, tenant: Tenant, now: datetime | None = None) -> dict:
    """The registered rollup job: core/jobs.py's `job_run` holds its lock while this runs."""
    result = _rollups_rebuild_dirty(tenant, ROLLUP_BATCH)
    return {"days": result.days, "batches": result.batches}


def rollups_rebuild_all(*, tenant: Tenant) -> RollupResult:
    """Mark every (client, day) that has messages dirty and rebuild (repair, tenant time-zone
    change)."""
    pairs = Message.objects.for_tenant(tenant).values_list("client_id", "day").distinct().iterator()
    for batch in _batches(pairs, 5000):
        dirty_days_mark(tenant=tenant, pairs=batch)
    return rollups_refresh(tenant=tenant)


# -- daily charges ---------------------------------------------------------------------------
@dataclass
class ChargeResult:
    charged: int = 0
    corrections: int = 0
    settled_without_posting: int = 0
    failed: int = 0
    amount: Decimal = Decimal("0.00")


def charge_purpose(day: date, parts: int) -> StoredText:
    """A day's charge, "SMS sending on 10.03.2026, 1,234 parts", written by the daily job and
    read in each reader's language, date format and digit grouping."""
    return stored_ngettext(
        "SMS sending on %(day)s, %(count)s part",
        "SMS sending on %(day)s, %(count)s parts",
        parts,
        day=day,
        count=Count(parts),
    )


def correction_purpose(day: date, parts: int, charged_parts: int, charged: Decimal) -> StoredText:
    """A correction of a day's charge: the day's purpose and what was charged before."""
    return stored_pgettext(
        "charge and its correction",
        "%(charge)s %(correction)s",
        charge=charge_purpose(day, parts),
        correction=stored_ngettext(
            "(correction: was %(count)s part, %(amount)s)",
            "(correction: was %(count)s parts, %(amount)s)",
            charged_parts,
            count=Count(charged_parts),
            amount=Money(charged, show_currency=False),
        ),
    )


def charge_key(tenant: Tenant, client_id: int, day: date, posting: int) -> str:
    base = f"sms:{tenant.pk}:{client_id}:{day.isoformat()}"
    return base if posting == 0 else f"{base}:correction:{posting}"


@dataclass(slots=True)
class _ChargeRow:
    """A client-day's charge row, locked for its settling: what the chunk reads of it."""

    pk: int
    client_id: int
    day: date
    due_parts: int
    due_amount: Decimal
    charged_parts: int
    charged_amount: Decimal
    postings: int
    account_id: int | None


_CHARGE_ROW_FIELDS = [f.name for f in fields(_ChargeRow) if f.name != "account_id"]
_LOCK_CHARGES_SQL = (
    "SELECT "  # noqa: S608 - names are ours
    + ", ".join(f"m.{'id' if name == 'pk' else name}" for name in _CHARGE_ROW_FIELDS)
    + f", a.id FROM {MessagingCharge._meta.db_table} m LEFT JOIN {Account._meta.db_table} a "
    "ON a.tenant_id = m.tenant_id AND a.client_id = m.client_id "
    f"WHERE m.tenant_id = %s AND m.id = ANY({array_param('bigint')}) AND NOT m.settled "
    "ORDER BY m.day, m.client_id FOR UPDATE OF m SKIP LOCKED"
)


def _charges_lock(tenant: Tenant, charge_ids) -> list[_ChargeRow]:
    """Those of these charge rows still unsettled, locked (SKIP LOCKED: another run has the
    rest), with their clients' accounts, by day and client: one statement, the ids as one
    array."""
    if not is_postgresql():  # the SQLite demo: the ORM's IN list
        rows = (
            MessagingCharge.objects.for_tenant(tenant)
            .select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=list(charge_ids), settled=False)
            .order_by("day", "client_id")
            .values_list(*_CHARGE_ROW_FIELDS, "client__account__id")
        )
    else:
        with bound_cursor() as cursor:
            cursor.execute(_LOCK_CHARGES_SQL, [tenant.pk, list(charge_ids)])
            rows = cursor.fetchall()
    return [_ChargeRow(*row) for row in rows]


def _charge_posting(
    tenant: Tenant, row: _ChargeRow, account_id: int, due, at, purposes: dict
) -> Posting:
    """The posting that brings what was charged for the day to what is due: the day's charge
    (with an overdraft allowed: the traffic has happened), or a correction, up or down. The
    day's purpose is made once per day and count of parts (`purposes` keeps them for the
    chunk: its thousand client-days share a few hundred)."""
    difference = due - row.charged_amount
    if (row.day, row.due_parts) not in purposes:
        purposes[row.day, row.due_parts] = charge_purpose(row.day, row.due_parts)
    purpose = purposes[row.day, row.due_parts]
    if row.postings:
        purpose = correction_purpose(row.day, row.due_parts, row.charged_parts, row.charged_amount)
    return Posting(
        account_id=account_id,
        amount=-difference,  # owing more takes money out of the balance
        kind=EntryKind.MESSAGING_CHARGE if difference > 0 else EntryKind.REFUND,
        purpose=purpose,
        idempotency_key=charge_key(tenant, row.client_id, row.day, row.postings),
        allow_overdraft=True,
        at=at if difference > 0 else None,
        activity=difference < 0,  # a refund is told in the activity; a charge is not
    )


def messaging_charges_settle_chunk(
    *, tenant: Tenant, charge_ids, at: datetime | None = None, result: ChargeResult
) -> None:
    """Settle these charge rows in one transaction, with the same statements whatever their
    number: lock those still unsettled (SKIP LOCKED: another run has the rest), post their
    differences through billing's chunk, and mark them settled in one UPDATE. A posting the
    ledger refuses leaves its row unsettled (counted as failed) and the rest settle."""
    with transaction.atomic():
        rows = _charges_lock(tenant, charge_ids)
        if not rows:
            return
        due = {row.pk: row.due_amount.quantize(CENT, rounding=ROUND_HALF_UP) for row in rows}
        owing = [row for row in rows if due[row.pk] != row.charged_amount]
        _accounts_give(tenant, [row for row in owing if row.account_id is None])
        purposes = {}
        results = ledger_post_chunk_retried(
            tenant=tenant,
            postings=[
                _charge_posting(tenant, row, row.account_id, due[row.pk], at, purposes)
                for row in owing
            ],
        )
        posted = set()
        for row, outcome in zip(owing, results, strict=True):
            if outcome.error is not None:
                logger.error(
                    "Messaging charge %s of tenant %s: %s", row.pk, tenant.pk, outcome.error
                )
                result.failed += 1
                continue
            posted.add(row.pk)
            result.amount += due[row.pk] - row.charged_amount
            if row.postings == 0:
                result.charged += 1
            else:
                result.corrections += 1
        failed = {row.pk for row in owing} - posted
        settled = [row for row in rows if row.pk not in failed]
        result.settled_without_posting += len(settled) - len(posted)
        _charges_mark_settled(tenant, settled, due, posted)


def _accounts_give(tenant: Tenant, rows: list[_ChargeRow]) -> None:
    """Accounts for the clients of these rows, which have none (clients loaded in bulk)."""
    if not rows:
        return
    found = account_ids_for_clients(tenant=tenant, client_ids={row.client_id for row in rows})
    for row in rows:
        row.account_id = found[row.client_id]


def _charges_mark_settled(tenant: Tenant, rows, due: dict, posted: set) -> None:
    if not rows:
        return
    if not is_postgresql():  # the SQLite demo: a statement a row
        for row in rows:
            MessagingCharge.objects.for_tenant(tenant).filter(pk=row.pk).update(
                charged_amount=due[row.pk],
                charged_parts=row.due_parts,
                postings=row.postings + (1 if row.pk in posted else 0),
                settled=True,
                updated_at=timezone.now(),
            )
        return
    with bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(MessagingCharge)} AS m SET charged_amount = v.amount, "  # noqa: S608
            "charged_parts = m.due_parts, postings = m.postings + v.posted, settled = TRUE, "
            f"updated_at = %s FROM unnest({array_param('bigint')}, {array_param('numeric')}, "
            f"{array_param('int')}) AS v(id, amount, posted) "
            "WHERE m.tenant_id = %s AND m.id = v.id",
            [
                timezone.now(),
                [row.pk for row in rows],
                [due[row.pk] for row in rows],
                [1 if row.pk in posted else 0 for row in rows],
                tenant.pk,
            ],
        )


def messaging_charges_post(
    *,
    tenant: Tenant,
    now: datetime | None = None,
    at: datetime | None = None,
    chunk_size: int = CHARGE_CHUNK,
) -> ChargeResult:
    """Charge every closed day (before today in the tenant's time zone) not yet settled,
    `chunk_size` client-days to a transaction. Rollups are refreshed first, so that the day's
    figures include every report so far."""
    rollups_refresh(tenant=tenant)
    result = ChargeResult()
    today = local_day(now or timezone.now(), tenant)
    todo = list(
        MessagingCharge.objects.for_tenant(tenant)
        .filter(settled=False, day__lt=today)
        .order_by("day", "client_id")
        .values_list("id", flat=True)
    )
    for chunk in _batches(todo, chunk_size):
        messaging_charges_settle_chunk(tenant=tenant, charge_ids=chunk, at=at, result=result)
    return result


def messaging_charges_job(*, tenant: Tenant, now: datetime | None = None) -> dict:
    """The registered charge job (one run per tenant at a time, recorded)."""
    result = messaging_charges_post(tenant=tenant, now=now)
    return {
        "charged": result.charged,
        "corrections": result.corrections,
        "settled_without_posting": result.settled_without_posting,
        "failed": result.failed,
        "amount": str(result.amount),
    }


# The figures of the two jobs an operator reads on the dashboard.
ROLLUPS_RESULT_LABELS = {"days": gettext_lazy("Client days rebuilt:")}
CHARGES_RESULT_LABELS = {
    "charged": gettext_lazy("Days charged:"),
    "corrections": gettext_lazy("Corrections posted:"),
    "failed": gettext_lazy("Charges that failed:"),
}


# -- sender IDs ------------------------------------------------------------------------------
def _full_clean(sender: SenderId, changed=None) -> None:
    """Validate the sender ID, or of an edit only the fields in `changed` (a name registered
    under older rules stays as it was)."""
    if changed is None:
        sender.full_clean(validate_constraints=False)
    else:
        full_clean_changed(sender, changed, validate_constraints=False)
        if not {"name", "channel"} & set(changed):
            return
    clash = (
        SenderId.objects.for_tenant(sender.tenant)
        .filter(client_id=sender.client_id, channel=sender.channel, name__iexact=sender.name)
        .exclude(pk=sender.pk)
        .exists()
    )
    if clash:
        raise ValidationError(
            {"name": _("This client already has this sender ID on this channel.")}, code="unique"
        )


def sender_id_create(*, client: Client, actor=None, **fields) -> SenderId:
    """Add a sender ID to a client's Names, pending approval, with its questionnaire."""
    sender = SenderId(tenant=client.tenant, client=client, status=SenderStatus.PENDING, **fields)
    with transaction.atomic():
        _full_clean(sender)
        sender.save()
        event_record(
            tenant=sender.tenant,
            type="sender_id.created",
            client_id=sender.client_id,
            object_type="sender_id",
            object_id=sender.pk,
            actor=actor,
            description=stored_gettext(
                "Sender ID %(name)s (%(channel)s) added",
                name=sender.name,
                channel=MessageChannel(sender.channel).label,
            ),
            payload={
                "sender_id": sender.pk,
                "name": sender.name,
                "channel": sender.channel,
                "status": sender.status,
            },
        )
    return sender


EDITABLE_FIELDS = ("name", "channel", "purpose", "sample_text", "documents_note")


def sender_id_update(*, sender: SenderId, actor=None, **fields) -> SenderId:
    """Edit a sender ID. A new name or channel needs a new approval: an approved or rejected
    sender goes back to pending (a blocked one stays blocked). Only what changed is validated;
    a save that changes nothing writes nothing."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))} cannot be edited here.")
    changed = {key for key, value in fields.items() if getattr(sender, key) != value}
    if not changed:
        return sender
    previous = {key: getattr(sender, key) for key in (*changed, "status")}
    renamed = bool({"name", "channel"} & changed)
    for key in changed:
        setattr(sender, key, fields[key])
    if renamed and sender.status in (SenderStatus.APPROVED, SenderStatus.REJECTED):
        sender.status = SenderStatus.PENDING
        sender.status_reason = ""
        sender.decided_by = None
        sender.decided_at = None
    with transaction.atomic():
        _full_clean(sender, changed)
        sender.save()
        _sender_id_updated_record(sender, previous, actor=actor)
    return sender


def _sender_id_updated_record(sender: SenderId, previous: dict, *, actor) -> None:
    """sender_id.updated with the old and new value of each field that changed (the status
    too when a new name sent it back for approval)."""
    fields = sorted(key for key, old in previous.items() if getattr(sender, key) != old)
    event_record(
        tenant=sender.tenant,
        type="sender_id.updated",
        client_id=sender.client_id,
        object_type="sender_id",
        object_id=sender.pk,
        actor=actor,
        description=stored_gettext(
            "Sender ID %(name)s changed: %(fields)s",
            name=sender.name,
            fields=field_labels(SenderId, fields),
        ),
        payload={
            "sender_id": sender.pk,
            "fields": fields,
            "changes": {key: {"old": previous[key], "new": getattr(sender, key)} for key in fields},
        },
    )


ALLOWED_DECISIONS = {
    SenderStatus.APPROVED: {SenderStatus.PENDING, SenderStatus.REJECTED, SenderStatus.BLOCKED},
    SenderStatus.REJECTED: {SenderStatus.PENDING, SenderStatus.APPROVED},
    SenderStatus.BLOCKED: {SenderStatus.PENDING, SenderStatus.APPROVED, SenderStatus.REJECTED},
}


DECISION_REFUSED = {
    SenderStatus.APPROVED: gettext_lazy("A %(status)s sender ID cannot be approved."),
    SenderStatus.REJECTED: gettext_lazy("A %(status)s sender ID cannot be rejected."),
    SenderStatus.BLOCKED: gettext_lazy("A %(status)s sender ID cannot be blocked."),
}

# A sender ID's status as its event's sentence says it ("Sender ID Acme approved").
SENDER_STATUS_IN_SENTENCE = {
    SenderStatus.PENDING: pgettext_lazy("sender status in a sentence", "pending"),
    SenderStatus.APPROVED: pgettext_lazy("sender status in a sentence", "approved"),
    SenderStatus.REJECTED: pgettext_lazy("sender status in a sentence", "rejected"),
    SenderStatus.BLOCKED: pgettext_lazy("sender status in a sentence", "blocked"),
}


def sender_id_decide(*, sender: SenderId, status: str, actor=None, reason: str = "") -> SenderId:
    """Approve, reject (a reason is required) or block a sender ID."""
    reason = (reason or "").strip()
    if status not in ALLOWED_DECISIONS:
        raise ValidationError({"status": _("Choose approve, reject or block.")})
    if status == SenderStatus.REJECTED and not reason:
        raise ValidationError({"reason": _("Give the reason for the rejection.")})
    if len(reason) > 255:
        raise ValidationError({"reason": _("At most 255 characters.")})
    with transaction.atomic():
        locked = SenderId.objects.for_tenant(sender.tenant).select_for_update().get(pk=sender.pk)
        if locked.status not in ALLOWED_DECISIONS[status]:
            raise ValidationError(
                {
                    "status": DECISION_REFUSED[status]
                    % {"status": str(locked.get_status_display()).lower()}
                }
            )
        previous = locked.status
        locked.status = status
        locked.status_reason = reason
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(
            update_fields=["status", "status_reason", "decided_by", "decided_at", "updated_at"]
        )
        label = SENDER_STATUS_IN_SENTENCE.get(status, status)
        event_record(
            tenant=locked.tenant,
            type="sender_id.status_changed",
            client_id=locked.client_id,
            object_type="sender_id",
            object_id=locked.pk,
            actor=actor,
            description=(
                stored_gettext(
                    "Sender ID %(name)s %(status)s: %(reason)s",
                    name=locked.name,
                    status=label,
                    reason=reason,
                )
                if reason
                else stored_gettext("Sender ID %(name)s %(status)s", name=locked.name, status=label)
            ),
            payload={"name": locked.name, "old": previous, "new": status, "reason": reason},
        )
    return locked
