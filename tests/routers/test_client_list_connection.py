"""The client list's Connection status column and filter."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from routers.poller import poll_routers
from tests.factories import ClientFactory, PppoeAccountFactory, TenantFactory
from tests.helpers import table_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def statuses(tenant, sim, router_for):
    router = router_for(sim)
    online = PppoeAccountFactory(tenant=tenant, router=router, username="on1", client__name="On")
    offline = PppoeAccountFactory(
        tenant=tenant,
        router=router,
        username="off1",
        client__name="Off",
        last_seen_at=timezone.now() - timedelta(hours=2),  # seen before, gone now
    )
    sim.connect_session("on1")
    poll_routers()
    none = ClientFactory(tenant=tenant, name="Nobody")
    return {"online": online.client, "offline": offline.client, "none": none}


def test_column_shows_the_status_without_a_query_per_row(client, owner, statuses, tenant):
    url = reverse("clients:client_list")
    body = table_html(client.get(url, {"per_page": 50}))
    assert (
        'status-dot-online" aria-hidden="true"></span>Online' in body
        and 'status-dot-offline" aria-hidden="true"></span>Offline' in body
        and 'data-connection="none"' in body
    )
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"per_page": 50})
    for _ in range(20):
        PppoeAccountFactory(tenant=tenant)
    with CaptureQueriesContext(connection) as many:
        body = table_html(client.get(url, {"per_page": 50}))
    assert body.count("data-connection=") == 23
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(
    "value, expected",
    [("online", {"On"}), ("offline", {"Off"}), ("none", {"Nobody"})],
)
def test_filter_by_connection_status(client, owner, statuses, value, expected):
    response = client.get(reverse("clients:client_list"), {"connection": value})
    body = table_html(response)
    for name in ("On", "Off", "Nobody"):
        assert (f">{name}<" in body) == (name in expected), name


def test_a_bad_value_is_ignored_with_a_message(client, owner, statuses):
    response = client.get(reverse("clients:client_list"), {"connection": "sideways"})
    assert response.status_code == 200
    assert response.context["filter"].errors.get("connection")


def test_tenants_without_routers_have_no_connection_column(client, login_as):
    shop = TenantFactory(uses_routers=False)
    login_as(shop, "owner")
    ClientFactory(tenant=shop)
    body = client.get(reverse("clients:client_list")).content.decode()
    assert "Connection status" not in body
    assert 'data-connection="' not in body


def test_tenants_without_routers_have_no_connection_filter(client, login_as):
    """Neither the field, nor its out-of-band message on an HTMX refresh (which had no place
    to go on their page), nor the filtering itself."""
    shop = TenantFactory(uses_routers=False)
    login_as(shop, "owner")
    ClientFactory(tenant=shop, name="Visible Anyway")
    response = client.get(
        reverse("clients:client_list"), {"connection": "online"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "filter-error-connection" not in body and "Visible Anyway" in body
    assert "connection" not in response.context["filter"].form.fields
