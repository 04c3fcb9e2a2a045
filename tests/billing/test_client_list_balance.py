import pytest
from django.urls import reverse

from tests.factories import ClientFactory, make_account

pytestmark = pytest.mark.django_db


def test_client_list_shows_and_sorts_by_balance(client, owner, tenant):
    rich = ClientFactory(tenant=tenant, name="Rich")
    poor = ClientFactory(tenant=tenant, name="Poor")
    make_account(rich, balance="1500", credit_limit="25")
    make_account(poor, balance="3")
    response = client.get(reverse("clients:client_list"), {"sort": "-balance"})
    table = response.context["table"]
    assert [r.record.name for r in table.page.object_list] == ["Rich", "Poor"]
    row = table.page.object_list[0]
    assert row.get_cell("balance") == "1,500.00" and row.get_cell("credit") == "25.00"
    ascending = client.get(reverse("clients:client_list"), {"sort": "balance"}).context["table"]
    assert [r.record.name for r in ascending.page.object_list] == ["Poor", "Rich"]
