"""Packages and subscriptions over real HTTP: the Packages page's filters and sorts, the
subscriptions' status (Expiring derived), client and package filters, a purchase charged once
under retries and races (PostgreSQL), cancellation with its refund, auto-renew, bad input as
problem details at the field, roles and modules."""

import json
import threading
from datetime import timedelta
from decimal import Decimal

from django_scopes import scopes_disabled

from billing.models import Account, LedgerEntry
from subscriptions.models import Subscription, SubscriptionStatus, tenant_today
from tenancy.models import ApiIdempotencyRecord
from tests.api.test_api_http import assert_problem
from tests.factories import PackageFactory, SubscriptionFactory, TenantFactory, make_account


def package_of(tenant, **kwargs):
    with scopes_disabled():
        return PackageFactory(tenant=tenant, **kwargs)


def funded_client(tenant, api_client_of, balance="100", **kwargs):
    customer = api_client_of(tenant, **kwargs)
    with scopes_disabled():
        make_account(customer, balance=balance)
    return customer


def balance_of(customer) -> Decimal:
    with scopes_disabled():
        return Account.objects.get(client=customer).balance


def test_package_list_filters_sorts_pages_and_reads(api_tenant, api_other_tenant, api_as):
    home = package_of(api_tenant, name="Home 100", price=Decimal("30.00"), pppoe_profile="home")
    package_of(api_tenant, name="Office 500", price=Decimal("90.00"), period_unit="days")
    old = package_of(api_tenant, name="Legacy", price=Decimal("10.00"), is_active=False)
    theirs = package_of(api_other_tenant, name="Theirs")
    api = api_as(api_tenant, "viewer")

    listed = api.get("packages/").json()
    assert [item["name"] for item in listed["items"]] == ["Home 100", "Legacy", "Office 500"]
    assert listed["items"][0]["price"] == "30.00" and listed["items"][0]["live_subscriptions"] == 0
    by_price = api.get("packages/", params={"sort": "-price", "fields": "name,price"}).json()
    assert by_price["items"][0] == {"name": "Office 500", "price": "90.00"}
    retired = api.get("packages/", params={"status": "retired"}).json()["items"]
    assert [item["id"] for item in retired] == [old.pk]
    searched = api.get("packages/", params={"q": "HOME"}).json()["items"]
    assert [item["id"] for item in searched] == [home.pk]
    days = api.get("packages/", params={"period_unit": "days"}).json()["items"]
    assert [item["name"] for item in days] == ["Office 500"]

    first = api.get("packages/", params={"limit": 2}).json()
    second = api.get("packages/", params={"limit": 2, "cursor": first["next"]}).json()
    assert [item["name"] for item in first["items"] + second["items"]] == [
        "Home 100",
        "Legacy",
        "Office 500",
    ]
    assert second["next"] is None

    assert api.get(f"packages/{home.pk}/").json()["pppoe_profile"] == "home"
    assert api.get(f"packages/{home.pk}/", params={"fields": "id"}).json() == {"id": home.pk}
    assert_problem(api.get(f"packages/{theirs.pk}/"), 404)
    assert_problem(api.get("packages/", params={"sort": "live"}), 422, "sort")
    assert_problem(api.get("packages/", params={"status": "gone"}), 422, "status")
    assert_problem(api.get("packages/", params={"fields": "secret"}), 422, "fields")
    assert_problem(api.get("packages/", params={"limit": 10**30}), 422, "limit")


def test_subscription_lists_filter_by_status_client_and_package(api_tenant, api_as, api_client_of):
    today = tenant_today(api_tenant)
    home = package_of(api_tenant, name="Home", period_count=30, period_unit="days")
    office = package_of(api_tenant, name="Office", period_count=30, period_unit="days")
    alice, bob = api_client_of(api_tenant, name="Alice"), api_client_of(api_tenant, name="Bob")
    with scopes_disabled():
        far = SubscriptionFactory(tenant=api_tenant, client=alice, package=home)
        soon = SubscriptionFactory(
            tenant=api_tenant,
            client=bob,
            package=home,
            start_date=today - timedelta(days=27),
            end_date=today + timedelta(days=3),
        )
        gone = SubscriptionFactory(
            tenant=api_tenant,
            client=alice,
            package=office,
            status=SubscriptionStatus.EXPIRED,
            start_date=today - timedelta(days=60),
            end_date=today - timedelta(days=30),
        )
    api = api_as(api_tenant, "viewer")

    every = api.get("subscriptions/").json()["items"]
    assert [item["id"] for item in every] == [far.pk, soon.pk, gone.pk]  # newest start first
    by_id = {item["id"]: item for item in every}
    assert by_id[soon.pk]["display_status"] == "expiring" and by_id[soon.pk]["status"] == "active"
    assert by_id[far.pk]["client"] == alice.number and by_id[far.pk]["package_name"] == "Home"

    def ids(path="subscriptions/", **params):
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(status="expiring") == [soon.pk]
    assert ids(status="active") == [far.pk]
    assert ids(status="expired") == [gone.pk]
    assert ids(client=alice.number) == [far.pk, gone.pk]
    assert ids(package=office.pk) == [gone.pk]
    assert ids(sort="end_date") == [gone.pk, soon.pk, far.pk]
    assert ids(f"clients/{alice.number}/subscriptions/") == [far.pk, gone.pk]
    assert ids(f"clients/{alice.number}/subscriptions/", status="expired") == [gone.pk]
    assert ids(client=999) == []

    read = api.get(f"subscriptions/{soon.pk}/", params={"fields": "id,end_date"}).json()
    assert read == {"id": soon.pk, "end_date": str(today + timedelta(days=3))}
    theirs = package_of(TenantFactory(), name="Theirs")
    assert_problem(api.get("subscriptions/", params={"package": theirs.pk}), 422, "package")
    assert_problem(api.get("subscriptions/", params={"status": "lost"}), 422, "status")
    assert_problem(api.get("clients/999/subscriptions/"), 404)
    assert_problem(api.get("subscriptions/999999/"), 404)


