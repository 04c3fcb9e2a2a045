"""The audit log page: who sees what, its filters, bad input and its query count."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from core.stored_text import literal_text
from events.models import Event
from events.services import EventLine, events_record_bulk
from tests.factories import ClientFactory
from tests.helpers import assert_role_refused, table_html

URL = reverse("events:event_list")


def seed(tenant, *, actor=None, at=None, count=1):
    customer = ClientFactory(tenant=tenant)
    lines = []
    for i in range(count):
        lines += [
            EventLine(
                type="hold.placed",
                client_id=customer.pk,
                description=literal_text(f"Hold {i} of {tenant.slug}"),
                actor=actor,
                at=at,
            ),
            EventLine(
                type="ledger.entry_posted",
                client_id=customer.pk,
                description=literal_text(f"Top-up {i} of {tenant.slug}"),
                object_type="ledger_entry",
                object_id=1000 + i,
                actor=actor,
                at=at,
            ),
        ]
    with transaction.atomic():
        events_record_bulk(tenant=tenant, lines=lines)
    return customer


def shown(response) -> str:
    assert response.status_code == 200
    return table_html(response)


def test_owner_sees_every_event_of_the_tenant_only(client, owner, tenant, other_tenant):
    seed(tenant)
    seed(other_tenant)
    html = shown(client.get(URL))
    assert "Hold 0 of tenant-a" in html and "Top-up 0 of tenant-a" in html
    assert "tenant-b" not in html


def test_accountant_sees_money_events_only(client, login_as, tenant):
    seed(tenant)
    login_as(tenant, "accountant")
    response = client.get(URL)
    html = shown(response)
    assert "Top-up 0 of tenant-a" in html and "Hold 0" not in html
    asked = shown(client.get(URL, {"type": "hold.placed"}))  # not offered: ignored, not shown
    assert "Hold 0" not in asked


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_other_roles_are_refused(client, login_as, tenant, role):
    login_as(tenant, role)
    assert_role_refused(client, URL)


def test_filters_by_type_operator_object_and_period(client, owner, tenant, login_as):
    seed(tenant, actor=owner.user)
    seed(tenant, at=timezone.now() - timedelta(days=10))
    html = shown(client.get(URL, {"type": "ledger.entry_posted"}))
    assert "Top-up" in html and "Hold" not in html
    html = shown(client.get(URL, {"actor": owner.user.pk}))
    assert html.count("of tenant-a") == 2
    html = shown(client.get(URL, {"object_type": "ledger_entry", "object_id": 1000}))
    assert html.count("Top-up 0") == 2 and "Hold" not in html
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    html = shown(client.get(URL, {"since": since}))
    assert html.count("of tenant-a") == 2


def test_htmx_gets_the_table_only(client, owner, tenant):
    seed(tenant)
    response = client.get(URL, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region")
    html = response.content.decode()
    assert response.status_code == 200 and "navbar" not in html and "Hold 0 of tenant-a" in html


@pytest.mark.parametrize("params", [{"until": "9999-12-31"}, {"since": "0001-01-01"}])
def test_the_ends_of_the_calendar_select_everything(client, owner, tenant, params):
    seed(tenant)
    assert "Hold 0 of tenant-a" in shown(client.get(URL, params))


@pytest.mark.parametrize(
    "params",
    [
        {"type": "nope"},
        {"actor": "999999999"},
        {"object_id": "1e400"},
        {"client_id": "-5"},
        {"since": "31.31.2026"},
        {"until": "x" * 5000},
        {"object_type": "nonsense"},
    ],
)
def test_bad_filters_are_ignored_with_a_message(client, owner, tenant, params):
    seed(tenant)
    response = client.get(URL, params)
    assert response.status_code == 200
    (name,) = params
    assert response.context["filter"].form.errors.get(name)
    assert "Hold 0 of tenant-a" in table_html(response)


def test_another_tenants_operator_is_not_offered(client, owner, tenant, other_tenant, login_as):
    stranger = login_as(other_tenant, "owner")
    client.force_login(owner.user)
    response = client.get(URL, {"actor": stranger.user.pk})
    assert response.context["filter"].form.errors.get("actor")


@pytest.mark.parametrize("rows", [1, 40])
def test_query_count_does_not_grow(client, owner, tenant, rows, django_assert_max_num_queries):
    seed(tenant, actor=owner.user, count=rows)
    with django_assert_max_num_queries(9):
        response = client.get(URL, {"per_page": 100})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 2 * rows


def test_the_htmx_fragment_leaves_the_toolbar_out_and_its_query(client, owner, tenant):
    """The saved views and the export button are the whole page's toolbar: the table
    fragment that filtering, sorting and paging fetch neither shows nor reads them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seed(tenant, actor=owner.user, count=3)
    with CaptureQueriesContext(connection) as page:
        whole = client.get(URL)
    with CaptureQueriesContext(connection) as fragment:
        table = client.get(URL, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region")
    saved_views = [q for q in page.captured_queries if "tenancy_savedview" in q["sql"]]
    assert len(saved_views) == 1
    assert not [q for q in fragment.captured_queries if "tenancy_savedview" in q["sql"]]
    assert len(fragment) < len(page)
    assert "list_export_token" in whole.context and "list_export_token" not in table.context
    assert table_html(table).count("data-event=") == table_html(whole).count("data-event=") == 6


def test_keyset_pages_walk_every_event_once_without_a_count(client, owner, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seed(tenant, count=12)  # 24 events
    seen, pages, params = [], [], {"per_page": 10}
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, params)
        assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
        page = response.context["table"].page
        pages.append(page)
        seen += [row.record.pk for row in page.object_list]
        if not page.has_next:
            break
        params = {"per_page": 10, "after": page.next_cursor}
    assert [len(p.object_list) for p in pages] == [10, 10, 4]
    with scopes_disabled():
        newest_first = list(
            Event.objects.filter(tenant=tenant)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)
        )
    assert seen == newest_first
    back = client.get(URL, {"per_page": 10, "before": pages[2].previous_cursor})
    assert [r.record.pk for r in back.context["table"].page.object_list] == seen[10:20]
    assert back.context["table"].page.has_previous


def test_a_forged_cursor_opens_the_first_page(client, owner, tenant):
    seed(tenant, count=6)
    response = client.get(URL, {"per_page": 10, "after": "forged:cursor"})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 10
    assert not response.context["table"].page.has_previous
