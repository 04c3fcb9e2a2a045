"""Parallel purchases on PostgreSQL (transaction=True, one connection per thread): the client
row lock and the partial unique constraint keep one live subscription per package, with one
charge; and a deletion racing a purchase never leaves a deleted client with a live
subscription."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import uuid4

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scopes_disabled

from billing.models import Account, EntryKind, LedgerEntry
from clients.models import ClientStatus
from clients.services import client_delete
from subscriptions.models import Subscription, tenant_today
from subscriptions.services import purchase_key, subscription_create
from tests.factories import ClientFactory, PackageFactory, TenantFactory, make_account

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*jobs):
    """Start the jobs at the same moment on their own threads and connections."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        try:
            return job()
        except Exception as exc:  # checked by the test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return [f.result() for f in [pool.submit(run, job) for job in jobs]]


@pytest.fixture
def setup():
    tenant = TenantFactory()
    customer = ClientFactory(tenant=tenant)
    package = PackageFactory(tenant=tenant, price=Decimal("30.00"))
    make_account(customer, balance="100")
    return tenant, customer, package


def purchase(tenant, customer, package, key=None):
    def job():
        with scopes_disabled():
            return subscription_create(
                tenant=tenant,
                client=customer,
                package=package,
                start_date=tenant_today(tenant),
                idempotency_key=key or purchase_key(uuid4()),
            )

    return job


@pytest.mark.parametrize("parallel", [2, 6])
def test_parallel_purchases_of_one_package_give_one_subscription_and_one_charge(setup, parallel):
    tenant, customer, package = setup
    results = run_together(*[purchase(tenant, customer, package) for _ in range(parallel)])
    bought = [r for r in results if isinstance(r, Subscription)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(bought) == 1 and len(refused) == parallel - 1, results
    with scopes_disabled():
        assert Subscription.objects.filter(client=customer).count() == 1
        charges = LedgerEntry.objects.filter(
            account__client=customer, kind=EntryKind.SUBSCRIPTION_PURCHASE
        )
        assert charges.count() == 1
        assert Account.objects.get(client=customer).balance == Decimal("70.00")


def test_parallel_retries_with_one_key_buy_once(setup):
    tenant, customer, package = setup
    key = purchase_key(uuid4())
    results = run_together(*[purchase(tenant, customer, package, key) for _ in range(4)])
    assert all(isinstance(r, Subscription) for r in results), results
    assert len({r.pk for r in results}) == 1
    with scopes_disabled():
        assert Account.objects.get(client=customer).balance == Decimal("70.00")


def test_delete_racing_a_purchase_never_leaves_a_live_subscription_on_a_deleted_client(setup):
    tenant, customer, package = setup

    def delete():
        with scopes_disabled():
            return client_delete(client=customer, actor=None)

    results = run_together(purchase(tenant, customer, package), delete)
    customer.refresh_from_db()
    with scopes_disabled():
        live = Subscription.objects.filter(client=customer, status="active").exists()
    assert not (customer.status == ClientStatus.DELETED and live), results
    assert any(isinstance(r, ValidationError) for r in results), results
