"""What billing tells the other apps.

`funds_changed`: sent by `billing.services` once per posted chunk (a single posting is a chunk
of one) and once per credit-limit change, inside its transaction and while the account rows
are locked, after the new balances and limits are written. Arguments:

- `tenant`;
- `changes`: one `FundsChange` per account the chunk changed: `account_id`, `client_id`,
  `before` and `after` (the available funds, balance + credit limit, before the chunk's first
  entry and after its last), `at` (when its last entry was posted), `entries` (the new
  LedgerEntry rows of that account, in order), `credit_change` (the CreditLimitChange, or
  None) and `client_active` (whether the client's status was Active when its account was
  locked: no hold to lift then).

A receiver of `funds_changed` runs inside the change: it must be quick, must work set-wise over
`changes` (a chunk may hold a thousand accounts), must not lock other rows that a posting could
wait on, and whatever it writes commits or rolls back with the money (holds keeps the rows that
say since when funds are negative). `funds_changed_committed` carries the same arguments after
the commit, for work that takes locks of its own (holds lifts financial holds there). Retried
postings (`entry.replayed`) announce nothing.

Every client gets its account when it is created (`create_account_with_client`, a post_save of
Client), so that the client list can sort by balance with one join. Bulk loaders that bypass
signals call `billing.services.accounts_create_for_clients`; `account_for_client` also creates
a missing account on first use.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.dispatch import Signal

from .models import Account


@dataclass(frozen=True, slots=True)
class FundsChange:
    """How one account's available funds moved in one chunk (see above)."""

    account_id: int
    client_id: int
    before: Decimal
    after: Decimal
    at: datetime
    entries: tuple = ()
    credit_change: object = None
    client_active: bool = False


funds_changed = Signal()
funds_changed_committed = Signal()


def create_account_with_client(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    # ON CONFLICT DO NOTHING: harmless if the account exists already.
    Account.objects.for_tenant(instance.tenant).bulk_create(
        [Account(tenant_id=instance.tenant_id, client=instance)], ignore_conflicts=True
    )
