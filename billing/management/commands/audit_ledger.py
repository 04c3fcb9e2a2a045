"""Check every account: balance == sum of its entries, and each entry's balance_after equals
the previous entry's balance_after plus its amount (in the order (created_at, id)). Exits
non-zero when anything is off. Two set-based queries, no loop over accounts.

Differences are compared as >= half a cent rather than <>: exact on PostgreSQL's numeric, and
right on SQLite (the demo), which does this arithmetic in floating point."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from billing.models import Account, LedgerEntry
from tenancy.models import Tenant

# With an unbroken chain starting at 0, the last balance_after equals the sum, so the two
# checks together also prove balance == the latest balance_after.
BALANCE_SQL = """
SELECT a.id, a.tenant_id, a.balance, COALESCE(s.total, 0) AS total
FROM {account} a
LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM {entry} {entry_where}
           GROUP BY account_id) s ON s.account_id = a.id
WHERE {account_where} ABS(a.balance - COALESCE(s.total, 0)) >= 0.005
ORDER BY a.id
LIMIT %s
"""

CHAIN_SQL = """
SELECT account_id, id, amount, balance_after, previous FROM (
    SELECT account_id, id, amount, balance_after,
           LAG(balance_after, 1, 0) OVER (
               PARTITION BY account_id ORDER BY created_at, id) AS previous
    FROM {entry} {entry_where}
) chain
WHERE ABS(balance_after - previous - amount) >= 0.005
ORDER BY account_id, id
LIMIT %s
"""


class Command(BaseCommand):
    help = "Check that every account's balance equals the sum of its ledger entries."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant (slug).")
        parser.add_argument("--show", type=int, default=20, help="Mismatches to list (20).")

    def handle(self, *args, tenant=None, show=20, **options):
        params: list = []
        entry_where = account_where = ""
        if tenant:
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"No tenant with slug {tenant!r}.")
            entry_where, account_where = "WHERE tenant_id = %s", "a.tenant_id = %s AND"
            params = [found.pk]
        names = {
            "account": connection.ops.quote_name(Account._meta.db_table),
            "entry": connection.ops.quote_name(LedgerEntry._meta.db_table),
            "entry_where": entry_where,
            "account_where": account_where,
        }
        with connection.cursor() as cursor:
            cursor.execute(BALANCE_SQL.format(**names), [*params, *params, show + 1])
            balances = cursor.fetchall()
            cursor.execute(CHAIN_SQL.format(**names), [*params, show + 1])
            chain = cursor.fetchall()
            cursor.execute(
                f"SELECT COUNT(*) FROM {names['account']} a "
                f"{'WHERE a.tenant_id = %s' if tenant else ''}",
                params,
            )
            (accounts,) = cursor.fetchone()
        for account_id, tenant_id, balance, total in balances[:show]:
            self.stderr.write(
                f"Account {account_id} (tenant {tenant_id}): balance {balance}, "
                f"sum of entries {total}"
            )
        for account_id, entry_id, amount, after, previous in chain[:show]:
            self.stderr.write(
                f"Account {account_id}, entry {entry_id}: previous {previous} + amount "
                f"{amount} != balance_after {after}"
            )
        if balances or chain:
            more = " (or more)" if len(balances) > show or len(chain) > show else ""
            raise CommandError(
                f"Ledger mismatch: {len(balances[:show])}{more} account balance(s), "
                f"{len(chain[:show])}{more} broken chain link(s)."
            )
        self.stdout.write(self.style.SUCCESS(f"Ledger OK: {accounts} account(s) checked."))
