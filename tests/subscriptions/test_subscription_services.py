"""Buying, cancelling and refunding through the ledger; packages; the holds hooks."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_scopes import scopes_disabled

from billing.models import Account, EntryKind, LedgerEntry
from billing.services import InsufficientFunds
from clients.models import Client, ClientStatus
from clients.signals import client_access_changed
from events.models import Event
from subscriptions.models import Package, Subscription, SubscriptionStatus
from subscriptions.services import (
    package_create,
    package_reactivate,
    package_retire,
    package_update,
    purchase_key,
    refund_amount,
    subscription_cancel,
    subscription_create,
    subscription_order,
    subscription_resume_all,
    subscription_set_auto_renew,
    subscription_suspend_all,
    unused_days,
)
from tests.factories import ClientFactory, PackageFactory, SubscriptionFactory, make_account

from .conftest import token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scoped")]


def balance(client) -> Decimal:
    with scopes_disabled():
        return Account.objects.get(client=client).balance


def buy(tenant, client, package, start, **kwargs):
    return subscription_create(
        tenant=tenant, client=client, package=package, start_date=start, **kwargs
    )


# -- purchase -----------------------------------------------------------------------------------
def test_purchase_charges_price_and_links_entry(tenant, customer, package, funded, today, owner):
    sub = buy(tenant, customer, package, today, actor=owner.user, auto_renew=True)
    assert sub.status == SubscriptionStatus.ACTIVE and sub.auto_renew
    assert sub.end_date == package.end_for(today)
    assert sub.amount_paid == Decimal("30.00") and sub.created_by == owner.user
    assert balance(customer) == Decimal("70.00")
    entry = sub.charge_entry
    assert entry.kind == EntryKind.SUBSCRIPTION_PURCHASE and entry.amount == Decimal("-30.00")
    assert entry.operator == owner.user and "Home 100" in str(entry.purpose)
    customer.refresh_from_db()
    assert customer.last_purchase_at == entry.created_at
    verbs = list(Event.objects.filter(client_id=customer.pk).values_list("type", flat=True))
    assert "subscription.created" in verbs
    purchases = Event.objects.filter(client_id=customer.pk, payload__kind="subscription_purchase")
    assert not purchases.exists()  # one line per purchase, not two


def test_insufficient_funds_changes_nothing(tenant, customer, package, today):
    make_account(customer, balance="29.99")
    with pytest.raises(InsufficientFunds) as info:
        buy(tenant, customer, package, today)
    assert "Insufficient funds" in info.value.messages[0]
    assert not Subscription.objects.filter(client=customer).exists()
    assert balance(customer) == Decimal("29.99")
    assert LedgerEntry.objects.filter(account__client=customer).count() == 1


def test_credit_limit_counts_as_funds(tenant, customer, package, today):
    make_account(customer, balance="10", credit_limit="20")
    buy(tenant, customer, package, today)
    assert balance(customer) == Decimal("-20.00")


def test_exact_funds_are_enough(tenant, customer, package, today):
    make_account(customer, balance="30")
    buy(tenant, customer, package, today)
    assert balance(customer) == Decimal("0.00")


def test_free_package_posts_no_entry(tenant, customer, today):
    free = PackageFactory(tenant=tenant, price=Decimal("0"))
    sub = buy(tenant, customer, free, today)
    assert sub.charge_entry is None and sub.amount_paid == 0


def test_one_live_subscription_per_package(tenant, customer, package, funded, today):
    buy(tenant, customer, package, today)
    with pytest.raises(ValidationError) as info:
        buy(tenant, customer, package, today + timedelta(days=40))
    assert "already has an active subscription" in str(info.value.message_dict["package"])
    assert balance(customer) == Decimal("70.00")
    other = PackageFactory(tenant=tenant, price=Decimal("5"))
    buy(tenant, customer, other, today)  # another package is fine
    assert Subscription.objects.filter(client=customer).count() == 2


def test_partial_unique_constraint_backs_the_rule(tenant, customer, package, today):
    SubscriptionFactory(tenant=tenant, client=customer, package=package, status="suspended")
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory(tenant=tenant, client=customer, package=package, status="active")
    # cancelled and expired ones do not count
    SubscriptionFactory(tenant=tenant, client=customer, package=package, status="cancelled")
    SubscriptionFactory(tenant=tenant, client=customer, package=package, status="expired")


def test_new_purchase_allowed_after_cancel(tenant, customer, package, funded, today):
    sub = buy(tenant, customer, package, today)
    subscription_cancel(subscription=sub, actor=None, reason="Moved")
    buy(tenant, customer, package, today)
    assert balance(customer) == Decimal("40.00")


def test_retired_package_cannot_be_bought(tenant, customer, package, funded, today):
    package_retire(package=package, actor=None)
    with pytest.raises(ValidationError) as info:
        buy(tenant, customer, package, today)
    assert "retired" in str(info.value.message_dict["package"])
    assert balance(customer) == Decimal("100.00")


def test_start_date_rules(tenant, customer, package, funded, today):
    with pytest.raises(ValidationError) as info:
        buy(tenant, customer, package, today - timedelta(days=1))
    assert "past" in str(info.value.message_dict["start_date"])
    with pytest.raises(ValidationError):
        buy(tenant, customer, package, today + timedelta(days=400))
    assert balance(customer) == Decimal("100.00")


def test_deleted_client_cannot_buy(tenant, customer, package, funded, today):
    Client.objects.filter(pk=customer.pk).update(status=ClientStatus.DELETED)
    with pytest.raises(ValidationError):
        buy(tenant, customer, package, today)
    assert balance(customer) == Decimal("100.00")


def test_client_on_hold_gets_a_suspended_subscription(tenant, customer, package, funded, today):
    Client.objects.filter(pk=customer.pk).update(status=ClientStatus.ADMINISTRATIVE_HOLD)
    sub = buy(tenant, customer, package, today)
    assert sub.status == SubscriptionStatus.SUSPENDED and sub.suspended_at


def test_other_tenants_package_is_refused(tenant, other_tenant, customer, funded, today):
    foreign = PackageFactory(tenant=other_tenant)
    with pytest.raises(ValidationError):
        buy(tenant, customer, foreign, today)


def test_same_key_buys_once(tenant, customer, package, funded, today):
    key = purchase_key(token())
    first = buy(tenant, customer, package, today, idempotency_key=key)
    again = buy(tenant, customer, package, today, idempotency_key=key)
    assert again.pk == first.pk and again.replayed and not first.replayed
    assert balance(customer) == Decimal("70.00")


def test_month_periods_clamp_to_month_end(tenant):
    package = PackageFactory(tenant=tenant, period_count=1, period_unit="months")
    assert package.end_for(date(2027, 1, 31)) == date(2027, 2, 28)
    assert package.end_for(date(2028, 1, 31)) == date(2028, 2, 29)
    assert package.end_for(date(2027, 12, 15)) == date(2028, 1, 15)
    days = PackageFactory(tenant=tenant, period_count=30, period_unit="days")
    assert days.end_for(date(2027, 3, 1)) == date(2027, 3, 31)


# -- order (existing or new client) --------------------------------------------------------------
def new_client_data(**overrides):
    data = {"name": "Fresh Client", "email": "fresh@example.com"}
    data.update(overrides)
    return data


def test_order_with_new_client_and_free_package_creates_both(tenant, today, owner):
    free = PackageFactory(tenant=tenant, price=Decimal("0"))
    sub = subscription_order(
        tenant=tenant,
        actor=owner.user,
        package=free,
        start_date=today,
        new_client=new_client_data(),
    )
    assert sub.client.name == "Fresh Client" and sub.client.number > 0
    verbs = set(Event.objects.filter(client_id=sub.client.pk).values_list("type", flat=True))
    assert {"client.created", "subscription.created"} <= verbs


def test_order_with_new_client_rolls_back_when_purchase_fails(tenant, package, today):
    before = Client.objects.count()
    with pytest.raises(InsufficientFunds):
        subscription_order(
            tenant=tenant,
            actor=None,
            package=package,
            start_date=today,
            new_client=new_client_data(),
        )
    assert Client.objects.count() == before
    assert not Account.objects.filter(client__name="Fresh Client").exists()


def test_order_for_existing_client(tenant, customer, package, funded, today):
    sub = subscription_order(
        tenant=tenant, actor=None, package=package, start_date=today, client=customer
    )
    assert sub.client == customer and balance(customer) == Decimal("70.00")


# -- cancel and refund ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start_offset", "length", "expected_unused"),
    [(0, 30, 29), (-10, 30, 19), (-29, 30, 0), (5, 30, 30)],
)
def test_unused_days(tenant, today, start_offset, length, expected_unused):
    sub = Subscription(
        start_date=today + timedelta(days=start_offset),
        end_date=today + timedelta(days=start_offset + length),
    )
    assert unused_days(sub, today) == expected_unused


def test_refund_is_pro_rata_and_rounded(tenant, today):
    sub = Subscription(
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=20),
        amount_paid=Decimal("10.00"),
    )
    # 19 of 30 days unused: 6.333... -> 6.33
    assert refund_amount(sub, today) == Decimal("6.33")


def test_cancel_with_refund_posts_one_refund(tenant, customer, package, funded, today, owner):
    sub = buy(tenant, customer, package, today)
    expected = refund_amount(sub, today)
    cancelled = subscription_cancel(
        subscription=sub, actor=owner.user, reason="Moving away", refund=True
    )
    assert cancelled.status == SubscriptionStatus.CANCELLED and not cancelled.auto_renew
    assert cancelled.cancel_reason == "Moving away" and cancelled.cancelled_by == owner.user
    assert cancelled.refunded_amount == expected > 0
    assert cancelled.refund_entry.kind == EntryKind.REFUND
    assert cancelled.refund_entry.idempotency_key == f"sub-refund:{sub.pk}"
    assert balance(customer) == Decimal("70.00") + expected
    with pytest.raises(ValidationError):  # already cancelled: nothing more
        subscription_cancel(subscription=sub, actor=owner.user, reason="again", refund=True)
    assert balance(customer) == Decimal("70.00") + expected


def test_cancel_without_refund_keeps_balance(tenant, customer, package, funded, today):
    sub = buy(tenant, customer, package, today)
    subscription_cancel(subscription=sub, actor=None, reason="Unpaid", refund=False)
    assert balance(customer) == Decimal("70.00")


def test_cancel_needs_a_reason(tenant, customer, package, funded, today):
    sub = buy(tenant, customer, package, today)
    with pytest.raises(ValidationError) as info:
        subscription_cancel(subscription=sub, actor=None, reason="  ")
    assert "reason" in info.value.message_dict
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE


def test_auto_renew_toggle_records_activity(tenant, customer, package, funded, today):
    sub = buy(tenant, customer, package, today)
    subscription_set_auto_renew(subscription=sub, actor=None, auto_renew=True)
    sub.refresh_from_db()
    assert sub.auto_renew
    assert (
        Event.objects.filter(client_id=customer.pk, type="subscription.auto_renew_changed").count()
        == 1
    )
    subscription_set_auto_renew(subscription=sub, actor=None, auto_renew=True)  # no change
    assert (
        Event.objects.filter(client_id=customer.pk, type="subscription.auto_renew_changed").count()
        == 1
    )


# -- packages ------------------------------------------------------------------------------------
def package_data(**overrides):
    data = {
        "name": "Fiber 500",
        "price": Decimal("49.90"),
        "period_count": 1,
        "period_unit": "months",
        "description": "",
        "rate_limit": "100M/500M",
        "pppoe_profile": "fiber500",
    }
    data.update(overrides)
    return data


def test_package_create_update_retire_reactivate(tenant):
    package = package_create(tenant=tenant, actor=None, **package_data())
    package = package_update(package=package, actor=None, **package_data(price=Decimal("55")))
    assert package.price == Decimal("55")
    retired = package_retire(package=package, actor=None)
    assert not retired.is_active and retired.retired_at
    # a retired name may be reused by a new package on sale
    package_create(tenant=tenant, actor=None, **package_data())
    with pytest.raises(ValidationError):  # but then the old one cannot come back under it
        package_reactivate(package=retired, actor=None)


def test_active_package_names_are_unique_per_tenant(tenant, other_tenant):
    package_create(tenant=tenant, actor=None, **package_data())
    with pytest.raises(ValidationError) as info:
        package_create(tenant=tenant, actor=None, **package_data())
    assert "name" in info.value.message_dict
    with scopes_disabled():
        package_create(tenant=other_tenant, actor=None, **package_data())
    assert Package.objects.filter(tenant=tenant).count() == 1


def test_price_change_keeps_paid_amounts(tenant, customer, package, funded, today):
    sub = buy(tenant, customer, package, today)
    package_update(package=package, actor=None, price=Decimal("99"))
    sub.refresh_from_db()
    assert sub.amount_paid == Decimal("30.00")


# -- holds hooks and the access signal -----------------------------------------------------------
@pytest.fixture
def access_events():
    events = []

    def receiver(sender, tenant, client, access, reason, **kwargs):
        events.append((client.pk, access, reason))

    client_access_changed.connect(receiver)
    yield events
    client_access_changed.disconnect(receiver)


def test_access_signal_after_commit(
    tenant, customer, package, funded, today, access_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sub = buy(tenant, customer, package, today)
    assert access_events == [(customer.pk, True, "subscription_created")]
    with django_capture_on_commit_callbacks(execute=True):
        subscription_cancel(subscription=sub, actor=None, reason="x")
    assert access_events[-1] == (customer.pk, False, "subscription_cancelled")


def test_suspend_and_resume_all(tenant, customer, package, funded, today):
    sub = buy(tenant, customer, package, today)
    assert subscription_suspend_all(client=customer, actor_label="holds", reason="Debt") == 1
    assert subscription_suspend_all(client=customer) == 0  # idempotent
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.SUSPENDED
    Subscription.objects.filter(pk=sub.pk).update(suspended_at=sub.suspended_at - timedelta(days=3))
    assert subscription_resume_all(client=customer) == 1
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.end_date == package.end_for(today) + timedelta(days=3)
    line = Event.objects.filter(client_id=customer.pk, type="subscription.suspended").get()
    assert line.actor is None and line.who == "holds"


def test_billing_top_up_and_credit_change_appear_in_activity(tenant, customer, owner):
    make_account(customer, balance="25", credit_limit="10")
    lines = {a.type: a for a in Event.objects.filter(client_id=customer.pk)}
    assert "ledger.entry_posted" in lines and "25.00 EUR" in str(
        lines["ledger.entry_posted"].description
    )
    assert "credit_limit.changed" in lines
    assert lines["ledger.entry_posted"].who == "system"


def test_other_client_unaffected(tenant, package, today):
    a, b = ClientFactory(tenant=tenant), ClientFactory(tenant=tenant)
    make_account(a, balance="50")
    make_account(b, balance="50")
    buy(tenant, a, package, today)
    assert balance(b) == Decimal("50.00")
