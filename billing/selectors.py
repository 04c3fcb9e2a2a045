"""Reads of the ledger that the Finance tab and its export share, so that an export holds
exactly the rows the operator saw.

A period is a pair of dates in the tenant's time zone, both included: from 00:00 of the start
day to 00:00 of the day after the end day (exclusive), as aware datetimes. Every read uses the
index (tenant, account, created_at, id).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Subquery
from django.utils import timezone

from clients.models import Client
from tenancy.models import Tenant

from .models import Account, CreditLimitChange, LedgerEntry

DEFAULT_PERIOD_DAYS = 30


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def bounds(self, tenant: Tenant) -> tuple[datetime, datetime]:
        """[from, until) as aware datetimes for the tenant's day boundaries."""
        zone = tenant.zone
        since = datetime.combine(self.start, time.min, tzinfo=zone)
        until = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone)
        return since, until

    def as_params(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def default_period(tenant: Tenant, *, now: datetime | None = None) -> Period:
    """The last 30 days, today included, in the tenant's time zone."""
    today = timezone.localtime(now or timezone.now(), tenant.zone).date()
    return Period(start=today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end=today)


def account_or_empty(*, client: Client) -> Account:
    """The client's account, or an unsaved zero account when nothing was ever posted (a page
    view does not create rows)."""
    try:
        account = client.account  # fetched with the client when it was select_related
    except Account.DoesNotExist:
        account = None
    if account is None:
        account = Account(tenant=client.tenant, client=client)
    account.client = client
    return account


def ledger_entries(*, account: Account):
    return LedgerEntry.objects.for_tenant(account.tenant).filter(account_id=account.pk)


def ledger_entries_for_period(*, account: Account, period: Period):
    since, until = period.bounds(account.tenant)
    return ledger_entries(account=account).filter(created_at__gte=since, created_at__lt=until)


@dataclass(frozen=True)
class PeriodBalances:
    opening: Decimal
    closing: Decimal


def period_balances(*, account: Account, period: Period) -> PeriodBalances:
    """Opening and closing balance in one round trip: two index look-ups (the latest entry
    before each bound) as scalar subqueries of one SELECT."""
    zero = Decimal("0.00")
    if account.pk is None:
        return PeriodBalances(opening=zero, closing=zero)
    since, until = period.bounds(account.tenant)

    def latest_before(moment):
        return Subquery(
            ledger_entries(account=account)
            .filter(created_at__lt=moment)
            .order_by("-created_at", "-id")
            .values("balance_after")[:1]
        )

    row = (
        Account.objects.for_tenant(account.tenant)
        .filter(pk=account.pk)
        .values_list(latest_before(since), latest_before(until))
        .first()
    )
    opening, closing = row if row else (None, None)
    return PeriodBalances(
        opening=opening if opening is not None else zero,
        closing=closing if closing is not None else zero,
    )


def recent_credit_limit_changes(*, account: Account, limit: int = 5):
    """The latest changes of the credit limit, newest first, with who made them."""
    if account.pk is None:
        return []
    return list(
        CreditLimitChange.objects.for_tenant(account.tenant)
        .filter(account_id=account.pk)
        .select_related("operator")
        .order_by("-created_at", "-id")[:limit]
    )
