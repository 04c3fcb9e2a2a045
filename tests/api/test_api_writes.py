"""Writes over the API that must hold under retries and races, on PostgreSQL with real
transactions: concurrent identical top-ups post once; message traffic over HTTP gives the
statistics and charges that the same traffic through `import_messages` gives; an operator's
session works with its CSRF token and not without."""

import json
import threading
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django_scopes import scopes_disabled

from billing.models import LedgerEntry
from clients.models import Client
from messaging.models import DailyRouteStat, DailySenderStat, Message, MessagingCharge
from messaging.services import messaging_charges_post, rollups_refresh
from tests.factories import TEST_PASSWORD, MembershipFactory, make_account, message_record


def test_concurrent_identical_top_ups_post_once(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant)
    api = api_as(api_tenant, "accountant")
    url = f"clients/{customer.number}/top-up/"
    answers, start = [], threading.Barrier(6)

    def post():
        start.wait()
        response = api.request(
            "POST", url, json={"amount": "25.00"}, headers={"Idempotency-Key": "gw-77"}
        )
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [201] * 6
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    with scopes_disabled():
        entries = LedgerEntry.objects.filter(tenant=api_tenant)
        assert entries.count() == 1 and entries.get().amount == Decimal("25.00")


def traffic(customer):
    """Records with a duplicate, refusals (a bad number, a client the provider does not have);
    then reports, some late (after the rollup and the charge) and one of an unknown message."""
    records = [
        message_record(customer, key="t1", status="sent", text="Hello"),
        message_record(customer, key="t2", status="sent", text="x" * 200),
        message_record(customer, key="t3", status="delivered", channel="viber"),
        message_record(customer, key="t1", status="sent"),  # a duplicate in the batch
        message_record(customer, key="t4", recipient="not a number"),
        message_record(customer, key="t5", client=999),  # no such client
        message_record(customer, key="t6", status="sent", sent_at="2026-03-11T09:00:00"),
    ]
    early = [{"key": "t1", "status": "delivered", "at": "2026-03-10T12:01:00Z"}]
    late = [
        {"key": "t2", "status": "failed", "at": "2026-03-12T08:00:00Z"},
        {"key": "t6", "status": "delivered"},
        {"key": "nope", "status": "delivered"},
    ]
    return records, early, late


def statistics(tenant) -> dict:
    with scopes_disabled():
        rows = {
            "senders": sorted(
                DailySenderStat.objects.filter(tenant=tenant).values_list(
                    "day", "sender", "sent_parts", "delivered_parts", "price"
                )
            ),
            "routes": sorted(
                DailyRouteStat.objects.filter(tenant=tenant).values_list(
                    "day", "country", "operator", "sent_parts", "delivered_parts", "price"
                )
            ),
            "charges": sorted(
                MessagingCharge.objects.filter(tenant=tenant).values_list(
                    "day", "due_parts", "due_amount", "charged_amount"
                )
            ),
            "ledger": sorted(
                LedgerEntry.objects.filter(tenant=tenant).values_list("amount", "balance_after")
            ),
            "messages": Message.objects.filter(tenant=tenant).count(),
        }
    return rows


def settle(tenant):
    with scopes_disabled():
        rollups_refresh(tenant=tenant)
        messaging_charges_post(tenant=tenant)


