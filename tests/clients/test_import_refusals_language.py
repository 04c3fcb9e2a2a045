"""A refused import row keeps its field's label and its reason as their messages: Django's
form messages by their msgid and parameters (a plural one with its count), the import's own
reasons likewise. Previewed or committed with English active, they read in Russian for a
Russian operator and in English for an English one, on the import's page and in the refused
rows' workbook; a row refused before keeps its words."""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from clients.importing import client_import_commit, client_import_execute, client_import_upload
from clients.models import ClientImportRefusal
from core.stored_text import StoredText, literal_text
from tests.helpers import migrated_back_to

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LONG = "N" * 201
CSV = (
    "External ID,Name,E-mail\n"
    "R1,Ann,ann@example.com\n"
    "R2,,b@example.com\n"
    "R3,Bob,not-an-address\n"
    "R1,Dup,dup@example.com\n"
    f"R5,{LONG},long@example.com\n"
).encode()
# (line, field, reason) as each language reads them.
ENGLISH = [
    (3, "Name", "This field is required."),
    (4, "E-mail", "Enter a valid email address."),
    (5, "External reference", "The same as line 2 of the file."),
    (6, "Name", "Ensure this value has at most 200 characters (it has 201)."),
]
RUSSIAN = [
    (3, "Название", "Обязательное поле."),
    (4, "Эл. почта", "Введите правильный адрес электронной почты."),
    (5, "Внешний идентификатор", "Совпадает со строкой 2 файла."),
    (6, "Название", "Убедитесь, что это значение содержит не более 200 символов (сейчас 201)."),
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def previewed(tenant, tmp_path):
    """The file previewed with English active (the command, or an English operator)."""
    path = tmp_path / "clients.csv"
    path.write_bytes(CSV)
    with scope(tenant=tenant), translation.override("en"):
        return client_import_upload(tenant=tenant, actor=None, path=str(path), file_name="c.csv")


def refused_on_page(client, job, **language) -> list[tuple]:
    page = client.get(reverse("clients:client_import_detail", kwargs={"pk": job.pk}), **language)
    return [(row.line, row.field_label, str(row.reason)) for row in page.context["refused"]]


def refused_in_workbook(client, job, **language) -> list[tuple]:
    download = client.get(
        reverse("exports:client_import_refused", kwargs={"pk": job.pk}), **language
    )
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    return [tuple(row[3:5]) for row in rows[1:]]


def test_the_reasons_are_stored_as_messages(previewed):
    with scopes_disabled():
        refusals = list(ClientImportRefusal.objects.filter(job=previewed))
    assert all(isinstance(r.reason, StoredText) and not r.reason.literal for r in refusals)
    too_long = refusals[-1].reason
    assert (too_long.count, too_long.params["show_value"]) == (200, 201)
    assert refusals[0].field.msgid == "name"  # the label's msgid, not its words


def test_the_preview_reads_in_each_operators_language(client, owner, previewed):
    assert refused_on_page(client, previewed, **RU) == RUSSIAN
    assert refused_on_page(client, previewed, **EN) == ENGLISH
    html = client.get(previewed.get_absolute_url(), **RU).content.decode()
    assert "<td>Эл. почта</td><td>Введите правильный адрес электронной почты.</td>" in html


def test_the_refused_rows_workbook_reads_in_the_downloaders_language(client, owner, previewed):
    assert refused_in_workbook(client, previewed, **RU) == [
        (line, f"{field}: {reason}") for line, field, reason in RUSSIAN
    ]
    assert refused_in_workbook(client, previewed, **EN) == [
        (line, f"{field}: {reason}") for line, field, reason in ENGLISH
    ]


def test_the_commits_refused_rows_read_in_the_readers_language(client, owner, previewed):
    with scope(tenant=previewed.tenant), translation.override("en"):
        job = client_import_commit(job=previewed, actor=None, queue=False)
        job = client_import_execute(job=job)
    assert job.status == "done", job.error
    assert refused_on_page(client, job, **RU) == RUSSIAN
    assert refused_on_page(client, job, **EN) == ENGLISH


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_old_refused_rows_as_they_were(previewed):
    with migrated_back_to(("clients", "0015_translatable_names")) as cursor:
        cursor.execute(
            "UPDATE clients_clientimportrefusal SET field = %s, reason = %s WHERE line = 3",
            ["E-mail", 'Enter a valid email address (100% "sure").'],
        )
    with scopes_disabled():
        old = ClientImportRefusal.objects.get(job=previewed, line=3)
        new = ClientImportRefusal.objects.get(job=previewed, line=4)
    assert old.field == literal_text("E-mail")
    assert old.reason == literal_text('Enter a valid email address (100% "sure").')
    with translation.override("ru"):
        assert (old.field_label, str(old.reason)) == (
            "E-mail",
            'Enter a valid email address (100% "sure").',
        )
    # Back and forth again, a message keeps its English words (the column held text between).
    assert new.reason == literal_text("Enter a valid email address.")
