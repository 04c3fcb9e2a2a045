"""The client list: columns, filters, sorting, paging, preferences, tenancy and bad parameters."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clients.models import ClientStatus, PropertyType
from clients.modules import default_columns_for
from clients.tables import ClientTable
from tests.factories import ClientGroupFactory

from .helpers import listed_numbers, table_of


def local_day(tenant, moment):
    """The day an operator of the tenant sees for a moment: date filters read the tenant's zone."""
    return timezone.localtime(moment, tenant.zone).date().isoformat()


pytestmark = pytest.mark.django_db


# -- the page and its columns ---------------------------------------------------------------
def test_list_shows_clients_with_name_link_badge_and_row_link(client, owner, make_client, list_url):
    c = make_client(owner.tenant, name="Zed Example", status=ClientStatus.FINANCIAL_HOLD)
    response = client.get(list_url)
    html = response.content.decode()
    assert response.status_code == 200
    detail = reverse("clients:client_detail", kwargs={"number": c.number})
    assert f'<a href="{detail}" class="fw-semibold" data-testid="client-link">Zed Example</a>' in (
        html
    )
    assert f'data-href="{detail}"' in html
    assert 'data-status="financial_hold"' in html
    assert f"#{c.number}" in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_default_columns_hide_external_tenant_name(client, owner, make_client, list_url):
    make_client(owner.tenant, external_tenant_name="contoso.onmicrosoft.com")
    response = client.get(list_url)
    visible = [c.name for c in table_of(response).columns]
    assert visible[:2] == ["select", "name"]  # the bulk actions' tick boxes lead
    assert "external_tenant_name" not in visible
    assert "contoso.onmicrosoft.com" not in response.content.decode()
    assert visible[1:] == list(default_columns_for(owner.tenant))  # clients/modules.py decides
    for name in ("contact", "itn", "connection", "login"):  # each module's leading columns
        assert name in visible
    assert "status" not in visible  # the Client name column carries the badge


def test_client_name_column_cannot_be_hidden():
    assert "name" not in dict(ClientTable.choosable_columns())
    assert "external_tenant_name" in dict(ClientTable.choosable_columns())


def test_every_table_labels_its_chooser_columns_as_their_headers_read():
    from tenancy.tables import TABLE_REGISTRY

    for table in TABLE_REGISTRY.values():
        for name, label in table.choosable_columns():
            assert label[:1] == label[:1].upper(), f"{table.__name__}.{name}: {label!r}"


def test_contact_column_shows_name_and_email(client, owner, make_client, list_url):
    make_client(owner.tenant, contact_name="Olga Orlova", contact_email="olga@acme.example")
    html = client.get(list_url).content.decode()
    assert "Olga Orlova" in html and "olga@acme.example" in html


def test_htmx_request_gets_only_the_table_region(owner, make_client, htmx_get):
    make_client(owner.tenant, name="Fragment Person")
    response = htmx_get()
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="table-region"')
    assert "<html" not in html
    assert "Fragment Person" in html
    assert 'hx-swap-oob="true"' in html  # the filter bar's messages and sort choice


# -- tenancy --------------------------------------------------------------------------------
def test_other_tenants_clients_never_listed(
    client, owner, other_tenant, make_client, list_url, htmx_get
):
    mine = make_client(owner.tenant, name="Mine Person")
    theirs = make_client(other_tenant, name="Theirs Person", itn="5555555555")
    for response in (
        client.get(list_url),
        client.get(list_url, {"q": "theirs"}),
        client.get(list_url, {"q": "5555555555"}),
        client.get(list_url, {"status": list(ClientStatus.values)}),
        htmx_get({"q": "person"}),
    ):
        html = response.content.decode()
        assert "Theirs Person" not in html
    assert listed_numbers(client.get(list_url)) == [mine.number]
    # Numbers are per tenant: the other tenant's client 1 is not ours.
    assert theirs.number == mine.number


