"""Writes of clients that carry business rules; one function per use case, one transaction each."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.stored_text import Capitalized, StoredText, stored_gettext
from core.validators import full_clean_changed
from events.services import EventLine, event_record, events_record_bulk
from tenancy.models import Tenant
from tenancy.services import tenant_next_number

from .extensions import BulkOutcome, deletion_blockers, deletion_blockers_many
from .models import Client, ClientGroup, ClientStatus
from .signals import client_deleted, clients_deleted

# The refusals of the edit and the deletion, the same for one client and for many.
DELETED_NOT_EDITED = _("A deleted client cannot be edited.")
ALREADY_DELETED = _("This client is already deleted.")

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
    event_record(
        tenant=tenant,
        type="client.created",
        client_id=client.pk,
        actor=actor,
        description=stored_gettext("Client created"),
        payload={"number": client.number, "name": client.name},
    )
    return client


# -- edit and delete -------------------------------------------------------------------------
# Edited fields whose values the activity line leaves out (they can be long or personal).
ACTIVITY_VALUE_LIMIT = 60


def _changes_payload(changes: dict) -> dict:
    """Old and new values as JSON (dates and numbers as text, related rows by id)."""
    return {
        name: {"old": _as_json(old), "new": _as_json(new)} for name, (old, new) in changes.items()
    }


def _as_json(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    return getattr(value, "pk", None) if hasattr(value, "pk") else str(value)


def _shown(field, value):
    """A value as the activity line shows it: a date in the reader's format, a choice by its
    label in the reader's language, other text cut to ACTIVITY_VALUE_LIMIT."""
    if value in (None, ""):
        return "—"
    if isinstance(value, date):
        return value
    if getattr(field, "choices", None):
        return dict(field.flatchoices).get(value, str(value))
    text = str(value)
    return text if len(text) <= ACTIVITY_VALUE_LIMIT else text[: ACTIVITY_VALUE_LIMIT - 1] + "…"


@transaction.atomic
def client_update(*, client: Client, actor, **data) -> Client:
    """Change a client's details (the fields of ClientForm, or some of them). The row is
    locked and re-read, so that the activity names exactly the fields that changed; a deleted
    client cannot be edited."""
    unknown = set(data) & PROTECTED_FIELDS
    if unknown:
        raise TypeError(f"client_update() does not take {', '.join(sorted(unknown))}")
    tenant = client.tenant
    locked = Client.objects.for_tenant(tenant).select_for_update().get(pk=client.pk)
    if locked.status == ClientStatus.DELETED:
        raise ValidationError(DELETED_NOT_EDITED, code="deleted")
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
    event_record(
        tenant=tenant,
        type="client.updated",
        client_id=locked.pk,
        actor=actor,
        description=_edit_description(changes),
        payload=_edit_payload(changes),
    )
    return locked


def _edit_description(changes: dict) -> StoredText:
    """The activity line of an edit: the one field with its old and new value, or the names
    (the fields' labels, read in the reader's language)."""
    fields = [Client._meta.get_field(name) for name in changes]
    if len(changes) == 1:
        (_name, (old, new)), field = next(iter(changes.items())), fields[0]
        return stored_gettext(
            "%(field)s: %(old)s → %(new)s",
            field=Capitalized(field.verbose_name),
            old=_shown(field, old),
            new=_shown(field, new),
        )
    return stored_gettext("Edited %(fields)s", fields=[field.verbose_name for field in fields])


def _edit_payload(changes: dict) -> dict:
    return {"fields": sorted(changes), "changes": _changes_payload(changes)}


def _lock_clients(tenant: Tenant, client_ids) -> list[Client]:
    """These clients of the tenant, locked in id order (the order every writer locks them)."""
    return list(
        Client.objects.for_tenant(tenant)
        .filter(pk__in=list(client_ids))
        .select_related("group")
        .select_for_update(of=("self",))
        .defer("search_text")
        .order_by("pk")
    )


