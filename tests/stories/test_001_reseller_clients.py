"""Clients, as the software reseller's operator walks them (seed 001).

"You can use the Clients section to view information about customers of the partner: View the
list of all customers of the partner. View detailed information about a customer and the
customer's subscriptions." Contoso Software Store's demo, its owner logged in.
"""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clients.models import Client, ClientStatus
from tests.stories.conftest import (
    cells,
    column_headers,
    find_shown,
    go_to_clients,
    list_table,
    log_in,
    named,
    refreshed,
    row_count,
)

pytestmark = pytest.mark.browser

STATUSES = ["Active", "Deleted", "Administrative hold", "Financial hold"]
COLUMNS = [
    "Client name",
    "Contact person",
    "ITN",
    "Creation date",
    "Last purchase date",
    "Client type",
]
TENANT_NAME_COLUMN = re.compile(r"tenant name", re.I)  # "Microsoft Tenant Name"
NEW_CUSTOMER = {"name": "Vega Robotics", "contact": "Mira Stone", "itn": "733190245"}


@pytest.fixture(scope="module")
def reseller(demo):
    return demo["reseller"]


@pytest.fixture(scope="module")
def customer(reseller):
    """A customer with an ITN and subscriptions, whose name is found by a few letters."""
    with scopes_disabled():
        clients = Client.objects.filter(tenant=reseller, status=ClientStatus.ACTIVE)
        return (
            clients.exclude(itn="")
            .filter(subscriptions__isnull=False)
            .distinct()
            .order_by("number")
            .first()
        )


def status_button(page):
    return page.locator("summary", has_text="Status")


def status_options(page):
    return [page.get_by_label(status, exact=True) for status in STATUSES]


def column_chooser(page):
    return page.get_by_role("button", name="Table view")


def search_field(page):
    return page.get_by_role("combobox", name="Search")


def shown_numbers(page) -> list[int]:
    """The customers' IDs as the Client name column shows them (#ID)."""
    return [
        int(re.search(r"#(\d+)", text).group(1)) for text in cells(list_table(page), "Client name")
    ]


def test_select_clients_in_the_navigation_menu(page, reseller):
    """To go to the list of customers, select Clients in the navigation menu. A page with a
    table and filters is displayed."""
    log_in(page, "reseller-owner")
    go_to_clients(page)
    expect(list_table(page).locator("tbody tr").first).to_be_visible()
    expect(page.get_by_role("search")).to_be_visible()


def test_the_table_is_a_multipage_list_of_customers(page, reseller):
    """A table is a multipage list with information about customers in the rows."""
    with scopes_disabled():
        listed = Client.objects.filter(tenant=reseller).exclude(status=ClientStatus.DELETED)
        count = listed.count()
    assert row_count(page) == count
    expect(page.get_by_role("link", name="Next")).to_be_visible()


def test_table_view_lists_all_columns(page):
    """Click Table view. The list of all columns is displayed."""
    column_chooser(page).click()
    offered = (
        page.locator("form")
        .filter(has=page.get_by_role("checkbox"))
        .filter(has=page.get_by_role("button", name="Apply"))
        .first
    )
    expect(offered).to_be_visible()
    labels = [t.strip() for t in offered.locator("label").all_inner_texts()]
    for column in COLUMNS[1:]:
        assert find_shown(column, labels), f"{column!r} not offered among {labels}"
    assert any(TENANT_NAME_COLUMN.search(label) for label in labels), labels


def test_default_columns(page):
    """Contact person — the name and email of the contact person of a customer. ITN — the
    customer's organization registration number. Creation date. Last purchase date. Client
    type — the name of a group to which a customer is linked. Microsoft Tenant Name — By
    default, the column is not displayed."""
    headers = column_headers(list_table(page))
    for column in COLUMNS:
        assert find_shown(column, headers), f"{column!r} not among {headers}"
    assert not any(TENANT_NAME_COLUMN.search(header) for header in headers), headers


def test_select_the_checkboxes_of_the_required_columns(page):
    """Select the checkboxes of the required columns: Microsoft Tenant Name — the domain name of
    the customer in Microsoft."""
    chooser = page.locator("form").filter(has=page.get_by_label(TENANT_NAME_COLUMN))
    chooser.get_by_label(TENANT_NAME_COLUMN).check()
    with refreshed(page):
        chooser.get_by_role("button", name="Apply").click()
    expect(list_table(page).locator("thead")).to_contain_text(TENANT_NAME_COLUMN)
    names = cells(list_table(page), "Tenant name")
    assert any(name.endswith(".onmicrosoft.com") for name in names), names


