"""Writing events: `event_record` for one change, `events_record_bulk` for a job's chunk.

Rules:
- An event is written in the transaction of the change it describes (both raise outside
  one), so a rolled-back change leaves no event and a committed one always has its event.
- The actor is the operator when one acted (a user that is not signed in counts as none);
  otherwise `actor_label` names the job or part of the system ("system" by default).
- The description is a `StoredText` (core/stored_text.py), never a sentence: a plain `str`
  is refused (TypeError), so that every event reads in its reader's language.
- A chunk's events are one INSERT (on PostgreSQL written as SQL over arrays: the ORM's insert
  costs more than the row inside a posting's lock).
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.sql import array_param, bound_cursor, is_postgresql
from core.stored_text import StoredText, stored_text_required
from tenancy.models import Tenant

from . import after_commit
from .models import ActorKind, Event

CLIENT = "client"


@dataclass(frozen=True)
class EventLine:
    """One event of a chunk. Without `object_id` the event is about the client itself."""

    type: str
    client_id: int | None
    description: StoredText
    payload: dict = field(default_factory=dict)
    object_type: str = CLIENT
    object_id: int | None = None
    actor: object = None
    at: datetime | None = None

    def __post_init__(self):
        description_check(self.description)


def description_check(description) -> None:
    """Refuse a description that is not a StoredText: a sentence rendered now would stay in
    the writer's language for every later reader."""
    stored_text_required(description, what="An event's description")


def _operator(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Events are written in the transaction of their change.")


def _row(tenant: Tenant, line: EventLine, *, actor_label: str, now: datetime) -> tuple:
    operator = _operator(line.actor)
    if operator is not None:
        kind, label = ActorKind.OPERATOR, ""
    else:
        kind = ActorKind.SYSTEM if actor_label in ("", "system") else ActorKind.JOB
        label = actor_label or "system"
    object_id = line.object_id
    if object_id is None and line.object_type == CLIENT:
        object_id = line.client_id
    return (
        tenant.pk,
        line.at or now,
        line.type[:60],
        kind,
        operator.pk if operator else None,
        label[:100],
        line.object_type[:40],
        object_id,
        line.client_id,
        line.description.to_json(),
        line.payload if line.payload is not None else {},
    )


EVENT_TABLE = Event._meta.db_table
# The event's columns as the array INSERTs write them, with their array types.
EVENT_COLUMNS = (
    ("tenant_id", "bigint"),
    ("created_at", "timestamptz"),
    ("type", "text"),
    ("actor_kind", "text"),
    ("actor_id", "bigint"),
    ("actor_label", "text"),
    ("object_type", "text"),
    ("object_id", "bigint"),
    ("client_id", "bigint"),
    ("description", "jsonb"),
    ("payload", "jsonb"),
)
_COLUMNS = tuple(name for name, _ in EVENT_COLUMNS)


def event_record(
    *,
    tenant: Tenant,
    type: str,  # noqa: A002 - the event's type, as documented
    description: StoredText,
    client_id: int | None = None,
    object_type: str = CLIENT,
    object_id: int | None = None,
    payload: dict | None = None,
    actor=None,
    actor_label: str = "",
    at: datetime | None = None,
) -> Event:
    """Record one change, in the caller's transaction."""
    _require_transaction()
    line = EventLine(
        type=type,
        client_id=client_id,
        description=description,
        payload=payload or {},
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        at=at,
    )
    row = _row(tenant, line, actor_label=actor_label, now=timezone.now())
    after_commit.events_written(tenant)
    values = dict(zip(_COLUMNS, row, strict=True))
    values["description"] = description
    return Event.objects.for_tenant(tenant).create(**values)


EVENT_BATCH = 2000


def events_record_bulk(*, tenant: Tenant, lines, actor_label: str = "system") -> None:
    """Record many changes at once (a job's or a posting chunk's), one INSERT per EVENT_BATCH
    lines; `lines` are EventLines, all by `actor_label` unless a line names its operator."""
    _require_transaction()
    rows = event_rows(tenant=tenant, lines=lines, actor_label=actor_label)
    for start in range(0, len(rows), EVENT_BATCH):
        _insert(tenant, rows[start : start + EVENT_BATCH])


def event_rows(*, tenant: Tenant, lines, actor_label: str = "system") -> list[tuple]:
    """`events_record_bulk`'s lines as the rows of EVENT_COLUMNS, for a writer that inserts
    them in a statement of its own (billing writes a posting's event in the statement that
    writes its entry, one round trip less inside the account's lock)."""
    now = timezone.now()
    rows = [_row(tenant, line, actor_label=actor_label, now=now) for line in lines]
    if rows:
        after_commit.events_written(tenant)
    return rows


_JSON_COLUMNS = [index for index, (_, kind) in enumerate(EVENT_COLUMNS) if kind == "jsonb"]


def event_columns(rows: list[tuple]) -> list[list]:
    """The rows of `event_rows` as one array per column (the description and the payload as
    JSON text)."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    for index in _JSON_COLUMNS:
        columns[index] = [json.dumps(value) for value in columns[index]]
    return columns


_INSERT_SQL = (
    f"INSERT INTO {EVENT_TABLE} ({', '.join(_COLUMNS)}) "  # noqa: S608 - names are ours
    "SELECT * FROM unnest(" + ", ".join(array_param(kind) for _, kind in EVENT_COLUMNS) + ")"
)


def _insert(tenant: Tenant, rows: list[tuple]) -> None:
    """One INSERT of the rows, their columns as arrays (core/sql.py)."""
    if not rows:
        return
    if not is_postgresql():  # the SQLite demo: the ORM adapts its types
        Event.objects.for_tenant(tenant).bulk_create(
            [Event(**dict(zip(_COLUMNS, row, strict=True))) for row in rows]
        )
        return
    with bound_cursor() as cursor:
        cursor.execute(_INSERT_SQL, event_columns(rows))


# -- retention -------------------------------------------------------------------------------
EVENTS_PRUNE_JOB = "events_prune"  # the registered job (core/jobs.py)
PRUNE_BATCH = 5000


def events_prune(*, tenant: Tenant, now: datetime | None = None) -> dict:
    """Delete the tenant's events older than its retention, oldest first, PRUNE_BATCH rows a
    transaction: a killed run loses nothing but time (the next one goes on), rows another
    deletion holds are skipped (SKIP LOCKED), and a second run finds nothing left to do."""
    days = tenant.event_retention_days
    if not days:
        return {"deleted": 0}
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                Event.objects.for_tenant(tenant)
                .filter(created_at__lt=cutoff)
                .order_by("created_at", "id")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:PRUNE_BATCH]
            )
            if batch:
                Event.objects.for_tenant(tenant).filter(pk__in=batch).delete()
        deleted += len(batch)
        if len(batch) < PRUNE_BATCH:
            return {"deleted": deleted}
