"""The Routers page, Test connection, the accounts list and the Connection tab: roles,
tenants (404 on every URL), bad input, and router passwords that never come back."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from routers.models import PppoeAccount, Router
from routers.poller import poll_routers
from tests.factories import (
    ROUTER_TEST_PASSWORD,
    ClientFactory,
    PppoeAccountFactory,
    RouterFactory,
    TenantFactory,
)
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused, field_errors

pytestmark = pytest.mark.django_db

VALID_ROUTER = {
    "name": "Core 1",
    "host": "127.0.0.1",
    "port": "8728",
    "username": "api",
    "password": "Very-secret-router-pw",
    "timeout": "5",
    "enabled": "on",
}


def routers():
    with scopes_disabled():
        return list(Router.objects.order_by("pk"))


def test_router_list_shows_state_sessions_and_accounts(client, owner, tenant, sim, router_for):
    router = router_for(sim, name="Edge A")
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    PppoeAccountFactory(tenant=tenant, router=router, username="bob")
    sim.connect_session("alice")
    poll_routers()
    RouterFactory(tenant=tenant, name="Never polled one")
    body = client.get(reverse("routers:router_list")).content.decode()
    assert "Edge A" in body and "Reachable" in body and "Never polled" in body
    row = body[body.index(f'data-router="{router.pk}"') :]
    row = row[: row.index("</tr>")]
    assert ">1<" in row.replace(" ", "") and ">2<" in row.replace(" ", "")


def test_router_list_shows_the_last_error(client, owner, tenant, closed_port):
    RouterFactory(tenant=tenant, name="Down", port=closed_port)
    poll_routers()
    body = client.get(reverse("routers:router_list")).content.decode()
    assert "Unreachable" in body and "refused the connection" in body


def test_create_router_encrypts_the_password(client, owner, tenant):
    response = client.post(reverse("routers:router_create"), VALID_ROUTER)
    assert response.status_code == 302
    (router,) = routers()
    assert router.password_encrypted and "Very-secret" not in router.password_encrypted
    assert router.password == "Very-secret-router-pw"
    assert router.tenant_id == tenant.pk


def test_edit_keeps_the_password_when_left_empty_and_never_shows_it(client, owner, tenant):
    router = RouterFactory(tenant=tenant)
    url = reverse("routers:router_edit", kwargs={"pk": router.pk})
    page = client.get(url).content.decode()
    assert ROUTER_TEST_PASSWORD not in page and router.password_encrypted not in page
    response = client.post(url, {**VALID_ROUTER, "password": "", "name": "Renamed"})
    assert response.status_code == 302
    router = routers()[0]
    assert router.name == "Renamed" and router.password == ROUTER_TEST_PASSWORD
    # a bad submission re-renders the form without the password typed
    response = client.post(url, {**VALID_ROUTER, "host": "not a host!", "password": "Typed-pw-9"})
    assert response.status_code == 400
    assert "Typed-pw-9" not in response.content.decode()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"host": ""}, "host"),
        ({"host": "bad host name"}, "host"),
        ({"host": "300.1.1.1"}, "host"),
        ({"port": "0"}, "port"),
        ({"port": "70000"}, "port"),
        ({"port": "abc"}, "port"),
        ({"timeout": "0"}, "timeout"),
        ({"timeout": "1000"}, "timeout"),
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
        ({"password": ""}, "password"),
        ({"name": ""}, "name"),
        ({"use_tls": "on", "port": "8728"}, "port"),
        ({"verify_tls": "on"}, "verify_tls"),
    ],
)
def test_bad_router_input_is_shown_next_to_the_field(client, owner, changes, field):
    response = client.post(reverse("routers:router_create"), {**VALID_ROUTER, **changes})
    assert response.status_code == 400
    assert field_errors(response, field)
    assert routers() == []


def test_duplicate_router_name(client, owner, tenant):
    RouterFactory(tenant=tenant, name="Core 1")
    response = client.post(reverse("routers:router_create"), VALID_ROUTER)
    assert response.status_code == 400
    assert field_errors(response, "name")


def test_test_connection_shows_identity_and_version(client, owner, sim, router_for):
    router = router_for(sim)
    url = reverse("routers:router_test", kwargs={"pk": router.pk})
    response = client.post(url, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "sim-0" in body and "7.16.2" in body and 'data-ok="1"' in body


def test_test_connection_explains_a_failure_in_plain_words(client, owner, sim, router_for):
    router = router_for(sim, password="wrong-password-x")
    url = reverse("routers:router_test", kwargs={"pk": router.pk})
    response = client.post(url, follow=True)
    body = response.content.decode()
    assert "wrong username or password" in body
    assert "wrong-password-x" not in body


def test_passwords_never_reach_the_logs(client, owner, tenant, sim, router_for, caplog):
    router = router_for(sim, password="Log-me-never-77")
    sim.password = "Log-me-never-77"
    PppoeAccountFactory(tenant=tenant, router=router, username="alice", password="Pppoe-never-88")
    caplog.clear()
    caplog.set_level(logging.DEBUG)  # librouteros logs every word it sends at DEBUG
    client.post(reverse("routers:router_test", kwargs={"pk": router.pk}))
    poll_routers()
    sim.password = "other"
    poll_routers()
    client.post(reverse("routers:router_create"), {**VALID_ROUTER, "password": "Form-never-99"})
    text = caplog.text + repr([r.__dict__ for r in caplog.records])
    for secret in ("Log-me-never-77", "Pppoe-never-88", "Form-never-99"):
        assert secret not in text
    assert "Log-me-never-77" not in repr(router)


def test_connection_tab_creates_an_account_and_provisions_it(
    client, owner, tenant, sim, router_for, django_capture_on_commit_callbacks
):
    router = router_for(sim)
    customer = ClientFactory(tenant=tenant)
    url = reverse("routers:client_connection", kwargs={"number": customer.number})
    page = client.get(url).content.decode()
    assert "Create PPPoE account" in page and "No router is assigned" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"router": router.pk, "username": "alice", "password": "Pppoe-pw-1", "profile": "10M"},
        )
    assert response.status_code == 302
    assert sim.secret("alice")["profile"] == "10M"
    poll_routers()
    page = client.get(url).content.decode()
    assert (
        "alice" in page
        and 'status-dot-unknown" aria-hidden="true"></span>Unknown' in page
        and "Connection status unavailable: The client has never connected" in page
        and "Pppoe-pw-1" not in page
    )
    sim.connect_session("alice", address="10.1.2.3")
    poll_routers()
    page = client.get(url).content.decode()
    assert 'status-dot-online" aria-hidden="true"></span>Online' in page and "10.1.2.3" in page


def test_connection_tab_explains_unknown_status(client, owner, tenant, closed_port):
    router = RouterFactory(tenant=tenant, port=closed_port)
    account = PppoeAccountFactory(tenant=tenant, router=router)
    url = reverse("routers:client_connection", kwargs={"number": account.client.number})
    body = client.get(url).content.decode()
    assert "Connection status unavailable: Not checked yet" in body
    poll_routers()
    body = client.get(url).content.decode()
    assert 'status-dot-unknown" aria-hidden="true"></span>Unknown' in body
    assert "Connection status unavailable: The MikroTik server is offline" in body


@pytest.mark.parametrize(
    "data, field",
    [
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "x" * 65}, "username"),
        ({"password": ""}, "password"),
        ({"password": "short"}, "password"),
        ({"profile": "bad/profile"}, "profile"),
        ({"router": "999999"}, "router"),
    ],
)
def test_bad_account_input(client, owner, tenant, data, field):
    router = RouterFactory(tenant=tenant)
    customer = ClientFactory(tenant=tenant)
    post = {
        "router": router.pk,
        "username": "alice",
        "password": "Pppoe-pw-1",
        "profile": "default",
    }
    response = client.post(
        reverse("routers:client_connection", kwargs={"number": customer.number}),
        {**post, **data},
    )
    assert response.status_code == 400
    assert field_errors(response, field)
    with scopes_disabled():
        assert not PppoeAccount.objects.exists()


def test_account_form_refuses_another_tenants_router(client, owner, tenant, other_tenant):
    foreign = RouterFactory(tenant=other_tenant)
    customer = ClientFactory(tenant=tenant)
    response = client.post(
        reverse("routers:client_connection", kwargs={"number": customer.number}),
        {"router": foreign.pk, "username": "alice", "password": "Pppoe-pw-1", "profile": "x"},
    )
    assert response.status_code == 400 and field_errors(response, "router")


def test_duplicate_username_on_the_router_is_shown_on_the_field(client, owner, tenant):
    router = RouterFactory(tenant=tenant)
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    customer = ClientFactory(tenant=tenant)
    response = client.post(
        reverse("routers:client_connection", kwargs={"number": customer.number}),
        {"router": router.pk, "username": "alice", "password": "Pppoe-pw-1", "profile": "x"},
    )
    assert response.status_code == 400 and field_errors(response, "username")


def other_tenant_urls(other_tenant):
    router = RouterFactory(tenant=other_tenant)
    # A number that exists only in the other tenant, so that the 404 is about the tenant.
    theirs = ClientFactory(tenant=other_tenant, number=987654)
    PppoeAccountFactory(tenant=other_tenant, router=router, client=theirs)
    number = theirs.number
    return [
        ("get", reverse("routers:router_edit", kwargs={"pk": router.pk})),
        ("post", reverse("routers:router_edit", kwargs={"pk": router.pk})),
        ("post", reverse("routers:router_test", kwargs={"pk": router.pk})),
        ("post", reverse("routers:router_poll", kwargs={"pk": router.pk})),
        ("get", reverse("routers:router_adopt", kwargs={"pk": router.pk})),
        ("post", reverse("routers:router_adopt", kwargs={"pk": router.pk})),
        ("get", reverse("routers:client_connection", kwargs={"number": number})),
        ("post", reverse("routers:client_connection", kwargs={"number": number})),
    ]


def test_other_tenants_objects_are_404_on_every_url(client, owner, other_tenant):
    for method, url in other_tenant_urls(other_tenant):
        assert_other_tenant_gives_404(client, url, method)


def test_lists_never_show_another_tenants_rows(client, owner, other_tenant):
    router = RouterFactory(tenant=other_tenant, name="Their router")
    PppoeAccountFactory(tenant=other_tenant, router=router, username="their-user")
    assert "Their router" not in client.get(reverse("routers:router_list")).content.decode()
    body = client.get(reverse("routers:account_list")).content.decode()
    assert "their-user" not in body
    page = client.get(reverse("routers:router_create"))
    assert page.status_code == 200


def test_connection_tab_of_a_client_in_another_tenant_is_404(client, owner, other_tenant, tenant):
    # Numbers are per tenant: give theirs one that does not exist here, so the check always runs.
    theirs = ClientFactory(tenant=other_tenant, number=987654)
    ClientFactory(tenant=tenant)
    url = reverse("routers:client_connection", kwargs={"number": theirs.number})
    assert_other_tenant_gives_404(client, url)


def test_tenant_without_routers_gets_404(client, login_as):
    isp_less = TenantFactory(uses_routers=False)
    login_as(isp_less, "owner")
    customer = ClientFactory(tenant=isp_less)
    for url in (
        reverse("routers:router_list"),
        reverse("routers:router_create"),
        reverse("routers:account_list"),
        reverse("routers:client_connection", kwargs={"number": customer.number}),
    ):
        assert client.get(url).status_code == 404, url
    nav = client.get(reverse("clients:client_list")).content.decode()
    assert reverse("routers:router_list") not in nav


@pytest.mark.parametrize("role", ["viewer", "accountant"])
def test_read_only_roles_see_but_cannot_change(client, login_as, tenant, role):
    login_as(tenant, role)
    router = RouterFactory(tenant=tenant)
    customer = ClientFactory(tenant=tenant)
    assert client.get(reverse("routers:router_list")).status_code == 200
    assert client.get(reverse("routers:account_list")).status_code == 200
    tab = client.get(reverse("routers:client_connection", kwargs={"number": customer.number}))
    assert tab.status_code == 200 and 'data-testid="account-form"' not in tab.content.decode()
    assert_role_refused(client, reverse("routers:router_create"))
    assert_role_refused(client, reverse("routers:router_create"), "post", VALID_ROUTER)
    assert_role_refused(client, reverse("routers:router_edit", kwargs={"pk": router.pk}))
    assert_role_refused(client, reverse("routers:router_test", kwargs={"pk": router.pk}), "post")
    assert_role_refused(client, reverse("routers:router_poll", kwargs={"pk": router.pk}), "post")
    assert_role_refused(client, reverse("routers:router_adopt", kwargs={"pk": router.pk}))
    assert_role_refused(
        client, reverse("routers:router_adopt", kwargs={"pk": router.pk}), "post", {"all": "on"}
    )
    assert_role_refused(
        client,
        reverse("routers:client_connection", kwargs={"number": customer.number}),
        "post",
        {"router": router.pk, "username": "alice", "password": "Pppoe-pw-1", "profile": "x"},
    )
    assert len(routers()) == 1


def test_manager_may_manage_routers(client, login_as, tenant):
    login_as(tenant, "manager")
    response = client.post(reverse("routers:router_create"), VALID_ROUTER)
    assert response.status_code == 302


def test_poll_now(client, owner, sim, router_for):
    router = router_for(sim)
    response = client.post(reverse("routers:router_poll", kwargs={"pk": router.pk}), follow=True)
    assert "polled" in response.content.decode()
    assert routers()[0].is_reachable is True


def test_accounts_list_filters_by_status(client, owner, tenant, sim, router_for):
    router = router_for(sim)
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    PppoeAccountFactory(tenant=tenant, router=router, username="bob")
    sim.connect_session("alice")
    poll_routers()
    response = client.get(reverse("routers:account_list"), {"status": "online"})
    shown = [row.record.username for row in response.context["table"].page.object_list]
    assert shown == ["alice"]  # the rows, not the page (a CSRF token may spell "bob")


def test_a_new_account_takes_the_profile_of_the_clients_package(client, owner, tenant):
    from tests.factories import PackageFactory, SubscriptionFactory

    RouterFactory(tenant=tenant)
    customer = ClientFactory(tenant=tenant)
    package = PackageFactory(tenant=tenant, pppoe_profile="fiber-100M")
    SubscriptionFactory(tenant=tenant, client=customer, package=package)
    response = client.get(reverse("routers:client_connection", kwargs={"number": customer.number}))
    assert response.context["form"]["profile"].value() == "fiber-100M"


def test_disabling_a_router_makes_its_statuses_unknown(client, owner, tenant, sim, router_for):
    router = router_for(sim)
    account = PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    sim.connect_session("alice")
    poll_routers()
    url = reverse("routers:router_edit", kwargs={"pk": router.pk})
    data = {**VALID_ROUTER, "host": "127.0.0.1", "port": str(sim.port), "password": ""}
    data.pop("enabled")
    assert client.post(url, data).status_code == 302
    tab = reverse("routers:client_connection", kwargs={"number": account.client.number})
    body = client.get(tab).content.decode()
    assert (
        'status-dot-unknown" aria-hidden="true"></span>Unknown' in body
        and "disabled in Clientdesk" in body
    )
    assert poll_routers().polled == 0


@pytest.mark.parametrize("url_name", ["routers:router_list", "routers:account_list"])
def test_lists_make_a_fixed_number_of_queries(client, owner, tenant, url_name):
    router = RouterFactory(tenant=tenant)
    PppoeAccountFactory(tenant=tenant, router=router)
    url = reverse(url_name)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(5):
        PppoeAccountFactory(tenant=tenant, router=RouterFactory(tenant=tenant))
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_connection_tab_makes_a_fixed_number_of_queries(client, owner, tenant):
    account = PppoeAccountFactory(tenant=tenant)
    url = reverse("routers:client_connection", kwargs={"number": account.client.number})
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    for _ in range(5):
        RouterFactory(tenant=tenant)
    with CaptureQueriesContext(connection) as more_routers:
        assert client.get(url).status_code == 200
    assert len(more_routers.captured_queries) == len(first.captured_queries)