def test_other_tenants_client_page_is_404(client, owner, other_tenant, make_client):
    theirs = make_client(other_tenant)
    make_client(owner.tenant)
    mine_only = make_client(other_tenant)
    url = reverse("clients:client_detail", kwargs={"number": mine_only.number})
    assert client.get(url).status_code == 404
    assert theirs.number == 1
    assert client.get(reverse("clients:client_detail", kwargs={"number": 1})).status_code == 200


def test_group_filter_offers_only_own_groups(client, owner, other_tenant, list_url):
    ClientGroupFactory(tenant=owner.tenant, name="Own Type")
    ClientGroupFactory(tenant=other_tenant, name="Foreign Type")
    html = client.get(list_url).content.decode()
    assert "Own Type" in html
    assert "Foreign Type" not in html


def test_group_filter_ignores_another_tenants_group(client, owner, other_tenant, make_client):
    foreign = ClientGroupFactory(tenant=other_tenant)
    make_client(owner.tenant, name="Still Listed")
    response = client.get(reverse("clients:client_list"), {"group": foreign.pk})
    assert response.status_code == 200
    assert "Still Listed" in response.content.decode()
    assert "group" in response.context["filter"].errors


# -- filters --------------------------------------------------------------------------------
def test_deleted_hidden_unless_asked(client, owner, make_client, list_url):
    active = make_client(owner.tenant, status=ClientStatus.ACTIVE)
    deleted = make_client(owner.tenant, status=ClientStatus.DELETED)
    held = make_client(owner.tenant, status=ClientStatus.ADMINISTRATIVE_HOLD)
    assert set(listed_numbers(client.get(list_url))) == {active.number, held.number}
    shown = listed_numbers(client.get(list_url, {"status": "deleted"}))
    assert shown == [deleted.number]
    both = listed_numbers(client.get(list_url, {"status": ["deleted", "active"]}))
    assert set(both) == {deleted.number, active.number}


@pytest.mark.parametrize("status", ClientStatus.values)
def test_status_filter_each_status(client, owner, make_client, list_url, status):
    clients = {s: make_client(owner.tenant, status=s) for s in ClientStatus.values}
    assert listed_numbers(client.get(list_url, {"status": status})) == [clients[status].number]


def test_status_filter_highlighted_when_set(client, owner, list_url):
    plain = client.get(list_url).content.decode()
    assert 'data-testid="status-button"' in plain
    assert "filter-active" not in plain.split('data-testid="status-button"')[0].rsplit("<", 1)[1]
    chosen = client.get(list_url, {"status": "financial_hold"}).content.decode()
    button = chosen.split('data-testid="status-button"')[0].rsplit("<summary", 1)[1]
    assert "filter-active" in button
    assert 'value="financial_hold"' in chosen and "checked" in chosen


def test_unknown_status_is_ignored_with_a_message(client, owner, make_client, list_url, htmx_get):
    c = make_client(owner.tenant)
    for response in (client.get(list_url, {"status": "bogus"}), htmx_get({"status": "bogus"})):
        assert response.status_code == 200
        assert listed_numbers(response) == [c.number]
        assert 'data-field-error="status"' in response.content.decode()
        assert "bogus" in response.content.decode()


def test_client_type_and_property_type_filters(client, owner, make_client, list_url):
    smb = ClientGroupFactory(tenant=owner.tenant, name="SMB")
    edu = ClientGroupFactory(tenant=owner.tenant, name="Education")
    a = make_client(owner.tenant, group=smb, property_type=PropertyType.LEGAL_ENTITY)
    b = make_client(owner.tenant, group=edu, property_type=PropertyType.INDIVIDUAL)
    make_client(owner.tenant, group=None, property_type="")
    assert listed_numbers(client.get(list_url, {"group": smb.pk})) == [a.number]
    assert listed_numbers(client.get(list_url, {"property_type": "individual"})) == [b.number]
    assert listed_numbers(client.get(list_url, {"group": edu.pk, "property_type": "individual"}))
    assert not listed_numbers(
        client.get(list_url, {"group": smb.pk, "property_type": "individual"})
    )


