"""`objects_insert` writes what the ORM's own insert writes, value for value (each distinct
plain value of a column prepared once), and `instance_copy` gives independent instances."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from clients.models import Client, ClientStatus
from core.sql import instance_copy, objects_insert

pytestmark = pytest.mark.django_db

COMPARED = ("name", "company", "email", "itn", "country", "status", "sms_price")
COMPARED += ("activation_required", "sms_subscription", "last_login_at", "tenant_id")


def built(tenant, start: int, count: int) -> list[Client]:
    blank = Client(tenant=tenant, status=ClientStatus.ACTIVE)
    clients = []
    for i in range(count):
        client = instance_copy(blank)
        client.number, client.name = start + i, f"Client {i % 3}"  # names repeat, as blanks do
        client.company = "" if i % 2 else "Acme"
        client.sms_price = Decimal("0.0450") if i % 2 else Decimal("0.045")
        client.activation_required = bool(i % 2)
        client.last_login_at = datetime(2024, 1, 1 + i, tzinfo=UTC) if i % 3 else None
        clients.append(client)
    return clients


def test_it_writes_what_bulk_create_writes(tenant):
    ours, django = built(tenant, 1, 6), built(tenant, 101, 6)
    with scopes_disabled():
        objects_insert(ours)
        Client.objects.bulk_create(django)
        rows = Client.objects.filter(tenant=tenant).order_by("number").values(*COMPARED)
        assert [o.pk for o in ours] == sorted(o.pk for o in ours) and all(o.pk for o in ours)
    rows = list(rows)
    assert rows[:6] == rows[6:]
    assert not ours[0]._state.adding


def test_a_copy_is_independent_of_its_template(tenant):
    template = Client(tenant=tenant, name="Template")
    copy_ = instance_copy(template)
    copy_.name = "Copy"
    assert (template.name, copy_.name) == ("Template", "Copy")
    assert copy_._state is not template._state and copy_.tenant == tenant
    copy_._state.fields_cache["group"] = None
    assert "group" not in template._state.fields_cache
