"""The Finance tab in Chromium: top up, see the new balance and the entry, export and download
the .xlsx (the export task runs in-process, eagerly, on the live server's commit)."""

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from config.celery import app as celery_app
from tests.factories import ClientFactory, MembershipFactory, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_tasks(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_top_up_then_export_and_download(page, log_in, eager_tasks, tmp_path):
    membership = MembershipFactory(role="accountant")
    tenant = membership.tenant
    customer = ClientFactory(tenant=tenant, name="Browser Customer")
    make_account(customer, balance="20")

    log_in(membership.user.username)
    page.goto(reverse("billing:client_finance", kwargs={"number": customer.number}))
    balance = page.get_by_test_id("balance")
    assert balance.inner_text() == "20.00 EUR"

    form = page.get_by_test_id("top-up-form")
    form.get_by_label("Amount").fill("abc")
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert page.locator('[data-field-error="topup-amount"]').inner_text() == (
        "Enter a number, e.g. 150.00."
    )
    assert page.get_by_test_id("balance").inner_text() == "20.00 EUR"

    form = page.get_by_test_id("top-up-form")
    form.get_by_label("Amount").fill("125.50")
    form.get_by_label("Comment").fill("Bank transfer 42")
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("balance").inner_text() == "145.50 EUR"
    assert "Account topped up by 125.50 EUR" in page.locator(".alert-success").inner_text()
    first_row = page.locator("#table-region tbody tr").first
    assert "125.50" in first_row.inner_text() and "Bank transfer 42" in first_row.inner_text()
    assert "145.50" in first_row.inner_text()
    assert page.get_by_test_id("closing-balance").inner_text() == "145.50 EUR"

    # The file downloads by itself when its job is done; no second click.
    with page.expect_download() as info:
        page.get_by_test_id("export-button").click()
    expect(page.get_by_test_id("export-download")).to_be_visible()  # for another copy
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".xlsx"
    sheet = load_workbook(path).active
    assert sheet.max_row == 3  # header, the top-up, the opening balance
    assert sheet["D2"].value == 125.5 and sheet["F2"].value == "Bank transfer 42"
    assert sheet["H2"].value == 145.5

    page.goto(reverse("exports:export_list"))
    expect(page.get_by_test_id("export-download")).to_have_count(1)


def test_typing_a_period_in_the_tenants_format_refreshes_once_and_keeps_focus(page, log_in):
    """DD.MM.YYYY tenant: typing 15.10.2026 key by key refreshes the transactions once, when
    the date is complete, without losing the field; the Calendar button writes the day it
    picks in the same format."""
    membership = MembershipFactory(role="accountant")
    tenant = membership.tenant
    tenant.date_format = "d.m.Y"
    tenant.save(update_fields=["date_format"])
    customer = ClientFactory(tenant=tenant, name="Period Customer")
    make_account(customer, balance="20")
    log_in(membership.user.username)
    page.goto(reverse("billing:client_finance", kwargs={"number": customer.number}))

    requests = []
    page.on("request", lambda r: requests.append(r.url) if "start=" in r.url else None)
    start = page.get_by_label("Start date")
    expect(start).to_have_attribute("placeholder", "DD.MM.YYYY")
    end_value = page.get_by_label("End date").input_value()
    start.fill("")
    start.press_sequentially("15.10.2026", delay=60)
    expect(page.get_by_test_id("period-balances")).to_contain_text(
        f"Period 15.10.2026 – {end_value}"
    )
    page.wait_for_load_state("networkidle")
    assert len(requests) == 1, requests
    start = page.get_by_label("Start date")
    assert start.evaluate("el => el === document.activeElement")
    expect(start).to_have_value("15.10.2026")
    start.press("Tab")  # leaving the field is not a second refresh
    page.wait_for_load_state("networkidle")
    assert len(requests) == 1, requests

    # The calendar: the browser's picker behind the button; its day comes back as DD.MM.YYYY.
    page.locator("#field-end [data-date-picker]").click()
    picker = page.locator("#field-end input.date-picker-native")
    expect(picker).to_have_count(1)
    picker.evaluate(
        "el => { el.value = '2026-11-20'; el.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    expect(page.get_by_test_id("period-balances")).to_contain_text("Period 15.10.2026 – 20.11.2026")
    expect(page.get_by_label("End date")).to_have_value("20.11.2026")
    assert "start=15.10.2026" in page.url and "end=20.11.2026" in page.url
