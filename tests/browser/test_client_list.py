"""The client list in a real browser: suggestions (mouse and keyboard), Enter for all results,
the column chooser and the page size, remembered after a reload."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, ClientFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#table-region tbody tr[data-href]"


@pytest.fixture
def operator_with_clients():
    membership = MembershipFactory(role="owner")
    now = timezone.now()
    for i in range(30):
        ClientFactory(
            tenant=membership.tenant,
            name=f"Client Person {i:02d}",
            external_tenant_name=f"tenant{i:02d}.onmicrosoft.com",
            last_purchase_at=now - timedelta(days=i),
        )
    target = ClientFactory(
        tenant=membership.tenant,
        name="Anastasia Quartzova",
        company="Zephyrine Holdings",
        last_purchase_at=now - timedelta(days=100),
    )
    return membership, target


def test_search_suggestions_enter_columns_and_page_size(page, log_in, operator_with_clients):
    membership, target = operator_with_clients
    log_in(membership.user.username)
    page.goto("/clients/")
    expect(page.locator(ROWS)).to_have_count(10)

    # Type: suggestions appear; a click opens the client.
    search = page.get_by_test_id("client-search")
    search.press_sequentially("quartz", delay=40)
    suggestion = page.get_by_test_id("suggestion")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text("Anastasia Quartzova")
    suggestion.click()
    expect(page).to_have_url(re.compile(rf"/clients/{target.number}/$"))
    expect(page.locator("h1")).to_contain_text("Anastasia Quartzova")

    # Keyboard: arrow down to the suggestion, Enter opens it.
    page.goto("/clients/")
    search = page.get_by_test_id("client-search")
    search.press_sequentially("zephyr", delay=40)
    expect(page.get_by_test_id("suggestion")).to_have_count(1)
    search.press("ArrowDown")
    expect(page.get_by_test_id("suggestion").first).to_have_class(re.compile(r"\bactive\b"))
    search.press("Enter")
    expect(page).to_have_url(re.compile(rf"/clients/{target.number}/$"))

    # Escape closes the drop-down; Enter without a chosen suggestion shows every result.
    page.goto("/clients/")
    search = page.get_by_test_id("client-search")
    search.press_sequentially("client person", delay=30)
    expect(page.get_by_test_id("suggestion").first).to_be_visible()
    search.press("Escape")
    expect(page.get_by_test_id("suggestion")).to_have_count(0)
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/clients/\?q=client(\+|%20)person&sort=[^&]+$"))
    expect(page.locator(ROWS)).to_have_count(10)
    expect(page.get_by_test_id("row-count")).to_contain_text("30 rows")
    expect(page.get_by_test_id("suggestion")).to_have_count(0)
    expect(page.locator("#table-region")).not_to_contain_text("Anastasia")

    # Table view: hide Company, show External tenant name.
    page.get_by_role("button", name="Table view").click()
    page.locator("#col-company").uncheck()
    page.locator("#col-external_tenant_name").check()
    page.get_by_role("button", name="Apply", exact=True).click()
    header = page.locator("#table-region thead")
    expect(header).to_contain_text("External tenant name")
    expect(header).not_to_contain_text("Company")

    # Page size 20.
    page.locator("#per-page-select").select_option("20")
    expect(page.locator(ROWS)).to_have_count(20)

    # Reload (a new visit of the list): both remembered.
    page.goto("/clients/")
    expect(page.locator(ROWS)).to_have_count(20)
    header = page.locator("#table-region thead")
    expect(header).to_contain_text("External tenant name")
    expect(header).not_to_contain_text("Company")
    expect(page.locator("#table-region tbody")).to_contain_text("onmicrosoft.com")

    # A click anywhere on a row opens the client.
    first_row = page.locator(ROWS).first
    href = first_row.get_attribute("data-href")
    first_row.locator("td").nth(2).click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))


def test_status_filter_sort_and_paging_refresh_the_table(page, log_in, operator_with_clients):
    membership, _ = operator_with_clients
    log_in(membership.user.username)
    page.goto("/clients/")
    expect(page.locator(ROWS)).to_have_count(10)

    # Next page through HTMX: the URL follows.
    page.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(ROWS).first).to_contain_text("Client Person 10")

    # Status: tick Deleted only -> no rows, the button highlighted.
    page.get_by_test_id("status-button").click()
    page.locator("#status-filter input[value=deleted]").check()
    expect(page.get_by_test_id("status-button")).to_have_class(re.compile("filter-active"))
    expect(page.locator("#table-region")).to_contain_text("No clients match.")
    page.locator("#status-filter input[value=deleted]").uncheck()
    expect(page.locator(ROWS)).to_have_count(10)

    # Sorting on: earliest purchase first (never-bought would be last).
    page.get_by_test_id("sort-select").select_option("last_purchase_at")
    expect(page).to_have_url(re.compile(r"sort=last_purchase_at"))
    expect(page.locator(ROWS).first).to_contain_text("Anastasia Quartzova")


def test_typing_a_date_refreshes_the_list_once_the_date_is_complete(
    page, log_in, operator_with_clients
):
    """Typing 10152026 into a date of the filter bar (a tenant writing MM/DD/YYYY) keeps the
    focus: the field shows 10/15/2026 and the list refreshes once, when the date is complete."""
    membership, _ = operator_with_clients
    membership.tenant.date_format = "m/d/Y"
    membership.tenant.save(update_fields=["date_format"])
    log_in(membership.user.username)
    page.goto("/clients/")
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "created_after" in r.url else None)
    start = page.get_by_label("Creation date from")
    expect(start).to_have_attribute("placeholder", "MM/DD/YYYY")
    start.focus()
    start.press_sequentially("10152026", delay=60)
    expect(start).to_have_value("10/15/2026")
    expect(page).to_have_url(re.compile(r"created_after=10%2F15%2F2026"))
    assert start.evaluate("el => el === document.activeElement")
    start.press("Tab")  # leaving the field is not a second refresh
    page.wait_for_load_state("networkidle")
    assert len(requests) == 1, requests
    expect(page.locator("#filter-error-created")).to_have_text("")


def test_list_works_without_javascript(browser, live_server, operator_with_clients):
    """Search, status, sort and paging are plain links and a GET form."""
    membership, target = operator_with_clients
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login/")
        page.fill("input[name=username]", membership.user.username)
        page.fill("input[name=password]", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.goto("/clients/")
        expect(page.locator(ROWS)).to_have_count(10)
        page.get_by_test_id("status-button").click()  # <details> opens without JavaScript
        page.locator("#status-filter input[value=active]").check()
        page.get_by_test_id("client-search").fill("quartz")
        page.get_by_test_id("client-search").press("Enter")
        expect(page).to_have_url(re.compile(r"q=quartz.*status=active|status=active.*q=quartz"))
        expect(page.locator(ROWS)).to_have_count(1)
        expect(page.locator(ROWS)).to_contain_text("Anastasia Quartzova")
        page.goto("/clients/")
        page.locator("a[rel=next]").click()
        expect(page).to_have_url(re.compile(r"page=2"))
        expect(page.locator(ROWS).first).to_contain_text("Client Person 10")
    finally:
        context.close()
