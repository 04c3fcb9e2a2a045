"""Ingestion: country and operator resolved at ingestion (gateway first, then prefix data,
with the source recorded), parts from the text, prices, bad records refused one by one, and
idempotency (a re-import changes nothing); delivery reports, also late and repeated."""

from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from messaging.models import DirtyDay, Message
from messaging.numbers import InvalidRecipient, OperatorSource, country_name, resolve_recipient
from messaging.services import messages_apply_reports, messages_ingest
from tests.factories import ClientFactory, message_record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "e164", "country", "operator", "source"),
    [
        ("+37129123456", "+37129123456", "LV", "LMT", OperatorSource.PREFIX),
        ("37129123456", "+37129123456", "LV", "LMT", OperatorSource.PREFIX),
        ("0037129123456", "+37129123456", "LV", "LMT", OperatorSource.PREFIX),
        ("+49 151 12345678", "+4915112345678", "DE", "T-Mobile", OperatorSource.PREFIX),
        ("+14155550123", "+14155550123", "US", "", OperatorSource.UNKNOWN),
    ],
)
def test_country_and_operator_from_the_number(raw, e164, country, operator, source):
    resolved = resolve_recipient(raw)
    assert (resolved.e164, resolved.country, resolved.operator, resolved.operator_source) == (
        e164,
        country,
        operator,
        source,
    )


def test_the_gateways_operator_wins_over_prefix_data():
    # A number ported from LMT to Tele2: the prefix data still says LMT.
    resolved = resolve_recipient("+37129123456", gateway_operator="Tele2")
    assert (resolved.operator, resolved.operator_source) == ("Tele2", OperatorSource.GATEWAY)


@pytest.mark.parametrize("raw", ["", "hello", "+1", "+99912345"])
def test_bad_numbers_are_refused(raw):
    with pytest.raises(InvalidRecipient):
        resolve_recipient(raw)


def test_country_names():
    assert country_name("LV") == "Latvia"
    assert country_name("") == "Unknown country"


def test_ingest_resolves_and_prices(tenant):
    client = ClientFactory(tenant=tenant, sms_price=Decimal("0.0350"))
    result = messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="a", text="Привет " * 20),  # 140 UCS-2 units: 3 parts
            message_record(client, key="b", recipient="+4915112345678", operator="Vodafone"),
            message_record(client, key="c", channel="viber", text="x" * 500, price="0.5"),
        ],
    )
    assert (result.created, result.failed, result.duplicates) == (3, 0, 0)
    with scopes_disabled():
        by_key = {m.key: m for m in Message.objects.all()}
    a, b, c = by_key["a"], by_key["b"], by_key["c"]
    assert (a.parts, a.price, a.country, a.operator, a.operator_source) == (
        3,
        Decimal("0.1050"),
        "LV",
        "LMT",
        "prefix",
    )
    assert (b.country, b.operator, b.operator_source) == ("DE", "Vodafone", "gateway")
    assert (c.parts, c.price) == (1, Decimal("0.5000"))  # Viber: one part, its own price


def test_the_day_is_the_tenants_calendar_day(tenant):
    # Europe/Berlin: 23:30 UTC on 10 March is already 11 March there.
    client = ClientFactory(tenant=tenant)
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(client, key="late", sent_at="2026-03-10T23:30:00Z"),
            message_record(client, key="naive", sent_at="2026-03-10T23:30:00"),  # wall clock
        ],
    )
    with scopes_disabled():
        days = dict(Message.objects.values_list("key", "day"))
    assert days == {"late": date(2026, 3, 11), "naive": date(2026, 3, 10)}


def test_reimport_changes_nothing(tenant):
    client = ClientFactory(tenant=tenant)
    records = [message_record(client, key=f"k{i}") for i in range(5)]
    first = messages_ingest(tenant=tenant, records=records, batch_size=2)
    with scopes_disabled():
        DirtyDay.objects.all().delete()
        before = list(Message.objects.order_by("key").values())
    again = messages_ingest(tenant=tenant, records=[{**r, "status": "failed"} for r in records])
    assert (first.created, again.created, again.duplicates) == (5, 0, 5)
    with scopes_disabled():
        assert list(Message.objects.order_by("key").values()) == before
        assert not DirtyDay.objects.exists()  # nothing to re-aggregate


