"""An event's description is stored as its message: each operator reads it in their own
language and formats, whoever wrote it (an operator of the other language, a beat job), on
the client timeline, the audit log and its .xlsx export; old rows keep their sentence; a plain
sentence is refused when an event is written."""

import json
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from billing.models import Account
from billing.services import account_for_client, account_top_up
from clients.services import client_update
from core.stored_text import StoredText, literal_text, stored_gettext
from events.models import Event
from events.services import EventLine, event_record, events_record_bulk
from events.webhooks import webhook_body
from exports.lists import LIST_EXPORT_KIND
from exports.models import ExportJob
from exports.tasks import export_job_run
from holds.services import financial_holds_run
from tenancy.models import OperatorProfile
from tests.factories import ClientFactory, MembershipFactory

pytestmark = pytest.mark.django_db
NBSP = "\N{NO-BREAK SPACE}"
AUDIT = reverse("events:event_list")


def operator(tenant, language: str):
    membership = MembershipFactory(tenant=tenant, role="owner")
    OperatorProfile.objects.create(user=membership.user, language=language)
    return membership.user


@pytest.fixture
def history(tenant):
    """Acme's history: an English operator renamed it and topped it up, the financial-holds
    job put a debtor on hold, a Russian operator topped Acme up again, and a row from before
    stored messages says what it said."""
    tenant.financial_hold_grace_days = 0
    tenant.save()
    english, russian = operator(tenant, "en"), operator(tenant, "ru")
    acme = ClientFactory(tenant=tenant, name="Acme")
    debtor = ClientFactory(tenant=tenant, name="Debtor")
    with scopes_disabled():
        account = account_for_client(client=acme)
        account_for_client(client=debtor)
        Account.objects.filter(client=debtor).update(balance=Decimal("-5"))
        with translation.override("en"):
            client_update(client=acme, actor=english, name="Acme Two")
            account_top_up(account=account, amount=Decimal("1234.50"), actor=english)
            financial_holds_run(tenant=tenant)
        with translation.override("ru"):
            account_top_up(account=account, amount=Decimal("10"), actor=russian, comment="Касса")
        Event.objects.create(
            tenant=tenant, client_id=acme.pk, type="client.updated", description="Old sentence"
        )
    return {"english": english, "russian": russian, "acme": acme, "debtor": debtor}


def texts_of(page) -> list[str]:
    return [str(row.record.description) for row in page.context["table"].page.object_list]


def test_a_russian_operator_reads_russian_on_the_timeline(client, history):
    client.force_login(history["russian"])
    number = history["acme"].number
    page = client.get(reverse("clients:client_activity", kwargs={"number": number}))
    texts = texts_of(page)
    assert "Название: Acme → Acme Two" in texts
    assert f"Пополнение 1{NBSP}234,50{NBSP}€, баланс 1{NBSP}234,50{NBSP}€" in texts
    assert f"Пополнение 10,00{NBSP}€, баланс 1{NBSP}244,50{NBSP}€ (Касса)" in texts
    assert "Old sentence" in texts  # a row from before messages
    detail = client.get(reverse("clients:client_detail", kwargs={"number": number}))
    assert "Название: Acme → Acme Two" in detail.content.decode()


def test_an_english_operator_reads_english_for_what_a_russian_wrote(client, history):
    client.force_login(history["english"])
    number = history["acme"].number
    texts = texts_of(client.get(reverse("clients:client_activity", kwargs={"number": number})))
    assert "Top-up 10.00 EUR, balance 1,244.50 EUR (Касса)" in texts
    assert "Name: Acme → Acme Two" in texts


def test_the_audit_log_reads_a_jobs_event_in_each_readers_language(client, history):
    client.force_login(history["russian"])
    russian = texts_of(client.get(AUDIT, {"type": "hold.placed"}))
    assert len(russian) == 1
    assert russian[0].startswith(
        f"Финансовая блокировка поставлена: Долг: доступно -5,00{NBSP}€ (ниже нуля с "
    )
    client.force_login(history["english"])
    english = texts_of(client.get(AUDIT, {"type": "hold.placed"}))
    assert english[0].startswith("Financial hold set: Debt: available funds -5.00 EUR (below")


def exported_descriptions(client, tenant) -> list[str]:
    client.post(reverse("exports:list_export"), {"list_path": AUDIT, "list_query": ""})
    with scopes_disabled():
        job = ExportJob.objects.filter(tenant=tenant, kind=LIST_EXPORT_KIND).latest("pk")
    export_job_run(job.pk, tenant_id=tenant.pk)  # the worker, in the language of its starter
    job.refresh_from_db()
    assert job.status == "done", job.error
    with job.file.open("rb") as handle:
        rows = list(load_workbook(handle, read_only=True).active.iter_rows(values_only=True))
    return [row[2] for row in rows[1:]]


def test_the_audit_export_is_in_the_language_of_who_asked_for_it(client, tenant, history):
    client.force_login(history["russian"])
    russian = exported_descriptions(client, tenant)
    assert f"Пополнение 10,00{NBSP}€, баланс 1{NBSP}244,50{NBSP}€ (Касса)" in russian
    assert "Old sentence" in russian
    client.force_login(history["english"])
    english = exported_descriptions(client, tenant)
    assert "Top-up 10.00 EUR, balance 1,244.50 EUR (Касса)" in english


def test_a_webhook_body_carries_the_tenants_sentence_and_the_message(tenant, history):
    tenant.language = "ru"
    with scopes_disabled():
        event = Event.objects.filter(tenant=tenant, type="client.updated").earliest("pk")
    document = json.loads(webhook_body(event, tenant))
    assert document["description"] == "Название: Acme → Acme Two"
    message = document["description_message"]
    assert message["msgid"] == "%(field)s: %(old)s → %(new)s"
    assert message["params"]["new"] == "Acme Two"


def test_a_plain_sentence_is_refused(tenant):
    with scope(tenant=tenant), transaction.atomic():
        with pytest.raises(TypeError, match="StoredText"):
            event_record(tenant=tenant, type="client.updated", description="Edited")
        with pytest.raises(TypeError, match="StoredText"):
            EventLine(type="client.updated", client_id=None, description="Edited")
        with pytest.raises(TypeError, match="StoredText"):
            events_record_bulk(
                tenant=tenant,
                lines=[EventLine(type="client.updated", client_id=None, description=b"x")],
            )
        event = event_record(
            tenant=tenant, type="client.updated", description=stored_gettext("Client created")
        )
        event_record(tenant=tenant, type="client.updated", description=literal_text("As is"))
    assert isinstance(event.description, StoredText)
    with translation.override("ru"):
        assert str(event).endswith("client.updated: Клиент создан")


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_old_sentences_as_literal_text(tenant):
    executor = MigrationExecutor(connection)
    before = [("events", "0007_translatable_names")]
    executor.migrate(before)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO events_event (tenant_id, created_at, type, actor_kind, actor_label, "
                "object_type, description, payload) VALUES "
                "(%s, now(), 'client.created', 'system', 'system', 'client', %s, '{}')",
                [tenant.pk, 'Client created 100% {"quoted"}'],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    with scopes_disabled():
        event = Event.objects.get(tenant=tenant, type="client.created")
    assert event.description == StoredText.of_literal('Client created 100% {"quoted"}')
    with translation.override("ru"):
        assert str(event.description) == 'Client created 100% {"quoted"}'
