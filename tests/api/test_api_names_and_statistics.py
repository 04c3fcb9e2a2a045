"""A client's sender IDs (the Names tab) and statistics (the Statistics tab) over the API:
the same form, services, transitions and rollups as the portal; bad input is a problem with
the field named, nothing changed."""

from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from billing.selectors import Period
from events.models import Event
from messaging.models import SenderId
from messaging.selectors import REPORTS, statistics_report
from messaging.services import rollups_refresh
from tests.api.test_api_http import assert_problem
from tests.factories import SenderIdFactory, message_record

PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}


def senders_of(client) -> list[tuple[str, str]]:
    with scopes_disabled():
        return list(SenderId.objects.filter(client=client).values_list("name", "status"))


def test_sender_ids_are_listed_and_added_with_the_questionnaire(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant)
    with scopes_disabled():
        SenderIdFactory(client=customer, name="Zeta")
    api = api_as(api_tenant, "manager")
    url = f"clients/{customer.number}/names/"
    added = api.post(
        url,
        json={
            "name": " Alpha ",
            "channel": "viber",
            "purpose": "Order notifications",
            "sample_text": "Your order has shipped.",
            "documents_note": "Registration extract",
        },
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["name"], body["channel"], body["status"]) == ("Alpha", "viber", "pending")
    assert body["questionnaire_complete"] is True

    listed = api.get(url, params={"fields": "name,status"}).json()
    assert listed["items"] == [
        {"name": "Alpha", "status": "pending"},
        {"name": "Zeta", "status": "approved"},
    ]
    newest = api.get(url, params={"sort": "-created_at", "limit": 1}).json()
    assert newest["items"][0]["name"] == "Alpha" and newest["next"]
    assert_problem(api.get(url, params={"sort": "status"}), 422, "sort")


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 17}, "name"),
        ({"name": "Shop!"}, "name"),
        ({"name": "Магазин"}, "name"),
        ({"name": "Zeta"}, "name"),  # the client has it already
        ({"name": "Fine", "channel": "fax"}, "channel"),
        ({"name": "Fine", "purpose": "a\x00b"}, "purpose"),
        ({"name": "Fine", "sample_text": "x" * 1001}, "sample_text"),
        ({"name": 12}, "name"),
        ({}, "name"),
    ],
)
def test_a_refused_sender_id_names_its_field_and_adds_nothing(
    api_tenant, api_as, api_client_of, payload, field
):
    customer = api_client_of(api_tenant)
    with scopes_disabled():
        SenderIdFactory(client=customer, name="Zeta")
    api = api_as(api_tenant, "owner")
    assert_problem(api.post(f"clients/{customer.number}/names/", json=payload), 422, field)
    assert senders_of(customer) == [("Zeta", "approved")]


