"""The audit log in Chromium: an owner's edit shows up, filtering by type refreshes the
table in place (HTMX) with the filter in the URL, and the toolbar's Export .xlsx exports the
list as filtered since the page was loaded."""

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from clients.services import client_update
from config.celery import app as celery_app
from tests.factories import ClientFactory, MembershipFactory, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROWS = "#table-region tbody tr[data-event]"


def test_owner_filters_the_audit_log_by_type(page, log_in):
    membership = MembershipFactory(role="owner")
    customer = ClientFactory(tenant=membership.tenant, name="Audited", company="Old Ltd")
    client_update(client=customer, actor=membership.user, company="New Ltd")
    make_account(customer, balance="25")  # a top-up: a ledger event

    log_in(membership.user.username)
    page.goto("/")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator(ROWS + '[data-event="client.updated"]')).to_contain_text("Old Ltd")
    expect(page.locator(ROWS + '[data-event="ledger.entry_posted"]')).to_have_count(1)

    page.get_by_test_id("filter-form").get_by_label("Type").select_option("ledger.entry_posted")
    expect(page).to_have_url(re.compile(r"type=ledger\.entry_posted"))
    expect(page.locator(ROWS + '[data-event="client.updated"]')).to_have_count(0)
    expect(page.locator(ROWS + '[data-event="ledger.entry_posted"]')).to_have_count(1)


@pytest.fixture
def eager_tasks(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_owner_exports_the_filtered_audit_log(page, log_in, eager_tasks, tmp_path):
    membership = MembershipFactory(role="owner")
    customer = ClientFactory(tenant=membership.tenant, name="Audited", company="Old Ltd")
    client_update(client=customer, actor=membership.user, company="New Ltd")
    make_account(customer, balance="25")

    log_in(membership.user.username)
    page.goto("/audit/")
    page.get_by_test_id("filter-form").get_by_label("Type").select_option("ledger.entry_posted")
    expect(page).to_have_url(re.compile(r"type=ledger\.entry_posted"))
    expect(page.locator(ROWS + '[data-event="client.updated"]')).to_have_count(0)
    with page.expect_download() as info:
        page.get_by_test_id("list-export").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["Ledger entry posted"]  # the filtered page's row