def test_creation_date_range(client, owner, make_client, list_url, days_ago):
    old = make_client(owner.tenant, created_at=days_ago(100))
    mid = make_client(owner.tenant, created_at=days_ago(50))
    new = make_client(owner.tenant, created_at=days_ago(1))
    frm, to = local_day(owner.tenant, days_ago(60)), local_day(owner.tenant, days_ago(40))
    assert listed_numbers(client.get(list_url, {"created_after": frm, "created_before": to})) == [
        mid.number
    ]
    since = listed_numbers(client.get(list_url, {"created_after": frm}))
    assert set(since) == {mid.number, new.number}
    until = listed_numbers(client.get(list_url, {"created_before": to}))
    assert set(until) == {old.number, mid.number}


def test_last_purchase_date_range_includes_its_end_day(
    client, owner, make_client, list_url, days_ago
):
    bought = make_client(owner.tenant, last_purchase_at=days_ago(10))
    make_client(owner.tenant, last_purchase_at=days_ago(30))
    make_client(owner.tenant, last_purchase_at=None)
    day = local_day(owner.tenant, days_ago(10))
    response = client.get(list_url, {"purchased_after": day, "purchased_before": day})
    assert listed_numbers(response) == [bought.number]


@pytest.mark.parametrize("field", ["created", "purchased"])
def test_date_range_start_after_end_is_ignored_with_message(
    client, owner, make_client, list_url, htmx_get, field
):
    c = make_client(owner.tenant)
    params = {f"{field}_after": "2026-05-01", f"{field}_before": "2026-01-01"}
    for response in (client.get(list_url, params), htmx_get(params)):
        html = response.content.decode()
        assert response.status_code == 200
        assert listed_numbers(response) == [c.number]
        error = html.split(f'data-field-error="{field}"')[1].split("</div>")[0]
        assert "start date is after the end date" in error


def test_invalid_date_is_ignored_with_message(client, owner, make_client, list_url):
    c = make_client(owner.tenant)
    response = client.get(list_url, {"created_after": "not-a-date"})
    assert response.status_code == 200
    assert listed_numbers(response) == [c.number]
    assert "created" in response.context["filter"].errors


# -- sorting --------------------------------------------------------------------------------
@pytest.fixture
def sortable(owner, make_client, days_ago):
    """Three clients; one never bought."""
    a = make_client(
        owner.tenant, name="Bravo", created_at=days_ago(30), last_purchase_at=days_ago(5)
    )
    b = make_client(owner.tenant, name="alpha", created_at=days_ago(10), last_purchase_at=None)
    c = make_client(
        owner.tenant, name="Charlie", created_at=days_ago(20), last_purchase_at=days_ago(1)
    )
    return a, b, c


def test_default_sort_latest_purchase_first_never_bought_last(client, list_url, sortable):
    a, b, c = sortable
    assert listed_numbers(client.get(list_url)) == [c.number, a.number, b.number]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-last_purchase_at", "cab"),
        ("last_purchase_at", "acb"),  # never-bought still last
        ("-created_at", "bca"),
        ("created_at", "acb"),
        ("number", "abc"),
        ("-number", "cba"),
        ("name", "bac"),  # alpha, Bravo, Charlie
        ("-name", "cab"),
    ],
)
def test_sorts_both_directions(client, list_url, sortable, sort, expected):
    by_letter = dict(zip("abc", sortable, strict=True))
    response = client.get(list_url, {"sort": sort})
    assert listed_numbers(response) == [by_letter[x].number for x in expected]
    select = response.content.decode().split('data-testid="sort-select"')[1].split("</select>")[0]
    assert f'value="{sort}" selected' in select


def test_pk_breaks_ties_so_pages_are_stable(client, owner, make_client, list_url, days_ago):
    same = days_ago(3)
    made = [make_client(owner.tenant, last_purchase_at=same) for _ in range(25)]
    seen = []
    for page in (1, 2, 3):
        seen += listed_numbers(client.get(list_url, {"page": page}))
    assert seen == sorted((c.number for c in made), reverse=True)


