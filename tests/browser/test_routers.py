"""The Routers page and a client's Connection tab in Chromium, against a simulated router:
add a router (a bad host and a refused address first), Test connection, Poll now, then create
the client's PPPoE account (a short password first), see it provisioned, and its status go
Online."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from config.celery import app as celery_app
from routers.simulator import SimulatedRouter
from tests.factories import ClientFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_tasks():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def sim():
    router = SimulatedRouter(identity="browser-core", username="api", password="Api-pass-12")
    router.start()
    yield router
    router.stop()


def test_routers_page_and_connection_tab(page, log_in, eager_tasks, sim):
    membership = MembershipFactory(role="manager")
    customer = ClientFactory(tenant=membership.tenant, name="Browser Subscriber")
    log_in(membership.user.username)

    page.get_by_role("link", name="Routers", exact=True).click()
    page.get_by_test_id("router-add").click()
    form = page.get_by_test_id("router-form")
    form.locator("#id_name").fill("Core Browser")
    form.locator("#id_host").fill("not a host!")
    form.locator("#id_port").fill(str(sim.port))
    form.locator("#id_username").fill("api")
    form.locator("#id_password").fill("Api-pass-12")
    form.locator("#id_timeout").fill("2")
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert "IP address or a host name" in page.locator('[data-field-error="host"]').inner_text()
    assert page.locator("#id_password").input_value() == ""  # never sent back

    form = page.get_by_test_id("router-form")
    form.locator("#id_host").fill("10.0.0.1")  # outside the tests' outbound networks
    form.locator("#id_password").fill("Api-pass-12")
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    host_error = page.locator('[data-field-error="host"]').inner_text()
    assert "10.0.0.1 is outside the networks Clientdesk may connect to" in host_error

    form = page.get_by_test_id("router-form")
    form.locator("#id_host").fill("127.0.0.1")
    form.locator("#id_password").fill("Api-pass-12")
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    row = page.locator("#table-region tbody tr", has_text="Core Browser")
    assert "Never polled" in row.inner_text()

    row.get_by_role("link", name="Core Browser").click()
    page.get_by_test_id("router-test").click()
    result = page.get_by_test_id("test-result")
    result.wait_for()
    assert "browser-core" in result.inner_text() and "7.16.2" in result.inner_text()

    page.get_by_test_id("router-poll").click()
    page.wait_for_load_state("networkidle")
    row = page.locator("#table-region tbody tr", has_text="Core Browser")
    assert "Reachable" in row.inner_text()

    page.goto(reverse("routers:client_connection", kwargs={"number": customer.number}))
    assert "No router is assigned" in page.get_by_test_id("connection-details").inner_text()
    form = page.get_by_test_id("account-form")
    form.locator("#id_username").fill("browser-sub")
    form.locator("#id_password").fill("short")
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert "at least 6" in page.locator('[data-field-error="password"]').inner_text()
    assert sim.secret("browser-sub") is None

    form = page.get_by_test_id("account-form")
    form.locator("#id_password").fill("Sub-pass-99")
    form.locator("#id_profile").fill("20M")
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    secret = sim.secret("browser-sub")
    assert secret["profile"] == "20M" and secret["comment"].startswith("clientdesk:")
    details = page.get_by_test_id("connection-details").inner_text()
    assert "browser-sub" in details and "Core Browser" in details

    sim.connect_session("browser-sub", address="10.77.0.2")
    page.goto(reverse("routers:router_list"))
    page.locator("#table-region tbody tr", has_text="Core Browser").get_by_role("link").click()
    page.get_by_test_id("router-poll").click()
    page.wait_for_load_state("networkidle")
    page.goto(reverse("routers:client_connection", kwargs={"number": customer.number}))
    status = page.get_by_test_id("connection-status").inner_text()
    assert "Online" in status and "10.77.0.2" in status
    assert_status_dot_drawn(page.get_by_test_id("connection-status"), "rgb(25, 135, 84)")
    assert "Api-pass-12" not in page.content() and "Sub-pass-99" not in page.content()


def assert_status_dot_drawn(container, colour: str) -> None:
    """The indicator is drawn by the page (a CSS dot with a size and a colour), not a character
    that needs an emoji font: this machine has none, as most operators' kiosks."""
    assert not any(ord(ch) > 0x2600 for ch in container.inner_text())
    dot = container.locator(".status-dot")
    expect(dot).to_be_visible()
    box = dot.bounding_box()
    assert box and box["width"] >= 6 and box["height"] >= 6
    assert dot.evaluate("el => getComputedStyle(el).backgroundColor") == colour