def test_duplicate_keys_within_one_batch(tenant):
    client = ClientFactory(tenant=tenant)
    result = messages_ingest(tenant=tenant, records=[message_record(client, key="same")] * 3)
    assert (result.created, result.duplicates) == (1, 2)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"key": ""}, "key: missing"),
        ({"client": 999999}, "client: no client"),
        ({"channel": "fax"}, "channel:"),
        ({"sender": ""}, "sender:"),
        ({"recipient": "12"}, "recipient:"),
        ({"status": "lost"}, "status:"),
        ({"sent_at": "yesterday"}, "sent_at:"),
        ({"sent_at": None}, "sent_at: missing"),
        ({"text": None, "parts": "many"}, "parts:"),
        ({"text": None, "parts": 0}, "parts:"),
        ({"text": None, "parts": float("inf")}, "parts:"),
        ({"text": None, "parts": float("nan")}, "parts:"),
        ({"price": float("inf")}, "price:"),
        ({"price": "-1"}, "price:"),
        ({"price": "abc"}, "price:"),
        ({"mcc_mnc": "12"}, "mcc_mnc:"),
    ],
)
def test_bad_records_are_refused_one_by_one(tenant, override, message):
    client = ClientFactory(tenant=tenant)
    result = messages_ingest(
        tenant=tenant,
        records=[message_record(client, key="good"), message_record(client, **override)],
    )
    assert (result.created, result.failed) == (1, 1)
    assert result.errors[0].index == 2 and message in result.errors[0].message


def test_another_tenants_client_is_refused(tenant, other_tenant):
    foreign = [ClientFactory(tenant=other_tenant) for _ in range(3)][-1]
    ClientFactory(tenant=tenant)  # number 1 here; the foreign client is number 3 there
    result = messages_ingest(tenant=tenant, records=[message_record(foreign, key="x")])
    assert (result.created, result.failed) == (0, 1)
    with scopes_disabled():
        assert not Message.objects.exists()


def test_delivery_reports_update_status_and_operator(tenant):
    client = ClientFactory(tenant=tenant)
    messages_ingest(
        tenant=tenant,
        records=[message_record(client, key=k, status="sent") for k in ("a", "b", "c")],
    )
    result = messages_apply_reports(
        tenant=tenant,
        reports=[
            {"key": "a", "status": "delivered", "at": "2026-03-10T12:00:05Z"},
            {"key": "b", "status": "expired", "operator": "Tele2", "mcc_mnc": "24702"},
            {"key": "zzz", "status": "delivered"},
            {"key": "c", "status": "sent"},  # never back to "sent"
            {"key": "a", "status": "bogus"},
        ],
    )
    assert (result.applied, result.unknown, result.failed) == (2, 1, 2)
    with scopes_disabled():
        by_key = {m.key: m for m in Message.objects.all()}
    assert by_key["a"].status == "delivered" and by_key["a"].delivered_at is not None
    assert (by_key["b"].status, by_key["b"].operator, by_key["b"].operator_source) == (
        "expired",
        "Tele2",
        "gateway",
    )
    assert by_key["b"].mcc_mnc == "24702"
    assert by_key["c"].status == "sent"
    again = messages_apply_reports(
        tenant=tenant, reports=[{"key": "a", "status": "delivered", "at": "2026-03-10T12:00:05Z"}]
    )
    assert (again.applied, again.unchanged) == (0, 1)


def test_the_key_is_unique_per_tenant_not_across_tenants(tenant, other_tenant):
    mine, theirs = ClientFactory(tenant=tenant), ClientFactory(tenant=other_tenant)
    assert messages_ingest(tenant=tenant, records=[message_record(mine, key="gw-1")]).created == 1
    result = messages_ingest(tenant=other_tenant, records=[message_record(theirs, key="gw-1")])
    assert result.created == 1
    with scopes_disabled():
        assert Message.objects.filter(key="gw-1").count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key", "k\x00ey"),
        ("sender", "\x01Shop"),
        ("recipient", "+3712912\x1f3456"),
        ("operator", "L\x7fMT"),
    ],
)
def test_records_with_control_characters_are_refused_one_by_one(tenant, field, value):
    """NUL (which PostgreSQL refuses) and the other control characters in a gateway's record
    refuse that record with the field and the character named; the rest are stored."""
    client = ClientFactory(tenant=tenant)
    records = [message_record(client, **{field: value}), message_record(client, key="fine")]
    result = messages_ingest(tenant=tenant, records=records)
    assert (result.created, result.failed) == (1, 1)
    assert result.errors[0].message.startswith(f"{field}: control character U+00")
    assert "\x00" not in result.errors[0].key
    with scopes_disabled():
        assert list(Message.objects.values_list("key", flat=True)) == ["fine"]


def test_a_control_character_in_the_message_text_only_counts_parts(tenant):
    client = ClientFactory(tenant=tenant)
    result = messages_ingest(tenant=tenant, records=[message_record(client, text="Hi\x00there")])
    assert result.created == 1


def test_reports_with_control_characters_are_refused(tenant):
    client = ClientFactory(tenant=tenant)
    messages_ingest(tenant=tenant, records=[message_record(client, key="a", status="sent")])
    result = messages_apply_reports(
        tenant=tenant,
        reports=[
            {"key": "a\x00", "status": "delivered"},
            {"key": "a", "status": "delivered", "operator": "Tele\x002"},
        ],
    )
    assert result.failed == 2 and result.applied == 0
    assert all("control character U+0000" in error.message for error in result.errors)
    with scopes_disabled():
        assert Message.objects.get(key="a").status == "sent"
