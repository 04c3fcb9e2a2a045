"""A hold's reasons are stored as their messages: the financial-hold job, a beat job with
English active, writes the debt once, and each reader reads it in their own language on the
client page (its Holds block and timeline), the dashboard, the audit log's export and the API;
an operator's typed reason is shown as typed in both; the webhook payload carries the reason in
the tenant's language and its message; an old row keeps its sentence, forward and back."""

import json
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from billing.models import Account
from billing.services import account_charge, account_top_up
from core.stored_text import StoredText, literal_text, stored_gettext
from events.models import Event
from events.outbox import OutboxEmail, emails_render
from events.webhooks import webhook_body
from exports.lists import LIST_EXPORT_KIND
from exports.models import ExportJob, ExportStatus
from exports.tasks import export_job_run
from holds.admin import ClientHoldAdmin
from holds.models import ClientHold
from holds.services import (
    client_place_hold,
    client_release_hold,
    clients_place_hold,
    financial_holds_run,
)
from tenancy.services import api_token_create
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
DEBT_EN = "Debt: available funds"
DEBT_RU = "Долг: доступно"
TYPED = "Проверка договора «Север» — 100% оплаты"


def _account(client):
    with scopes_disabled():
        return Account.objects.select_related("tenant").get(client=client)


@pytest.fixture
def debtor(tenant, funded):
    """A client below zero put on financial hold by the job, run with English active."""
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant, name="Debtor Ltd", email="debtor@example.com")
    with scopes_disabled():
        account_charge(
            account=_account(client),
            amount=Decimal("10.00"),
            purpose=literal_text("Usage"),
            allow_overdraft=True,
        )
        with translation.override("en"):
            assert financial_holds_run(tenant=tenant)["held"] == 1
    return client


def the_hold(client) -> ClientHold:
    with scopes_disabled():
        return ClientHold.objects.get(client=client)


def test_the_job_stores_the_debt_as_a_message(debtor):
    reason = the_hold(debtor).reason
    assert isinstance(reason, StoredText) and not reason.literal
    assert reason.msgid == "Debt: available funds %(amount)s (below zero since %(since)s)"
    with translation.override("ru"):
        assert str(reason).startswith(DEBT_RU)
    with translation.override("en"):
        assert str(reason).startswith(DEBT_EN)


def test_the_client_page_reads_the_debt_in_each_operators_language(client, owner, debtor):
    url = debtor.get_absolute_url()
    russian = client.get(url, **RU).content.decode()
    assert DEBT_RU in russian and DEBT_EN not in russian
    english = client.get(url, **EN).content.decode()
    assert DEBT_EN in english and DEBT_RU not in english


def test_the_timeline_reads_the_debt_in_each_operators_language(owner, debtor):
    with scopes_disabled():
        line = Event.objects.get(client_id=debtor.pk, type="hold.placed")
    with translation.override("ru"):
        assert DEBT_RU in str(line.description)
    with translation.override("en"):
        assert DEBT_EN in str(line.description)


def test_the_dashboard_reads_the_debt_in_each_operators_language(client, owner, debtor):
    url = reverse("holds:dashboard")
    russian = client.get(url, **RU).content.decode()
    assert DEBT_RU in russian and DEBT_EN not in russian
    english = client.get(url, **EN).content.decode()
    assert DEBT_EN in english and DEBT_RU not in english


def exported_audit_log(client, **language) -> str:
    """The audit log's .xlsx (the hold's event among its rows), started in `language`."""
    client.post(
        reverse("exports:list_export"),
        {"list_path": reverse("events:event_list"), "list_query": "type=hold.placed"},
        **language,
    )
    with scopes_disabled():
        job = ExportJob.objects.filter(kind=LIST_EXPORT_KIND).latest("pk")
    export_job_run(job.pk, tenant_id=job.tenant_id)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    download = client.get(reverse("exports:export_download", kwargs={"pk": job.pk}))
    sheet = load_workbook(BytesIO(b"".join(download.streaming_content))).worksheets[0]
    return " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)


def test_the_export_reads_the_debt_in_the_language_it_was_started_in(client, owner, debtor):
    russian = exported_audit_log(client, **RU)
    assert DEBT_RU in russian and DEBT_EN not in russian
    english = exported_audit_log(client, **EN)
    assert DEBT_EN in english and DEBT_RU not in english


@pytest.fixture
def bearer(tenant):
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="t", scope="viewer").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_the_api_answers_the_reasons_as_strings_in_the_callers_language(
    client, bearer, debtor, django_capture_on_commit_callbacks
):
    (russian,) = client.get("/api/v1/holds/", **bearer, **RU).json()["items"]
    assert russian["reason"].startswith(DEBT_RU)
    (english,) = client.get("/api/v1/holds/", **bearer, **EN).json()["items"]
    assert english["reason"].startswith(DEBT_EN)
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        account_top_up(account=_account(debtor), amount=Decimal("10.00"))  # lifts the hold
    path = f"/api/v1/clients/{debtor.number}/holds/"
    (lifted,) = client.get(path, **bearer, **RU).json()["items"]
    assert lifted["lift_reason"].startswith("Средства восстановлены до")
    (lifted,) = client.get(path, **bearer, **EN).json()["items"]
    assert lifted["lift_reason"].startswith("Funds back to")


