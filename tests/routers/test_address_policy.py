"""The outbound address policy on the router pages, Test connection, the poller and
enforcement: a refused address is refused with a clear message, and nothing connects to it."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django_scopes import scopes_disabled

from routers.models import ConnectionStatus, PollErrorKind, PppoeAccount, Router
from routers.poller import poll_routers
from routers.routeros import RouterError
from routers.services import pppoe_account_push
from tests.factories import PppoeAccountFactory, RouterFactory
from tests.helpers import RecordingListener, fake_dns, field_errors, force_login_verified
from tests.routers.test_router_pages import VALID_ROUTER as ROUTER

pytestmark = pytest.mark.django_db

# 127.0.0.2 is loopback too, but outside this list: a port there that nothing may reach.
ONLY_127_0_0_1 = override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.1/32"])
DEFAULT_POLICY = override_settings(OUTBOUND_ALLOWED_NETWORKS=[])
REFUSED_127_0_0_2 = "127.0.0.2 is outside the networks Clientdesk may connect to."


@pytest.fixture
def refused_port():
    """A listening port on 127.0.0.2 that records every connection made to it."""
    listener = RecordingListener("127.0.0.2")
    yield listener
    listener.close()


def stored(router):
    with scopes_disabled():
        return Router.objects.get(pk=router.pk)


def all_routers():
    with scopes_disabled():
        return list(Router.objects.all())


# -- Test connection ---------------------------------------------------------------------------
@ONLY_127_0_0_1
def test_test_connection_to_a_refused_address_connects_to_nothing(
    client, owner, tenant, refused_port
):
    router = RouterFactory(tenant=tenant, host="127.0.0.2", port=refused_port.port)
    url = reverse("routers:router_test", kwargs={"pk": router.pk})
    fragment = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-ok="0"' in fragment and REFUSED_127_0_0_2 in fragment
    page = client.post(url, follow=True).content.decode()
    assert f"Could not connect to “{router.name}”: {REFUSED_127_0_0_2}" in page
    assert refused_port.connections() == 0


def test_the_refused_port_does_record_a_connection_when_the_policy_allows_it(
    client, owner, tenant, refused_port
):
    """The control for the test above: with 127.0.0.0/8 allowed, Test connection reaches it."""
    router = RouterFactory(tenant=tenant, host="127.0.0.2", port=refused_port.port, timeout=0.5)
    url = reverse("routers:router_test", kwargs={"pk": router.pk})
    fragment = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-ok="0"' in fragment and "did not answer in time" in fragment
    assert refused_port.connections() == 1


# -- the poller and enforcement ----------------------------------------------------------------
@ONLY_127_0_0_1
def test_the_poller_marks_a_refused_router_unreachable_without_connecting(
    client, owner, tenant, refused_port
):
    router = RouterFactory(tenant=tenant, host="127.0.0.2", port=refused_port.port)
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    report = poll_routers()
    assert report.polled == 1 and report.reachable == 0
    router = stored(router)
    assert router.is_reachable is False and router.last_polled_at is not None
    assert router.last_error_kind == PollErrorKind.ADDRESS
    assert str(router.last_error) == REFUSED_127_0_0_2
    with scopes_disabled():
        assert PppoeAccount.objects.get().status == ConnectionStatus.UNKNOWN
    # Poll now says the same, and the Routers page shows it as the last error
    response = client.post(reverse("routers:router_poll", kwargs={"pk": router.pk}), follow=True)
    body = response.content.decode()
    assert REFUSED_127_0_0_2 in body and "Unreachable" in body
    assert refused_port.connections() == 0


@ONLY_127_0_0_1
def test_the_poller_checks_the_name_again_at_each_poll(monkeypatch, tenant, sim, router_for):
    router = router_for(sim, host="edge.example")
    looked_up = fake_dns(monkeypatch, {"edge.example": ["127.0.0.1"]})
    poll_routers()
    assert stored(router).is_reachable is True
    # The name now also answers 127.0.0.2: one refused address refuses the router, even though
    # the first address would still work.
    fake_dns(monkeypatch, {"edge.example": ["127.0.0.1", "127.0.0.2"]})
    poll_routers()
    router = stored(router)
    assert router.is_reachable is False and router.last_error_kind == PollErrorKind.ADDRESS
    assert str(router.last_error) == (
        "edge.example resolves to 127.0.0.2, outside the networks Clientdesk may connect to."
    )
    assert looked_up == ["edge.example"]  # the first poll resolved the name once


@ONLY_127_0_0_1
def test_enforcement_never_connects_to_a_refused_address(tenant, refused_port):
    router = RouterFactory(tenant=tenant, host="127.0.0.2", port=refused_port.port)
    account = PppoeAccountFactory(tenant=tenant, router=router, sync_state="pending")
    with scopes_disabled(), pytest.raises(RouterError) as refused:
        pppoe_account_push(account=account)
    assert refused.value.kind == PollErrorKind.ADDRESS
    assert refused.value.message == REFUSED_127_0_0_2
    assert refused_port.connections() == 0


# -- the router form ---------------------------------------------------------------------------
@DEFAULT_POLICY
@pytest.mark.parametrize(
    "host, message",
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address (this server itself)"),
        ("::1", "::1 is a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("169.254.169.254", "169.254.169.254 is the cloud metadata address"),
        ("169.254.0.7", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.9", "a multicast address"),
        ("255.255.255.255", "the broadcast address"),
        ("localhost", "localhost resolves to 127.0.0.1, a loopback address"),
    ],
)
def test_the_form_refuses_a_host_the_default_policy_refuses(client, owner, host, message):
    response = client.post(reverse("routers:router_create"), {**ROUTER, "host": host})
    assert response.status_code == 400
    (error,) = field_errors(response, "host")
    assert message in error and "Clientdesk may not connect to it." in error
    assert all_routers() == []


@DEFAULT_POLICY
def test_the_form_resolves_a_name_and_refuses_it_when_one_address_is_refused(
    client, owner, monkeypatch
):
    fake_dns(monkeypatch, {"core.example": ["10.0.0.1", "169.254.169.254"]})
    response = client.post(reverse("routers:router_create"), {**ROUTER, "host": "core.example"})
    assert response.status_code == 400
    assert field_errors(response, "host") == [
        "core.example resolves to 169.254.169.254, the cloud metadata address: "
        "Clientdesk may not connect to it."
    ]
    assert all_routers() == []


@DEFAULT_POLICY
def test_the_form_accepts_a_name_on_an_allowed_network(client, owner, tenant, monkeypatch):
    fake_dns(monkeypatch, {"core.example": ["10.0.0.1", "fd00:1::1"]})
    response = client.post(reverse("routers:router_create"), {**ROUTER, "host": "core.example"})
    assert response.status_code == 302
    (router,) = all_routers()
    assert router.host == "core.example" and router.tenant_id == tenant.pk


def test_the_form_says_when_a_name_does_not_resolve(client, owner, monkeypatch):
    fake_dns(monkeypatch, {"gone.example": None})
    response = client.post(reverse("routers:router_create"), {**ROUTER, "host": "gone.example"})
    assert response.status_code == 400
    assert field_errors(response, "host") == ["The host name gone.example cannot be resolved."]
    assert all_routers() == []


@ONLY_127_0_0_1
def test_editing_a_router_onto_a_refused_address_changes_nothing(client, owner, tenant):
    router = RouterFactory(tenant=tenant, name="Edge", host="127.0.0.1", port=8728)
    url = reverse("routers:router_edit", kwargs={"pk": router.pk})
    response = client.post(url, {**ROUTER, "name": "Edge", "host": "127.0.0.2", "password": ""})
    assert response.status_code == 400
    assert field_errors(response, "host") == [REFUSED_127_0_0_2]
    router = stored(router)
    assert router.host == "127.0.0.1" and router.name == "Edge"


@ONLY_127_0_0_1
def test_a_router_whose_address_is_now_refused_can_be_switched_off_only(client, owner, tenant):
    router = RouterFactory(tenant=tenant, name="Edge", host="127.0.0.2", port=8728)
    url = reverse("routers:router_edit", kwargs={"pk": router.pk})
    unchanged = {**ROUTER, "name": "Edge", "host": "127.0.0.2", "password": ""}
    response = client.post(url, {**unchanged, "name": "Edge renamed"})  # still enabled
    assert response.status_code == 400 and field_errors(response, "host") == [REFUSED_127_0_0_2]
    assert stored(router).name == "Edge"
    switched_off = {k: v for k, v in unchanged.items() if k != "enabled"}
    assert client.post(url, switched_off).status_code == 302
    assert stored(router).enabled is False
    response = client.post(url, unchanged)  # switching it on again is checked
    assert response.status_code == 400 and stored(router).enabled is False


# -- the port ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "port", ["0", "-1", "65536", "70000", "1e1000000", "9" * 5000, "8728.5", "abc", "NaN"]
)
def test_a_port_outside_1_to_65535_is_refused_next_to_the_field(client, owner, port):
    response = client.post(reverse("routers:router_create"), {**ROUTER, "port": port})
    assert response.status_code == 400
    assert field_errors(response, "port") == ["Enter a port from 1 to 65535."]
    assert all_routers() == []


@pytest.mark.parametrize("port", ["1", "65535"])
def test_the_ports_at_the_ends_of_the_range_are_accepted(client, owner, port):
    response = client.post(reverse("routers:router_create"), {**ROUTER, "port": port})
    assert response.status_code == 302
    assert all_routers()[0].port == int(port)


@DEFAULT_POLICY
def test_the_admin_refuses_a_router_address_the_policy_refuses(client, tenant):
    """Superusers work across tenants in the admin, under the same address rule."""
    from tests.factories import UserFactory

    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    data = {
        "tenant": tenant.pk,
        "name": "Metadata",
        "host": "169.254.169.254",
        "port": "8728",
        "username": "api",
        "new_password": "Very-secret-router-pw",
        "timeout": "5",
        "enabled": "on",
    }
    response = client.post(reverse("admin:routers_router_add"), data)
    assert response.status_code == 200  # the admin re-shows its form
    assert "the cloud metadata address" in response.content.decode()
    with scopes_disabled():
        assert not Router.objects.filter(name="Metadata").exists()
