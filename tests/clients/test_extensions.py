"""The extension points of the client page and list (clients.extensions): what an app registers
shows only for the tenants of its modules, registering again replaces rather than adds, and a
delete guard's reason refuses the deletion with its message."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django_filters import ChoiceFilter

from clients.extensions import (
    DELETE_GUARDS,
    LIST_COLUMNS,
    LIST_FILTERS,
    PAGE_BLOCKS,
    PAGE_CONTEXTS,
    SIDE,
    DeleteGuard,
    ListColumn,
    ListFilter,
    PageBlock,
    page_blocks_for,
    register_delete_guard,
    register_list_column,
    register_list_filter,
    register_page_block,
)
from clients.filters import ClientFilterSet
from clients.models import Client
from clients.modules import default_columns_for
from clients.services import client_delete
from clients.tables import ClientTable
from core.tables import FieldColumn
from tenancy.modules import (
    EVERY_TENANT,
    INTERNET,
    MESSAGING,
    MODULE_FLAGS,
    RESELLER,
    SUBSCRIPTIONS,
)
from tests.factories import ClientFactory, TenantFactory

pytestmark = pytest.mark.django_db


def tenant_using(module: str):
    flags = {flag: key == module for key, flag in MODULE_FLAGS.items()}
    return TenantFactory(**flags)


@pytest.fixture
def messaging_tenant():
    return tenant_using(MESSAGING)


@pytest.fixture
def reseller_tenant():
    return tenant_using(RESELLER)


@pytest.fixture
def extra_column():
    register_list_column(
        ListColumn(
            name="extra",
            column=FieldColumn(accessor="company", verbose_name="Extra", orderable=False),
            modules={MESSAGING},
            after="company",
            defaults={MESSAGING: "login"},
        )
    )
    yield LIST_COLUMNS["extra"]
    LIST_COLUMNS.unregister("extra")


def filterset_for(tenant, data=None):
    request = RequestFactory().get("/clients/", data or {})
    request.tenant = tenant
    return ClientFilterSet(
        data or None, queryset=Client.objects.for_tenant(tenant), request=request
    )


def test_a_contributed_column_shows_only_for_its_modules(
    extra_column, messaging_tenant, reseller_tenant
):
    offered = [name for name, _ in ClientTable.choosable_columns(messaging_tenant)]
    assert offered.index("extra") == offered.index("company") + 1  # after the one it names
    assert "extra" not in dict(ClientTable.choosable_columns(reseller_tenant))
    assert "extra" in ClientTable.hidden_by_modules(reseller_tenant)
    defaults = default_columns_for(messaging_tenant)
    assert defaults[defaults.index("login") + 1] == "extra"
    assert "extra" not in default_columns_for(reseller_tenant)


def test_a_contributed_column_renders_on_the_list(extra_column, client, login_as, messaging_tenant):
    login_as(messaging_tenant, "owner")
    ClientFactory(tenant=messaging_tenant, company="Extra Company Ltd")
    response = client.get(reverse("clients:client_list"))
    html = response.content.decode()
    assert 'data-column="extra"' in html and 'data-column="company"' in html
    assert html.count("Extra Company Ltd") == 2  # Company and Extra


def test_a_contributed_filter_shows_only_for_its_modules(messaging_tenant, reseller_tenant):
    register_list_filter(
        ListFilter(
            name="by_company",
            filter=ChoiceFilter(field_name="company", choices=[("Acme", "Acme")]),
            modules={RESELLER},
        )
    )
    try:
        ClientFactory(tenant=reseller_tenant, company="Acme")
        ClientFactory(tenant=reseller_tenant, company="Other")
        filtered = filterset_for(reseller_tenant, {"by_company": "Acme"})
        assert "by_company" in filtered.filters
        assert [c.company for c in filtered.qs] == ["Acme"]
        assert "by_company" not in filterset_for(messaging_tenant).filters
    finally:
        LIST_FILTERS.unregister("by_company")


def test_a_contributed_block_shows_only_for_its_modules(messaging_tenant, reseller_tenant):
    register_page_block(
        PageBlock(name="extra", template="clients/blocks/activity.html", column=SIDE, order=1)
    )
    register_page_block(
        PageBlock(
            name="messaging_only",
            template="clients/blocks/activity.html",
            column=SIDE,
            modules={MESSAGING},
        )
    )
    try:
        messaging = [b.name for b in page_blocks_for(messaging_tenant)[SIDE]]
        reseller = [b.name for b in page_blocks_for(reseller_tenant)[SIDE]]
        assert messaging[0] == "extra" and reseller[0] == "extra"  # by order
        assert "messaging_only" in messaging and "messaging_only" not in reseller
    finally:
        PAGE_BLOCKS.unregister("extra")
        PAGE_BLOCKS.unregister("messaging_only")


def test_registering_again_replaces_the_entry():
    registries = (LIST_COLUMNS, LIST_FILTERS, PAGE_BLOCKS, PAGE_CONTEXTS, DELETE_GUARDS)
    before = [r.names() for r in registries]
    ClientTable.prepare_columns()
    columns = list(ClientTable.base_columns)
    for app in ("clients", "billing", "subscriptions", "holds", "routers"):
        apps.get_app_config(app).ready()
    assert [r.names() for r in registries] == before
    ClientTable.prepare_columns()
    assert list(ClientTable.base_columns) == columns


def test_each_app_declares_the_modules_of_its_contributions():
    assert LIST_COLUMNS["balance"].modules == EVERY_TENANT
    assert LIST_COLUMNS["credit"].modules == EVERY_TENANT
    assert LIST_COLUMNS["connection"].modules == {INTERNET}
    assert LIST_FILTERS["connection"].modules == {INTERNET}
    assert LIST_FILTERS["expiring"].modules == SUBSCRIPTIONS
    assert PAGE_BLOCKS["connection"].modules == {INTERNET}
    assert PAGE_BLOCKS["holds"].modules == EVERY_TENANT
    for name in ("current_subscription", "subscription_history", "quick_stats"):
        assert PAGE_BLOCKS[name].modules == SUBSCRIPTIONS
    assert PAGE_BLOCKS["holds"].template.startswith("holds/")
    assert PAGE_BLOCKS["connection"].template.startswith("routers/")


class Refusal:
    message = "The client owes a licence audit."
    code = "audit_pending"
    url = "/audits/1/"


def test_a_delete_guard_refuses_with_its_reason(client, login_as, messaging_tenant):
    owner = login_as(messaging_tenant, "owner")
    customer = ClientFactory(tenant=messaging_tenant)
    register_delete_guard(DeleteGuard(name="audit", blockers=lambda c: [Refusal()]))
    try:
        with pytest.raises(ValidationError) as refused:
            client_delete(client=customer, actor=owner.user)
        assert refused.value.error_list[0].code == "audit_pending"
        page = client.get(reverse("clients:client_delete", kwargs={"number": customer.number}))
        assert Refusal.message in page.content.decode() and Refusal.url in page.content.decode()
    finally:
        DELETE_GUARDS.unregister("audit")
    assert client_delete(client=customer, actor=owner.user).is_deleted
