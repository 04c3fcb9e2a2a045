"""The language in Chromium: an operator whose browser speaks English switches to Russian in the
user menu, walks the client list, a client's page and its Finance tab in Russian (the page says
lang="ru", its headings are Russian and its text has no English but data and the kept names of
tests/i18n/visible_text.py), logs out and in again and is still served Russian (the choice is
the operator's, remembered), then switches back to English."""

import re
from decimal import Decimal

import pytest
from django.utils import translation
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from billing.services import account_for_client, account_top_up
from tests.factories import ClientFactory, MembershipFactory, TenantFactory
from tests.i18n.test_russian_walk import tenant_data_words
from tests.i18n.visible_text import CYRILLIC_WORD, english_words

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
RUSSIAN_OPERATOR = {  # not "operator0", "Test": data words that would let English pass
    "user__username": "ivanova",
    "user__email": "ivanova@primer.ru",
    "user__first_name": "Анна",
    "user__last_name": "Иванова",
}


def switch_to(page, language: str) -> None:
    page.get_by_test_id("user-menu").click()
    switcher = page.get_by_test_id("language-switcher")
    with page.expect_navigation():
        switcher.get_by_test_id(f"language-{language}").click()
    page.wait_for_load_state("networkidle")


def headings(page) -> str:
    return " ".join(page.locator("h1, h2, h3, h4, h5, h6").all_inner_texts())


def assert_reads_in_russian(page, allowed: set[str], data: set[str], what: str) -> None:
    """lang="ru", Russian words in the page's headings and tabs (not only the Russian of the
    data: a client's name) and no English."""
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    titles = " ".join(page.locator("h1, h2, h3, h4, h5, h6, .nav-link").all_inner_texts())
    russian = set(CYRILLIC_WORD.findall(titles)) - data
    assert russian, f"{what}: no Russian heading or tab in {titles!r}"
    english = english_words(page.content(), allowed)
    assert english == [], f"{what} shows English: {english[:40]}"


def test_switch_to_russian_walk_the_client_and_switch_back(page, log_in):
    tenant = TenantFactory(name="Северный ветер", slug="sever", currency="RUB")
    owner = MembershipFactory(tenant=tenant, role="owner", **RUSSIAN_OPERATOR)
    customer = ClientFactory(
        tenant=tenant,
        name="Ромашка",
        company="ООО Ромашка",
        contact_name="Иван Петров",
        email="romashka@primer.ru",
        contact_email="ivan@primer.ru",
    )
    # Topped up by an operator working in Russian: the activity line is written in their words.
    with scopes_disabled(), translation.override("ru"):
        account_top_up(account=account_for_client(client=customer), amount=Decimal("1234.56"))
    allowed = tenant_data_words(tenant)
    data = set(CYRILLIC_WORD.findall(f"{tenant.name} {customer.name} {customer.company}"))

    log_in(owner.user.username)
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^en"))
    switch_to(page, "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    page.goto("/clients/")
    assert_reads_in_russian(page, allowed, data, "the client list")
    with page.expect_navigation():
        page.get_by_role("link", name="Ромашка").first.click()
    expect(page).to_have_url(re.compile(rf"/clients/{customer.number}/$"))
    assert_reads_in_russian(page, allowed, data, "the client's page")
    with page.expect_navigation():
        page.locator(f'a[href="/billing/clients/{customer.number}/"]').first.click()
    expect(page.get_by_test_id("balance")).to_have_text(
        "1\N{NO-BREAK SPACE}234,56\N{NO-BREAK SPACE}₽"
    )
    assert_reads_in_russian(page, allowed, data, "the Finance tab")

    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.locator('form[action="/logout/"] button').click()
    log_in(owner.user.username)
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    page.goto("/clients/")
    assert_reads_in_russian(page, allowed, data, "the client list after logging in again")

    switch_to(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^en"))
    assert set(CYRILLIC_WORD.findall(headings(page))) <= data, headings(page)
    page.goto(f"/billing/clients/{customer.number}/")
    expect(page.get_by_test_id("balance")).to_have_text("1,234.56 RUB")