def test_sender_ids_are_approved_rejected_and_blocked_as_in_the_portal(
    api_tenant, api_as, api_client_of
):
    customer = api_client_of(api_tenant)
    with scopes_disabled():
        sender = SenderIdFactory(client=customer, name="Shop", status="pending")
    api = api_as(api_tenant, "manager")
    url = f"clients/{customer.number}/names/{sender.pk}/decision/"

    assert_problem(api.post(url, json={"status": "rejected"}), 422, "reason")
    assert_problem(api.post(url, json={"status": "deleted"}), 422, "status")
    assert_problem(api.post(url, json={"status": "approved", "reason": "x" * 256}), 422, "reason")
    assert senders_of(customer) == [("Shop", "pending")]

    approved = api.post(url, json={"status": "approved"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decided_at"]
    assert_problem(api.post(url, json={"status": "approved"}), 422, "status")  # already
    rejected = api.post(url, json={"status": "rejected", "reason": "Trademark missing"})
    assert rejected.json()["status_reason"] == "Trademark missing"
    assert api.post(url, json={"status": "blocked"}).json()["status"] == "blocked"
    with scopes_disabled():
        changes = Event.objects.filter(tenant=api_tenant, type="sender_id.status_changed")
        assert [e.payload["new"] for e in changes.order_by("id")] == [
            "approved",
            "rejected",
            "blocked",
        ]

    other = api_client_of(api_tenant)
    elsewhere = f"clients/{other.number}/names/{sender.pk}/decision/"
    assert_problem(api.post(elsewhere, json={"status": "approved"}), 404)


def test_only_managers_and_owners_change_sender_ids(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant)
    with scopes_disabled():
        sender = SenderIdFactory(client=customer, status="pending")
    for scope in ("viewer", "accountant", "ingest"):
        api = api_as(api_tenant, scope)
        names = f"clients/{customer.number}/names/"
        assert_problem(api.post(names, json={"name": "Nope"}), 403)
        decision = f"{names}{sender.pk}/decision/"
        assert_problem(api.post(decision, json={"status": "approved"}), 403)
    assert api_as(api_tenant, "viewer").get(names).status_code == 200
    assert senders_of(customer) == [(sender.name, "pending")]


@pytest.fixture
def traffic(api_tenant, api_as, api_client_of):
    """Traffic pushed over the API by the gateway, rolled up as the nightly job does."""
    customer = api_client_of(api_tenant, sms_price=Decimal("0.05"))
    with scopes_disabled():
        SenderIdFactory(client=customer, name="Shop", status="approved")
        SenderIdFactory(client=customer, name="Bank", status="pending")
    records = [
        message_record(customer, key="1", sender="Shop", sent_at="2026-03-10T10:00:00Z"),
        message_record(customer, key="2", sender="Shop", status="sent"),
        message_record(
            customer, key="3", sender="Bank", recipient="+4915112345678", operator="Telekom"
        ),
        message_record(customer, key="4", sender="Bank", status="failed"),
        message_record(customer, key="5", channel="viber", sender="ShopV"),
    ]
    pushed = api_as(api_tenant, "ingest").post("messages/", json={"records": records})
    assert pushed.json()["accepted"] == 5, pushed.text
    with scopes_disabled():
        rollups_refresh(tenant=api_tenant)
    return customer


@pytest.mark.parametrize("report", list(REPORTS))
def test_statistics_are_the_tabs_report(api_tenant, api_as, traffic, report):
    api = api_as(api_tenant, "viewer")
    answer = api.get(f"clients/{traffic.number}/statistics/", params={"report": report, **PERIOD})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    with scopes_disabled():
        period = Period(start=date(2026, 3, 1), end=date(2026, 3, 31))
        expected = statistics_report(client=traffic, report=report, period=period)
    assert (body["report"], body["start"], body["end"]) == (report, *PERIOD.values())
    assert [
        (r["label"], r["sent"], r["delivered"], r["pending"], r["flag"]) for r in body["rows"]
    ] == [(r.label, r.sent, r.delivered, r.pending, r.flag) for r in expected.rows]
    assert Decimal(body["totals"]["price"]) == expected.totals.price
    assert body["totals"]["sent"] == expected.totals.sent > 0
    assert body["currency"] == api_tenant.currency


def test_statistics_by_sender_flag_unapproved_names(api_tenant, api_as, traffic):
    api = api_as(api_tenant, "viewer")
    rows = api.get(
        f"clients/{traffic.number}/statistics/", params={"report": "sender", **PERIOD}
    ).json()["rows"]
    flags = {row["sender"]: row["flag"] for row in rows}
    assert flags == {"Bank": "Not approved (pending)", "Shop": ""}
    sms = api.get(
        f"clients/{traffic.number}/statistics/", params={"channel": "viber", **PERIOD}
    ).json()
    assert sms["channel"] == "viber" and sms["totals"]["messages"] == 1


@pytest.mark.parametrize(
    "query, field",
    [
        ({"report": "weekday"}, "report"),
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
        ({"start": "2020-01-01", "end": "2026-03-01"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"channel": "fax"}, "channel"),
        ({"report": "x" * 41}, "report"),
    ],
)
def test_bad_statistics_queries_name_the_field(api_tenant, api_as, traffic, query, field):
    api = api_as(api_tenant, "viewer")
    assert_problem(api.get(f"clients/{traffic.number}/statistics/", params=query), 422, field)


def test_a_sender_id_is_edited_with_the_fields_sent_and_a_new_name_awaits_approval(
    api_tenant, api_as, api_client_of
):
    customer = api_client_of(api_tenant)
    with scopes_disabled():
        sender = SenderIdFactory(client=customer, name="Shop", purpose="Orders")
    api = api_as(api_tenant, "manager")
    url = f"clients/{customer.number}/names/{sender.pk}/"
    edited = api.patch(url, json={"sample_text": "Your parcel is on its way."})
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["name"], body["status"], body["purpose"]) == ("Shop", "approved", "Orders")
    assert body["sample_text"] == "Your parcel is on its way."
    renamed = api.patch(url, json={"name": "Shop2"}).json()
    assert (renamed["name"], renamed["status"]) == ("Shop2", "pending")
    assert senders_of(customer) == [("Shop2", "pending")]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "Shop!"}, "name"),
        ({"name": "Zeta"}, "name"),  # the client's other sender ID
        ({"channel": "fax"}, "channel"),
        ({"purpose": "x" * 1001}, "purpose"),
        ({"documents_note": "a\x00b"}, "documents_note"),
    ],
)
def test_a_refused_edit_names_its_field_and_changes_nothing(
    api_tenant, api_as, api_client_of, payload, field
):
    customer = api_client_of(api_tenant)
    with scopes_disabled():
        SenderIdFactory(client=customer, name="Zeta")
        sender = SenderIdFactory(client=customer, name="Shop")
    api = api_as(api_tenant, "owner")
    before = senders_of(customer)
    refused = api.patch(f"clients/{customer.number}/names/{sender.pk}/", json=payload)
    assert_problem(refused, 422, field)
    assert senders_of(customer) == before


def test_a_sender_id_of_another_client_or_tenant_is_not_edited(
    api_tenant, api_other_tenant, api_as, api_client_of
):
    mine, other = api_client_of(api_tenant), api_client_of(api_tenant)
    with scopes_disabled():
        sender = SenderIdFactory(client=other, name="Shop")
    api = api_as(api_tenant, "owner")
    assert api.patch(f"clients/{mine.number}/names/{sender.pk}/", json={}).status_code == 404
    theirs = api_as(api_other_tenant, "owner")
    missed = theirs.patch(f"clients/{other.number}/names/{sender.pk}/", json={"name": "X"})
    assert missed.status_code == 404
    assert (
        api_as(api_tenant, "viewer")
        .patch(f"clients/{other.number}/names/{sender.pk}/", json={"name": "X"})
        .status_code
        == 403
    )
    assert senders_of(other) == [("Shop", "approved")]
