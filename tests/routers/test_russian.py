"""The routers pages in Russian: status names, form errors, flash messages, why a status is
unavailable, and the adoption counts in their three plural forms."""

import pytest
from django.urls import reverse
from django.utils import translation

from routers.models import RouterAdoption
from routers.views import adoption_all_label, adoption_outcome, adoption_summary
from tests.factories import PppoeAccountFactory, RouterFactory

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


def outcome(adopted: int, created: int) -> str:
    job = RouterAdoption(adopted=[["s", 1]] * adopted, clients_created=created)
    return " ".join(adoption_outcome(job))


@pytest.mark.parametrize(
    ("language", "count", "select_all", "summary", "adopted"),
    [
        (
            "en",
            1,
            "Select the one secret that can be adopted",
            "1 secret will be adopted as a new client.",
            "1 secret adopted, 1 of them as a new client.",
        ),
        (
            "en",
            2,
            "Select all 2 secrets that can be adopted",
            "2 secrets will be adopted as new clients.",
            "2 secrets adopted, 2 of them as new clients.",
        ),
        (
            "en",
            5,
            "Select all 5 secrets that can be adopted",
            "5 secrets will be adopted as new clients.",
            "5 secrets adopted, 5 of them as new clients.",
        ),
        (
            "ru",
            1,
            "Выбрать 1 секрет, доступный для переноса",
            "1 секрет будет перенесён как новый клиент.",
            "Перенесён 1 секрет, 1 из них — как новый клиент.",
        ),
        (
            "ru",
            2,
            "Выбрать все 2 секрета, доступных для переноса",
            "2 секрета будут перенесены как новые клиенты.",
            "Перенесено 2 секрета, 2 из них — как новые клиенты.",
        ),
        (
            "ru",
            5,
            "Выбрать все 5 секретов, доступных для переноса",
            "5 секретов будут перенесены как новые клиенты.",
            "Перенесено 5 секретов, 5 из них — как новые клиенты.",
        ),
        (
            "ru",
            21,
            "Выбрать 21 секрет, доступный для переноса",
            "21 секрет будет перенесён как новый клиент.",
            "Перенесён 21 секрет, 21 из них — как новый клиент.",
        ),
    ],
)
def test_the_adoptions_counted_sentences_read_right(language, count, select_all, summary, adopted):
    with translation.override(language):
        assert adoption_all_label(count) == select_all
        assert adoption_summary(chosen=count, new_clients=count, on_hold=0)[0] == summary
        assert outcome(count, count) == adopted


def test_a_mixed_adoption_names_each_part_with_its_own_count():
    assert adoption_summary(chosen=3, new_clients=1, on_hold=1) == [
        "3 secrets will be adopted: 1 as a new client, 2 as the PPPoE accounts of the clients "
        "shown.",
        "1 client is on hold: its secret will be disabled on the router; nothing else on the "
        "router changes.",
    ]
    with translation.override("ru"):
        assert adoption_summary(chosen=5, new_clients=2, on_hold=5) == [
            "Будет перенесено 5 секретов: 2 — как новые клиенты, 3 — как PPPoE-аккаунты "
            "указанных клиентов.",
            "Все 5 клиентов заблокированы: их секреты будут отключены на роутере.",
        ]
    assert outcome(0, 0) == "No secret was adopted."
    assert outcome(2, 0) == "2 secrets adopted."


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
    twice = client.post(reverse("routers:router_create"), {**data, "name": "core 1"}, **RU)
    assert twice.status_code == 400
    assert "Роутер с таким названием уже есть." in twice.content.decode()


def test_the_english_pages_read_as_before(client, owner, tenant):
    RouterFactory(tenant=tenant, name="Edge")
    body = client.get(reverse("routers:router_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Never polled" in body and "Last poll" in body