def test_client_name_column_is_always_displayed(page):
    """Client name — the ID, name, and the status of a customer. This column is always
    displayed."""
    if column_chooser(page).get_attribute("aria-expanded") != "true":
        column_chooser(page).click()
    choosable = page.get_by_label("Client name", exact=True)
    assert choosable.count() == 0 or choosable.is_disabled()
    page.keyboard.press("Escape")
    first = list_table(page).locator("tbody tr").first
    index = column_headers(list_table(page)).index(
        find_shown("Client name", column_headers(list_table(page)))
    )
    cell = first.locator("td").nth(index).inner_text()
    assert re.search(r"#\d+", cell), cell
    assert any(status in cell for status in STATUSES), cell


def test_most_recently_ordered_subscriptions_on_top_by_default(page, reseller):
    """By default, you can view all customers with the most recently ordered subscriptions on
    the top of the list."""
    with scopes_disabled():
        latest = (
            Client.objects.filter(tenant=reseller)
            .exclude(status=ClientStatus.DELETED)
            .exclude(last_purchase_at=None)
            .order_by("-last_purchase_at")
            .values_list("last_purchase_at", flat=True)
            .first()
        )
        top = Client.objects.get(tenant=reseller, number=shown_numbers(page)[0])
    assert top.last_purchase_at == latest


def test_click_status_shows_the_list_of_customer_statuses(page):
    """To filter customers displayed in the list by their statuses: Click Status. The list of
    customer statuses appears: Active, Deleted, Administrative hold, Financial hold."""
    status_button(page).click()
    for option in status_options(page):
        expect(option).to_be_visible()


def test_select_the_checkboxes_for_the_required_statuses(page, reseller):
    """Select the checkboxes for the required statuses."""
    with refreshed(page):
        page.get_by_label("Administrative hold", exact=True).check()
    with refreshed(page):
        page.get_by_label("Financial hold", exact=True).check()
    with scopes_disabled():
        held = Client.objects.filter(
            tenant=reseller,
            status__in=[ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.FINANCIAL_HOLD],
        ).count()
    expect(page.get_by_text(re.compile(rf"^\s*{held} rows?\s*$"))).to_be_visible()
    names = cells(list_table(page), "Client name")
    assert all("hold" in name for name in names), names


def test_click_status_one_more_time_closes_the_list_and_the_button_is_highlighted(page):
    """To close the list of customer statuses, click Status one more time. If any of the
    checkboxes are selected, the Status button is highlighted."""
    status_button(page).click()
    for option in status_options(page):
        expect(option).to_be_hidden()
    expect(status_button(page)).to_have_class(re.compile(r"active"))


def test_sorting_offers_the_attributes_and_directions(page):
    """Click Sorting. The sorting setting options appears. In the Sort on list, select the
    attribute used for sorting: Client creation date, Last purchase date. In the Sort order
    list, select the sorting direction: From earliest to latest, From latest to earliest."""
    with refreshed(page):
        page.get_by_role("link", name="Reset").click()
    sorting = page.get_by_label("Sorting")
    options = [t.strip() for t in sorting.locator("option").all_inner_texts()]
    for attribute in ["Creation date", "Last purchase date"]:
        for direction in ["earliest first", "latest first"]:
            assert any(attribute in o and direction in o for o in options), options


@pytest.mark.parametrize(
    "attribute, direction, field, newest_first",
    [
        ("Creation date", "earliest first", "created_at", False),
        ("Creation date", "latest first", "created_at", True),
        ("Last purchase date", "earliest first", "last_purchase_at", False),
    ],
)
def test_select_the_preferable_order_of_displaying_customers(
    page, reseller, attribute, direction, field, newest_first
):
    """Select the preferable order of displaying customers."""
    sorting = page.get_by_label("Sorting")
    label = next(
        o.strip()
        for o in sorting.locator("option").all_inner_texts()
        if attribute in o and direction in o
    )
    with refreshed(page):
        sorting.select_option(label=label)
    with scopes_disabled():
        listed = (
            Client.objects.filter(tenant=reseller)
            .exclude(status=ClientStatus.DELETED)
            .exclude(**{field: None})
        )
        expected = listed.order_by(f"-{field}" if newest_first else field).first()
        top = Client.objects.get(tenant=reseller, number=shown_numbers(page)[0])
    assert getattr(top, field) == getattr(expected, field)


def test_start_typing_the_customer_name_shows_suggested_results(page, customer):
    """Start typing the customer name or ITN (INN) in the search field. The list with the
    suggested results appears. Click the relevant result in the list."""
    search_field(page).press_sequentially(customer.name[:6], delay=40)
    suggestions = page.get_by_role("listbox", name="Suggested clients")
    expect(suggestions).to_be_visible()
    suggestion = suggestions.get_by_role("option").filter(has_text=f"#{customer.number}")
    expect(suggestion).to_be_visible()
    with refreshed(page):
        suggestion.click()
    expect(page).to_have_url(re.compile(rf"/clients/{customer.number}/$"))
    expect(page.get_by_role("heading", name=re.compile(re.escape(customer.name)))).to_be_visible()


