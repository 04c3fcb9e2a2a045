"""Why an export failed is stored as its message: the worker writes it once, in English, and
each reader reads it in their own language on the export's page, in the API and the admin;
an error stored before keeps its words, and the migration back keeps the message's words."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django_scopes import scopes_disabled

from core.stored_text import StoredText, literal_text, stored_gettext
from exports.models import ExportJob, ExportStatus
from exports.tasks import export_job_run
from tenancy.services import api_token_create
from tests.factories import ClientFactory, UserFactory
from tests.helpers import force_login_verified, ledger_export_create, migrated_back_to

pytestmark = pytest.mark.django_db

ENGLISH = "The client of this export no longer exists."
RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def russian(msgid: str) -> str:
    with translation.override("ru"):
        text = gettext(msgid)
    assert text != msgid, f"{msgid!r} has no Russian translation"
    return text


@pytest.fixture
def failed(tenant, owner):
    """An export whose client went away before the worker, running in English, got to it."""
    job = ledger_export_create(owner.user, ClientFactory(tenant=tenant))
    with scopes_disabled():
        ExportJob.objects.filter(pk=job.pk).update(
            parameters={**job.parameters, "client_number": 999999}
        )
    with translation.override("en"):
        assert export_job_run(job.pk, tenant_id=tenant.pk) == ExportStatus.FAILED
    with scopes_disabled():
        return ExportJob.objects.get(pk=job.pk)


def test_the_reason_is_stored_as_its_message(failed):
    assert failed.error == stored_gettext(ENGLISH)
    with translation.override("ru"):
        assert str(failed.error) == russian(ENGLISH)


def test_the_export_page_reads_in_the_readers_language(client, failed):
    page = reverse("exports:export_detail", args=[failed.pk])
    assert russian(ENGLISH) in client.get(page, **RU).content.decode()
    english = client.get(page, **EN).content.decode()
    assert ENGLISH in english and russian(ENGLISH) not in english


def test_the_api_answers_the_reason_in_the_callers_language(client, tenant, failed):
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="t", scope="owner").secret
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    path = f"/api/v1/exports/{failed.pk}/"
    assert client.get(path, **bearer, **RU).json()["error"] == russian(ENGLISH)
    assert client.get(path, **bearer, **EN).json()["error"] == ENGLISH


def test_the_admin_shows_the_reason_rendered(client, failed):
    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    change = reverse("admin:exports_exportjob_change", args=[failed.pk])
    body = client.get(change, **RU).content.decode()
    assert russian(ENGLISH) in body and '"msgid"' not in body
    assert ENGLISH in client.get(change, **EN).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_an_old_error_forward_and_a_message_back(tenant):
    owner = UserFactory()
    job = ledger_export_create(owner, ClientFactory(tenant=tenant))
    with scopes_disabled():
        ExportJob.objects.filter(pk=job.pk).update(error=stored_gettext(ENGLISH))
    with migrated_back_to(("exports", "0007_translatable_names")) as cursor:
        cursor.execute("SELECT error FROM exports_exportjob WHERE id = %s", [job.pk])
        assert cursor.fetchone() == (ENGLISH,)
        cursor.execute(
            "UPDATE exports_exportjob SET error = %s WHERE id = %s",
            ["The database went away (100%).", job.pk],
        )
    with scopes_disabled():
        error = ExportJob.objects.get(pk=job.pk).error
    assert isinstance(error, StoredText) and error == literal_text("The database went away (100%).")
    with translation.override("ru"):
        assert str(error) == "The database went away (100%)."
