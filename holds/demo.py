"""Demo holds and jobs for `manage.py seed_demo` (runs after the clients, billing and, when
present, subscriptions seeders):

- the demo clients whose status is a hold get the ClientHold record behind it (and their active
  subscriptions suspended), so that the stored status agrees with the holds in force;
- a few clients go below zero through the ledger, with the start of their shortfall moved back
  past the grace period, so that the financial-holds job puts them on hold on its first run;
- a few auto-renew subscriptions end today: those with funds are renewed through the ledger,
  the others expire;
- both jobs then run once, so that the dashboard shows their last run and result, and beat
  (every few minutes / hourly) keeps running them in the demo's worker;
- one tenant has its own wording of the "hold set" e-mail (Admin → Notification templates).
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.services import account_charge, account_for_client, account_top_up
from clients.demo import recorded_times_to_minute
from clients.models import Client, ClientStatus
from core.jobs import job_run
from subscriptions.models import Package, Subscription, SubscriptionStatus, tenant_today
from subscriptions.services import EXPIRY_JOB

from .models import ClientHold, FundsShortfall, HoldKind, NotificationTemplate
from .services import FINANCIAL_HOLDS_JOB, clients_refresh_status

REASONS = [
    "Contract under review",
    "Equipment returned for repair",
    "Suspected account sharing",
    "Client asked for a pause",
]


def seed(context: dict, log) -> None:
    rng = random.Random(66)
    now = timezone.now()
    held = renewals = 0
    for key, tenant in context["tenants"].items():
        clients = Client.objects.for_tenant(tenant)
        hold_kinds = {
            ClientStatus.ADMINISTRATIVE_HOLD: HoldKind.ADMINISTRATIVE,
            ClientStatus.FINANCIAL_HOLD: HoldKind.FINANCIAL,
        }
        on_hold = list(clients.filter(status__in=list(hold_kinds)).values_list("pk", "status"))
        ClientHold.objects.for_tenant(tenant).bulk_create(
            [
                ClientHold(
                    tenant=tenant,
                    client_id=pk,
                    kind=hold_kinds[status],
                    reason=rng.choice(REASONS)
                    if status == ClientStatus.ADMINISTRATIVE_HOLD
                    else "Debt: invoices unpaid",
                    set_by_job="demo",
                    set_at=now - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23)),
                )
                for pk, status in on_hold
            ]
        )
        Subscription.objects.for_tenant(tenant).filter(
            client_id__in=[pk for pk, _ in on_hold], status=SubscriptionStatus.ACTIVE
        ).update(status=SubscriptionStatus.SUSPENDED, suspended_at=now)
        held += len(on_hold)

        active = list(clients.filter(status=ClientStatus.ACTIVE).order_by("pk")[40:120])
        rng.shuffle(active)
        # Debtors: below zero since before the grace period.
        for client in active[:4]:
            account = account_for_client(client=client)
            owed = account.balance + account.credit_limit + Decimal(rng.randint(5, 60))
            account_charge(
                account=account,
                amount=owed,
                purpose="Overdue invoice (demo)",
                allow_overdraft=True,
            )
        FundsShortfall.objects.for_tenant(tenant).filter(
            client__in=[c.pk for c in active[:4]]
        ).update(since=now - timedelta(days=tenant.financial_hold_grace_days + 1))
        # Auto-renewals due today: funded ones renew, the others expire.
        package = Package.objects.for_tenant(tenant).filter(is_active=True).first()
        if package is None:
            package = Package.objects.for_tenant(tenant).create(
                tenant=tenant, name="Monthly (demo)", price=Decimal("20.00")
            )
        today = tenant_today(tenant)
        for index, client in enumerate(active[4:10]):
            if (
                Subscription.objects.for_tenant(tenant)
                .filter(client=client, package=package, status__in=["active", "suspended"])
                .exists()
            ):
                continue
            if index < 4:
                account_top_up(
                    account=account_for_client(client=client),
                    amount=package.price + Decimal("10"),
                    comment="Top-up for the renewal (demo)",
                )
            start = today - timedelta(days=30)
            Subscription.objects.for_tenant(tenant).create(
                tenant=tenant,
                client=client,
                package=package,
                start_date=start,
                end_date=today,
                auto_renew=True,
                amount_paid=package.price,
            )
            renewals += 1
        clients_refresh_status(tenant=tenant, client_ids=[pk for pk, _ in on_hold])
        if key == "isp":
            NotificationTemplate.objects.for_tenant(tenant).create(
                tenant=tenant,
                kind="hold_set",
                subject="{{ tenant.name }}: your internet service is paused",
                body="Hello {{ client.name }},\n\nyour internet access is paused: "
                "{{ hold.reason }}.\n\nCall us to resume it.\n",
            )
        for job in (FINANCIAL_HOLDS_JOB, EXPIRY_JOB):
            job_run(tenant=tenant, job=job)
        recorded_times_to_minute(tenant)
    log(f"Holds: {held} holds behind demo statuses, {renewals} auto-renewals due, jobs run once")
