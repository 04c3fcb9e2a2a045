"""What billing tells the other apps.

`funds_changed`: sent by `billing.services` once for every posting and every credit-limit
change, inside its transaction and while the account row is locked, after the new balance and
limit are written. Arguments:

- `tenant`, `account` (the locked row, with the new balance and limit), `client_id`;
- `before`, `after`: the available funds (balance + credit limit) before and after;
- `entry`: the LedgerEntry posted, or None; `credit_change`: the CreditLimitChange, or None;
- `at`: when it happened.

A receiver of `funds_changed` runs inside the change: it must be quick, must not lock other
rows that a posting could wait on, and whatever it writes commits or rolls back with the money
(holds keeps the row that says since when funds are negative). `funds_changed_committed` carries
the same arguments after the commit, for work that takes locks of its own (holds lifts a
financial hold there). Retried postings (`entry.replayed`) announce nothing.

Every client gets its account when it is created (`create_account_with_client`, a post_save of
Client), so that the client list can sort by balance with one join. Bulk loaders that bypass
signals call `billing.services.accounts_create_for_clients`; `account_for_client` also creates
a missing account on first use.
"""

from django.dispatch import Signal

from .models import Account

funds_changed = Signal()
funds_changed_committed = Signal()


def create_account_with_client(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    # ON CONFLICT DO NOTHING: harmless if the account exists already.
    Account.objects.for_tenant(instance.tenant).bulk_create(
        [Account(tenant_id=instance.tenant_id, client=instance)], ignore_conflicts=True
    )
