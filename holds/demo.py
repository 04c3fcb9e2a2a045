"""Demo holds and jobs for `manage.py seed_demo` (runs after the clients, billing and, when
present, subscriptions seeders):

- the demo clients on administrative hold get the ClientHold record behind it, set by the
  tenant's manager with a reason, after the client joined (and their active subscriptions
  suspended since then), so that the stored status agrees with the holds in force;
- a few clients go below zero through the ledger: an overdue invoice dated past the grace
  period and after the account's latest entry, so that the shortfall starts at that entry and
  the financial-holds job puts them on hold on its first run (no client is on financial hold
  without the ledger behind it);
- a few auto-renew subscriptions end today, bought a period ago through the ledger: those with
  funds are renewed through the ledger, the others expire;
- both jobs then run once, so that the dashboard shows their last run and result, and beat
  (every few minutes / hourly) keeps running them in the demo's worker;
- one tenant has its own wording of the "hold set" e-mail (Admin → Notification templates).
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import EntryKind
from billing.services import account_charge, account_for_client, account_top_up
from clients.models import Client, ClientStatus
from clients.signals import send_client_access_changed_later
from core.jobs import job_run
from core.stored_text import literal_text, stored_gettext
from events.services import event_record
from subscriptions.models import Package, Subscription, SubscriptionStatus, tenant_today
from subscriptions.services import EXPIRY_JOB, purchase_purpose
from tenancy.models import Membership
from tenancy.modules import SUBSCRIPTIONS, uses_any
from tenancy.roles import Role

from .models import ClientHold, HoldKind, NotificationTemplate
from .services import FINANCIAL_HOLDS_JOB, clients_refresh_status, reason_payload

REASONS = [
    "Contract under review",
    "Equipment returned for repair",
    "Suspected account sharing",
    "Client asked for a pause",
]


DEBTORS = 0.06  # share of a tenant's active clients the ledger puts on financial hold


def seed(context: dict, log) -> None:
    rng = random.Random(66)
    now = timezone.now()
    held = debtors = renewals = 0
    for key, tenant in context["tenants"].items():
        held += _administrative_holds(tenant, rng, now)
        active = list(
            Client.objects.for_tenant(tenant)
            .filter(status=ClientStatus.ACTIVE)
            .select_related("tenant", "account")
            .order_by("pk")[40:]
        )
        rng.shuffle(active)
        debtors += _debtors(tenant, active, rng, now)
        if uses_any(tenant, SUBSCRIPTIONS):
            renewals += _renewals_due(tenant, active, rng)
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
    log(
        f"Holds: {held} administrative holds, {debtors} clients below zero for the "
        f"financial-holds job, {renewals} auto-renewals due, jobs run once"
    )


def _manager(tenant):
    membership = Membership.objects.for_tenant(tenant).filter(role=Role.MANAGER).first()
    return membership.user if membership else None


def _administrative_holds(tenant, rng, now) -> int:
    """The hold behind each demo client whose status is Administrative hold: set by the
    manager, with a reason, after the client joined; its subscriptions suspended since."""
    clients = Client.objects.for_tenant(tenant).filter(status=ClientStatus.ADMINISTRATIVE_HOLD)
    manager = _manager(tenant)
    holds = [
        ClientHold(
            tenant=tenant,
            client_id=pk,
            kind=HoldKind.ADMINISTRATIVE,
            reason=literal_text(rng.choice(REASONS)),  # the manager's own words
            set_by=manager,
            set_at=max(joined, now - timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))),
        )
        for pk, joined in clients.values_list("pk", "created_at")
    ]
    ClientHold.objects.for_tenant(tenant).bulk_create(holds)
    subscriptions = Subscription.objects.for_tenant(tenant)
    for hold in holds:
        subscriptions.filter(
            client_id=hold.client_id,
            status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED],
        ).update(status=SubscriptionStatus.SUSPENDED, suspended_at=hold.set_at)
    held = [h.client_id for h in holds]
    clients_refresh_status(tenant=tenant, client_ids=held)
    for hold in holds:  # the timeline says who set it and when, as for an operator's hold
        event_record(
            tenant=tenant,
            type="hold.placed",
            client_id=hold.client_id,
            object_type="hold",
            object_id=hold.pk,
            actor=manager,
            description=stored_gettext(
                "%(hold)s set: %(reason)s", hold=HoldKind.ADMINISTRATIVE.label, reason=hold.reason
            ),
            payload={"hold": hold.pk, "kind": hold.kind, **reason_payload(hold.reason)},
            at=hold.set_at,
        )
    # As an operator's hold does: the router cuts their access (the demo's worker applies it).
    send_client_access_changed_later(
        sender="holds", tenant=tenant, client_ids=held, access=False, reason="hold_set"
    )
    return len(holds)


def _debtors(tenant, active: list, rng, now) -> int:
    """Clients whose ledger has been quiet since before the grace period get an overdue
    invoice dated then, which takes their available funds below zero: the shortfall starts at
    that entry, and the financial-holds job holds them on its first run."""
    grace = timedelta(days=tenant.financial_hold_grace_days)
    wanted = max(2, round(len(active) * DEBTORS))
    made = 0
    for client in active:
        if made >= wanted:
            break
        account = account_for_client(client=client)
        due = now - grace - timedelta(days=rng.randint(1, 12), minutes=rng.randint(0, 1440))
        if due <= client.created_at or (account.last_posted_at and due <= account.last_posted_at):
            continue
        account_charge(
            account=account,
            amount=account.balance + account.credit_limit + Decimal(rng.randint(5, 60)),
            purpose=stored_gettext("Overdue invoice"),
            allow_overdraft=True,
            at=due,
        )
        active.remove(client)  # not among the auto-renewals below
        made += 1
    return made


def _renewals_due(tenant, active: list, rng) -> int:
    """Auto-renew subscriptions ending today, bought a period ago through the ledger: the first
    four paid with money to spare (they renew), the others exactly (they expire)."""
    package = Package.objects.for_tenant(tenant).filter(is_active=True).first()
    if package is None:
        package = Package.objects.for_tenant(tenant).create(
            tenant=tenant, name="Monthly (demo)", price=Decimal("20.00")
        )
    today = tenant_today(tenant)
    start = today - timedelta(days=30)
    bought = datetime.combine(start, time(10, rng.randint(0, 59)), tzinfo=tenant.zone)
    made = 0
    for client in active:
        if made >= 6:
            break
        account = account_for_client(client=client)
        if client.created_at >= bought or (
            account.last_posted_at and account.last_posted_at > bought
        ):
            continue
        overlapping = Subscription.objects.for_tenant(tenant).filter(
            client=client, end_date__gt=start
        )
        if overlapping.exists():
            continue  # a period of its own runs then
        spare = package.price + Decimal("10") if made < 4 else Decimal("0")
        account_top_up(
            account=account,
            amount=package.price + spare,
            comment="Payment for the subscription (demo)",
            at=bought,
        )
        entry = account_charge(
            account=account,
            amount=package.price,
            purpose=purchase_purpose(package.name, start, today),
            kind=EntryKind.SUBSCRIPTION_PURCHASE,
            at=bought,
        )
        Subscription.objects.for_tenant(tenant).create(
            tenant=tenant,
            client=client,
            package=package,
            start_date=start,
            end_date=today,
            auto_renew=True,
            amount_paid=package.price,
            charge_entry=entry,
            created_at=bought,
        )
        made += 1
    return made
