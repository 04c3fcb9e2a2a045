"""The Clients section in Russian: the list's counts in their plural forms (1 клиент, 2 клиента,
5 клиентов, 11 клиентов, 21 клиент), flash messages, form and import errors, the import's
Russian headers, the refused rows' workbook and the API's errors."""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from clients.bulk_views import bulk_title
from clients.extensions import BULK_ACTIONS
from clients.importing import client_import_upload, suggested_mapping
from clients.models import Client, ClientStatus
from tenancy.services import api_token_create
from tests.clients.test_client_create import valid_data
from tests.factories import ClientFactory, ClientGroupFactory, make_clients
from tests.helpers import russian_plurals

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
COUNTS = dict(russian_plurals(("клиент", "клиента", "клиентов")))


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_the_lists_matching_count_takes_the_russian_plural(client, owner, tenant, unscoped):
    groups = {n: ClientGroupFactory(tenant=tenant, name=f"Group {n}") for n in COUNTS}
    for n, group in groups.items():
        make_clients(tenant, n, group=group)
    for n, word in COUNTS.items():
        html = client.get("/clients/", {"group": groups[n].pk}, **RU).content.decode()
        assert f'<span data-testid="bulk-matching">{n}</span> {word} по этому фильтру' in html


def test_the_lists_matching_count_reads_as_before_in_english(client, owner, tenant, unscoped):
    group = ClientGroupFactory(tenant=tenant)
    make_clients(tenant, 1, group=group)
    html = client.get("/clients/", {"group": group.pk}).content.decode()
    assert 'All <span data-testid="bulk-matching">1</span> matching this filter' in html


@pytest.mark.parametrize("n", sorted(COUNTS))
def test_the_bulk_actions_title_and_confirmation_count_in_russian(
    client, owner, tenant, unscoped, n
):
    ids = make_clients(tenant, n)
    with translation.override("ru"):
        title = str(bulk_title(BULK_ACTIONS["delete"], n))
    assert title == f"Удалить: {n} {COUNTS[n]}"
    response = client.post(
        "/clients/bulk/", {"action": "delete", "scope": "ticked", "client": ids}, **RU
    )
    html = response.content.decode()
    accusative = dict(russian_plurals(("клиента", "клиентов", "клиентов")))[n]
    assert f"Действие затронет <strong>{n}</strong> {accusative}" in html


def test_bulk_titles_in_english_are_right_at_one(unscoped):
    with translation.override("en"):
        one, many = (str(bulk_title(BULK_ACTIONS["delete"], n)) for n in (1, 1234))
    assert one == "Delete: 1 client" and many == "Delete: 1,234 clients"


def test_a_created_clients_message_and_the_form_errors_are_russian(client, owner, tenant):
    create_url = reverse("clients:client_create")
    refused = client.post(create_url, valid_data(country="ru", itn="1234567890"), **RU)
    assert refused.status_code == 400
    assert "Введите корректный ИНН" in refused.content.decode()
    response = client.post(create_url, valid_data(name="Анна"), follow=True, **RU)
    with scopes_disabled():
        number = Client.objects.get(tenant=tenant, name="Анна").number
    assert f"Клиент #{number} Анна создан." in response.content.decode()


def test_the_client_page_shows_russian_labels_and_status(client, owner, tenant, unscoped):
    made = ClientFactory(tenant=tenant, status=ClientStatus.ADMINISTRATIVE_HOLD)
    html = client.get(made.get_absolute_url(), **RU).content.decode()
    assert "Основные сведения" in html and "ID клиента" in html
    assert "Административная блокировка" in html and "Общие сведения" in html


def test_a_deleted_client_cannot_be_edited_says_so_in_russian(client, owner, tenant, unscoped):
    made = ClientFactory(tenant=tenant, status=ClientStatus.DELETED)
    response = client.get(
        reverse("clients:client_edit", kwargs={"number": made.number}), follow=True, **RU
    )
    assert "Удалённого клиента нельзя изменить." in response.content.decode()


def test_import_headers_match_in_russian_and_in_english(tenant):
    with scope(tenant=tenant), translation.override("ru"):
        russian = suggested_mapping(tenant, ["Имя", "ИНН", "Логин", "Компания", "Телефон"], None)
    with scope(tenant=tenant), translation.override("en"):
        english = suggested_mapping(tenant, ["Name", "ITN", "Login", "Company"], None)
        russian_in_english = suggested_mapping(tenant, ["ИНН", "Компания"], None)
    assert russian == {
        "Имя": "name",
        "ИНН": "itn",
        "Логин": "login",
        "Компания": "company",
        "Телефон": "phone",
    }
    assert english == {"Name": "name", "ITN": "itn", "Login": "login", "Company": "company"}
    assert russian_in_english == {"ИНН": "itn", "Компания": "company"}


def test_import_refusals_and_the_refused_workbook_in_russian(
    client, owner, tenant, tmp_path, media
):
    path = tmp_path / "clients.csv"
    path.write_text("Внешний ID,Имя\nA1,Анна\nA1,Борис\n,Вера\n", encoding="utf-8")
    with scope(tenant=tenant), translation.override("ru"):
        job = client_import_upload(
            tenant=tenant, actor=owner.user, path=str(path), file_name="clients.csv"
        )
    html = client.get(job.get_absolute_url(), **RU).content.decode()
    assert "Совпадает со строкой 2 файла." in html
    assert "Пусто, а по этому полю ищутся клиенты." in html
    assert "Предпросмотр 3 строк" in html
    response = client.get(reverse("exports:client_import_refused", kwargs={"pk": job.pk}), **RU)
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.title == "Отклонённые строки"
    assert [c.value for c in sheet[1]] == ["Внешний ID", "Имя", "Строка", "Причина"]


def test_an_upload_refused_in_russian(client, owner, tenant, media):
    upload = io.BytesIO(b"")
    upload.name = "empty.csv"
    response = client.post(reverse("clients:client_import"), {"file": upload}, **RU)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Файл пуст." in html or "Отправленный файл пуст." in html


def test_the_api_refuses_in_russian(client, tenant, unscoped):
    made = ClientFactory(tenant=tenant, status=ClientStatus.DELETED)
    secret = api_token_create(tenant=tenant, actor=None, name="t", scope="owner").secret
    response = client.patch(
        f"/api/v1/clients/{made.number}/",
        data={"name": "Новое"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        **RU,
    )
    assert response.status_code == 422
    assert "Удалённого клиента нельзя изменить." in response.json()["detail"]
