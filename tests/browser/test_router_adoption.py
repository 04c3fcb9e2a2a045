"""Adopting a router's own secrets in Chromium, against a simulated router: from the router's
page to the list of its foreign secrets, tick one that matches a client and one for a new
client, review, confirm, watch the adoption's progress turn into its outcome by itself; the
router's secrets are left as they were."""

import copy

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from routers.models import PppoeAccount, RouterAdoption
from routers.simulator import SimulatedRouter
from routers.tasks import router_adoption_run
from tests.factories import ClientFactory, MembershipFactory, RouterFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sim():
    router = SimulatedRouter(identity="adopt-core", username="api", password="Api-pass-12")
    router.start()
    yield router
    router.stop()


def test_adopt_a_routers_secrets(page, log_in, sim):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    matched = ClientFactory(tenant=tenant, name="Olga Petrova", external_ref="olga-77")
    router = RouterFactory(
        tenant=tenant, name="Adopt Core", host=sim.host, port=sim.port, username="api"
    )
    with scopes_disabled():
        router.set_password("Api-pass-12")
        router.save()
    sim.add_secret("olga-77", "olga-pw", profile="50M")
    sim.add_secret("ivan", "ivan-pw", comment="Ivan Sidorov", disabled="yes")
    sim.add_secret("left-alone", "other-pw")
    kept = copy.deepcopy(sim.secrets)
    log_in(membership.user.username)

    page.goto(reverse("routers:router_edit", kwargs={"pk": router.pk}))
    page.get_by_test_id("router-adopt").click()
    table = page.get_by_test_id("adopt-table")
    olga = table.locator("tr", has_text="olga-77")
    assert f"#{matched.number} Olga Petrova" in olga.inner_text()
    assert "(by username)" in olga.inner_text()
    assert "New client “Ivan Sidorov”" in table.locator("tr", has_text="ivan").inner_text()

    page.get_by_test_id("adopt-review").click()  # nothing ticked
    page.wait_for_load_state("networkidle")
    error = page.locator('[data-field-error="secret"]').inner_text()
    assert "Select the secrets to adopt" in error

    page.get_by_label("Adopt olga-77", exact=True).check()
    page.get_by_label("Adopt ivan", exact=True).check()
    page.get_by_test_id("adopt-review").click()
    page.wait_for_load_state("networkidle")
    summary = page.get_by_test_id("adopt-summary").inner_text()
    assert (
        "2 secrets will be adopted: 1 as a new client, 1 as the PPPoE account of the client shown."
        in summary
    )
    with scopes_disabled():
        assert not PppoeAccount.objects.exists()  # not before the confirmation

    page.get_by_test_id("adopt-confirm").click()
    progress = page.get_by_test_id("adoption-progress")
    expect(progress).to_have_attribute("data-status", "queued")
    with scopes_disabled():
        job = RouterAdoption.objects.get(router=router)
    assert job.secret_ids == [sim.secret("ivan")[".id"], sim.secret("olga-77")[".id"]]
    router_adoption_run(job.pk, tenant_id=tenant.pk)  # the worker, while the page polls
    expect(progress).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("adopt-result")).to_have_text(
        "2 secrets adopted, 1 of them as a new client."
    )
    adopted = page.get_by_test_id("adopt-adopted").inner_text()
    assert "olga-77" in adopted and "ivan" in adopted and "left-alone" not in adopted
    assert sim.secrets == kept
    assert "olga-pw" not in page.content() and "ivan-pw" not in page.content()

    page.get_by_role("link", name="Back to the router's secrets").click()
    page.wait_for_load_state("networkidle")
    rows = page.get_by_test_id("adopt-table").inner_text()
    assert "left-alone" in rows and "olga-77" not in rows and "ivan" not in rows
    with scopes_disabled():
        olga_account = PppoeAccount.objects.get(username="olga-77")
        assert olga_account.client_id == matched.pk and olga_account.profile == "50M"
        assert not PppoeAccount.objects.get(username="ivan").enabled