def test_detailed_information_about_a_customer_and_the_customers_subscriptions(page, customer):
    """View detailed information about a customer and the customer's subscriptions."""
    with scopes_disabled():
        packages = set(customer.subscriptions.values_list("package__name", flat=True))
    expect(page.get_by_text(customer.itn).first).to_be_visible()
    history = page.get_by_role("heading", name="Subscription history").locator(
        "xpath=ancestor::*[.//table][1]"
    )
    assert set(cells(history.locator("table"), "Package")) <= packages


def test_type_the_itn_and_press_enter_to_view_all_search_results(page, customer):
    """Start typing the customer name or ITN (INN) in the search field. The list with the
    suggested results appears. Press ENTER to view all search results."""
    go_to_clients(page)
    search_field(page).press_sequentially(customer.itn, delay=30)
    expect(
        page.get_by_role("listbox", name="Suggested clients")
        .get_by_role("option")
        .filter(has_text=f"#{customer.number}")
    ).to_be_visible()
    with refreshed(page):
        search_field(page).press("Enter")
    # A late answer to the typing may settle the suggestions first: wait for the results' page.
    expect(page).to_have_url(re.compile(rf"[?&]q={re.escape(customer.itn)}(&|$)"))
    customer_link = page.locator(f'a[href$="/clients/{customer.number}/"]')
    expect(list_table(page).locator("tbody tr").filter(has=customer_link).first).to_be_visible()
    assert customer.number in shown_numbers(page)
    assert all(itn == customer.itn for itn in cells(list_table(page), "ITN"))


def test_add_a_new_customer_only_when_purchasing_a_subscription(page, reseller):
    """You can add a new customer or update an existing customer only when purchasing a
    subscription (see Order subscription)."""
    go_to_clients(page)
    expect(page.get_by_role("link", name="Order subscription")).to_be_visible()
    expect(page.get_by_role("link", name=named("New client"))).to_have_count(0)


def test_order_subscription_for_an_existing_customer(page, customer):
    """Order subscription: an existing customer, whose last purchase date becomes today's."""
    with scopes_disabled():
        bought = customer.subscriptions.count()
        current = set(
            customer.subscriptions.filter(status__in=["active", "suspended"]).values_list(
                "package__name", flat=True
            )
        )
    with refreshed(page):
        page.get_by_role("link", name="Order subscription").click()
    page.get_by_label("Existing client", exact=True).check()
    page.get_by_label("Client ID", exact=True).fill(str(customer.number))
    package = page.get_by_label(re.compile(r"^Package"))
    offered = [o.strip() for o in package.locator("option").all_inner_texts()[1:]]
    package.select_option(label=next(o for o in offered if o.split(" — ")[0] not in current))
    page.get_by_label("Payment received").fill("500.00")
    with refreshed(page):
        page.get_by_role("button", name=named("Order subscription")).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(customer.name)))).to_be_visible()
    with scopes_disabled():
        assert customer.subscriptions.count() == bought + 1
        last_purchase = Client.objects.get(pk=customer.pk).last_purchase_at
    assert last_purchase is not None
    assert customer.last_purchase_at is None or last_purchase > customer.last_purchase_at


def test_order_subscription_for_a_new_customer(page, reseller):
    """Order subscription: a new customer, added with the subscription ordered for them."""
    go_to_clients(page)
    with refreshed(page):
        page.get_by_role("link", name="Order subscription").click()
    page.get_by_label("New client", exact=True).check()
    page.get_by_label(re.compile(r"^Name\b")).fill(NEW_CUSTOMER["name"])
    page.get_by_label("Contact person", exact=True).fill(NEW_CUSTOMER["contact"])
    page.get_by_label("ITN", exact=True).fill(NEW_CUSTOMER["itn"])
    page.get_by_label("Client type", exact=True).select_option(label="SMB")
    package = page.get_by_label(re.compile(r"^Package"))
    package.select_option(index=1)
    with refreshed(page):
        page.get_by_role("button", name="Order subscription").click()
    expect(page.get_by_role("heading", name=re.compile(NEW_CUSTOMER["name"]))).to_be_visible()
    with scopes_disabled():
        created = Client.objects.get(tenant=reseller, name=NEW_CUSTOMER["name"])
        assert created.subscriptions.count() == 1

    go_to_clients(page)
    assert shown_numbers(page)[0] == created.number  # the most recent purchase on top