def test_an_operators_reason_is_shown_as_typed_in_both_languages(client, owner, bearer, tenant):
    customer = ClientFactory(tenant=tenant)
    url = reverse("holds:client_hold", kwargs={"number": customer.number})
    client.post(url, {"reason": f"  {TYPED}  "}, **EN)
    assert the_hold(customer).reason == literal_text(TYPED)
    for language in (RU, EN):
        assert TYPED in client.get(customer.get_absolute_url(), **language).content.decode()
        (row,) = client.get("/api/v1/holds/", **bearer, **language).json()["items"]
        assert row["reason"] == TYPED


def test_the_admin_shows_and_finds_the_reasons_as_text(debtor, tenant):
    typed = ClientFactory(tenant=tenant)
    with scopes_disabled(), transaction.atomic():
        client_place_hold(tenant=tenant, client=typed, reason=literal_text(TYPED))
    admin = ClientHoldAdmin(ClientHold, None)
    with translation.override("ru"):
        assert admin.reason_shown(the_hold(debtor)).startswith(DEBT_RU)
    request = RequestFactory().get("/admin/holds/clienthold/")
    with scopes_disabled():
        for words, found in (("договора «Север»", typed), ("available funds", debtor)):
            results, _duplicates = admin.get_search_results(
                request, ClientHold.objects.all(), words
            )
            assert [hold.client_id for hold in results] == [found.pk]


def test_the_services_refuse_a_plain_string(tenant, funded):
    customer = funded(tenant)
    with scopes_disabled(), transaction.atomic():
        with pytest.raises(TypeError, match="A hold's reason is a StoredText"):
            client_place_hold(tenant=tenant, client=customer, reason="Abuse")
        with pytest.raises(TypeError, match="A hold's reason is a StoredText"):
            clients_place_hold(tenant=tenant, actor=None, client_ids=[customer.pk], reason="x")
        client_place_hold(tenant=tenant, client=customer, reason=literal_text("Abuse"))
        with pytest.raises(TypeError, match="A hold's reason is a StoredText"):
            client_release_hold(tenant=tenant, client=customer, reason="Done")
    assert the_hold(customer).in_force


def test_the_webhook_payload_has_the_tenants_words_and_the_message(tenant, funded):
    tenant.language = "ru"
    tenant.financial_hold_grace_days = 0
    tenant.save()
    debtor = funded(tenant)
    with scopes_disabled():
        account_charge(
            account=_account(debtor),
            amount=Decimal("10.00"),
            purpose=literal_text("Usage"),
            allow_overdraft=True,
        )
        with translation.override("en"):
            financial_holds_run(tenant=tenant)
        event = Event.objects.get(client_id=debtor.pk, type="hold.placed")
    payload = json.loads(webhook_body(event, tenant))["payload"]
    assert payload["reason"].startswith(DEBT_RU)
    assert payload["reason_message"] == the_hold(debtor).reason.to_json()
    assert StoredText.from_json(payload["reason_message"]).msgid.startswith("Debt:")


def test_the_hold_e_mail_is_in_the_clients_language(tenant, funded):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    russian = funded(tenant, language="ru", email="ru@example.com")
    english = funded(tenant, language="en", email="en@example.com")
    with scopes_disabled():
        for customer in (russian, english):
            account_charge(
                account=_account(customer),
                amount=Decimal("10.00"),
                purpose=literal_text("Usage"),
                allow_overdraft=True,
            )
        with translation.override("en"):
            financial_holds_run(tenant=tenant)
            emails = list(OutboxEmail.objects.all())
            emails_render(tenant, emails)  # as the sender does, in a worker's language
        bodies = {email.client_id: email.body for email in emails}
    assert DEBT_RU in bodies[russian.pk] and DEBT_EN not in bodies[russian.pk]
    assert DEBT_EN in bodies[english.pk]


OLD = 'Debt of 12.00 (100% "quoted")'


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_old_reasons_forward_and_back(tenant):
    customer = ClientFactory(tenant=tenant)
    executor = MigrationExecutor(connection)
    executor.migrate([("holds", "0007_translatable_names")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO holds_clienthold (tenant_id, client_id, kind, reason, set_by_job, "
                "set_at, lifted_at, lifted_by_job, lift_reason) "
                "VALUES (%s, %s, 'financial', %s, 'financial holds', now(), now(), 'top-up', %s)",
                [tenant.pk, customer.pk, OLD, "Funds back to 0.00 EUR"],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    hold = the_hold(customer)
    assert hold.reason == literal_text(OLD)
    assert hold.lift_reason == literal_text("Funds back to 0.00 EUR")
    with translation.override("ru"):
        assert str(hold.reason) == OLD
    with scopes_disabled():
        ClientHold.objects.filter(pk=hold.pk).update(
            lift_reason=stored_gettext("Funds back to zero or more")
        )
    executor = MigrationExecutor(connection)
    executor.migrate([("holds", "0007_translatable_names")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reason, lift_reason FROM holds_clienthold WHERE id = %s", [hold.pk]
            )
            assert cursor.fetchone() == (OLD, "Funds back to zero or more")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert the_hold(customer).reason == literal_text(OLD)