def test_unsortable_or_unknown_sort_falls_back_to_default(client, list_url, sortable):
    a, b, c = sortable
    for bad in ("bogus", "-login", "search_text", "tenant", "'; DROP TABLE x"):
        response = client.get(list_url, {"sort": bad})
        assert response.status_code == 200
        assert listed_numbers(response) == [c.number, a.number, b.number]


# -- paging ---------------------------------------------------------------------------------
@pytest.fixture
def thirty(owner, make_client, days_ago):
    return [make_client(owner.tenant, last_purchase_at=days_ago(i)) for i in range(1, 31)]


def test_ten_rows_by_default_and_page_sizes(client, list_url, thirty):
    assert len(listed_numbers(client.get(list_url))) == 10
    assert len(listed_numbers(client.get(list_url, {"per_page": 20}))) == 20
    assert len(listed_numbers(client.get(list_url, {"per_page": 50}))) == 30


def test_page_two_and_last_page(client, list_url, thirty):
    numbers = [c.number for c in thirty]  # newest purchase first
    assert listed_numbers(client.get(list_url, {"page": 2})) == numbers[10:20]
    last = client.get(list_url, {"page": 3})
    assert listed_numbers(last) == numbers[20:30]
    assert 'rel="next"' not in last.content.decode()
    assert 'rel="prev"' in last.content.decode()


@pytest.mark.parametrize(
    ("params", "expected_page"),
    [
        ({"page": "abc"}, 1),
        ({"page": "0"}, 1),
        ({"page": "-3"}, 1),
        ({"page": "999999"}, 3),
        ({"page": "1e9"}, 1),
        ({"page": "99999999999999999999999"}, 3),
        ({"per_page": "100000"}, 1),
        ({"per_page": "abc", "page": "2"}, 2),
    ],
)
def test_bad_paging_parameters_give_a_sensible_page(
    client, list_url, htmx_get, thirty, params, expected_page
):
    numbers = [c.number for c in thirty]
    for response in (client.get(list_url, params), htmx_get(params)):
        assert response.status_code == 200
        table = table_of(response)
        assert table.page.number == expected_page
        assert table.current_per_page == 10
        start = (expected_page - 1) * 10
        assert listed_numbers(response) == numbers[start : start + 10]


def test_page_jump_form_keeps_the_filters(client, list_url, thirty):
    html = client.get(list_url, {"q": "client", "status": "active"}).content.decode()
    jump = html.split('data-testid="page-jump"')[1].split("</form>")[0]
    assert 'name="q" value="client"' in jump
    assert 'name="status" value="active"' in jump
    assert 'name="page"' in jump


def test_empty_list_says_so(client, owner, list_url):
    response = client.get(list_url, {"q": "nobody-like-this"})
    assert response.status_code == 200
    assert "No clients match." in response.content.decode()


def test_count_is_estimated_past_the_limit(client, list_url, thirty, monkeypatch):
    monkeypatch.setattr(ClientTable, "exact_count_limit", 5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_client")  # the estimate comes from the statistics
    response = client.get(list_url)
    table = table_of(response)
    assert table.paginator.count_is_estimate
    assert "estimated" in response.content.decode()
    assert len(listed_numbers(response)) == 10


# -- bad parameters all together ------------------------------------------------------------
def test_every_bad_parameter_at_once(client, owner, make_client, list_url, htmx_get):
    c = make_client(owner.tenant)
    params = {
        "page": "abc",
        "per_page": "100000",
        "sort": "nope",
        "status": ["bogus", "active"],
        "q": "x" * 10_000,
        "group": "not-a-number",
        "property_type": "castle",
        "created_after": "2026-13-45",
        "purchased_before": "yesterday",
    }
    for response in (client.get(list_url, params), htmx_get(params)):
        assert response.status_code == 200
        assert table_of(response).page.number == 1
    assert c.number not in listed_numbers(client.get(list_url, params))  # "xxx..." matches none


# -- query count ----------------------------------------------------------------------------
def test_fixed_number_of_queries_whatever_the_page_size(
    client, owner, make_client, list_url, django_assert_max_num_queries
):
    groups = [ClientGroupFactory(tenant=owner.tenant) for _ in range(3)]
    for i in range(120):
        make_client(owner.tenant, group=groups[i % 3])
    client.get(list_url)  # warm caches (content types, sessions)
    bound = 12
    for params in ({}, {"q": "company"}, {"status": "active", "sort": "-created_at"}):
        counts = []
        for per_page in (10, 100):
            with django_assert_max_num_queries(bound) as captured:
                response = client.get(list_url, {"per_page": per_page, **params})
            assert len(listed_numbers(response)) == per_page
            assert "Client type" in response.content.decode()
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1], params  # the same for 10 and 100 rows


