"""A job's title is stored as its message: the operator who starts an export or a bulk action
writes it once, in their language, and each colleague reads it in their own, on the Exports
page, the job's page and over the API; a title stored before keeps its words."""

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from billing.exports import ledger_export_start
from billing.selectors import Period
from clients.bulk_views import bulk_title
from clients.extensions import BULK_ACTIONS
from clients.models import ClientBulkAction
from core.stored_text import StoredText, literal_text
from exports.models import ExportJob
from exports.services import export_job_create
from tenancy.models import OperatorProfile
from tenancy.services import api_token_create
from tests.factories import ClientFactory, MembershipFactory
from tests.helpers import migrated_back_to

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def owner_in(tenant, language: str):
    membership = MembershipFactory(tenant=tenant, role="owner")
    OperatorProfile.objects.create(user=membership.user, language=language)
    return membership.user


def reloaded(model, pk):
    with scopes_disabled():
        return model.objects.get(pk=pk)


@pytest.fixture
def ledger_job(tenant):
    """A ledger export an English operator started: (the job, its client's number)."""
    customer = ClientFactory(tenant=tenant, name="Anna Petrova")
    with scopes_disabled(), translation.override("en"):
        job = ledger_export_start(
            client=customer,
            actor=owner_in(tenant, "en"),
            period=Period(start=date(2026, 3, 1), end=date(2026, 3, 31)),
            sort=None,
        )
    return reloaded(ExportJob, job.pk), customer.number


def test_an_exports_title_is_stored_as_its_message(ledger_job):
    job, number = ledger_job
    assert isinstance(job.title, StoredText) and not job.title.literal
    with translation.override("ru"):
        assert job.heading.startswith(f"Операции №{number} Anna Petrova, ")
    with translation.override("en"):
        assert job.heading.startswith(f"Transactions of #{number} Anna Petrova, ")


def test_the_exports_pages_read_the_title_in_each_colleagues_language(client, tenant, ledger_job):
    job, number = ledger_job
    detail = reverse("exports:export_detail", kwargs={"pk": job.pk})
    client.force_login(owner_in(tenant, "ru"))
    for path in (reverse("exports:export_list"), detail):
        html = client.get(path).content.decode()
        assert f"Операции №{number} Anna Petrova" in html and "Transactions of" not in html
    client.force_login(owner_in(tenant, "en"))
    html = client.get(reverse("exports:export_list")).content.decode()
    assert f"Transactions of #{number} Anna Petrova" in html and "Операции" not in html


def test_the_api_answers_the_title_in_the_callers_language(client, tenant, ledger_job):
    job, number = ledger_job
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="t", scope="owner").secret
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    path = f"/api/v1/exports/{job.pk}/"
    assert client.get(path, **bearer, **RU).json()["title"].startswith(f"Операции №{number}")
    assert client.get(path, **bearer, **EN).json()["title"].startswith("Transactions of #")


def test_a_lists_export_is_called_by_its_rows_name_capitalized(tenant):
    with scopes_disabled():
        job = export_job_create(tenant=tenant, actor=None, kind="exports.list", parameters={})
    with translation.override("ru"):
        assert job.heading == "Список"
    with translation.override("en"):
        assert job.heading == "List"


def test_a_plain_string_is_refused_as_a_title(tenant):
    with scopes_disabled(), pytest.raises(TypeError, match="An export's title is a StoredText"):
        export_job_create(
            tenant=tenant, actor=None, kind="exports.list", parameters={}, title="Clients"
        )


def test_a_bulk_actions_title_reads_in_the_readers_language_with_its_plural(tenant):
    action = BULK_ACTIONS["delete"]
    with translation.override("en"):
        title = bulk_title(action, 21)
    with scopes_disabled():
        job = ClientBulkAction.objects.create(tenant=tenant, action="delete", title=title)
    job = reloaded(ClientBulkAction, job.pk)
    with translation.override("ru"):
        assert str(job.title) == "Удалить: 21 клиент"
        assert str(bulk_title(action, 5)) == "Удалить: 5 клиентов"
    with translation.override("en"):
        assert str(job.title) == "Delete: 21 clients"


@pytest.mark.django_db(transaction=True)
def test_the_migrations_keep_an_old_title_as_it_was(tenant):
    with scopes_disabled():
        export = ExportJob.objects.create(tenant=tenant, kind="exports.list", title="x")
        bulk = ClientBulkAction.objects.create(tenant=tenant, action="delete", title="x")
    with (
        migrated_back_to(
            ("exports", "0007_translatable_names"), ("clients", "0016_import_refusal_stored_text")
        ),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE exports_exportjob SET title = %s WHERE id = %s",
            ["Ledger (100%)", export.pk],
        )
        cursor.execute(
            "UPDATE clients_clientbulkaction SET title = %s WHERE id = %s",
            ["Delete: 5 clients", bulk.pk],
        )
    assert reloaded(ExportJob, export.pk).title == literal_text("Ledger (100%)")
    with translation.override("ru"):
        assert str(reloaded(ClientBulkAction, bulk.pk).title) == "Delete: 5 clients"
