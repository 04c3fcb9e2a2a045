"""Why an import or a bulk action failed is stored as its message: the worker (or beat's
sweep) writes it once, in English, and each reader reads it in their own language on the
job's page and in the admin; the clients migration keeps an old error's words forward and a
message's back."""

import csv
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_scopes import scope, scopes_disabled

from clients.bulk import client_bulk_action_execute
from clients.importing import client_import_upload
from clients.models import BulkActionStatus, ClientBulkAction, ClientImport, ImportStatus
from core.leases import leases_sweep
from core.stored_text import literal_text, stored_gettext
from tests.factories import UserFactory
from tests.helpers import force_login_verified, migrated_back_to

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
GONE = "The operator who started this action no longer works here."
STOPPED = "The worker stopped during this work (3 times: restarted or out of memory)."


def russian(text: str) -> str:
    with translation.override("ru"):
        translated = gettext(text)
    assert translated != text, f"{text!r} has no Russian translation"
    return translated


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def given_up_import(tenant, tmp_path):
    """An import whose worker was killed three times, given up by beat's sweep in English."""
    path = tmp_path / "clients.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["Client name"], ["Alpha"]])
    with scope(tenant=tenant):
        job = client_import_upload(tenant=tenant, actor=None, path=str(path), file_name="c.csv")
    with scopes_disabled():
        ClientImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.RUNNING,
            attempts=3,
            lease_expires_at=timezone.now() - timedelta(seconds=1),
        )
    with translation.override("en"):
        assert leases_sweep() == {"clients.clientimport:failed": 1}
    with scopes_disabled():
        return ClientImport.objects.get(pk=job.pk)


@pytest.fixture
def gone_action(tenant):
    """A bulk action whose operator left before the worker, running in English, got to it."""
    with scopes_disabled():
        job = ClientBulkAction.objects.create(
            tenant=tenant, action="hold_place", title="Hold", selection={"ids": []}
        )
    with translation.override("en"), scope(tenant=tenant):
        job = client_bulk_action_execute(job=job)
    assert job.status == BulkActionStatus.FAILED
    return job


def test_the_reasons_are_stored_as_messages(given_up_import, gone_action):
    assert given_up_import.error.plural and given_up_import.error.count == 3
    assert gone_action.error == stored_gettext(GONE)
    with translation.override("en"):
        assert (str(given_up_import.error), str(gone_action.error)) == (STOPPED, GONE)
    with translation.override("ru"):
        assert str(gone_action.error) == russian(GONE)
        assert str(given_up_import.error) == (
            "Обработчик останавливался во время этой работы "
            "(3 раза: перезапуск или нехватка памяти)."
        )


def test_the_import_page_reads_in_the_readers_language(client, owner, given_up_import):
    page = reverse("clients:client_import_detail", args=[given_up_import.pk])
    russian_page = client.get(page, **RU).content.decode()
    assert str_in(given_up_import.error, "ru", russian_page) and STOPPED not in russian_page
    assert STOPPED in client.get(page, **EN).content.decode()


def test_the_bulk_action_page_reads_in_the_readers_language(client, owner, gone_action):
    page = reverse("clients:client_bulk_action_detail", args=[gone_action.pk])
    russian_page = client.get(page, **RU).content.decode()
    assert russian(GONE) in russian_page and GONE not in russian_page
    assert GONE in client.get(page, **EN).content.decode()


def test_the_admin_shows_the_reasons_rendered(client, given_up_import, gone_action):
    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    action = client.get(
        reverse("admin:clients_clientbulkaction_change", args=[gone_action.pk]), **RU
    ).content.decode()
    assert russian(GONE) in action and '"msgid"' not in action
    imported = client.get(
        reverse("admin:clients_clientimport_change", args=[given_up_import.pk]), **EN
    ).content.decode()
    assert STOPPED in imported and '"msgid"' not in imported


def str_in(text, language: str, page: str) -> bool:
    with translation.override(language):
        return str(text) in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_old_errors_forward_and_messages_back(tenant):
    with scopes_disabled():
        job = ClientBulkAction.objects.create(
            tenant=tenant, action="hold_place", title="Hold", error=stored_gettext(GONE)
        )
    with migrated_back_to(("clients", "0016_import_refusal_stored_text")) as cursor:
        cursor.execute("SELECT error FROM clients_clientbulkaction WHERE id = %s", [job.pk])
        assert cursor.fetchone() == (GONE,)
        cursor.execute(
            "UPDATE clients_clientbulkaction SET error = %s WHERE id = %s",
            ["The client type was removed (100%).", job.pk],
        )
    with scopes_disabled():
        error = ClientBulkAction.objects.get(pk=job.pk).error
    assert error == literal_text("The client type was removed (100%).")
    with translation.override("ru"):
        assert str(error) == "The client type was removed (100%)."
