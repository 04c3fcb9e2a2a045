"""The API's lists and details run a fixed number of queries, however many rows a page has
(token, tenant, the page; no count)."""

import pytest
from django_scopes import scopes_disabled

from core.stored_text import literal_text
from exports.models import ExportJob
from holds.services import client_place_hold
from tenancy.services import api_token_create
from tests.factories import (
    ClientFactory,
    PackageFactory,
    PppoeAccountFactory,
    SenderIdFactory,
    SubscriptionFactory,
    make_account,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(tenant):
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="q", scope="owner").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.mark.parametrize("rows", [1, 30])
def test_client_list_and_detail_query_counts(
    client, tenant, bearer, rows, django_assert_max_num_queries
):
    customers = ClientFactory.create_batch(rows, tenant=tenant)
    client.get("/api/v1/clients/", **bearer)  # the token's last use is written once a minute
    with django_assert_max_num_queries(3):
        listed = client.get("/api/v1/clients/", {"limit": 100, "sort": "name"}, **bearer)
    assert listed.status_code == 200 and len(listed.json()["items"]) == rows
    with django_assert_max_num_queries(3):
        read = client.get(f"/api/v1/clients/{customers[-1].number}/", **bearer)
    assert read.status_code == 200


@pytest.mark.parametrize("top_ups", [1, 30])
def test_ledger_and_account_query_counts(
    client, tenant, bearer, top_ups, django_assert_max_num_queries
):
    customer = ClientFactory(tenant=tenant)
    for _ in range(top_ups):
        make_account(customer, balance="1")
    client.get("/api/v1/clients/", **bearer)
    with django_assert_max_num_queries(4):
        ledger = client.get(f"/api/v1/clients/{customer.number}/ledger/", **bearer)
    assert ledger.status_code == 200 and len(ledger.json()["items"]) == top_ups
    with django_assert_max_num_queries(3):
        assert (
            client.get(f"/api/v1/clients/{customer.number}/account/", **bearer).status_code == 200
        )


@pytest.mark.parametrize("rows", [1, 30])
def test_package_and_subscription_lists_and_details_query_counts(
    client, tenant, bearer, rows, django_assert_max_num_queries
):
    packages = PackageFactory.create_batch(rows, tenant=tenant)
    customer = ClientFactory(tenant=tenant)
    subscriptions = [
        SubscriptionFactory(tenant=tenant, client=customer, package=package) for package in packages
    ]
    client.get("/api/v1/clients/", **bearer)
    with django_assert_max_num_queries(3):
        listed = client.get("/api/v1/packages/", {"limit": 100}, **bearer)
    assert listed.status_code == 200 and len(listed.json()["items"]) == rows
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/packages/{packages[-1].pk}/", **bearer).status_code == 200
    with django_assert_max_num_queries(3):
        listed = client.get("/api/v1/subscriptions/", {"limit": 100}, **bearer)
    assert listed.status_code == 200 and len(listed.json()["items"]) == rows
    with django_assert_max_num_queries(4):  # the client, then its page
        mine = client.get(f"/api/v1/clients/{customer.number}/subscriptions/", **bearer)
    assert mine.status_code == 200 and len(mine.json()["items"]) == min(rows, 20)
    with django_assert_max_num_queries(3):
        read = client.get(f"/api/v1/subscriptions/{subscriptions[-1].pk}/", **bearer)
    assert read.status_code == 200


@pytest.mark.parametrize("rows", [1, 30])
def test_hold_lists_query_counts(client, tenant, bearer, rows, django_assert_max_num_queries):
    held = ClientFactory.create_batch(rows, tenant=tenant)
    with scopes_disabled():
        for customer in held:
            client_place_hold(tenant=tenant, client=customer, reason=literal_text("Checked"))
    client.get("/api/v1/clients/", **bearer)
    with django_assert_max_num_queries(3):
        listed = client.get("/api/v1/holds/", {"limit": 100}, **bearer)
    assert listed.status_code == 200 and len(listed.json()["items"]) == rows
    with django_assert_max_num_queries(4):
        mine = client.get(f"/api/v1/clients/{held[-1].number}/holds/", **bearer)
    assert mine.status_code == 200 and len(mine.json()["items"]) == 1


@pytest.mark.parametrize("rows", [1, 30])
def test_router_and_account_query_counts(
    client, tenant, bearer, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        account = PppoeAccountFactory(tenant=tenant)
    client.get("/api/v1/clients/", **bearer)
    with django_assert_max_num_queries(3):
        routers = client.get("/api/v1/routers/", {"limit": 100}, **bearer)
    assert routers.status_code == 200 and len(routers.json()["items"]) == rows
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/routers/{account.router_id}/", **bearer).status_code == 200
    with django_assert_max_num_queries(3):
        accounts = client.get("/api/v1/pppoe-accounts/", {"limit": 100}, **bearer)
    assert accounts.status_code == 200 and len(accounts.json()["items"]) == rows
    with django_assert_max_num_queries(3):
        read = client.get(f"/api/v1/pppoe-accounts/{account.pk}/", **bearer)
    assert read.status_code == 200


@pytest.mark.parametrize("rows", [1, 30])
def test_names_statistics_and_export_query_counts(
    client, tenant, bearer, rows, django_assert_max_num_queries
):
    customer = ClientFactory(tenant=tenant)
    for _ in range(rows):
        SenderIdFactory(client=customer)
    with scopes_disabled():
        for _ in range(rows):
            job = ExportJob.objects.create(tenant=tenant, kind="billing.ledger")
    client.get("/api/v1/clients/", **bearer)
    with django_assert_max_num_queries(4):
        names = client.get(f"/api/v1/clients/{customer.number}/names/", {"limit": 100}, **bearer)
    assert names.status_code == 200 and len(names.json()["items"]) == rows
    with django_assert_max_num_queries(5):  # the client, the rollup, the sender IDs' statuses
        report = client.get(
            f"/api/v1/clients/{customer.number}/statistics/", {"report": "sender"}, **bearer
        )
    assert report.status_code == 200
    with django_assert_max_num_queries(3):
        jobs = client.get("/api/v1/exports/", {"limit": 100}, **bearer)
    assert jobs.status_code == 200 and len(jobs.json()["items"]) == rows
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/exports/{job.pk}/", **bearer).status_code == 200
