"""A tenant's modules decide every field, column, filter, block, tab and section it sees.

For each of the 8 combinations of modules, a tenant with those flags and a client with every
field filled: the client list (with its column chooser and filter bar), the client page, every
tab, the edit and new-client forms and the order form are read, and what they show is checked
against the declarations (clients/modules.py and the contributions registered with
clients.extensions, the tabs' and sections' `shown` tests), never against a list written per
page.
"""

import itertools
import re
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from clients.forms import ClientForm
from clients.models import Client
from clients.modules import (
    CLIENT_FIELDS,
    default_columns_for,
    list_column_modules,
    list_filter_modules,
    page_block_modules,
    shows,
)
from clients.tables import ClientTable
from clients.tabs import CLIENT_TABS
from subscriptions.models import tenant_today
from tenancy.modules import (
    ALL_MODULES,
    FEATURES,
    MODULE_FLAGS,
    SUBSCRIPTIONS,
    adds_clients_directly,
    modules_of_test,
    tenant_modules,
    uses_any,
)
from tenancy.navigation import NAV_SECTIONS
from tests.factories import ClientFactory, ClientGroupFactory, PackageFactory, TenantFactory

from .helpers import table_of

pytestmark = pytest.mark.django_db

COMBINATIONS = [
    frozenset(combo)
    for size in range(len(ALL_MODULES) + 1)
    for combo in itertools.combinations(ALL_MODULES, size)
]
# How the filter bar names each filter's inputs.
FILTER_INPUTS = {"created": "created_after", "purchased": "purchased_after"}
LIST_COLUMNS = list_column_modules()
LIST_FILTERS = list_filter_modules()
PAGE_BLOCKS = page_block_modules()
# General-info rows: the client fields but the status (the page's header carries its badge).
FORM_FIELDS = ClientForm.Meta.fields


def combo_id(modules) -> str:
    return "+".join(sorted(modules)) or "none"


def tenant_with(modules):
    flags = {flag: key in modules for key, flag in MODULE_FLAGS.items()}
    return TenantFactory(**flags)


def full_client(tenant) -> Client:
    group = ClientGroupFactory(tenant=tenant, name="Retail")
    return ClientFactory(
        tenant=tenant,
        name="Every Field",
        company="Every Field Ltd",
        login="+4915112345678",
        email="every@field.example",
        phone="+49 30 1234567",
        address="1 Linden Street",
        contact_name="Petra Contact",
        contact_email="petra@field.example",
        country="DE",
        itn="123456789",
        group=group,
        property_type="legal_entity",
        activity_type="Printing",
        region="Berlin",
        site="https://field.example",
        postal_address="PO Box 1",
        accounting_email="books@field.example",
        external_tenant_name="field.onmicrosoft.com",
        channel="web",
        referer="fair 2026",
        registered_on=date(2026, 1, 15),
        last_login_at=timezone.now(),
        failed_login_attempts=2,
        activation_required=True,
        sms_price=Decimal("0.0420"),
        sms_subscription=True,
        last_purchase_at=timezone.now(),
    )


def marks(html: str, attribute: str) -> set[str]:
    return set(re.findall(rf'{attribute}="([^"]+)"', html))


def chooser_columns(html: str) -> set[str]:
    chooser = html[html.index('data-testid="column-chooser"') :]
    chooser = chooser[: chooser.index("</form>")]
    return set(re.findall(r'name="columns" value="([^"]+)"', chooser))


def filter_inputs(html: str) -> set[str]:
    bar = html[html.index('id="client-filter-form"') :]
    bar = bar[: bar.index("</form>")]
    return set(re.findall(r'<(?:input|select)[^>]* name="([^"]+)"', bar))


def assert_shown(kind: str, registry: dict, found: set[str], tenant, names=None, mark=None):
    for name in names or registry:
        expected = shows(registry, name, tenant)
        key = (mark or (lambda n: n))(name)
        assert (key in found) == expected, (
            f"{kind} {name!r}: {'missing' if expected else 'shown'} for "
            f"{combo_id(tenant_modules(tenant))}"
        )


@pytest.fixture(params=COMBINATIONS, ids=combo_id)
def walk(request, client, login_as):
    tenant = tenant_with(request.param)
    membership = login_as(tenant, "owner")
    return tenant, membership, full_client(tenant)


def test_client_list_columns_chooser_and_filters(walk, client):
    tenant, membership, customer = walk
    response = client.get(reverse("clients:client_list"))
    assert response.status_code == 200
    html = response.content.decode()

    choosable = set(LIST_COLUMNS) - set(ClientTable.always_columns)
    assert_shown("chooser column", LIST_COLUMNS, chooser_columns(html), tenant, choosable)
    headers = marks(html, "data-column") - {"select"}  # the bulk actions' tick boxes
    assert headers == set(default_columns_for(tenant)), combo_id(tenant_modules(tenant))
    assert all(shows(LIST_COLUMNS, name, tenant) for name in headers)
    assert "status" not in headers  # the Client name column carries the badge
    columns = [c.name for c in table_of(response).columns]
    assert columns == ["select", *default_columns_for(tenant)]

    assert_shown(
        "filter",
        LIST_FILTERS,
        filter_inputs(html),
        tenant,
        mark=lambda name: FILTER_INPUTS.get(name, name),
    )
    sorts = set(re.findall(r'<option value="(-?last_purchase_at)"', html))
    assert bool(sorts) == shows(LIST_COLUMNS, "last_purchase_at", tenant)


