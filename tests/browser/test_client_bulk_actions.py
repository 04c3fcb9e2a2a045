"""Bulk holds in Chromium: a manager ticks rows of the client list (or the whole page), chooses
"Place administrative hold", gives the reason on the confirmation step and reads the result:
the clients held and the one refused with its reason; then all the clients matching a filter,
more than a page, held by the job (run in-process on the commit) with its progress page."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from config.celery import app as celery_app
from core.stored_text import literal_text
from holds.models import ClientHold
from holds.services import client_place_hold
from tests.factories import ClientFactory, ClientGroupFactory, MembershipFactory, make_clients

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_tasks():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_bulk_hold_of_the_rows_ticked(page, log_in):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    first = ClientFactory(tenant=tenant, name="Alpha Bulk")
    ClientFactory(tenant=tenant, name="Bravo Bulk")
    held = ClientFactory(tenant=tenant, name="Charlie Bulk")
    with scopes_disabled():
        client_place_hold(
            tenant=tenant, client=held, reason=literal_text("Earlier"), actor=membership.user
        )

    log_in(membership.user.username)
    page.goto("/clients/")
    page.get_by_test_id("bulk-select-page").check()  # the whole page: three rows
    expect(page.locator("[data-bulk-ticked]")).to_have_text("3")
    page.get_by_label(f"Select #{first.number}").uncheck()
    expect(page.locator("[data-bulk-ticked]")).to_have_text("2")
    page.get_by_label(f"Select #{first.number}").check()
    page.get_by_test_id("bulk-action").select_option(label="Place administrative hold")
    page.get_by_test_id("bulk-apply").click()
    page.wait_for_load_state("networkidle")

    expect(page.get_by_test_id("bulk-count")).to_contain_text("3 clients")
    page.get_by_test_id("bulk-confirm-submit").click()  # no reason: refused at its field
    expect(page.locator('[data-field-error="reason"]')).to_have_text("Give a reason.")
    page.get_by_label("Reason").fill("Contracts under review")
    page.get_by_test_id("bulk-confirm-submit").click()
    page.wait_for_load_state("networkidle")

    expect(page.get_by_test_id("bulk-action-done")).to_be_visible()
    expect(page.get_by_test_id("bulk-done")).to_have_text("2")
    expect(page.get_by_test_id("bulk-refused")).to_have_text("1")
    refused = page.get_by_test_id("bulk-refused-clients")
    expect(refused).to_contain_text("Charlie Bulk")
    expect(refused).to_contain_text("The client is already on administrative hold.")
    with scopes_disabled():
        assert ClientHold.objects.filter(tenant=tenant, lifted_at__isnull=True).count() == 3

    page.goto("/clients/")
    expect(page.locator('[data-status="administrative_hold"]')).to_have_count(3)


def test_bulk_hold_of_all_matching_a_filter_runs_as_a_job(page, log_in, eager_tasks):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    group = ClientGroupFactory(tenant=tenant, name="Resellers")
    make_clients(tenant, 15, group=group)
    make_clients(tenant, 4)

    log_in(membership.user.username)
    page.goto(f"/clients/?group={group.pk}")
    expect(page.get_by_test_id("bulk-matching")).to_have_text("15")
    page.get_by_test_id("bulk-scope-all").check()
    page.get_by_test_id("bulk-action").select_option(label="Place administrative hold")
    page.get_by_test_id("bulk-apply").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("bulk-count")).to_contain_text("15 clients matching")
    page.get_by_label("Reason").fill("Reseller audit")
    page.get_by_test_id("bulk-confirm-submit").click()
    page.wait_for_load_state("networkidle")

    expect(page.get_by_test_id("bulk-action-done")).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("bulk-done")).to_have_text("15")
    expect(page.get_by_test_id("bulk-refused")).to_have_text("0")
    with scopes_disabled():
        held = ClientHold.objects.filter(tenant=tenant, lifted_at__isnull=True)
        assert set(held.values_list("client__group", flat=True)) == {group.pk}
        assert held.count() == 15
