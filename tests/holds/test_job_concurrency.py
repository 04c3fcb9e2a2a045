"""Two workers at once on PostgreSQL (own connections, real transactions): the advisory lock
lets one run of a job per tenant through; renewing one period twice at once charges once (row
lock with SKIP LOCKED, then the ledger's key); a top-up racing the financial job leaves a
consistent state."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from billing.models import LedgerEntry
from core.jobs import job_run
from core.models import JobRun
from core.stored_text import literal_text
from holds.services import FINANCIAL_HOLDS_JOB
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.services import EXPIRY_JOB, renewal_key, subscription_renew
from tests.factories import ClientFactory, PackageFactory, SubscriptionFactory, make_account

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2027, 1, 9, 23, 30, tzinfo=UTC)
END = date(2027, 1, 10)


def parallel(*calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            with scopes_disabled():
                return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, c) for c in calls]]


def due_renewals(tenant, n=5):
    package = PackageFactory(
        tenant=tenant, price=Decimal("10.00"), period_count=30, period_unit="days"
    )
    subs = []
    for _ in range(n):
        client = ClientFactory(tenant=tenant)
        make_account(client, balance="25")
        subs.append(
            SubscriptionFactory(
                tenant=tenant,
                client=client,
                package=package,
                start_date=END - timedelta(days=30),
                end_date=END,
                auto_renew=True,
            )
        )
    return subs


def test_two_workers_run_the_expiry_job_once(tenant):
    subs = due_renewals(tenant)
    runs = parallel(
        lambda: job_run(tenant=tenant, job=EXPIRY_JOB, now=NOW),
        lambda: job_run(tenant=tenant, job=EXPIRY_JOB, now=NOW),
    )
    with scopes_disabled():
        charges = LedgerEntry.objects.filter(idempotency_key__startswith="sub-renewal:").count()
        renewed = Subscription.objects.filter(renewal_of__in=subs).count()
        assert JobRun.objects.count() == sum(r is not None for r in runs)
    assert charges == renewed == len(subs)
    # Afterwards each worker's run changes nothing.
    again = parallel(*[lambda: job_run(tenant=tenant, job=EXPIRY_JOB, now=NOW)] * 2)
    assert all(r is None or r.result["renewed"] == 0 for r in again)


def test_one_period_renewed_twice_at_once_charges_once(tenant):
    (sub,) = due_renewals(tenant, 1)
    outcomes = parallel(
        *[lambda: subscription_renew(tenant=tenant, subscription_id=sub.pk, today=END)] * 4
    )
    assert sorted(outcomes) == ["renewed", "skipped", "skipped", "skipped"]
    with scopes_disabled():
        assert LedgerEntry.objects.filter(idempotency_key=renewal_key(sub.pk)).count() == 1
        assert Subscription.objects.filter(client=sub.client, status="active").count() == 1
        sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.EXPIRED


def test_two_workers_run_the_financial_job_once(tenant):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    from billing.services import account_charge

    clients = [ClientFactory(tenant=tenant) for _ in range(4)]
    for client in clients:
        account = make_account(client)
        with scopes_disabled():
            account_charge(
                account=account,
                amount=Decimal("5"),
                purpose=literal_text("x"),
                allow_overdraft=True,
            )
    parallel(*[lambda: job_run(tenant=tenant, job=FINANCIAL_HOLDS_JOB)] * 2)
    from holds.models import ClientHold

    with scopes_disabled():
        assert ClientHold.objects.filter(lifted_at__isnull=True).count() == 4


def test_top_up_release_racing_the_job_lifts_each_hold_once(tenant):
    from billing.services import account_charge, account_top_up
    from clients.models import ClientStatus
    from holds.models import ClientHold
    from holds.services import financial_hold_release_if_funded, financial_holds_run

    tenant.financial_hold_grace_days = 0
    tenant.save()
    clients = [ClientFactory(tenant=tenant) for _ in range(6)]
    with scopes_disabled():
        for client in clients:
            account = make_account(client)
            account_charge(
                account=account,
                amount=Decimal("5"),
                purpose=literal_text("x"),
                allow_overdraft=True,
            )
        financial_holds_run(tenant=tenant)
        with mock.patch("holds.receivers.financial_holds_release_if_funded"):  # raced below
            for client in clients:
                account_top_up(account=make_account(client), amount=Decimal("5"))
        assert ClientHold.objects.filter(lifted_at__isnull=True).count() == 6
    calls = [lambda: job_run(tenant=tenant, job=FINANCIAL_HOLDS_JOB)]
    calls += [
        lambda c=c: financial_hold_release_if_funded(tenant=tenant, client_id=c.pk) for c in clients
    ]
    parallel(*calls)
    with scopes_disabled():
        holds = list(ClientHold.objects.values_list("client_id", "lifted_at"))
        statuses = {
            c.status for c in type(clients[0]).objects.filter(pk__in=[c.pk for c in clients])
        }
    assert len(holds) == 6 and all(lifted for _, lifted in holds)
    assert statuses == {ClientStatus.ACTIVE}