# -- column chooser and page size persistence -----------------------------------------------
def test_column_choice_and_page_size_are_remembered(client, owner, make_client, list_url):
    for i in range(25):
        make_client(owner.tenant, external_tenant_name=f"t{i}.onmicrosoft.com")
    prefs_url = reverse("tenancy:table_preferences", kwargs={"table_name": "ClientTable"})
    response = client.post(
        prefs_url,
        {"columns": ["login", "external_tenant_name"], "save_columns": "1", "next": list_url},
    )
    assert response.status_code == 302
    response = client.post(prefs_url, {"per_page": "20", "next": list_url})
    assert response.status_code == 302

    reloaded = client.get(list_url)
    visible = [c.name for c in table_of(reloaded).columns]
    assert visible == ["select", "name", "login", "external_tenant_name"]
    assert "onmicrosoft.com" in reloaded.content.decode()
    assert len(listed_numbers(reloaded)) == 20
    owner.refresh_from_db()
    assert owner.preferences["tables.ClientTable.columns"] == ["login", "external_tenant_name"]
    assert owner.preferences["pagination.per_page"] == 20


def test_column_choice_is_per_operator(client, owner, make_client, list_url, login_as):
    make_client(owner.tenant)
    prefs_url = reverse("tenancy:table_preferences", kwargs={"table_name": "ClientTable"})
    client.post(prefs_url, {"columns": ["login"], "save_columns": "1"})
    assert [c.name for c in table_of(client.get(list_url)).columns] == ["select", "name", "login"]
    login_as(owner.tenant, "viewer")
    visible = [c.name for c in table_of(client.get(list_url)).columns]
    assert "login" in visible and "external_tenant_name" not in visible


def test_unknown_saved_columns_are_dropped(client, owner, make_client, list_url):
    make_client(owner.tenant)
    owner.preferences = {"tables.ClientTable.columns": ["search_text", "bogus", "itn"]}
    owner.save()
    assert [c.name for c in table_of(client.get(list_url)).columns] == ["select", "name", "itn"]


# -- permissions ----------------------------------------------------------------------------
def test_viewer_sees_list_without_create_button(client, tenant, login_as, list_url):
    login_as(tenant, "viewer")
    response = client.get(list_url)
    assert response.status_code == 200
    assert 'data-testid="client-create"' not in response.content.decode()


def test_anonymous_is_sent_to_login(client, list_url):
    response = client.get(list_url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_deep_pages_read_ids_first_and_keep_the_order(client, list_url, thirty, monkeypatch):
    """Past `deferred_join_offset` rows the page is fetched by id; same rows, same order."""
    expected = {
        sort: [listed_numbers(client.get(list_url, {"page": p, "sort": sort})) for p in (2, 3)]
        for sort in ("-last_purchase_at", "created_at", "-number")
    }
    monkeypatch.setattr(ClientTable, "deferred_join_offset", 5)
    for sort, pages in expected.items():
        got = [listed_numbers(client.get(list_url, {"page": p, "sort": sort})) for p in (2, 3)]
        assert got == pages