def test_purchase_charges_once_and_replays_its_first_answer(api_tenant, api_as, api_client_of):
    customer = funded_client(api_tenant, api_client_of, balance="100")
    home = package_of(api_tenant, name="Home", price=Decimal("30.00"))
    api = api_as(api_tenant, "manager")
    url = f"clients/{customer.number}/subscriptions/"
    keyed = {"Idempotency-Key": "order-1"}

    first = api.post(url, json={"package": home.pk, "auto_renew": True}, headers=keyed)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "active" and body["auto_renew"] is True
    assert body["amount_paid"] == "30.00" and body["client"] == customer.number
    again = api.post(url, json={"package": home.pk, "auto_renew": True}, headers=keyed)
    assert (again.status_code, again.json()) == (201, body)
    other = api.post(url, json={"package": home.pk}, headers=keyed)
    assert_problem(other, 422, "Idempotency-Key")
    assert balance_of(customer) == Decimal("70.00")

    # Once the kept answer is purged, the key is still the purchase's ledger key: no new charge.
    with scopes_disabled():
        ApiIdempotencyRecord.objects.filter(tenant=api_tenant).delete()
    late = api.post(url, json={"package": home.pk, "auto_renew": True}, headers=keyed)
    assert late.status_code == 201 and late.json()["id"] == body["id"]
    assert balance_of(customer) == Decimal("70.00")
    # ... and, posted for another client or another package, it is refused, never answered
    # with this client's subscription.
    someone = funded_client(api_tenant, api_client_of, balance="100")
    office = package_of(api_tenant, name="Office", price=Decimal("5.00"))
    with scopes_disabled():
        ApiIdempotencyRecord.objects.filter(tenant=api_tenant).delete()
    theirs = api.post(
        f"clients/{someone.number}/subscriptions/", json={"package": home.pk}, headers=keyed
    )
    assert_problem(theirs, 422)
    assert "already used for another posting" in theirs.text
    with scopes_disabled():
        ApiIdempotencyRecord.objects.filter(tenant=api_tenant).delete()
    assert_problem(api.post(url, json={"package": office.pk}, headers=keyed), 422)
    assert balance_of(someone) == Decimal("100") and balance_of(customer) == Decimal("70.00")

    # The same package again while this one is live: refused at the package, nothing charged.
    assert_problem(api.post(url, json={"package": home.pk}), 422, "package")
    assert balance_of(customer) == Decimal("70.00")
    with scopes_disabled():
        assert Subscription.objects.filter(client=customer).count() == 1
        assert LedgerEntry.objects.filter(account__client=customer).count() == 2  # funds, charge


def test_purchase_refuses_bad_input_at_its_field_and_changes_nothing(
    api_tenant, api_other_tenant, api_as, api_client_of
):
    customer = funded_client(api_tenant, api_client_of, balance="5")
    dear = package_of(api_tenant, name="Dear", price=Decimal("30.00"))
    retired = package_of(api_tenant, name="Retired", is_active=False)
    theirs = package_of(api_other_tenant, name="Theirs")
    api = api_as(api_tenant, "owner")
    url = f"clients/{customer.number}/subscriptions/"
    today = tenant_today(api_tenant)

    refusals = [
        ({"package": dear.pk}, "package"),  # 5.00 available, 30.00 due
        ({"package": retired.pk}, "package"),
        ({"package": theirs.pk}, "package"),
        ({"package": "abc"}, "package"),
        ({"package": 2**70}, "package"),
        ({}, "package"),
        ({"package": dear.pk, "start_date": str(today - timedelta(days=1))}, "start_date"),
        ({"package": dear.pk, "start_date": str(today + timedelta(days=400))}, "start_date"),
        ({"package": dear.pk, "start_date": "31.02.2026"}, "start_date"),
        ({"package": dear.pk, "start_date": "2026-01-01\x00"}, "start_date"),
        ({"package": dear.pk, "auto_renew": "perhaps"}, "auto_renew"),
    ]
    for body, field in refusals:
        assert_problem(api.post(url, json=body), 422, field)
    assert_problem(
        api.post(url, data="not json", headers={"Content-Type": "application/json"}), 400
    )
    assert_problem(api.post("clients/999/subscriptions/", json={"package": dear.pk}), 404)
    with scopes_disabled():
        assert not Subscription.objects.filter(client=customer).exists()
    assert balance_of(customer) == Decimal("5.00")


