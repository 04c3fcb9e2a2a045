"""Demo packages and subscription histories for `manage.py seed_demo`.

Every tenant gets packages (one retired). Clients past the first 40 of each tenant (the billing
demo gives those its own ledger) get a history of consecutive periods ending around today,
none before the client joined: expired periods behind, a current one that is Active, Expiring
(some forced inside the tenant's window), Suspended for clients on hold, or Cancelled; deleted
clients keep only completed periods. Each period is paid through the ledger (a dated top-up
first, then a dated charge per period), so the demo ledger stays consistent, View subscription
shows its entries, and the client's last purchase date is the newest period's charge (the
ledger records it).
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import EntryKind
from billing.services import account_charge, account_for_client, account_top_up
from clients.models import ClientStatus
from core.stored_text import Money, stored_gettext
from events.services import event_record
from tenancy.modules import SUBSCRIPTIONS, uses_any

from .lifecycle import days_between, purchase_purpose
from .models import Package, PeriodUnit, Subscription, SubscriptionStatus, add_months, tenant_today

PACKAGES = {
    "isp": [
        ("Home 50", "25.00", 1, PeriodUnit.MONTHS, "10M/50M", "home50", True),
        ("Home 200", "39.90", 1, PeriodUnit.MONTHS, "40M/200M", "home200", True),
        ("Business 500", "79.00", 1, PeriodUnit.MONTHS, "100M/500M", "biz500", True),
        ("Fiber 1000 yearly", "990.00", 12, PeriodUnit.MONTHS, "200M/1000M", "fiber1000", True),
        ("Weekend pass", "9.00", 3, PeriodUnit.DAYS, "20M/100M", "weekend", True),
        ("DSL 16", "19.90", 1, PeriodUnit.MONTHS, "1M/16M", "dsl16", False),
    ],
    "reseller": [
        ("Microsoft 365 Business Basic", "6.00", 1, PeriodUnit.MONTHS, "", "", True),
        ("Microsoft 365 Business Standard", "12.50", 1, PeriodUnit.MONTHS, "", "", True),
        ("Microsoft 365 E3, annual", "432.00", 12, PeriodUnit.MONTHS, "", "", True),
        ("Antivirus Pro, 30 days", "4.99", 30, PeriodUnit.DAYS, "", "", True),
        ("Office 2019 licence", "149.00", 12, PeriodUnit.MONTHS, "", "", False),
    ],
}
FIRST_CLIENT = 40  # the billing demo posts dated entries for the first 40 clients
FORCED_EXPIRING = 6


def _step_back(package: Package, end):
    if package.period_unit == PeriodUnit.DAYS:
        return end - timedelta(days=package.period_count)
    return add_months(end, -package.period_count)


def _periods(package: Package, last_end, count: int) -> list:
    periods, end = [], last_end
    for _ in range(count):
        start = _step_back(package, end)
        periods.append((start, end))
        end = start
    return list(reversed(periods))


def seed(context: dict, log) -> None:
    rng = random.Random(55)
    now = timezone.now()
    made = 0
    for key, tenant in context["tenants"].items():
        if not uses_any(tenant, SUBSCRIPTIONS):
            continue  # a messaging provider charges per message, it sells no packages
        packages = []
        for name, price, count, unit, rate, profile, active in PACKAGES[key]:
            packages.append(
                Package.objects.for_tenant(tenant).create(
                    tenant=tenant,
                    name=name,
                    price=Decimal(price),
                    period_count=count,
                    period_unit=unit,
                    rate_limit=rate,
                    pppoe_profile=profile,
                    description=f"{name}: demo package.",
                    is_active=active,
                    retired_at=None if active else now - timedelta(days=200),
                )
            )
        today = tenant_today(tenant)
        window = tenant.expiring_window_days
        clients = context["clients"][key][FIRST_CLIENT:]
        for index, client in enumerate(clients):
            if rng.random() < 0.15:
                continue  # a client who never bought
            package = rng.choice(packages)
            if index < FORCED_EXPIRING:
                last_end = today + timedelta(days=rng.randint(1, window))
            else:
                last_end = today + timedelta(days=rng.randint(-25, 40))
            days_per_period = max(1, (package.end_for(today) - today).days)
            count = max(1, min(10, rng.randint(1, 400 // days_per_period + 1)))
            # Only periods that have begun (the current one at most is live), since the client
            # became one.
            joined = timezone.localtime(client.created_at, tenant.zone).date()
            periods = [p for p in _periods(package, last_end, count) if joined < p[0] <= today]
            if not periods:
                continue
            made += _seed_history(tenant, client, package, periods, today, now, rng)
    log(f"Created packages and {made} subscription periods.")


def _local(tenant, day, hour=9):
    return datetime.combine(day, time(hour), tzinfo=tenant.zone)


def _seed_history(tenant, client, package, periods, today, now, rng) -> int:
    account = account_for_client(client=client)
    first_at = min(_local(tenant, periods[0][0]) - timedelta(hours=2), now)
    total = sum((package.price for _ in periods), Decimal("0"))
    if total:
        account_top_up(
            account=account,
            amount=total + Decimal(rng.choice([0, 20, 50, 100])),
            comment="Opening payment",
            at=first_at,
            idempotency_key=f"demo-topup:{client.pk}",
        )
    previous = None
    auto_renew = rng.random() < 0.5
    subscriptions = Subscription.objects.for_tenant(tenant)
    for number, (start, end) in enumerate(periods):
        at = max(min(_local(tenant, start), now), account.last_posted_at or first_at)
        entry = None
        if package.price:
            entry = account_charge(
                account=account,
                amount=package.price,
                purpose=purchase_purpose(package.name, start, end),
                kind=EntryKind.SUBSCRIPTION_PURCHASE,
                idempotency_key=f"sub-purchase:demo-{client.pk}-{number}",
                allow_overdraft=True,
                at=at,
            )
        live = end > today
        status = SubscriptionStatus.ACTIVE if live else SubscriptionStatus.EXPIRED
        extra = {}
        if live and client.status == ClientStatus.DELETED:
            status = SubscriptionStatus.CANCELLED
            extra = {"cancelled_at": now, "cancel_reason": "The client left."}
        elif live and client.status in (
            ClientStatus.ADMINISTRATIVE_HOLD,
            ClientStatus.FINANCIAL_HOLD,
        ):
            status, extra = SubscriptionStatus.SUSPENDED, {"suspended_at": now}
        elif live and rng.random() < 0.1:
            status = SubscriptionStatus.CANCELLED
            extra = {"cancelled_at": now, "cancel_reason": "Switched to another provider."}
        subscription = subscriptions.create(
            tenant=tenant,
            client=client,
            package=package,
            status=status,
            start_date=start,
            end_date=end,
            auto_renew=auto_renew and status in (SubscriptionStatus.ACTIVE,),
            amount_paid=package.price,
            charge_entry=entry,
            renewal_of=previous,
            origin=(previous.origin or previous) if previous else None,
            created_at=at,
            **extra,
        )
        event_record(
            tenant=tenant,
            client_id=client.pk,
            object_type="subscription",
            object_id=subscription.pk,
            actor_label="system" if previous else "demo",
            type="subscription.created",
            description=(
                stored_gettext(
                    "Subscription %(name)s renewed for %(amount)s, %(period)s",
                    name=package.name,
                    amount=Money(package.price, tenant.currency),
                    period=days_between(start, end),
                )
                if previous
                else stored_gettext(
                    "Subscription %(name)s bought for %(price)s, %(period)s",
                    name=package.name,
                    price=Money(package.price, tenant.currency),
                    period=days_between(start, end),
                )
            ),
            payload={"subscription": subscription.pk},
            at=at,
        )
        previous = subscription
    return len(periods)
