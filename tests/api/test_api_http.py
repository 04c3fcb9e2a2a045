"""The API over real HTTP: who may call it, the client resources, money writes with their
idempotency, and the limits. Every error is a problem document (RFC 9457)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django_scopes import scopes_disabled

from billing.models import LedgerEntry
from clients.models import Client
from tenancy.models import ApiToken
from tests.factories import TenantFactory

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, field: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"]
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


def test_tokens_unknown_revoked_or_expired_are_refused(
    api_tenant, api_as, anonymous_api, issue_token, live_server
):
    assert_problem(anonymous_api.get("clients/"), 401)
    assert anonymous_api.get("clients/").headers["WWW-Authenticate"] == "Bearer"
    wrong = type(anonymous_api)(live_server.url, "cd_not-a-token")
    wrong.session.close()  # one request; the connection is not kept
    assert_problem(wrong.get("clients/"), 401)

    api = api_as(api_tenant, "viewer")
    assert api.get("clients/").status_code == 200
    with scopes_disabled():
        token = ApiToken.objects.get(tenant=api_tenant, scope="viewer")
        assert token.last_used_at is not None
        token.revoked_at = timezone.now()
        token.save()
    assert_problem(api.get("clients/"), 401)

    soon = timezone.now() + timedelta(hours=1)
    expired = api_as(api_tenant, "viewer", expires_at=soon)
    assert expired.get("clients/").status_code == 200
    with scopes_disabled():
        ApiToken.objects.filter(expires_at=soon).update(expires_at=timezone.now())
    assert_problem(expired.get("clients/"), 401)


def test_client_list_filters_sorts_pages_and_chooses_fields(api_tenant, api_as, api_client_of):
    for name in ["Delta", "alpha", "Charlie", "bravo", "Echo"]:
        api_client_of(api_tenant, name=name)
    gone = api_client_of(api_tenant, name="Foxtrot", status="deleted")
    api = api_as(api_tenant, "viewer")

    first = api.get("clients/", params={"sort": "name", "limit": 2, "fields": "number,name"})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["name"] for item in page["items"]] == ["alpha", "bravo"]
    assert set(page["items"][0]) == {"number", "name"}
    names = [item["name"] for item in page["items"]]
    cursor = page["next"]
    while cursor:
        page = api.get(
            "clients/", params={"sort": "name", "limit": 2, "fields": "name", "cursor": cursor}
        ).json()
        names += [item["name"] for item in page["items"]]
        cursor = page["next"]
    assert names == ["alpha", "bravo", "Charlie", "Delta", "Echo"]  # Deleted hidden, as the list

    deleted = api.get("clients/", params={"status": "deleted"}).json()["items"]
    assert [item["number"] for item in deleted] == [gone.number]
    found = api.get("clients/", params={"q": "charl"}).json()["items"]
    assert [item["name"] for item in found] == ["Charlie"]

    assert_problem(api.get("clients/", params={"fields": "name,password"}), 422, "fields")
    assert_problem(api.get("clients/", params={"cursor": "forged"}), 422, "cursor")
    bad_range = {"created_after": "2026-02-01", "created_before": "2026-01-01"}
    assert_problem(api.get("clients/", params=bad_range), 422, "created")
    other_sort = api.get("clients/", params={"sort": "number", "limit": 1}).json()["next"]
    assert_problem(api.get("clients/", params={"sort": "name", "cursor": other_sort}), 422)


def test_client_create_read_update_through_the_form(
    api_tenant, api_other_tenant, api_as, api_client_of
):
    api = api_as(api_tenant, "manager")
    created = api.post("clients/", json={"name": "  New Co  ", "login": "+49 15123456789"})
    assert created.status_code == 201, created.text
    client = created.json()
    assert client["name"] == "New Co" and client["login"] == "+4915123456789"
    assert client["status"] == "active"

    number = client["number"]
    read = api.get(f"clients/{number}/", params={"fields": "name,login"}).json()
    assert read == {"name": "New Co", "login": "+4915123456789"}

    changed = api.patch(f"clients/{number}/", json={"company": "New Co GmbH"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["company"] == "New Co GmbH" and changed.json()["name"] == "New Co"

    refused = api.patch(f"clients/{number}/", json={"email": "not an e-mail", "name": ""})
    body = assert_problem(refused, 422)
    assert {"email", "name"} <= {error["field"] for error in body["errors"]}
    assert_problem(api.post("clients/", json={"name": "x", "sms_price": "-1"}), 422, "sms_price")
    with scopes_disabled():
        stored = Client.objects.get(tenant=api_tenant, number=number)
    assert stored.email == "" and stored.company == "New Co GmbH"

    foreign = api_client_of(api_other_tenant, name="Theirs")
    assert_problem(api.get(f"clients/{foreign.number + 1000}/"), 404)
    viewer = api_as(api_tenant, "viewer")
    assert_problem(viewer.post("clients/", json={"name": "No"}), 403)
    ingest = api_as(api_tenant, "ingest")
    assert_problem(ingest.get("clients/"), 403)


def test_top_up_is_idempotent_and_credit_is_set(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant, name="Payer")
    api = api_as(api_tenant, "accountant")
    url = f"clients/{customer.number}/top-up/"
    headers = {"Idempotency-Key": "payment-1"}

    first = api.post(url, json={"amount": "150.00", "comment": "Bank"}, headers=headers)
    assert first.status_code == 201, first.text
    again = api.post(url, json={"amount": "150.00", "comment": "Bank"}, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert Decimal(first.json()["account"]["balance"]) == Decimal("150.00")
    other_body = api.post(url, json={"amount": "15.00", "comment": "Bank"}, headers=headers)
    assert_problem(other_body, 422, "Idempotency-Key")
    with scopes_disabled():
        assert LedgerEntry.objects.filter(tenant=api_tenant).count() == 1

    for amount in ["0", "-5", "1e1000000", "NaN", "12.345", "abc"]:
        assert_problem(api.post(url, json={"amount": amount}), 422, "amount")
    assert_problem(api.post(url, json={"amount": "1", "comment": "x" * 600}), 422, "comment")

    credit = api.post(f"clients/{customer.number}/credit-limit/", json={"credit_limit": "50"})
    assert credit.status_code == 200, credit.text
    assert credit.json()["changed"] is True
    assert Decimal(credit.json()["account"]["available"]) == Decimal("200.00")
    same = api.post(f"clients/{customer.number}/credit-limit/", json={"credit_limit": "50"})
    assert same.json()["changed"] is False
    refused = api.post(f"clients/{customer.number}/credit-limit/", json={"credit_limit": "-1"})
    assert_problem(refused, 422, "credit_limit")

    account = api.get(f"clients/{customer.number}/account/").json()
    assert Decimal(account["balance"]) == Decimal("150.00") and account["currency"] == "EUR"
    ledger = api.get(f"clients/{customer.number}/ledger/").json()
    assert [Decimal(item["amount"]) for item in ledger["items"]] == [Decimal("150.00")]
    bad_period = {"start": "2026-02-01", "end": "2026-01-01"}
    assert_problem(api.get(f"clients/{customer.number}/ledger/", params=bad_period), 422, "end")

    manager = api_as(api_tenant, "manager")
    assert_problem(manager.post(url, json={"amount": "1"}), 403)


def test_rate_limit_and_body_size(api_tenant, api_as, settings):
    settings.API_RATE_LIMIT = "3/min"
    api = api_as(api_tenant, "owner")
    answers = [api.get("clients/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = api.get("clients/")
    assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert api_as(api_tenant, "owner").get("clients/").status_code == 200  # per token

    settings.API_RATE_LIMIT = "1000/min"
    settings.API_MAX_BODY_BYTES = 1000
    big = api.post("messages/", json={"records": [{"key": "k" * 2000, "client": 1}]})
    assert_problem(big, 413)


def test_message_batches_are_bounded_and_need_the_module(api_tenant, api_as, transactional_db):
    api = api_as(api_tenant, "ingest")
    too_many = {"records": [{"key": f"k{n}", "client": 1} for n in range(1001)]}
    assert_problem(api.post("messages/", json=too_many), 422, "records")
    assert_problem(
        api.post("messages/", data=b"{not json", headers={"Content-Type": "application/json"}), 400
    )
    assert_problem(api.post("messages/reports/", json={"reports": "many"}), 422, "reports")
    internet = TenantFactory(uses_messaging=False, uses_reseller=False, uses_routers=True)
    assert_problem(api_as(internet, "owner").post("messages/", json={"records": []}), 404)
