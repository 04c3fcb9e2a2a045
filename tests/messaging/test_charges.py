"""The daily charge: one ledger entry per client and closed day, "SMS sending on DATE, N
parts", rejected messages free, a late change posts a correction for the difference (never a
second charge), and two runs at once post once."""

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from billing.models import Account, LedgerEntry
from messaging.models import MessagingCharge
from messaging.services import (
    messages_apply_reports,
    messages_ingest,
    messaging_charges_post,
    rollups_refresh,
)
from tests.factories import ClientFactory, make_account, message_record

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


def entries(client):
    """(amount, purpose as read now, key, kind) of the client's entries."""
    with scopes_disabled():
        return [
            (amount, str(purpose), key, kind)
            for amount, purpose, key, kind in LedgerEntry.objects.filter(account__client=client)
            .order_by("id")
            .values_list("amount", "purpose", "idempotency_key", "kind")
        ]


def balance(client):
    with scopes_disabled():
        return Account.objects.get(client=client).balance


@pytest.mark.django_db
def test_one_entry_per_client_and_closed_day(tenant):
    client = ClientFactory(tenant=tenant, sms_price=Decimal("0.0350"))
    make_account(client, balance="10")
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="a", text="x" * 200, sent_at="2026-03-10T10:00:00Z"),  # 2
            message_record(client, key="b", status="failed", sent_at="2026-03-10T11:00:00Z"),
            message_record(client, key="c", status="rejected", sent_at="2026-03-10T12:00:00Z"),
            message_record(client, key="today", sent_at="2026-03-12T08:00:00Z"),
        ],
    )
    result = messaging_charges_post(tenant=tenant, now=NOW)
    assert (result.charged, result.corrections) == (1, 0)
    sms = [e for e in entries(client) if e[3] == "messaging_charge"]
    assert sms == [
        (
            Decimal("-0.11"),  # 3 parts × 0.035 = 0.105 → 0.11; the rejected one is free
            "SMS sending on 2026-03-10, 3 parts",
            f"sms:{tenant.pk}:{client.pk}:2026-03-10",
            "messaging_charge",
        )
    ]
    assert balance(client) == Decimal("9.89")
    # Running again changes nothing; today is charged once it is over.
    assert messaging_charges_post(tenant=tenant, now=NOW).charged == 0
    assert len(entries(client)) == 2
    tomorrow = messaging_charges_post(tenant=tenant, now=datetime(2026, 3, 13, 1, tzinfo=UTC))
    assert tomorrow.charged == 1
    assert entries(client)[-1][1] == "SMS sending on 2026-03-12, 1 part"


@pytest.mark.django_db
def test_a_late_change_posts_a_correction_not_a_second_charge(tenant):
    client = ClientFactory(tenant=tenant, sms_price=Decimal("0.10"))
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="a", sent_at="2026-03-10T10:00:00Z"),
            message_record(client, key="b", sent_at="2026-03-10T10:00:00Z", status="sent"),
        ],
    )
    messaging_charges_post(tenant=tenant, now=NOW)
    # Days later the gateway reports that "b" was rejected: it is not charged after all.
    messages_apply_reports(tenant=tenant, reports=[{"key": "b", "status": "rejected"}])
    result = messaging_charges_post(tenant=tenant, now=NOW)
    assert (result.charged, result.corrections) == (0, 1)
    # And a message of that day imported late is charged as a correction too.
    messages_ingest(
        tenant=tenant, records=[message_record(client, key="c", sent_at="2026-03-10T20:00:00Z")]
    )
    messaging_charges_post(tenant=tenant, now=NOW)
    amounts = [(e[0], e[2]) for e in entries(client)]
    base = f"sms:{tenant.pk}:{client.pk}:2026-03-10"
    assert amounts == [
        (Decimal("-0.20"), base),
        (Decimal("0.10"), f"{base}:correction:1"),
        (Decimal("-0.10"), f"{base}:correction:2"),
    ]
    assert balance(client) == Decimal("-0.20")
    with scopes_disabled():
        charge = MessagingCharge.objects.get()
    assert (charge.charged_parts, charge.charged_amount, charge.postings, charge.settled) == (
        2,
        Decimal("0.20"),
        3,
        True,
    )
    assert "correction: was 1 part" in entries(client)[2][1]


@pytest.mark.django_db
def test_a_day_with_only_rejected_messages_posts_nothing(tenant):
    client = ClientFactory(tenant=tenant, sms_price=Decimal("0.10"))
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="r", status="rejected", sent_at="2026-03-10T10:00:00Z")
        ],
    )
    result = messaging_charges_post(tenant=tenant, now=NOW)
    assert result.charged == 0 and entries(client) == []


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_post_once(tenant):
    clients = [ClientFactory(tenant=tenant, sms_price=Decimal("0.05")) for _ in range(5)]
    records = [
        message_record(c, key=f"{c.pk}-{d}-{i}", sent_at=f"2026-03-{d:02d}T10:00:00Z")
        for c in clients
        for d in (8, 9, 10)
        for i in range(4)
    ]
    messages_ingest(tenant=tenant, records=records)
    rollups_refresh(tenant=tenant)  # both runs then race for the same charge rows
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            messaging_charges_post(tenant=tenant, now=NOW)
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with scopes_disabled():
        sms = LedgerEntry.objects.filter(kind="messaging_charge")
        assert sms.count() == 15  # 5 clients × 3 days, once each
        assert {e.amount for e in sms} == {Decimal("-0.20")}
        for client in clients:
            account = Account.objects.get(client=client)
            assert account.balance == Decimal("-0.60")


@pytest.mark.django_db(transaction=True)
def test_two_rollup_runs_at_once_give_the_same_rollups(tenant):
    from messaging.models import DailySenderStat, DirtyDay

    client = ClientFactory(tenant=tenant)
    records = [
        message_record(client, key=f"r{d}-{i}", sent_at=f"2026-03-{d:02d}T10:00:00Z")
        for d in range(1, 29)
        for i in range(3)
    ]
    messages_ingest(tenant=tenant, records=records)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(rollups_refresh(tenant=tenant, batch_size=3))
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rollups_refresh(tenant=tenant)  # whatever a skipped run left
    with scopes_disabled():
        assert not DirtyDay.objects.exists()
        assert DailySenderStat.objects.count() == 28
        assert sum(DailySenderStat.objects.values_list("sent_parts", flat=True)) == 84
