"""Writes of clients that carry business rules; one function per use case, one transaction each."""

import json
from datetime import date

from django.db import transaction

from core.formatting import format_datetime
from core.sql import bound_cursor, is_postgresql
from core.validators import full_clean_changed
from tenancy.models import Tenant
from tenancy.services import tenant_next_number

from .extensions import deletion_blockers
from .models import Client, ClientActivity, ClientStatus
from .signals import client_deleted

# Fields a service never takes from its caller: who owns the row, its number, its status
# (holds and deletion have their own services) and the bookkeeping columns.
PROTECTED_FIELDS = frozenset(
    {"id", "pk", "tenant", "tenant_id", "number", "status", "created_at", "updated_at"}
)


@transaction.atomic
def client_create(*, tenant: Tenant, actor, **data) -> Client:
    """Create an Active client with the tenant's next number ("Client ID").

    The number is reserved inside this transaction (a row lock on the tenant's sequence), so
    two operators creating clients at once get different numbers, and a failed insert gives
    its number back. `full_clean()` enforces the model's rules, including that the client
    type belongs to this tenant; a ValidationError names the field.
    """
    unknown = set(data) & PROTECTED_FIELDS
    if unknown:
        raise TypeError(f"client_create() does not take {', '.join(sorted(unknown))}")
    client = Client(tenant=tenant, status=ClientStatus.ACTIVE, **data)
    client.number = 0  # a placeholder so that full_clean() passes; replaced below
    client.full_clean(exclude=["number"], validate_constraints=False)
    client.number = tenant_next_number(tenant=tenant, name="client")
    client.save()
    activity_record(
        tenant=tenant, client=client, actor=actor, verb="created", description="Client created"
    )
    return client


# -- activity, edit and delete -----------------------------------------------------------------
def activity_record(
    *,
    tenant: Tenant,
    client: Client | None = None,
    client_id: int | None = None,
    actor=None,
    actor_label: str = "",
    verb: str,
    description: str,
    data: dict | None = None,
    at=None,
):
    """Add a line to a client's activity timeline. Other apps call this (holds, jobs, billing
    receivers); it joins the caller's transaction, so a rolled-back change leaves no line.
    Without an operator (`actor=None`) the line is shown as done by `actor_label` ("system"
    unless said otherwise)."""
    from django.utils import timezone

    if client is not None:
        client_id = client.pk
    if client_id is None:
        raise ValueError("activity_record() needs a client or a client_id.")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return ClientActivity.objects.for_tenant(tenant).create(
        tenant=tenant,
        client_id=client_id,
        actor=actor,
        actor_label=(actor_label or ("" if actor else "system"))[:100],
        verb=verb[:40],
        description=description[:500],
        data=data or {},
        created_at=at or timezone.now(),
    )


ACTIVITY_BATCH = 2000


def activities_record_bulk(*, tenant: Tenant, lines, actor_label: str = "system") -> None:
    """Many activity lines at once, for the scheduled jobs and billing's chunks: `lines` are
    (client_id, verb, description, data), all by `actor_label`, or (client_id, verb,
    description, data, actor, at) for lines of an operator (or of nobody: `actor_label`) at a
    given time; one INSERT per ACTIVITY_BATCH lines (on PostgreSQL written as SQL, since the
    ORM's insert costs more than the row inside a posting's lock)."""
    rows = activity_rows(tenant=tenant, lines=lines, actor_label=actor_label)
    for start in range(0, len(rows), ACTIVITY_BATCH):
        _activities_insert(tenant, rows[start : start + ACTIVITY_BATCH])


def activity_rows(*, tenant: Tenant, lines, actor_label: str = "system") -> list[tuple]:
    """`activities_record_bulk`'s lines as the rows of ACTIVITY_COLUMNS, for a writer that
    inserts them in a statement of its own (billing writes a posting's line in the statement
    that writes its entry, one round trip less inside the account's lock)."""
    from django.utils import timezone

    now = timezone.now()
    rows = []
    for client_id, verb, description, data, *who in lines:
        actor, at = who if who else (None, now)
        if actor is not None and not getattr(actor, "is_authenticated", False):
            actor = None
        rows.append(
            (
                tenant.pk,
                client_id,
                actor.pk if actor else None,
                ("" if actor else actor_label)[:100],
                verb[:40],
                description[:500],
                data if data is not None else {},
                at or now,
            )
        )
    return rows


ACTIVITY_TABLE = ClientActivity._meta.db_table
# The activity's columns as the array INSERTs write them, with their array types.
ACTIVITY_COLUMNS = (
    ("tenant_id", "bigint"),
    ("client_id", "bigint"),
    ("actor_id", "bigint"),
    ("actor_label", "text"),
    ("verb", "text"),
    ("description", "text"),
    ("data", "jsonb"),
    ("created_at", "timestamptz"),
)
_ACTIVITY_NAMES = [name for name, _ in ACTIVITY_COLUMNS]