def test_client_page_rows_blocks_tabs_and_sections(walk, client):
    tenant, membership, customer = walk
    response = client.get(customer.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert_shown("General-info row", CLIENT_FIELDS, marks(html, "data-field"), tenant)
    assert_shown("block", PAGE_BLOCKS, marks(html, "data-block"), tenant)
    if not shows(CLIENT_FIELDS, "sms_price", tenant):
        assert "SMS price" not in html and "Login attempts" not in html
    if not shows(PAGE_BLOCKS, "connection", tenant):
        assert "No router is assigned" not in html

    tabs = marks(html, "data-tab")
    for link in CLIENT_TABS.links:
        expected = uses_any(tenant, modules_of_test(link.shown))
        assert (link.key in tabs) == expected, f"tab {link.key}, {combo_id(tenant_modules(tenant))}"
        tab = client.get(reverse(link.url_name, kwargs={"number": customer.number}))
        assert tab.status_code == (200 if expected else 404), link.key
        if expected:
            assert f'data-tab="{link.key}"' in tab.content.decode()

    sections = marks(html, "data-nav")
    for link in NAV_SECTIONS.links:
        expected = link.shown(tenant, membership)
        assert expected == uses_any(tenant, modules_of_test(link.shown))  # an owner may all
        assert (link.key in sections) == expected, f"section {link.key}"
        page = client.get(reverse(link.url_name))
        assert page.status_code == (200 if expected else 404), link.key

    dashboard = client.get(reverse("holds:dashboard")).content.decode()
    expiring = uses_any(tenant, FEATURES["subscriptions"])
    assert ('data-block="expiring"' in dashboard) == expiring
    assert ('data-testid="subscription-create"' in html) == expiring


def test_search_placeholder_and_suggestions_name_only_fields_shown(walk, client):
    tenant, membership, customer = walk
    html = client.get(reverse("clients:client_list")).content.decode()
    placeholder = re.search(r'name="q"[^>]*placeholder="([^"]*)"', html).group(1)
    assert ("ITN" in placeholder) == shows(CLIENT_FIELDS, "itn", tenant)
    assert ("login" in placeholder) == shows(CLIENT_FIELDS, "login", tenant)
    suggestions = client.get(reverse("clients:client_suggest"), {"q": "Every Field"})
    text = suggestions.content.decode()
    assert "Every Field" in text
    assert ("ITN 123456789" in text) == shows(CLIENT_FIELDS, "itn", tenant)
    assert (customer.login in text) == shows(CLIENT_FIELDS, "login", tenant)


def test_client_forms_have_the_fields_of_the_modules(walk, client):
    tenant, membership, customer = walk
    pages = [client.get(reverse("clients:client_edit", kwargs={"number": customer.number}))]
    create = client.get(reverse("clients:client_create"))
    if adds_clients_directly(tenant):
        pages.append(create)
    else:  # a reseller adds its customers by ordering a subscription for them
        assert create.status_code == 302 and create.url == reverse("subscriptions:order")
    order = client.get(reverse("subscriptions:order"))
    if uses_any(tenant, SUBSCRIPTIONS):
        pages.append(order)
    else:
        assert order.status_code == 404
    for page in pages:
        assert page.status_code == 200
        assert_shown(
            "form field",
            CLIENT_FIELDS,
            marks(page.content.decode(), "data-field"),
            tenant,
            FORM_FIELDS,
        )


def test_edit_keeps_the_values_of_fields_the_form_does_not_have(walk, client):
    tenant, membership, customer = walk
    form = ClientForm(instance=customer, tenant=tenant)
    data = {}
    for name, field in form.fields.items():  # as the page renders them
        value = form[name].initial
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[name] = "on"
            continue
        shown = field.widget.format_value(field.prepare_value(value))
        data[name] = "" if shown is None else shown
    data["name"] = "Renamed"
    response = client.post(reverse("clients:client_edit", kwargs={"number": customer.number}), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        saved = Client.objects.get(pk=customer.pk)
    assert saved.name == "Renamed"
    for name in FORM_FIELDS:
        if not shows(CLIENT_FIELDS, name, tenant):
            assert getattr(saved, name) == getattr(customer, name), name


def test_reseller_new_client_saves_without_sms_price_or_login_attempts(client, login_as):
    """Seed 001: the customer is added when a subscription is ordered for it."""
    tenant = tenant_with({"reseller"})
    tenant.new_client_credit_limit = Decimal("100")
    tenant.save()
    login_as(tenant, "owner")
    package = PackageFactory(tenant=tenant, price=Decimal("10.00"))
    response = client.post(
        reverse("subscriptions:order"),
        {
            "order-who": "new",
            "order-package": package.pk,
            "order-start_date": tenant_today(tenant).isoformat(),
            "order-token": uuid4(),
            "client-name": "Contoso Customer",
            "client-company": "Contoso",
            "client-itn": "7707083893",
            "client-country": "RU",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        created = Client.objects.get(tenant=tenant, name="Contoso Customer")
    assert created.sms_price == Decimal("0") and created.failed_login_attempts == 0


def test_saved_columns_of_another_module_are_ignored(client, login_as):
    tenant = tenant_with({"reseller"})
    owner = login_as(tenant, "owner")
    ClientFactory(tenant=tenant)
    owner.preferences = {"tables.ClientTable.columns": ["sms_price", "connection", "itn"]}
    owner.save()
    response = client.get(reverse("clients:client_list"), {"sort": "-sms_price"})
    assert response.status_code == 200
    assert [c.name for c in table_of(response).columns] == ["select", "name", "itn"]


def test_sort_of_a_column_the_tenant_lacks_falls_back(client, login_as):
    tenant = tenant_with({"messaging"})
    login_as(tenant, "owner")
    ClientFactory(tenant=tenant)
    response = client.get(reverse("clients:client_list"), {"sort": "-last_purchase_at"})
    assert response.status_code == 200
    assert table_of(response).order_by == ("-created_at",)
