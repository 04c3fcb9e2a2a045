"""Writes of clients that carry business rules; one function per use case, one transaction each."""

from django.db import transaction

from tenancy.models import Tenant
from tenancy.services import tenant_next_number

from .models import Client, ClientStatus

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
    return client
