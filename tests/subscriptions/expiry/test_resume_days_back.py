"""One rule gives back the days on hold: the operator's release of one client and the
financial-hold job's bulk release end with the same end dates (both call
`subscriptions_resume`), with the days given back or, when the tenant says no, kept."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.models import Account
from billing.services import account_charge
from core.stored_text import literal_text
from holds.models import HoldKind
from holds.services import client_place_hold, client_release_hold, financial_holds_run
from subscriptions.models import Subscription, SubscriptionStatus, tenant_today
from subscriptions.services import subscriptions_resume, subscriptions_suspend
from tests.holds.conftest import refresh

pytestmark = pytest.mark.django_db

ON_HOLD = timedelta(days=4, hours=5)  # whole days given back: 4


def _suspended_since(subscription, moment):
    with scopes_disabled():
        Subscription.objects.filter(pk=subscription.pk).update(suspended_at=moment)


@pytest.mark.parametrize("extend", [True, False])
def test_operator_and_job_releases_give_the_same_end_dates(tenant, funded, subscribe, extend):
    tenant.financial_hold_grace_days = 0
    tenant.suspended_days_extend = extend
    tenant.save()
    end = tenant_today(tenant) + timedelta(days=10)
    by_operator, by_job = funded(tenant, balance="10"), funded(tenant)
    operator_sub, job_sub = subscribe(by_operator, end), subscribe(by_job, end)
    with scopes_disabled():
        client_place_hold(tenant=tenant, client=by_operator, reason=literal_text("Abuse report"))
        account = Account.objects.select_related("tenant").get(client=by_job)
        account_charge(
            account=account,
            amount=Decimal("5"),
            purpose=literal_text("Usage"),
            allow_overdraft=True,
        )
        assert financial_holds_run(tenant=tenant)["held"] == 1
    assert refresh(operator_sub).status == refresh(job_sub).status == SubscriptionStatus.SUSPENDED
    since = timezone.now() - ON_HOLD
    _suspended_since(operator_sub, since)
    _suspended_since(job_sub, since)
    with scopes_disabled():
        client_release_hold(
            tenant=tenant,
            client=by_operator,
            kind=HoldKind.ADMINISTRATIVE,
            reason=literal_text("Resolved"),
        )
        Account.objects.filter(client=by_job).update(balance=Decimal("0"))  # no receiver: the job
        assert financial_holds_run(tenant=tenant)["released"] == 1
    expected = end + timedelta(days=4) if extend else end
    assert refresh(operator_sub).end_date == refresh(job_sub).end_date == expected
    assert operator_sub.status == job_sub.status == SubscriptionStatus.ACTIVE
    assert operator_sub.suspended_at is None and job_sub.suspended_at is None


def test_suspend_and_resume_are_set_based_and_idempotent(tenant, funded, subscribe):
    end = tenant_today(tenant) + timedelta(days=10)
    first, second = funded(tenant), funded(tenant)
    subs = [subscribe(first, end), subscribe(first, end), subscribe(second, end)]
    with scopes_disabled():
        assert subscriptions_suspend(tenant=tenant, client_ids=[first.pk, second.pk]) == {
            first.pk: 2,
            second.pk: 1,
        }
        assert subscriptions_suspend(tenant=tenant, client_ids=[first.pk]) == {}
        for sub in subs:
            _suspended_since(sub, timezone.now() - ON_HOLD)
        resumed = subscriptions_resume(tenant=tenant, client_ids=[first.pk, second.pk])
        assert resumed == {first.pk: 2, second.pk: 1}
        assert subscriptions_resume(tenant=tenant, client_ids=[first.pk]) == {}
    assert {refresh(sub).end_date for sub in subs} == {end + timedelta(days=4)}
