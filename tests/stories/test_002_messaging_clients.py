"""Clients, as the messaging provider's operator walks them (seed 002).

"This section contains a list of your clients with detailed information about them. Also in
this section you can view detailed statistics of the client, as well as manage the balance of
his account." Fabrikam Messaging's demo, its owner logged in.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db.models import Count
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from billing.selectors import Period, ledger_entries_for_period
from billing.services import account_for_client
from clients.models import Client, ClientStatus
from messaging.models import Message, SenderId
from tests.stories.conftest import (
    assert_shows_terms,
    card,
    cells,
    column_headers,
    column_index,
    definition,
    download_headers,
    fill_date,
    find_shown,
    go_to_clients,
    list_table,
    log_in,
    named,
    refreshed,
    row_count,
)

pytestmark = pytest.mark.browser

LIST_COLUMNS = ["ID", "Login", "Company", "Name", "SMS Price", "Balance", "Credit", "Channel"]
TABS = ["General info", "Finance", "Statistics", "Names"]
GENERAL_INFO = [
    "Site",
    "Email",
    "Region",
    "Company",
    "Type of activity",
    "Property Type",
    "Address, postal",
    "Email accounting",
    "Registration Date",
    "Last login date",
    "SMS price",
    "Login attempts",
    "Activation",
    "Referer",
]
TRANSACTIONS = ["Date", "Credit", "Debit", "Purpose", "Balance"]
REPORT_COLUMNS = ["Send SMS (parts)", "SMS (Parts) Delivered", "Efficiency", "SMS Price"]
REPORTS = [
    ("Grouping by day", "Date"),
    ("Grouping by operator", "Country - Operator"),
    ("Grouping by sender ID", "Sender ID"),
    ("Grouping by Viber sender ID", "Sender ID"),
    ("Grouping by country", "Country"),
]


@pytest.fixture(scope="module")
def sms(demo):
    return demo["sms"]


@pytest.fixture(scope="module")
def customer(sms):
    """The client who sends the most, with a login, a company, sender IDs and an e-mail address
    a mail server without SMTPUTF8 takes (the credit notice goes there)."""
    with scopes_disabled():
        senders = (
            Message.objects.filter(tenant=sms)
            .values("client")
            .annotate(sent=Count("id"))
            .order_by("-sent", "client")
        )
        for row in senders:
            client = Client.objects.get(pk=row["client"])
            usable = client.status == ClientStatus.ACTIVE and client.login and client.company
            usable = usable and client.email and client.email.isascii()
            if usable and client.sender_ids.exists():
                return client
    raise AssertionError("The demo has no active client who sends from a sender ID.")


@pytest.fixture(scope="module")
def today(sms):
    return timezone.localtime(timezone.now(), sms.zone).date()


def search_field(page):
    return page.get_by_role("combobox", name="Search")


def listed_numbers(page) -> list[int]:
    """The clients' IDs as the list shows them: the ID column, or the #ID of the name."""
    table = list_table(page)
    if "ID" in column_headers(table):
        return [int(re.search(r"\d+", text).group()) for text in cells(table, "ID")]
    return [int(re.search(r"#(\d+)", text).group(1)) for text in cells(table, "Client name")]


def open_tab(page, name: str) -> None:
    with refreshed(page):
        page.get_by_test_id("client-tabs").get_by_role("link", name=name, exact=True).click()


def finance_block(page, title: str):
    return card(page, title).locator("form")


def money_of(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.-]", "", text))


# -- Interface -------------------------------------------------------------------------------
def test_select_clients_from_the_side_menu(page, sms):
    """To open this section, select Clients from the side menu."""
    log_in(page, "sms-owner")
    go_to_clients(page)


def test_by_default_up_to_10_entries_are_displayed_per_page(page):
    """By default, up to 10 entries are displayed per page."""
    expect(list_table(page).locator("tbody tr")).to_have_count(10)


def test_choose_10_or_20_rows(page):
    """You can choose 10 or 20 rows. To change the number of entries displayed on the client
    list page, click the number of pages icon at the bottom of the page."""
    per_page = page.get_by_label("Rows per page")
    options = [t.strip() for t in per_page.locator("option").all_inner_texts()]
    assert {"10", "20"} <= set(options), options
    with refreshed(page):
        per_page.select_option("20")
    expect(list_table(page).locator("tbody tr")).to_have_count(20)
    with refreshed(page):
        page.get_by_label("Rows per page").select_option("10")
    expect(list_table(page).locator("tbody tr")).to_have_count(10)


