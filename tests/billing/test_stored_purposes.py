"""A ledger entry's purpose is stored as its message: each operator reads it in their own
language and the tenant's formats, whoever wrote it (the expiry job, an operator of the other
language), on the Finance tab, in its .xlsx export and over the API; an operator's own words
and rows from before messages read as they were written; a plain sentence is refused when an
entry is posted; the migration converts the column in place, both ways."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from billing.admin import LedgerEntryAdmin
from billing.exports import ledger_export_start
from billing.models import EntryKind, LedgerEntry
from billing.selectors import Period
from billing.services import (
    Posting,
    account_charge,
    account_for_client,
    entry_reverse,
    ledger_post_chunk_retried,
)
from core.stored_text import StoredText, literal_text, stored_gettext
from exports.tasks import export_job_run
from subscriptions.services import expiry_run
from tenancy.models import OperatorProfile
from tenancy.services import api_token_create
from tests.factories import (
    ClientFactory,
    MembershipFactory,
    PackageFactory,
    SubscriptionFactory,
    make_account,
)

pytestmark = pytest.mark.django_db

AFTER_MIDNIGHT = datetime(2027, 1, 9, 23, 0, tzinfo=UTC)  # 00:00 on 10 January in Berlin
END = date(2027, 1, 10)
RENEWAL_EN = "Renewal of Home 100, 10.01.2027 – 09.02.2027"
RENEWAL_RU = "Продление Home 100, 10.01.2027 – 09.02.2027"
TYPED = "Счёт №17 за март, по договору"  # an operator's own words, shown to everyone as typed
OLD = "Renewal of Home 100, 2026-12-10 – 2027-01-09"  # a row from before messages


def renewable(tenant):
    """Acme with 100 in its account and an auto-renew Home 100 (30 days, 30.00) ending on END."""
    acme = ClientFactory(tenant=tenant, name="Acme")
    make_account(acme, balance="100")
    package = PackageFactory(
        tenant=tenant, name="Home 100", price=Decimal("30.00"), period_count=30, period_unit="days"
    )
    SubscriptionFactory(
        tenant=tenant,
        client=acme,
        package=package,
        start_date=date(2026, 12, 11),
        end_date=END,
        auto_renew=True,
        amount_paid=package.price,
    )
    return acme


def operator(tenant, language: str):
    membership = MembershipFactory(tenant=tenant, role="owner")
    OperatorProfile.objects.create(user=membership.user, language=language)
    return membership.user


@pytest.fixture
def ledger(tenant, client):
    """Acme's ledger: the expiry job renewed its Home 100 (in English, as beat runs), a
    Russian operator topped it up on the Finance tab, an operator charged it with words of
    their own, and a row from before messages keeps its English sentence."""
    tenant.date_format = "d.m.Y"
    tenant.save()
    english, russian = operator(tenant, "en"), operator(tenant, "ru")
    acme = renewable(tenant)
    with scopes_disabled(), translation.override("en"):
        assert expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)["renewed"] == 1
    client.force_login(russian)
    url = reverse("billing:client_top_up", kwargs={"number": acme.number})
    data = {"topup-amount": "1500", "topup-comment": "Касса", "topup-token": uuid4()}
    assert client.post(url, data).status_code == 302
    client.logout()
    with scopes_disabled():
        account = account_for_client(client=acme)
        account_charge(account=account, amount="5", purpose=literal_text(TYPED), actor=english)
        ledger_post_chunk_retried(
            tenant=tenant,
            postings=[
                Posting(account.pk, Decimal("-1.00"), EntryKind.ADJUSTMENT, literal_text(""), "o")
            ],
        )
        with connection.cursor() as cursor:  # as migration 0006 leaves a row written before
            cursor.execute(
                "UPDATE billing_ledgerentry SET purpose = to_jsonb(%s::text) "
                "WHERE idempotency_key = 'o'",
                [OLD],
            )
    return {"english": english, "russian": russian, "acme": acme, "tenant": tenant}


def finance_page(client, user, acme) -> str:
    client.force_login(user)
    url = reverse("billing:client_finance", kwargs={"number": acme.number})
    return client.get(url).content.decode()


def test_stored_as_messages_and_literal_text(ledger):
    with scopes_disabled():
        entries = {e.kind: e for e in LedgerEntry.objects.filter(tenant=ledger["tenant"])}
        renewal = entries[EntryKind.SUBSCRIPTION_PURCHASE]
        assert renewal.idempotency_key.startswith("sub-renewal:")
        assert renewal.purpose.msgid == "Renewal of %(package)s, %(start)s – %(end)s"
        assert renewal.purpose.params["start"] == {"date": "2027-01-10"}  # a date, not text
        assert entries[EntryKind.TOP_UP].purpose == stored_gettext("Account top-up")
        typed = LedgerEntry.objects.get(tenant=ledger["tenant"], purpose=literal_text(TYPED))
        assert typed.purpose.literal and str(typed.purpose) == TYPED


def test_a_russian_operator_reads_russian_on_the_finance_tab(client, ledger):
    page = finance_page(client, ledger["russian"], ledger["acme"])
    assert RENEWAL_RU in page and "Пополнение счёта" in page
    assert RENEWAL_EN not in page and "Account top-up" not in page
    assert TYPED in page and OLD in page  # as typed, as written before


def test_an_english_operator_reads_english_for_what_a_russian_wrote(client, ledger):
    page = finance_page(client, ledger["english"], ledger["acme"])
    assert RENEWAL_EN in page and "Account top-up" in page
    assert "Пополнение счёта" not in page and RENEWAL_RU not in page
    assert TYPED in page and OLD in page


def test_the_dates_follow_the_tenants_format_when_read(client, ledger):
    tenant = ledger["tenant"]
    tenant.date_format = "m/d/Y"
    tenant.save()
    page = finance_page(client, ledger["english"], ledger["acme"])
    assert "Renewal of Home 100, 01/10/2027 – 02/09/2027" in page


def exported_purposes(ledger, user) -> list[str]:
    with scopes_disabled(), translation.override(user.operator_profile.language):
        today = datetime.now(UTC).date()
        job = ledger_export_start(
            client=ledger["acme"],
            period=Period(start=date(2026, 1, 1), end=today),
            sort="created_at",
            actor=user,
        )
    export_job_run(job.pk, tenant_id=ledger["tenant"].pk)  # the worker, in its starter's language
    job.refresh_from_db()
    assert job.status == "done", job.error
    with job.file.open("rb") as handle:
        rows = list(load_workbook(handle, read_only=True).active.iter_rows(values_only=True))
    return [row[4] for row in rows[1:]]


def test_the_export_is_in_the_language_of_who_asked_for_it(ledger):
    russian = exported_purposes(ledger, ledger["russian"])
    assert RENEWAL_RU in russian and "Пополнение счёта" in russian
    assert TYPED in russian and OLD in russian
    english = exported_purposes(ledger, ledger["english"])
    assert RENEWAL_EN in english and "Account top-up" in english
    assert TYPED in english and OLD in english


def api_purposes(client, ledger, language: str) -> list[str]:
    with scopes_disabled():
        token = api_token_create(
            tenant=ledger["tenant"], actor=None, name=f"{language} token", scope="owner"
        )
    url = f"/api/v1/clients/{ledger['acme'].number}/ledger/"
    response = client.get(
        url,
        {"start": "2026-01-01", "fields": "purpose"},
        HTTP_AUTHORIZATION=f"Bearer {token.secret}",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200, response.content
    return [item["purpose"] for item in response.json()["items"]]


def test_the_api_answers_in_the_callers_language(client, ledger):
    russian = api_purposes(client, ledger, "ru")
    assert RENEWAL_RU in russian and "Пополнение счёта" in russian
    assert TYPED in russian and OLD in russian
    english = api_purposes(client, ledger, "en")
    assert RENEWAL_EN in english and "Account top-up" in english
    assert TYPED in english and OLD in english


def test_the_admin_and_str_read_in_the_active_language(ledger):
    with scopes_disabled():
        renewal = LedgerEntry.objects.get(
            tenant=ledger["tenant"], kind=EntryKind.SUBSCRIPTION_PURCHASE
        )
    admin = LedgerEntryAdmin(LedgerEntry, site)
    with translation.override("ru"):
        assert str(renewal).endswith(": Продление Home 100, 2027-01-10 – 2027-02-09")
        assert admin.purpose_text(renewal).startswith("Продление Home 100")
    with translation.override("en"):
        assert admin.purpose_text(renewal).startswith("Renewal of Home 100")


def test_the_admin_search_matches_the_stored_words(admin_user, ledger):
    request = RequestFactory().get("/admin/billing/ledgerentry/")
    request.user = admin_user
    admin = LedgerEntryAdmin(LedgerEntry, site)
    with scopes_disabled():
        queryset = LedgerEntry.objects.filter(tenant=ledger["tenant"])
        for term, kinds in (
            ("по договору", {EntryKind.ADJUSTMENT}),  # an operator's words
            ("Home 100", {EntryKind.SUBSCRIPTION_PURCHASE, EntryKind.ADJUSTMENT}),  # a name
            ("account top", {EntryKind.TOP_UP}),  # the message's English words
        ):
            found, _ = admin.get_search_results(request, queryset, term)
            assert {e.kind for e in found} == kinds, term


def test_a_reversal_quotes_the_purpose_in_the_readers_language(ledger):
    with scopes_disabled():
        top_up = LedgerEntry.objects.filter(tenant=ledger["tenant"], kind=EntryKind.TOP_UP).latest(
            "pk"
        )
        reversal = entry_reverse(entry=top_up, actor=ledger["english"])
    with translation.override("ru"):
        assert str(reversal.purpose) == f"Сторно операции {top_up.pk}: Пополнение счёта"
    with translation.override("en"):
        assert str(reversal.purpose) == f"Reversal of entry {top_up.pk}: Account top-up"


def test_a_replay_with_the_same_key_is_the_same_posting(ledger):
    """The key's first entry answers a retry whose purpose reads differently (another
    language, another format): the purpose is not part of what a key compares."""
    tenant = ledger["tenant"]
    with scopes_disabled():
        renewal = LedgerEntry.objects.get(tenant=tenant, kind=EntryKind.SUBSCRIPTION_PURCHASE)
        again = Posting(
            renewal.account_id,
            renewal.amount,
            renewal.kind,
            literal_text(RENEWAL_RU),
            renewal.idempotency_key,
        )
        (result,) = ledger_post_chunk_retried(tenant=tenant, postings=[again])
    assert result.error is None and result.entry.replayed and result.entry.pk == renewal.pk
    assert isinstance(result.entry.purpose, StoredText)  # read back from the raw row
    assert result.entry.purpose == renewal.purpose


def test_a_plain_sentence_is_refused(ledger):
    with scopes_disabled():
        account = account_for_client(client=ledger["acme"])
        with pytest.raises(TypeError, match="StoredText"):
            account_charge(account=account, amount="1", purpose="Charge")
        with pytest.raises(TypeError, match="StoredText"):
            Posting(account.pk, Decimal("1"), EntryKind.TOP_UP, "Top-up", "plain")
        assert not LedgerEntry.objects.filter(idempotency_key="plain").exists()


def test_an_operators_long_words_are_kept_to_the_columns_old_length(ledger):
    with scopes_disabled():
        account = account_for_client(client=ledger["acme"])
        entry = account_charge(account=account, amount="1", purpose=literal_text("я" * 300))
        entry.refresh_from_db()
    assert str(entry.purpose) == "я" * 255


BEFORE = [("billing", "0005_translatable_names")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def purposes_in_the_table(tenant) -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT idempotency_key, purpose FROM billing_ledgerentry WHERE tenant_id = %s",
            [tenant.pk],
        )
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_rows_in_place_and_back(tenant):
    """Forward: old sentences become literal text, the fixed English purposes their messages.
    Backward: text again, a message rendered in its tenant's language and formats."""
    tenant.language, tenant.date_format = "ru", "d.m.Y"
    tenant.save()
    acme = renewable(tenant)
    account_id = acme.account.pk
    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            for key, purpose in (
                ("old-top-up", "Account top-up"),
                ("old-sentence", 'Renewal of Home 100 {"quoted"} 100%'),
                ("old-refund", "Refund"),
            ):
                cursor.execute(
                    "INSERT INTO billing_ledgerentry (tenant_id, account_id, created_at, amount, "
                    "kind, purpose, comment, balance_after, idempotency_key) VALUES "
                    "(%s, %s, now(), 1, 'adjustment', %s, '', 1, %s)",
                    [tenant.pk, account_id, purpose, key],
                )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    with scopes_disabled():
        read = {e.idempotency_key: e.purpose for e in LedgerEntry.objects.filter(tenant=tenant)}
        expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)
    assert read["old-top-up"] == stored_gettext("Account top-up")
    assert read["old-refund"] == stored_gettext("Refund")
    assert read["old-sentence"] == literal_text('Renewal of Home 100 {"quoted"} 100%')
    with translation.override("ru"):
        assert str(read["old-top-up"]) == "Пополнение счёта"
        assert str(read["old-sentence"]) == 'Renewal of Home 100 {"quoted"} 100%'
    stored = purposes_in_the_table(tenant)
    assert json.loads(stored["old-sentence"]) == 'Renewal of Home 100 {"quoted"} 100%'
    migrate(BEFORE)
    try:
        back = purposes_in_the_table(tenant)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert back["old-top-up"] == "Account top-up" and back["old-refund"] == "Refund"
    assert back["old-sentence"] == 'Renewal of Home 100 {"quoted"} 100%'
    renewal = next(purpose for key, purpose in back.items() if key.startswith("sub-renewal:"))
    assert renewal == "Продление Home 100, 10.01.2027 – 09.02.2027"  # the tenant's language