def test_cancel_refunds_the_unused_days_once_and_auto_renew_turns(
    api_tenant, api_as, api_client_of
):
    customer = funded_client(api_tenant, api_client_of, balance="100")
    home = package_of(api_tenant, name="Home", price=Decimal("30.00"), period_count=30)
    api = api_as(api_tenant, "manager")
    bought = api.post(f"clients/{customer.number}/subscriptions/", json={"package": home.pk})
    sub_id = bought.json()["id"]

    on = api.post(f"subscriptions/{sub_id}/auto-renew/", json={"auto_renew": True})
    assert on.status_code == 200 and on.json()["auto_renew"] is True
    off = api.post(f"subscriptions/{sub_id}/auto-renew/", json={"auto_renew": False})
    assert off.json()["auto_renew"] is False
    assert_problem(api.post(f"subscriptions/{sub_id}/auto-renew/", json={}), 422, "auto_renew")

    url = f"subscriptions/{sub_id}/cancel/"
    assert_problem(api.post(url, json={"reason": "   "}), 422, "reason")
    assert_problem(api.post(url, json={"reason": "x" * 501}), 422, "reason")
    assert_problem(api.post(url, json={"refund": True}), 422, "reason")
    keyed = {"Idempotency-Key": "cancel-1"}
    cancelled = api.post(url, json={"reason": "Moving away", "refund": True}, headers=keyed)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["cancel_reason"] == "Moving away"
    refunded = Decimal(body["refunded_amount"])
    assert Decimal("0") < refunded <= Decimal("30.00")
    again = api.post(url, json={"reason": "Moving away", "refund": True}, headers=keyed)
    assert (again.status_code, again.json()) == (200, body)
    assert_problem(api.post(url, json={"reason": "Twice", "refund": True}), 422)
    assert balance_of(customer) == Decimal("70.00") + refunded
    assert_problem(api.post(f"subscriptions/{sub_id}/auto-renew/", json={"auto_renew": True}), 422)


def test_roles_and_modules(api_tenant, api_as, api_client_of, issue_token, live_server):
    customer = funded_client(api_tenant, api_client_of)
    home = package_of(api_tenant, name="Home")
    with scopes_disabled():
        live = SubscriptionFactory(
            tenant=api_tenant, client=customer, package=package_of(api_tenant)
        )
    url = f"clients/{customer.number}/subscriptions/"
    for scope in ("viewer", "accountant", "ingest"):
        api = api_as(api_tenant, scope)
        assert_problem(api.post(url, json={"package": home.pk}), 403)
        assert_problem(api.post(f"subscriptions/{live.pk}/cancel/", json={"reason": "r"}), 403)
        assert_problem(
            api.post(f"subscriptions/{live.pk}/auto-renew/", json={"auto_renew": True}), 403
        )
    assert api_as(api_tenant, "accountant").get("packages/").status_code == 200
    assert_problem(api_as(api_tenant, "ingest").get("packages/"), 403)
    assert balance_of(customer) == Decimal("100.00")

    messaging_only = TenantFactory(uses_routers=False, uses_reseller=False, uses_messaging=True)
    api = api_as(messaging_only, "owner")
    for path in ("packages/", "subscriptions/"):
        assert_problem(api.get(path), 404)


def test_concurrent_identical_purchases_charge_once(api_tenant, api_as, api_client_of):
    customer = funded_client(api_tenant, api_client_of, balance="100")
    home = package_of(api_tenant, name="Home", price=Decimal("30.00"))
    api = api_as(api_tenant, "manager")
    url = f"clients/{customer.number}/subscriptions/"
    answers, start = [], threading.Barrier(6)

    def post():
        start.wait()
        response = api.request(
            "POST", url, json={"package": home.pk}, headers={"Idempotency-Key": "twin"}
        )
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [201] * 6
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    assert balance_of(customer) == Decimal("70.00")
    with scopes_disabled():
        assert Subscription.objects.filter(client=customer).count() == 1
