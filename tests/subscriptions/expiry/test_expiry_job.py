"""The expiry and auto-renewal job: the tenant's day boundary, renewal through the ledger when
funds allow (exactly enough too), expiry otherwise (with the optional financial hold), e-mails
once, a second run changing nothing, and a bounded number of queries."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_scopes import scopes_disabled

from billing.models import Account, LedgerEntry
from clients.models import ClientStatus
from core.jobs import _JOBS, job_get, job_run
from core.models import JobStatus
from core.stored_text import literal_text
from events.models import Event
from events.outbox import OutboxEmail
from holds.models import ClientHold, HoldKind
from holds.services import client_place_hold
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.services import EXPIRY_JOB, expiry_run, renewal_key
from tests.holds.conftest import refresh

pytestmark = pytest.mark.django_db

# Berlin is UTC+1 in January: 23:00 UTC on 9 January is already 10 January there.
BEFORE_MIDNIGHT = datetime(2027, 1, 9, 22, 59, tzinfo=UTC)  # 23:59 on the 9th in Berlin
AFTER_MIDNIGHT = datetime(2027, 1, 9, 23, 0, tzinfo=UTC)  # 00:00 on the 10th in Berlin
END = date(2027, 1, 10)


def ledger(tenant):
    with scopes_disabled():
        return sorted(
            LedgerEntry.objects.filter(tenant=tenant).values_list(
                "account_id", "amount", "idempotency_key"
            )
        )


def test_expires_at_the_tenants_midnight(tenant, funded, subscribe, signals):
    client = funded(tenant)
    sub = subscribe(client, END)
    with scopes_disabled():
        assert expiry_run(tenant=tenant, now=BEFORE_MIDNIGHT)["expired"] == 0
        assert refresh(sub).status == SubscriptionStatus.ACTIVE
        assert expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)["expired"] == 1
    assert refresh(sub).status == SubscriptionStatus.EXPIRED
    with scopes_disabled():
        line = Event.objects.get(client_id=client.pk, type="subscription.expired")
    assert line.who == "system"


def test_renews_with_exactly_enough_funds(
    tenant, funded, subscribe, signals, django_capture_on_commit_callbacks
):
    client = funded(tenant, balance="20", credit="10")  # available 30.00 = the price
    sub = subscribe(client, END, price="30.00", auto_renew=True, days=30)
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        result = expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)
    assert result["renewed"] == 1 and result["expired"] == 0
    assert refresh(sub).status == SubscriptionStatus.EXPIRED
    with scopes_disabled():
        new = Subscription.objects.get(renewal_of=sub)
        entry = LedgerEntry.objects.get(idempotency_key=renewal_key(sub.pk))
        account = Account.objects.get(client=client)
    assert (new.start_date, new.end_date, new.status) == (
        END,
        END + timedelta(days=30),
        SubscriptionStatus.ACTIVE,
    )
    assert new.charge_entry == entry and entry.amount == Decimal("-30.00")
    assert new.origin_id == sub.pk and new.auto_renew and new.created_by is None
    assert account.available == Decimal("0.00")
    assert (client.pk, True, "subscription_renewed") in signals
    assert refresh(client).status == ClientStatus.ACTIVE  # funds exactly zero: no debt


def test_renewal_of_a_renewal_points_at_the_first(tenant, funded, subscribe):
    client = funded(tenant, balance="100")
    sub = subscribe(client, END, price="10.00", auto_renew=True, days=1)
    with scopes_disabled():
        expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)
        expiry_run(tenant=tenant, now=AFTER_MIDNIGHT + timedelta(days=1))
        periods = list(Subscription.objects.filter(client=client).order_by("start_date"))
    assert [p.status for p in periods] == ["expired", "expired", "active"]
    assert {p.origin_id for p in periods[1:]} == {sub.pk}


@pytest.mark.parametrize("hold_on_failure", [False, True])
def test_short_of_funds_expires_and_optionally_holds(
    tenant, funded, subscribe, signals, hold_on_failure, django_capture_on_commit_callbacks
):
    tenant.hold_on_failed_renewal = hold_on_failure
    tenant.save()
    client = funded(tenant, balance="29.99")
    sub = subscribe(client, END, price="30.00", auto_renew=True)
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        result = expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)
    assert result["renewed"] == 0 and result["expired"] == 1
    assert refresh(sub).status == SubscriptionStatus.EXPIRED
    assert ledger(tenant) == [(refresh(client).account.pk, Decimal("29.99"), ledger(tenant)[0][2])]
    assert (client.pk, False, "subscription_expired") in signals
    status = refresh(client).status
    assert status == (ClientStatus.FINANCIAL_HOLD if hold_on_failure else ClientStatus.ACTIVE)
    if hold_on_failure:
        with scopes_disabled():
            hold = ClientHold.objects.get(client=client)
        assert hold.kind == HoldKind.FINANCIAL and not hold.reason.literal
        with translation.override("en"):
            assert str(hold.reason).startswith("Auto-renewal of ")
        with translation.override("ru"):
            assert str(hold.reason).startswith("Автопродление ")
        # Money coming in lifts it at once.
        from billing.services import account_top_up

        with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
            account_top_up(account=refresh(client).account, amount=Decimal("5"))
        assert refresh(client).status == ClientStatus.ACTIVE


def test_suspended_subscription_waits_while_days_are_given_back(tenant, funded, subscribe):
    client = funded(tenant)
    sub = subscribe(client, END)
    with scopes_disabled():
        client_place_hold(tenant=tenant, client=client, reason=literal_text("Check"))
        assert expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)["expired"] == 0
        assert refresh(sub).status == SubscriptionStatus.SUSPENDED
        tenant.suspended_days_extend = False
        tenant.save()
        assert expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)["expired"] == 1
    assert refresh(sub).status == SubscriptionStatus.EXPIRED


def test_run_twice_same_state_and_ledger(tenant, funded, subscribe):
    rich = funded(tenant, balance="100")
    poor = funded(tenant, balance="1")
    subscribe(rich, END, auto_renew=True)
    subscribe(poor, END, auto_renew=True)
    subscribe(poor, END - timedelta(days=3))
    with scopes_disabled():
        first = expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)
        state = sorted(Subscription.objects.values_list("client_id", "status", "end_date"))
        books, lines = ledger(tenant), Event.objects.count()
        second = expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)
        assert sorted(Subscription.objects.values_list("client_id", "status", "end_date")) == state
        assert ledger(tenant) == books and Event.objects.count() == lines
    assert (first["renewed"], first["expired"]) == (1, 2)
    assert (second["renewed"], second["expired"]) == (0, 0)


def test_e_mails_about_to_expire_and_expired_once_each(
    tenant, funded, subscribe, django_capture_on_commit_callbacks
):
    tenant.expiring_window_days = 7
    tenant.save()
    client = funded(tenant, email="c@example.com")
    soon = subscribe(client, END + timedelta(days=7))  # the window's last day
    subscribe(client, END + timedelta(days=8))  # outside the window
    gone = subscribe(client, END)
    with scopes_disabled():
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)
        keys = set(OutboxEmail.objects.values_list("key", flat=True))
    assert keys == {f"expiring:{soon.pk}", f"expired:{gone.pk}"}
    subjects = sorted(m.subject for m in mail.outbox)
    assert len(subjects) == 2
    assert any("has expired" in s for s in subjects) and any("ends on" in s for s in subjects)


def test_job_run_is_recorded(tenant, funded, subscribe):
    subscribe(funded(tenant), END)
    with scopes_disabled():
        run = job_run(tenant=tenant, job=EXPIRY_JOB, now=AFTER_MIDNIGHT)
    assert run.status == JobStatus.OK and run.result["expired"] == 1 and run.finished_at


def test_failure_is_recorded_not_raised(tenant, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setitem(_JOBS, EXPIRY_JOB, replace(job_get(EXPIRY_JOB), run=boom))
    with scopes_disabled():
        run = job_run(tenant=tenant, job=EXPIRY_JOB)
    assert run.status == JobStatus.FAILED and "database went away" in str(run.error)


def _queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("job", ["expiry", "financial"])
def test_query_count_does_not_grow_with_rows(tenant, other_tenant, funded, subscribe, job):
    """Expiry without renewals, and financial holds: the same number of statements for 2 rows
    as for 40 (the bulk inserts go by 2,000)."""
    from holds.services import financial_holds_run

    counts = []
    for t, n in ((tenant, 2), (other_tenant, 40)):
        t.financial_hold_grace_days = 0
        t.save()
        for _ in range(n):
            client = funded(t)
            subscribe(client, END, days=30)
            subscribe(client, END + timedelta(days=3), days=30)  # expiring
            with scopes_disabled():
                Account.objects.filter(client=client).update(balance=Decimal("-1"))
        with scopes_disabled():
            if job == "expiry":
                counts.append(_queries(lambda t=t: expiry_run(tenant=t, now=AFTER_MIDNIGHT)))
            else:
                financial_holds_run(tenant=t)  # starts tracking
                counts.append(_queries(lambda t=t: financial_holds_run(tenant=t)))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 25


def test_renewals_cost_a_fixed_number_of_queries_each(tenant, funded, subscribe):
    def setup(n):
        for _ in range(n):
            subscribe(funded(tenant, balance="100"), END, auto_renew=True)

    setup(2)
    with scopes_disabled():
        two = _queries(lambda: expiry_run(tenant=tenant, now=AFTER_MIDNIGHT))
    setup(5)
    with scopes_disabled():
        five = _queries(lambda: expiry_run(tenant=tenant, now=AFTER_MIDNIGHT))
    per_renewal = (five - two) / 3
    assert per_renewal == int(per_renewal) and per_renewal <= 16, (two, five)


def test_out_of_time_renewals_wait_for_the_next_run(tenant, funded, subscribe, settings):
    renewing = subscribe(funded(tenant, balance="100"), END, auto_renew=True)
    plain = subscribe(funded(tenant), END)
    settings.SUBSCRIPTIONS_RENEWAL_SECONDS = -1  # no time at all for renewals
    with scopes_disabled():
        result = expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)
    assert (result["renewals_deferred"], result["renewed"], result["expired"]) == (1, 0, 1)
    assert refresh(renewing).status == SubscriptionStatus.ACTIVE  # not expired: still due
    assert refresh(plain).status == SubscriptionStatus.EXPIRED
    settings.SUBSCRIPTIONS_RENEWAL_SECONDS = None
    with scopes_disabled():
        assert expiry_run(tenant=tenant, now=AFTER_MIDNIGHT)["renewed"] == 1


def test_a_renewal_chunk_gives_missing_accounts_in_the_same_statements_for_two_as_for_six(
    tenant, other_tenant, funded, subscribe
):
    """Clients loaded without their accounts: the chunk gives them accounts with one insert
    and one select, not a statement each."""
    from subscriptions.lifecycle import subscriptions_renew_chunk

    counts = []
    for t, n in ((tenant, 2), (other_tenant, 6)):
        subscriptions = [subscribe(funded(t), END, auto_renew=True) for _ in range(n)]
        with scopes_disabled():
            Account.objects.filter(tenant=t).delete()
            ids = [s.pk for s in subscriptions]
            counts.append(
                _queries(
                    lambda t=t, ids=ids: subscriptions_renew_chunk(
                        tenant=t, subscription_ids=ids, today=END
                    )
                )
            )
            assert Account.objects.filter(tenant=t).count() == n  # given, empty: too little
            assert not LedgerEntry.objects.filter(tenant=t).exists()
    assert counts[0] == counts[1], counts