def test_left_and_right_navigation_buttons_switch_pages(page):
    """Use the Left and Right navigation buttons at the bottom of the page to switch pages."""
    first_page = listed_numbers(page)
    with refreshed(page):
        page.get_by_role("link", name="Next").click()
    second_page = listed_numbers(page)
    assert second_page and not set(second_page) & set(first_page)
    with refreshed(page):
        page.get_by_role("link", name="Previous").click()
    assert listed_numbers(page) == first_page


def test_enter_the_number_of_the_desired_page_to_jump_to_it(page, sms):
    """You can also enter the number of the desired page to jump to it."""
    page.get_by_label("Page", exact=True).fill("3")
    with refreshed(page):
        page.get_by_role("button", name=named("Go")).click()
    expect(page).to_have_url(re.compile(r"page=3"))
    expect(page.get_by_label("Page", exact=True)).to_have_value("3")
    assert len(listed_numbers(page)) == min(10, row_count(page) - 20)


# -- Search ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "by, press",
    [
        ("ID", "the Search button"),
        ("login", "Enter"),
        ("company name", "Enter"),
        ("client name", "Enter"),
    ],
)
def test_user_search_by_id_login_company_or_name(page, customer, by, press):
    """To search for a specific client, enter the desired value in the User search field and
    press the Search button icon or [ Enter ] key. You can search for a client by ID, login,
    company name or client name."""
    value = {
        "ID": str(customer.number),
        "login": customer.login,
        "company name": customer.company,
        "client name": customer.name,
    }[by]
    go_to_clients(page)
    search_field(page).fill(value)
    with refreshed(page):
        if press == "Enter":
            search_field(page).press("Enter")
        else:
            page.get_by_role("search").get_by_role("button", name="Search", exact=True).click()
    assert customer.number in listed_numbers(page)


# -- Client table ------------------------------------------------------------------------------
def test_the_client_table_columns(page):
    """The table contains a list of clients with detailed information about them: ID, Login,
    Company, Name, SMS Price, Balance, Credit, Channel."""
    go_to_clients(page)
    assert_shows_terms(column_headers(list_table(page)), LIST_COLUMNS)


def test_sort_the_list_of_clients_by_id(page):
    """You can sort the list of clients by ID, to do this, click the relevant icon in the ID
    column: descending order, ascending order."""
    header = find_shown("ID", column_headers(list_table(page)))
    assert header is not None, "no ID column"
    sort_link = re.compile(rf"^\W*{re.escape(header)}\b")
    with refreshed(page):
        list_table(page).locator("thead").get_by_role("link", name=sort_link).click()
    once = listed_numbers(page)
    with refreshed(page):
        list_table(page).locator("thead").get_by_role("link", name=sort_link).click()
    twice = listed_numbers(page)
    assert {tuple(once), tuple(twice)} == {
        tuple(sorted(once)),
        tuple(sorted(twice, reverse=True)),
    }, (once, twice)


# -- Client page -------------------------------------------------------------------------------
def test_click_on_the_row_of_the_desired_client(page, customer):
    """To view the client page, in the table, click on the row of the desired client."""
    # Found by login: a short ID such as "3" is also in most phone numbers, and the client's row
    # could then be on a later page of the matches.
    search_field(page).fill(customer.login)
    with refreshed(page):
        search_field(page).press("Enter")
    with refreshed(page):
        row_of(page, customer).click()
    expect(page).to_have_url(re.compile(rf"/clients/{customer.number}/$"))


def row_of(page, customer):
    """The client's row in the list: the one whose link opens the client's page."""
    link = page.locator(f'a[href$="/clients/{customer.number}/"]')
    return list_table(page).locator("tbody tr").filter(has=link).first


def test_the_client_page_contains_the_tabs(page):
    """The client page contains the following tabs: General info, Finance, Statistics,
    Names."""
    tabs = page.get_by_test_id("client-tabs")
    for tab in TABS:
        expect(tabs.get_by_role("link", name=tab, exact=True)).to_be_visible()


def test_general_info_contains_information_about_the_client(page, customer):
    """The GENERAL INFO tab contains the following information about the client: Site, Email,
    Region, Company, Type of activity, Property Type, Address postal, Email accounting,
    Registration Date, Last login date, SMS price, Login attempts, Activation, Referer."""
    terms = [t.strip() for t in page.locator("dt").all_inner_texts()]
    assert_shows_terms(terms, GENERAL_INFO)
    expect(definition(page, "Company").first).to_have_text(customer.company)
    expect(definition(page, "SMS price").first).to_contain_text(f"{customer.sms_price}")


