"""The instances hostile testing found, each answered with a message next to its field and no
change: a 500 before. The walk in test_bad_input.py covers their classes."""

from uuid import uuid4

import pytest
from django_scopes import scopes_disabled

from billing.models import LedgerEntry
from exports.models import ExportJob
from tests.factories import PackageFactory, make_account
from tests.helpers import field_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(owner, make_client):
    customer = make_client(owner.tenant)
    make_account(customer, balance="10")
    return customer


def entries() -> int:
    with scopes_disabled():
        return LedgerEntry.objects.count()


@pytest.mark.parametrize("amount", ["1e1000000", "-1e1000000", "1e-1000000", "NaN", "-inf"])
@pytest.mark.parametrize(("action", "prefix"), [("top-up", "topup"), ("credit", "credit")])
def test_huge_or_not_finite_amounts_are_refused_next_to_the_field(
    client, customer, amount, action, prefix
):
    before = entries()
    response = client.post(
        f"/billing/clients/{customer.number}/{action}/",
        {f"{prefix}-amount": amount, f"{prefix}-token": uuid4()},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["amount"]
    assert entries() == before


@pytest.mark.parametrize("price", ["1e1000000", "-1e1000000"])
def test_a_huge_package_price_is_refused(client, owner, price):
    package = PackageFactory(tenant=owner.tenant)
    data = {"name": "Fibre", "price": price, "period_count": "1", "period_unit": "months"}
    response = client.post(f"/subscriptions/packages/{package.pk}/", data)
    assert response.status_code == 400
    assert field_errors(response, "price")


def test_a_nul_in_the_search_suggestions_is_cleaned(client, customer):
    response = client.get("/clients/suggest/", {"q": f"{customer.name[:4]}\x00"})
    assert response.status_code == 200
    assert customer.name in response.content.decode()


def test_a_nul_in_the_export_token_is_cleaned_and_the_token_refused(client, customer):
    response = client.post(
        f"/billing/clients/{customer.number}/export/",
        {"token": "a\x00b", "start": "2026-01-01", "end": "2026-01-31"},
    )
    assert response.status_code < 500
    with scopes_disabled():
        keys = list(ExportJob.objects.values_list("idempotency_key", flat=True))
    assert not any("\x00" in (key or "") for key in keys)


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_date_time_that_leaves_the_calendar_in_utc_is_refused(client, customer, when):
    from clients.forms import ClientForm

    form = ClientForm(instance=customer, tenant=customer.tenant)
    data = {name: form[name].value() or "" for name in ClientForm.Meta.fields}
    data.update(last_login_at=when, group="")
    response = client.post(f"/clients/{customer.number}/edit/", data)
    assert response.status_code == 400
    assert field_errors(response, "last_login_at")
    assert client.get(f"/clients/{customer.number}/").status_code == 200