_ACTIVITY_INSERT_SQL = (
    f"INSERT INTO {ACTIVITY_TABLE} ({', '.join(_ACTIVITY_NAMES)}) "  # noqa: S608 - names are ours
    "SELECT * FROM unnest(" + ", ".join(f"%s::{kind}[]" for _, kind in ACTIVITY_COLUMNS) + ")"
)


def activity_columns(rows: list[tuple]) -> list[list]:
    """The rows of `activity_rows` as one array per column (data as JSON text)."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    columns[6] = [json.dumps(data) for data in columns[6]]
    return columns


def _activities_insert(tenant: Tenant, rows: list[tuple]) -> None:
    """One INSERT of the rows, their columns as arrays (core/sql.py)."""
    if not rows:
        return
    if not is_postgresql():  # the SQLite demo: the ORM adapts its types
        ClientActivity.objects.for_tenant(tenant).bulk_create(
            [ClientActivity(**dict(zip(_ACTIVITY_NAMES, row, strict=True))) for row in rows]
        )
        return
    with bound_cursor() as cursor:
        cursor.execute(_ACTIVITY_INSERT_SQL, activity_columns(rows))


# Edited fields whose values the activity line leaves out (they can be long or personal).
ACTIVITY_VALUE_LIMIT = 60


def _shown(value) -> str:
    if value in (None, ""):
        return "—"
    text = format_datetime(value) if isinstance(value, date) else str(value)
    return text if len(text) <= ACTIVITY_VALUE_LIMIT else text[: ACTIVITY_VALUE_LIMIT - 1] + "…"


@transaction.atomic
def client_update(*, client: Client, actor, **data) -> Client:
    """Change a client's details (the fields of ClientForm, or some of them). The row is
    locked and re-read, so that the activity names exactly the fields that changed; a deleted
    client cannot be edited."""
    from django.core.exceptions import ValidationError

    unknown = set(data) & PROTECTED_FIELDS
    if unknown:
        raise TypeError(f"client_update() does not take {', '.join(sorted(unknown))}")
    tenant = client.tenant
    locked = Client.objects.for_tenant(tenant).select_for_update().get(pk=client.pk)
    if locked.status == ClientStatus.DELETED:
        raise ValidationError("A deleted client cannot be edited.", code="deleted")
    changes = {}
    for name, value in data.items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = (old, value)
            setattr(locked, name, value)
    if not changes:
        return locked
    # Only what changed is validated: a stored value today's rules refuse stays as it was.
    full_clean_changed(locked, changes, validate_constraints=False)
    locked.save()
    labels = [str(Client._meta.get_field(name).verbose_name) for name in changes]
    if len(changes) == 1:
        (name, (old, new)), label = next(iter(changes.items())), labels[0]
        description = f"{label[:1].upper()}{label[1:]}: {_shown(old)} → {_shown(new)}"
    else:
        description = "Edited " + ", ".join(labels)
    activity_record(
        tenant=tenant,
        client=locked,
        actor=actor,
        verb="edited",
        description=description,
        data={"fields": sorted(changes)},
    )
    return locked


@transaction.atomic
def client_delete(*, client: Client, actor, comment: str = "") -> Client:
    """Delete a client: it stays as a tombstone with status Deleted, its ledger, subscriptions
    and activity intact, and disappears from the list unless the status filter asks for it.

    Refused (ValidationError) while a delete guard objects (clients.extensions; subscriptions:
    a subscription is active or suspended): nothing is cancelled silently; the operator
    cancels it first. The client row is locked, and a purchase locks it too, so a subscription
    cannot be bought while the client is being deleted."""
    from django.core.exceptions import ValidationError

    tenant = client.tenant
    locked = Client.objects.for_tenant(tenant).select_for_update().get(pk=client.pk)
    if locked.status == ClientStatus.DELETED:
        raise ValidationError("This client is already deleted.", code="deleted")
    blockers = deletion_blockers(locked)
    if blockers:
        raise ValidationError(blockers[0].message, code=blockers[0].code)
    previous = locked.status
    locked.status = ClientStatus.DELETED
    locked.save(update_fields=["status", "updated_at"])
    activity_record(
        tenant=tenant,
        client=locked,
        actor=actor,
        verb="deleted",
        description="Client deleted" + (f": {comment}" if comment else ""),
        data={"previous_status": previous},
    )
    transaction.on_commit(lambda: client_deleted.send(sender=Client, tenant=tenant, client=locked))
    return locked