def test_traffic_over_http_equals_the_import(
    api_tenant, api_other_tenant, api_as, api_client_of, tmp_path
):
    # The same customers (same numbers and prices) at two providers: one fed over HTTP, the
    # other through the command-line import.
    over_http = api_client_of(api_tenant, name="Sender", sms_price=Decimal("0.05"))
    imported = api_client_of(api_other_tenant, name="Sender", sms_price=Decimal("0.05"))
    for customer in (over_http, imported):
        with scopes_disabled():
            make_account(customer, balance=Decimal("10.00"))

    api = api_as(api_tenant, "ingest")
    records, early, late = traffic(over_http)
    sent = api.post("messages/", json={"records": records})
    assert sent.status_code == 200, sent.text
    answer = sent.json()
    states = [(item["key"], item["state"]) for item in answer["items"]]
    assert states[:4] == [
        ("t1", "accepted"),
        ("t2", "accepted"),
        ("t3", "accepted"),
        ("t1", "duplicate"),
    ]
    assert answer["items"][4]["state"] == "refused" and "recipient" in answer["items"][4]["reason"]
    again = api.post("messages/", json={"records": records[:3]}).json()
    assert [item["state"] for item in again["items"]] == ["duplicate"] * 3
    assert api.post("messages/reports/", json={"reports": early}).json()["applied"] == 1
    settle(api_tenant)
    reported = api.post("messages/reports/", json={"reports": late}).json()
    assert [item["state"] for item in reported["items"]] == ["accepted", "accepted", "unknown"]
    settle(api_tenant)

    def run_import(rows, *extra):
        path = tmp_path / f"{len(rows)}-{len(extra)}.jsonl"
        path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
        call_command(
            "import_messages",
            str(path),
            "--tenant",
            api_other_tenant.slug,
            *extra,
            stdout=StringIO(),
            stderr=StringIO(),
        )

    records, early, late = traffic(imported)
    run_import(records)
    run_import(records[:3])
    run_import(early, "--reports")
    settle(api_other_tenant)
    run_import(late, "--reports")
    settle(api_other_tenant)

    assert statistics(api_tenant) == statistics(api_other_tenant)
    assert statistics(api_tenant)["messages"] == 4


def test_operator_session_needs_its_csrf_token(api_tenant, live_server, http_session):
    membership = MembershipFactory(tenant=api_tenant, role="owner")
    session = http_session
    login = session.get(f"{live_server.url}/login/")
    token = login.cookies["csrftoken"]
    session.post(
        f"{live_server.url}/login/",
        data={
            "username": membership.user.username,
            "password": TEST_PASSWORD,
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": f"{live_server.url}/login/"},
    )
    base = f"{live_server.url}/api/v1/clients/"
    assert session.get(base).status_code == 200
    refused = session.post(base, json={"name": "No CSRF"})
    assert refused.status_code in (401, 403)
    csrf = session.cookies["csrftoken"]
    created = session.post(
        base, json={"name": "With CSRF"}, headers={"X-CSRFToken": csrf, "Referer": base}
    )
    assert created.status_code == 201, created.text


def test_a_bearer_request_is_the_tokens_alone(
    api_tenant, api_other_tenant, issue_token, live_server, http_session
):
    """A request with `Authorization: Bearer` goes past the middleware of a browser's session
    (config/middleware.py): beside a signed-in operator's cookies, the token decides (another
    tenant's token sees its own tenant), a write needs no CSRF token, an unusable token is a
    401 (the session does not stand in for it), and the answer speaks the API's language."""
    membership = MembershipFactory(tenant=api_tenant, role="owner")
    login = http_session.get(f"{live_server.url}/login/")
    http_session.post(
        f"{live_server.url}/login/",
        data={
            "username": membership.user.username,
            "password": TEST_PASSWORD,
            "csrfmiddlewaretoken": login.cookies["csrftoken"],
        },
        headers={"Referer": f"{live_server.url}/login/"},
    )
    base = f"{live_server.url}/api/v1/clients/"
    assert http_session.get(base).status_code == 200  # the session itself works
    other = {"Authorization": f"Bearer {issue_token(api_other_tenant, 'owner')}"}
    created = http_session.post(base, json={"name": "By the token"}, headers=other)
    assert created.status_code == 201, created.text
    with scopes_disabled():
        assert Client.objects.get(name="By the token").tenant_id == api_other_tenant.pk
    listed = http_session.get(base, headers={**other, "Accept-Language": "ru"})
    assert [item["name"] for item in listed.json()["items"]] == ["By the token"]
    assert listed.headers["Content-Type"] == "application/json; charset=utf-8"
    assert listed.headers["Content-Language"] == "ru"
    assert "Accept-Language" in listed.headers["Vary"]
    unusable = http_session.get(base, headers={"Authorization": "Bearer cd_not-a-token"})
    assert unusable.status_code == 401
    assert unusable.headers["Content-Type"].startswith("application/problem+json")