def test_enable_or_disable_the_sms_subscription(page, customer):
    """To enable/disable the client's SMS subscription, check the SMS subscription checkbox (or
    uncheck it). Then press SAVE."""
    form = page.locator("form").filter(has=page.get_by_label("SMS subscription"))
    box = form.get_by_label("SMS subscription")
    was = box.is_checked()
    box.set_checked(not was)
    with refreshed(page):
        form.get_by_role("button", name="Save").click()
    with scopes_disabled():
        assert Client.objects.get(pk=customer.pk).sms_subscription is (not was)
    box = page.locator("form").filter(has=page.get_by_label("SMS subscription"))
    expect(box.get_by_label("SMS subscription")).to_be_checked(checked=not was)
    box.get_by_label("SMS subscription").set_checked(was)
    with refreshed(page):
        box.get_by_role("button", name="Save").click()
    with scopes_disabled():
        assert Client.objects.get(pk=customer.pk).sms_subscription is was


# -- Finance -----------------------------------------------------------------------------------
def test_finance_shows_the_current_account_balance_and_credit_balance(page, customer):
    """The top left of the FINANCE tab shows the current account balance and credit
    balance."""
    open_tab(page, "Finance")
    with scopes_disabled():
        account = account_for_client(client=customer)
    expect(page.get_by_text("Balance", exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Credit( limit)?$")).first).to_be_visible()
    assert money_of(page.get_by_test_id("balance").inner_text()) == account.balance
    assert money_of(page.get_by_test_id("credit-limit").inner_text()) == account.credit_limit


def test_set_credit_and_notify_the_customer(page, customer):
    """Set credit: Enter the amount of the credit. Check the checkbox if it is necessary to
    notify the customer of a change in credit balance. Press the SAVE button to save your
    changes."""
    form = finance_block(page, "Set credit")
    form.get_by_label(re.compile(r"^Amount")).fill("150.00")
    form.get_by_label(re.compile(r"notify", re.I)).check()
    with refreshed(page):
        form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("credit-limit")).to_have_text(re.compile(r"^150\.00"))
    assert any(customer.email in message.to for message in mail.outbox), [m.to for m in mail.outbox]


def test_top_up_account_with_a_comment(page, customer):
    """Top up account: Enter the amount of top-up. Add a comment if necessary. Press the SAVE
    button to top up."""
    before = money_of(page.get_by_test_id("balance").inner_text())
    form = finance_block(page, "Top up account")
    form.get_by_label(re.compile(r"^Amount")).fill("25.00")
    form.get_by_label("Comment").fill("Bank transfer 2026/117")
    with refreshed(page):
        form.get_by_role("button", name="Save").click()
    after = before + Decimal("25.00")
    expect(page.get_by_test_id("balance")).to_have_text(re.compile(rf"^{after:,.2f}"))
    first = list_table(page).locator("tbody tr").first
    expect(first).to_contain_text("Bank transfer 2026/117")


def test_transactions_list_columns(page):
    """All transaction history of the account balance are located in the table in separate
    columns: Date, Credit, Debit, Purpose, Balance."""
    table = list_table(page)
    assert_shows_terms(column_headers(table), TRANSACTIONS)
    first = table.locator("tbody tr").first
    debit = first.locator("td").nth(column_index(table, "Debit")).inner_text()
    balance = first.locator("td").nth(column_index(table, "Balance")).inner_text()
    assert money_of(debit) == Decimal("25.00")
    assert money_of(balance) == money_of(page.get_by_test_id("balance").inner_text())


def test_period_selection_for_the_transaction_history(page, customer, sms, today):
    """To select the time period for which you want to display the transaction history: Enter
    the start date. Enter the end date. After selecting a date, the page will be refresh and
    display the transaction history for the specified period."""
    start, end = today - timedelta(days=9), today - timedelta(days=2)
    with refreshed(page):
        fill_date(page, "Start date", start, sms)
    with refreshed(page):
        fill_date(page, "End date", end, sms)
    with scopes_disabled():
        account = account_for_client(client=customer)
        expected = ledger_entries_for_period(account=account, period=Period(start, end)).count()
    expect(page.get_by_text(re.compile(rf"^\s*{expected} rows?\s*$"))).to_be_visible()


def test_export_the_transaction_history(page, downloads):
    """To export transaction history click the Export button icon. After pressing the Export
    button icon, the report will be saved on your device in an .xlsx file."""
    sheets = download_headers(
        page, lambda: page.get_by_role("button", name="Export").click(), downloads
    )
    header = next(iter(sheets.values()))
    assert_shows_terms(header, TRANSACTIONS)


# -- Statistics --------------------------------------------------------------------------------
def test_open_the_statistics_tab_and_the_grouping_by_day_report(page):
    """To open this report, open the STATISTICS tab and select the GROUPING BY DAY report."""
    open_tab(page, "Statistics")
    with refreshed(page):
        page.get_by_role("link", name="Grouping by day", exact=True).click()
    expect(page.get_by_role("img", name=re.compile("Grouping by day"))).to_be_visible()


def test_the_chart_shows_sent_in_blue_and_delivered_in_purple(page):
    """This chart displays the number of sent and delivered messages for each day of the
    specified period. Blue plot - number of messages sent. Purple plot - number of delivered
    messages."""
    page.wait_for_function("() => window.statisticsChart !== undefined")
    colours = page.evaluate(
        "() => window.statisticsChart.data.datasets.map(d => [d.label, d.borderColor])"
    )
    assert [label.split()[0] for label, _ in colours] == ["Sent", "Delivered"]
    assert [colour for _, colour in colours] == ["#0d6efd", "#6f42c1"]  # blue, purple


@pytest.mark.parametrize("report, first_column", REPORTS)
def test_each_report_with_its_period_and_table(page, sms, today, report, first_column):
    """To open this report, open the STATISTICS tab and select the report. Enter the start
    date. Enter the end date. After selecting a date, click the SEARCH button. The page will be
    refreshed and display statistics for the specified period. All statistical data are
    arranged in the table in separate columns."""
    with refreshed(page):
        page.get_by_role("link", name=report, exact=True).click()
    period = page.locator("form").filter(has=page.get_by_role("button", name="Search"))
    fill_date(period, "Start date", today - timedelta(days=13), sms)
    fill_date(period, "End date", today, sms)
    with refreshed(page):
        period.get_by_role("button", name="Search").click()
    expect(page.get_by_role("img", name=re.compile(report))).to_be_visible()
    table = page.locator("table").filter(has=page.get_by_role("columnheader"))
    assert_shows_terms(column_headers(table.first), [first_column, *REPORT_COLUMNS])
    if report == "Grouping by day":
        page.wait_for_function("() => window.statisticsChart !== undefined")
        assert page.evaluate("() => window.statisticsChart.data.labels.length") == 14


def test_export_a_report_with_a_choice_of_data(page, downloads):
    """To export statistical reporting click the Export button icon to the right of the SEARCH
    button. A new pop-up window will open where you need to select the data you want to export.
    To cancel, click the CANCEL button. After selecting the data, click the EXPORT button to
    export. After pressing the EXPORT button, the report will be saved on your device in an
    .xlsx file."""
    with refreshed(page):
        page.get_by_role("link", name="Grouping by day", exact=True).click()
    page.get_by_role("button", name="Export").click()
    popup = page.get_by_role("dialog")
    expect(popup).to_be_visible()
    popup.get_by_role("button", name="Cancel").click()
    expect(popup).to_be_hidden()

    page.get_by_role("button", name="Export").click()
    expect(popup).to_be_visible()
    popup.get_by_label("Grouping by country").check()
    popup.get_by_label("Efficiency").uncheck()
    sheets = download_headers(
        page, lambda: popup.get_by_role("button", name="Export").click(), downloads
    )
    assert len(sheets) == 2, sheets
    day, country = sheets.values()
    assert_shows_terms(day, ["Date", "Send SMS (parts)", "SMS (Parts) Delivered", "SMS Price"])
    assert find_shown("Efficiency", day) is None, day
    assert_shows_terms(country, ["Country", "Send SMS (parts)"])
    popup.get_by_role("button", name="Close").click()
    expect(popup).to_be_hidden()


# -- Names -------------------------------------------------------------------------------------
def test_names_lists_the_clients_sender_ids(page, customer):
    """The NAMES tab contains a list of client sender id's with detailed information about
    them: Name - Sender's name (Sender ID); Status - Current status of the sender ID;
    Questionnaire - Completion of the questionnaire."""
    open_tab(page, "Names")
    with scopes_disabled():
        senders = set(SenderId.objects.filter(client=customer).values_list("name", flat=True))
    table = list_table(page)
    assert_shows_terms(column_headers(table), ["Name", "Status", "Questionnaire"])
    assert set(cells(table, "Name")) == senders


def test_edit_a_sender_id_of_the_client(page, customer):
    """Allows you to view and edit the Sender ID of the client."""
    with scopes_disabled():
        sender = SenderId.objects.filter(client=customer).order_by("name").first()
    row = list_table(page).locator("tbody tr").filter(has_text=sender.name).first
    with refreshed(page):
        row.get_by_role("link", name="Edit").click()
    expect(page.get_by_label(re.compile(r"^Name\b"))).to_have_value(sender.name)
    page.get_by_label(re.compile("purpose", re.I)).fill("Order confirmations and delivery news")
    with refreshed(page):
        page.get_by_role("button", name=re.compile("^Save")).click()
    with scopes_disabled():
        sender.refresh_from_db()
    assert sender.purpose == "Order confirmations and delivery news"
