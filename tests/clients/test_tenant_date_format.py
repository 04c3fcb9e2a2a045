"""One tenant, one date and time format: the client list, the client page and the connection's
Last seen show the same format (MM/DD/YYYY and a 12-hour clock here), in the tenant's zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tests.factories import ClientFactory, PppoeAccountFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


@pytest.fixture
def us_tenant(tenant):
    tenant.date_format, tenant.time_format = "m/d/Y", "h:i A"
    tenant.save(update_fields=["date_format", "time_format"])
    return tenant


@pytest.fixture
def customer(us_tenant):
    customer = ClientFactory(
        tenant=us_tenant,
        name="Format Customer",
        registered_on=date(2025, 6, 23),
        created_at=datetime(2025, 7, 23, 10, 0, tzinfo=UTC),  # 12:00 in Berlin
        last_purchase_at=datetime(2025, 7, 23, 23, 30, tzinfo=UTC),  # already the 24th there
    )
    account = PppoeAccountFactory(tenant=us_tenant, client=customer, status="offline")
    with scopes_disabled():
        account.router.is_reachable = True
        account.router.save(update_fields=["is_reachable"])
        account.last_seen_at = datetime(2026, 12, 1, 5, 49, tzinfo=UTC)  # 06:49 in Berlin
        account.checked_at = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
        account.save(update_fields=["last_seen_at", "checked_at"])
    return customer


def test_list_client_page_and_last_seen_share_the_tenants_format(client, login_as, customer):
    membership = login_as(customer.tenant, "owner")
    membership.preferences = {"tables.ClientTable.columns": ["created_at", "last_purchase_at"]}
    with scopes_disabled():
        membership.save(update_fields=["preferences"])
    listing = client.get(reverse("clients:client_list"), {"q": "Format Customer"}).content.decode()
    assert "07/23/2025" in listing and "07/24/2025" in listing  # created, last purchase

    page = client.get(customer.get_absolute_url()).content.decode()
    assert "06/23/2025" in page  # registration date
    assert "07/23/2025 12:00 PM" in page  # created
    assert "12/01/2026 06:49 AM" in page  # Last seen
    for other in ("2025-06-23", "23.06.2025", "Dec. 1, 2026", "6:49 a.m."):
        assert other not in page and other not in listing


def test_the_edit_form_shows_and_keeps_dates_in_the_tenants_format(client, login_as, customer):
    login_as(customer.tenant, "owner")
    form = client.get(reverse("clients:client_edit", kwargs={"number": customer.number}))
    html = form.content.decode()
    assert 'value="06/23/2025"' in html and 'placeholder="MM/DD/YYYY"' in html
    assert 'value="07/24/2025 01:30 AM"' in html  # last purchase, in the tenant's zone
