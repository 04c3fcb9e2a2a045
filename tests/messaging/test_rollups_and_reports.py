"""Rollups: built incrementally from the dirty days, idempotent, late reports re-aggregate the
day the message was sent on; each report's figures equal a direct computation from the
records; period edges follow the tenant's time zone."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from billing.selectors import Period
from messaging.models import DailyRouteStat, DailySenderStat, DirtyDay, Message
from messaging.selectors import REPORTS, statistics_report
from messaging.services import messages_apply_reports, messages_ingest, rollups_refresh
from tests.factories import ClientFactory, SenderIdFactory, message_record
from tests.messaging.helpers import direct_report, report_as_dict

pytestmark = pytest.mark.django_db

RECIPIENTS = ["+37129123456", "+37126123456", "+4915112345678", "+4917212345678", "+79161234567"]
SENDERS = ["Shop", "Bank", "12345"]
TEXTS = ["Hi", "x" * 200, "Привет", "€" * 90, "Ok 😀"]


def random_traffic(client, n: int, *, seed: int = 1, start=datetime(2026, 3, 1, tzinfo=UTC)):
    rng = random.Random(seed)
    records = []
    for i in range(n):
        records.append(
            message_record(
                client,
                key=f"{client.pk}-{seed}-{i}",
                channel=rng.choice(["sms", "sms", "viber"]),
                sender=rng.choice(SENDERS),
                recipient=rng.choice(RECIPIENTS),
                text=rng.choice(TEXTS),
                status=rng.choice(
                    ["sent", "delivered", "delivered", "failed", "expired", "rejected"]
                ),
                operator=rng.choice(["", "", "Tele2"]),
                sent_at=(start + timedelta(minutes=rng.randint(0, 60 * 24 * 20))).isoformat(),
            )
        )
    return records


def snapshot():
    with scopes_disabled():
        fields = lambda m: [f.name for f in m._meta.fields if f.name != "id"]  # noqa: E731
        return (
            sorted(
                tuple(r.values()) for r in DailySenderStat.objects.values(*fields(DailySenderStat))
            ),
            sorted(
                tuple(r.values()) for r in DailyRouteStat.objects.values(*fields(DailyRouteStat))
            ),
        )


def test_each_report_equals_a_direct_computation(tenant):
    client = ClientFactory(tenant=tenant, sms_price=Decimal("0.0275"))
    other = ClientFactory(tenant=tenant)
    messages_ingest(
        tenant=tenant, records=random_traffic(client, 400) + random_traffic(other, 50, seed=2)
    )
    rollups_refresh(tenant=tenant, batch_size=7)
    period = Period(start=date(2026, 3, 3), end=date(2026, 3, 15))
    for key in REPORTS:
        for channel in ("", "sms", "viber"):
            report = statistics_report(client=client, report=key, period=period, channel=channel)
            expected = direct_report(client, key, period.start, period.end, channel)
            assert report_as_dict(report) == expected, (key, channel)
            assert report.totals.sent == sum(v["sent"] for v in expected.values())
            assert report.totals.price == sum(v["price"] for v in expected.values())


def test_efficiency_leaves_out_parts_awaiting_a_report(tenant):
    client = ClientFactory(tenant=tenant)
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="d", status="delivered"),
            message_record(client, key="f", status="failed"),
            message_record(client, key="s", status="sent"),
            message_record(client, key="s2", status="sent"),
            message_record(client, key="r", status="rejected"),
        ],
    )
    rollups_refresh(tenant=tenant)
    report = statistics_report(
        client=client, report="day", period=Period(date(2026, 3, 10), date(2026, 3, 10))
    )
    row = report.rows[0]
    assert (row.sent, row.delivered, row.pending, row.failed, row.rejected) == (4, 1, 2, 1, 1)
    assert row.efficiency == 50.0  # 1 delivered of 2 with a report; 2 still awaiting


def test_rollups_are_incremental_and_idempotent(tenant):
    client = ClientFactory(tenant=tenant)
    messages_ingest(tenant=tenant, records=random_traffic(client, 120))
    first = rollups_refresh(tenant=tenant)
    assert first.days > 0
    built = snapshot()
    with scopes_disabled():
        assert not DirtyDay.objects.exists()
    assert rollups_refresh(tenant=tenant).days == 0  # nothing dirty: nothing done
    assert snapshot() == built
    # Marking everything dirty again and rebuilding gives the same rows.
    from messaging.services import rollups_rebuild_all

    rollups_rebuild_all(tenant=tenant)
    assert snapshot() == built


def test_a_late_report_reaggregates_the_day_it_was_sent_on(tenant):
    client = ClientFactory(tenant=tenant)
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="old", status="sent", sent_at="2026-03-01T10:00:00Z"),
            message_record(client, key="new", status="sent", sent_at="2026-03-20T10:00:00Z"),
        ],
    )
    rollups_refresh(tenant=tenant)
    # Nine days late, and the gateway now knows the operator (a ported number).
    messages_apply_reports(
        tenant=tenant,
        reports=[
            {"key": "old", "status": "delivered", "at": "2026-03-10T08:00:00Z", "operator": "Tele2"}
        ],
    )
    with scopes_disabled():
        assert list(DirtyDay.objects.values_list("day", flat=True)) == [date(2026, 3, 1)]
    assert rollups_refresh(tenant=tenant).days == 1
    march_1 = Period(date(2026, 3, 1), date(2026, 3, 1))
    day = statistics_report(client=client, report="day", period=march_1).rows[0]
    assert (day.delivered, day.pending) == (1, 0)
    operators = statistics_report(client=client, report="operator", period=march_1).rows
    assert [r.label for r in operators] == ["Latvia - Tele2"]
    march_20 = statistics_report(
        client=client, report="day", period=Period(date(2026, 3, 20), date(2026, 3, 20))
    ).rows[0]
    assert (march_20.delivered, march_20.pending) == (0, 1)


def test_a_mark_bumped_during_a_rebuild_stays_dirty(tenant):
    client = ClientFactory(tenant=tenant)
    messages_ingest(tenant=tenant, records=[message_record(client, key="a", status="sent")])
    from messaging import services

    # Simulate a report arriving between reading the marks and deleting them: bump first.
    with scopes_disabled():
        mark = DirtyDay.objects.get()
    services.dirty_days_mark(tenant=tenant, pairs=[(client.pk, mark.day)])
    services._rebuild_batch(tenant, [(mark.id, client.pk, mark.day, mark.generation)])
    with scopes_disabled():
        assert DirtyDay.objects.get().generation == mark.generation + 1  # kept for next run
    assert rollups_refresh(tenant=tenant).days == 1
    with scopes_disabled():
        assert not DirtyDay.objects.exists()


def test_period_edges_follow_the_tenants_time_zone(tenant):
    # Europe/Berlin (UTC+1 in March): 22:59 UTC on 9 March is 23:59 on the 9th there; 23:00
    # UTC is 00:00 on the 10th.
    client = ClientFactory(tenant=tenant)
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="before", sent_at="2026-03-09T22:59:59Z"),
            message_record(client, key="first", sent_at="2026-03-09T23:00:00Z"),
            message_record(client, key="last", sent_at="2026-03-10T22:59:59Z"),
            message_record(client, key="after", sent_at="2026-03-10T23:00:00Z"),
        ],
    )
    rollups_refresh(tenant=tenant)
    report = statistics_report(
        client=client, report="day", period=Period(date(2026, 3, 10), date(2026, 3, 10))
    )
    assert report.totals.messages == 2
    with scopes_disabled():
        inside = set(Message.objects.filter(day=date(2026, 3, 10)).values_list("key", flat=True))
    assert inside == {"first", "last"}


def test_unapproved_senders_are_counted_and_flagged(tenant):
    client = ClientFactory(tenant=tenant)
    SenderIdFactory(client=client, name="Shop", status="approved")
    SenderIdFactory(client=client, name="Bank", status="pending")
    SenderIdFactory(client=client, name="Promo", channel="viber", status="blocked")
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="1", sender="Shop"),
            message_record(client, key="2", sender="Bank"),
            message_record(client, key="3", sender="Unknown1"),
            message_record(client, key="4", sender="Promo", channel="viber"),
        ],
    )
    rollups_refresh(tenant=tenant)
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    sms = statistics_report(client=client, report="sender", period=period)
    assert {r.label: r.flag for r in sms.rows} == {
        "Bank": "Not approved (pending)",
        "Shop": "",
        "Unknown1": "Not registered",
    }
    viber = statistics_report(client=client, report="viber_sender", period=period)
    assert {r.label: (r.flag, r.sent) for r in viber.rows} == {
        "Promo": ("Not approved (blocked)", 1)
    }


def test_chart_data(tenant):
    client = ClientFactory(tenant=tenant)
    messages_ingest(
        tenant=tenant, records=[message_record(client, key="1", sent_at="2026-03-10T10:00:00Z")]
    )
    rollups_refresh(tenant=tenant)
    period = Period(date(2026, 3, 9), date(2026, 3, 11))
    chart = statistics_report(client=client, report="day", period=period).chart()
    assert chart["type"] == "line"
    assert chart["labels"] == ["2026-03-09", "2026-03-10", "2026-03-11"]
    assert [d["data"] for d in chart["datasets"]] == [[0, 1, 0], [0, 1, 0]]
    bars = statistics_report(client=client, report="country", period=period).chart()
    assert bars["type"] == "bar" and bars["labels"] == ["Latvia"]
