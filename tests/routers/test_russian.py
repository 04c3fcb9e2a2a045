"""The routers pages in Russian: status names, form errors, flash messages, why a status is
unavailable, and the adoption counts in their three plural forms."""

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import PppoeAccountFactory, RouterFactory
from tests.helpers import russian_plurals

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


@pytest.mark.parametrize(
    ("count", "adopted", "new_clients"),
    russian_plurals(
        ("Перенесён {n} секрет", "Перенесено {n} секрета", "Перенесено {n} секретов"),
        ("{n} новый клиент", "{n} новых клиента", "{n} новых клиентов"),
    ),
)
def test_adoption_counts_in_russian_plural_forms(count, adopted, new_clients):
    with translation.override("ru"):
        shown = {"shown": count}
        assert (
            translation.ngettext("%(shown)s secret adopted", "%(shown)s secrets adopted", count)
            % shown
            == adopted
        )
        assert (
            translation.ngettext("%(shown)s new client", "%(shown)s new clients", count) % shown
            == new_clients
        )


def test_router_list_and_accounts_in_russian(client, owner, tenant):
    router = RouterFactory(tenant=tenant, name="Edge")
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    body = client.get(reverse("routers:router_list"), **RU).content.decode()
    assert "Роутеры" in body and "Ещё не опрашивался" in body and "Последний опрос" in body
    accounts = client.get(reverse("routers:account_list"), **RU).content.decode()
    # Unknown, and why: the router has not been polled since the account was added.
    assert "Неизвестно" in accounts and "(не проверено)" in accounts
    assert "Статус подключения недоступен: Ещё не проверено" in accounts
    assert "Логин PPPoE" in accounts


def test_router_form_errors_and_flash_message_in_russian(client, owner, tenant):
    data = {
        "name": "Core 1",
        "host": "127.0.0.1",
        "port": "8728",
        "use_tls": "on",
        "username": "api",
        "password": "Very-secret-router-pw",
        "timeout": "5",
        "enabled": "on",
    }
    refused = client.post(reverse("routers:router_create"), data, **RU)
    assert refused.status_code == 400
    assert "8728 — порт обычного API; API-SSL работает на порту 8729." in refused.content.decode()
    del data["use_tls"]
    saved = client.post(reverse("routers:router_create"), data, follow=True, **RU)
    assert "Роутер «Core 1» сохранён." in saved.content.decode()


def test_the_english_pages_read_as_before(client, owner, tenant):
    RouterFactory(tenant=tenant, name="Edge")
    body = client.get(reverse("routers:router_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Never polled" in body and "Last poll" in body
