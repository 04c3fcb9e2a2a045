"""Demo accounts, top-ups and charges for the demo clients (through the services, so that the
demo ledger passes `manage.py audit_ledger` and its entries are in date order).

The first 40 clients of each tenant were billed by the provider's previous system: their
charges are invoices carried over (adjustments), not purchases in the portal, so they have no
subscription and no last purchase date (a purchase is a subscription, subscriptions.demo)."""

import contextlib
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.stored_text import stored_gettext

from .models import Account, EntryKind
from .services import (
    InsufficientFunds,
    account_charge,
    account_set_credit_limit,
    account_top_up,
    accounts_create_for_clients,
)

# What each tenant's carried-over invoices were for: messages read in each operator's
# language, the invoice's day in the reader's date format.
PURPOSES = {
    "isp": (
        EntryKind.ADJUSTMENT,
        lambda day: stored_gettext("Invoice from the previous system: internet, %(day)s", day=day),
    ),
    "reseller": (
        EntryKind.ADJUSTMENT,
        lambda day: stored_gettext("Invoice from the previous system: licences, %(day)s", day=day),
    ),
    "sms": (
        EntryKind.MESSAGING_CHARGE,
        lambda day: stored_gettext(
            "Invoice from the previous system: SMS sending, %(day)s", day=day
        ),
    ),
}


def seed(context: dict, log) -> None:
    rng = random.Random(4)
    now = timezone.now()
    entries = 0
    for key, tenant in context["tenants"].items():
        clients = context["clients"][key]
        accounts_create_for_clients(tenant=tenant, client_ids=[c.pk for c in clients])
        accounts = {
            a.client_id: a
            for a in Account.objects.for_tenant(tenant).select_related("tenant", "client")
        }
        kind, purpose = PURPOSES[key]
        for client in clients[:40]:
            account = accounts[client.pk]
            if rng.random() < 0.3:
                account_set_credit_limit(
                    account=account, credit_limit=Decimal(rng.choice([50, 100, 500]))
                )
            # The ledger starts when the client did, at the earliest.
            moment = max(client.created_at, now - timedelta(days=rng.randint(60, 120)))
            while moment < now - timedelta(hours=2):
                if rng.random() < 0.3:
                    account_top_up(
                        account=account,
                        amount=Decimal(rng.choice([50, 100, 200, 500])),
                        comment=rng.choice(
                            [
                                "",
                                "Bank transfer",
                                "Card payment",
                                "Invoice 2026-0" + str(rng.randint(10, 99)),
                            ]
                        ),
                        at=moment,
                    )
                else:
                    cost = Decimal(rng.randint(300, 9000)) / 100
                    label = purpose(timezone.localtime(moment, tenant.zone).date())
                    with contextlib.suppress(InsufficientFunds):
                        account_charge(
                            account=account, amount=cost, purpose=label, kind=kind, at=moment
                        )
                entries += 1
                moment += timedelta(days=rng.uniform(0.5, 4), minutes=rng.randint(0, 600))
    log(f"Created accounts and about {entries} ledger entries.")