@transaction.atomic
def clients_change_group(
    *, tenant: Tenant, actor, client_ids, group: ClientGroup | None
) -> BulkOutcome:
    """Give many clients one client type (none: no type), as an edit of that field alone
    gives it to one (`client_update`): a deleted client is refused, one already of that type
    is left unchanged and records nothing, each changed client gets its activity line. A
    fixed number of statements for the chunk."""
    if group is not None and group.tenant_id != tenant.pk:
        raise ValidationError({"group": _("Choose one of your client types.")}, code="invalid")
    outcome = BulkOutcome()
    lines = []
    for client in _lock_clients(tenant, client_ids):
        if client.status == ClientStatus.DELETED:
            outcome.refused[client.pk] = DELETED_NOT_EDITED
            continue
        if client.group_id == (group.pk if group else None):
            outcome.unchanged.append(client.pk)
            continue
        changes = {"group": (client.group, group)}
        outcome.done.append(client.pk)
        lines.append(
            EventLine(
                type="client.updated",
                client_id=client.pk,
                description=_edit_description(changes),
                payload=_edit_payload(changes),
                actor=actor,
            )
        )
    if outcome.done:
        Client.objects.for_tenant(tenant).filter(pk__in=outcome.done).update(
            group=group, updated_at=timezone.now()
        )
        events_record_bulk(tenant=tenant, lines=lines)
    return outcome


@transaction.atomic
def client_delete(*, client: Client, actor, comment: str = "") -> Client:
    """Delete a client: it stays as a tombstone with status Deleted, its ledger, subscriptions
    and activity intact, and disappears from the list unless the status filter asks for it.

    Refused (ValidationError) while a delete guard objects (clients.extensions; subscriptions:
    a subscription is active or suspended): nothing is cancelled silently; the operator
    cancels it first. The client row is locked, and a purchase locks it too, so a subscription
    cannot be bought while the client is being deleted."""
    tenant = client.tenant
    locked = Client.objects.for_tenant(tenant).select_for_update().get(pk=client.pk)
    if locked.status == ClientStatus.DELETED:
        raise ValidationError(ALREADY_DELETED, code="deleted")
    blockers = deletion_blockers(locked)
    if blockers:
        raise ValidationError(str(blockers[0].message), code=blockers[0].code)
    previous = locked.status
    locked.status = ClientStatus.DELETED
    locked.save(update_fields=["status", "updated_at"])
    event_record(
        tenant=tenant,
        type="client.deleted",
        client_id=locked.pk,
        actor=actor,
        description=_deleted_description(comment),
        payload={"previous_status": previous, "comment": comment},
    )
    transaction.on_commit(lambda: client_deleted.send(sender=Client, tenant=tenant, client=locked))
    return locked


def _deleted_description(comment: str) -> StoredText:
    if comment:
        return stored_gettext("Client deleted: %(comment)s", comment=comment)
    return stored_gettext("Client deleted")


@transaction.atomic
def clients_delete(*, tenant: Tenant, actor, client_ids, comment: str = "") -> BulkOutcome:
    """Delete many clients as `client_delete` deletes one: each that a delete guard objects to
    (its first reason) or that is deleted already is refused, the others become tombstones,
    each with its activity line; `clients_deleted` follows the commit once for the chunk. A
    fixed number of statements for the chunk (guards that answer for many at once)."""
    outcome = BulkOutcome()
    candidates = []
    for client in _lock_clients(tenant, client_ids):
        if client.status == ClientStatus.DELETED:
            outcome.refused[client.pk] = ALREADY_DELETED
        else:
            candidates.append(client)
    blockers = deletion_blockers_many(tenant, candidates)
    lines = []
    for client in candidates:
        if client.pk in blockers:
            outcome.refused[client.pk] = blockers[client.pk][0].message
            continue
        outcome.done.append(client.pk)
        lines.append(
            EventLine(
                type="client.deleted",
                client_id=client.pk,
                description=_deleted_description(comment),
                payload={"previous_status": client.status, "comment": comment},
                actor=actor,
            )
        )
    if outcome.done:
        deleted = list(outcome.done)
        Client.objects.for_tenant(tenant).filter(pk__in=deleted).update(
            status=ClientStatus.DELETED, updated_at=timezone.now()
        )
        events_record_bulk(tenant=tenant, lines=lines)
        transaction.on_commit(
            lambda: clients_deleted.send(sender=Client, tenant=tenant, client_ids=deleted)
        )
    return outcome
