"""The Content-Security-Policy in Chromium. Every browser test fails on a violation (the page
fixture collects them); here, first that a violation is caught at all, then every page of the
portal (enumerated from the URL patterns, so that a new page is covered) opened by an owner
whose tenant has one of everything, with its scripts run."""

import pytest
from django.urls import get_resolver, reverse
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from clients.importing import client_import_upload
from clients.models import ClientBulkAction
from core.languages import javascript_catalogue_version
from events.webhooks import webhook_endpoint_create
from exports.models import ExportJob
from tenancy.services import saved_view_create
from tests.browsing import give_second_factor
from tests.events.test_webhook_pages import make_delivery
from tests.factories import (
    ClientFactory,
    MembershipFactory,
    PppoeAccountFactory,
    SenderIdFactory,
    SubscriptionFactory,
    UserFactory,
    make_account,
)
from tests.helpers import totp_code, totp_device_for
from tests.security.test_login_required import ALL_URLS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOT_PORTAL_PAGES = {"logout"}  # logging out would end the crawl


def test_an_inline_script_is_refused_and_reported(page, csp_violations):
    page.goto("/login/")
    page.wait_for_load_state("networkidle")
    assert csp_violations == []  # the login page itself is clean
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.ranInline = true"; document.body.append(s); }"""
    )
    expect(page.locator("body")).to_be_visible()
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.ranInline === undefined")
    assert any("script-src" in text for text in csp_violations), csp_violations
    csp_violations.clear()  # caught as it should be: the fixture must not fail this test


def test_an_inline_style_attribute_is_refused_and_reported(page, csp_violations):
    page.goto("/login/")
    page.evaluate(
        "() => { document.body.insertAdjacentHTML('beforeend', '<b style=\"color:red\">x</b>'); }"
    )
    page.wait_for_timeout(200)
    assert any("style-src" in text for text in csp_violations), csp_violations
    csp_violations.clear()


@pytest.fixture
def one_of_everything(tmp_path):
    owner = MembershipFactory(role="owner")
    tenant = owner.tenant
    customer = ClientFactory(tenant=tenant, name="Crawled Customer")
    make_account(customer, balance="25.00")
    subscription = SubscriptionFactory(tenant=tenant, client=customer)
    pppoe = PppoeAccountFactory(tenant=tenant, client=customer)
    sender = SenderIdFactory(client=customer, name="Crawl")
    with scopes_disabled():
        job = ExportJob.objects.create(
            tenant=tenant, created_by=owner.user, kind="billing.ledger", title="Running"
        )
    with scope(tenant=tenant):
        upload = tmp_path / "clients.csv"
        upload.write_text("Name,E-mail\nCrawled Import,crawled@example.com\n")
        client_import = client_import_upload(
            tenant=tenant, actor=owner.user, path=str(upload), file_name="clients.csv"
        )
    endpoint = webhook_endpoint_create(
        tenant=tenant,
        actor=None,
        url="http://127.0.0.1:9/hook",
        secret="s3cret-signing-key-0123456789",
        event_types=["client.updated"],
    )
    delivery = make_delivery(endpoint)
    with scopes_disabled():
        bulk = ClientBulkAction.objects.create(
            tenant=tenant, created_by=owner.user, action="hold_place", title="Hold"
        )
    saved = saved_view_create(
        tenant=tenant,
        actor=owner,
        list_name="clients:client_list",
        name="Crawled",
        query="sort=number",
        columns=["name", "number"],
        per_page=20,
    )
    pks = {
        "clients:client_bulk_action": bulk.pk,
        "events:webhook_delivery_redeliver": delivery.pk,
        "events:webhook": endpoint.pk,
        "tenancy:saved_view": saved.pk,
        "clients:client_import": client_import.pk,
        "exports:client_import": client_import.pk,
        "exports": job.pk,
        "routers": pppoe.router_id,
        "subscriptions:package": subscription.package_id,
        "subscriptions:subscription": subscription.pk,
        "messaging": sender.pk,
        "tenancy": owner.pk,
    }
    return owner, customer, pks


def kwarg_names(name: str) -> list[str]:
    """The parameters of the named URL pattern."""
    resolver = get_resolver()
    namespace, _, short = name.rpartition(":")
    for part in filter(None, namespace.split(":")):
        resolver = resolver.namespace_dict[part][1]
    possibilities = resolver.reverse_dict.getlist(short)[0][0]
    return list(possibilities[0][1])


def page_url(name: str, customer, pks) -> str:
    """The named page with real values of the owner's tenant."""
    kwargs = {}
    for key in kwarg_names(name):
        if key == "number":
            kwargs[key] = customer.number
        elif key == "table_name":
            kwargs[key] = "clients"
        elif key == "language":  # the scripts' catalogue
            kwargs[key] = "en"
        elif key == "version":
            kwargs[key] = javascript_catalogue_version()
        else:
            prefix = next(p for p in sorted(pks, key=len, reverse=True) if name.startswith(p))
            kwargs[key] = pks[prefix]
    return reverse(name, kwargs=kwargs)


def test_no_page_of_the_portal_violates_the_policy(page, log_in, one_of_everything):
    owner, customer, pks = one_of_everything
    log_in(owner.user.username)
    pages = [
        (name, route)
        for name, route in ALL_URLS
        if not name.startswith(("admin", "api:")) and name not in NOT_PORTAL_PAGES
    ]
    visited = []
    for name, _route in pages:
        url = page_url(name, customer, pks)
        answer = page.request.get(url, max_redirects=0)
        if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
            continue  # an action (POST only), a download or a redirect: no page of its own
        page.goto(url)
        page.wait_for_load_state("networkidle")
        visited.append(name)
    assert len(visited) > 25, visited


def test_the_admin_keeps_the_policy_too(page, log_in):
    admin = UserFactory(is_staff=True, is_superuser=True)
    device = totp_device_for(admin)
    log_in(admin.username)
    give_second_factor(page, totp_code(device))
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    for url in ("/admin/", "/admin/clients/client/", "/admin/tenancy/membership/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
