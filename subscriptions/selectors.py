"""Reads of subscriptions that more than one page (or another app) needs.

The client page runs a fixed number of queries however long a client's history is: the live
subscriptions (one query), the latest period when none is live (one), the history page (a
capped count and one page), and the quick stats (one aggregate).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Min, Q, Sum
from django.urls import reverse

from billing.models import LedgerEntry
from clients.models import Client
from core.stored_text import StoredText, stored_gettext
from tenancy.models import Tenant

from .models import LIVE_STATUSES, Package, Subscription, SubscriptionStatus, tenant_today


def packages_on_sale(*, tenant: Tenant):
    return Package.objects.for_tenant(tenant).filter(is_active=True).order_by("name", "id")


def client_subscriptions(*, client: Client):
    """All of a client's periods, newest first (the history), with their package."""
    return (
        Subscription.objects.for_tenant(client.tenant)
        .filter(client=client)
        .select_related("package")
        .order_by("-start_date", "-id")
    )


def client_live_subscriptions(*, client: Client) -> list[Subscription]:
    """Active and suspended subscriptions, the one ending first first."""
    return list(
        Subscription.objects.for_tenant(client.tenant)
        .filter(client=client, status__in=LIVE_STATUSES)
        .select_related("package")
        .order_by("end_date", "id")
    )


def client_current_subscriptions(*, client: Client) -> list[Subscription]:
    """What the "Current subscription" block shows: the live subscriptions, or else the latest
    period (Expired or Cancelled), or nothing."""
    live = client_live_subscriptions(client=client)
    if live:
        return live
    latest = client_subscriptions(client=client).first()
    return [latest] if latest else []


@dataclass(frozen=True)
class QuickStats:
    total_subscriptions: int
    total_revenue: object  # Decimal: paid less refunds
    first_start: date | None
    today: date

    @property
    def customer_for(self) -> timedelta | None:
        if self.first_start is None or self.first_start > self.today:
            return None
        return self.today - self.first_start


def client_quick_stats(*, client: Client, today: date | None = None) -> QuickStats:
    """Total subscriptions, total revenue (amounts paid less refunds) and the first start date
    ("active since"), in one aggregate query."""
    totals = (
        Subscription.objects.for_tenant(client.tenant)
        .filter(client=client)
        .aggregate(
            count=Count("id"),
            paid=Sum("amount_paid"),
            refunded=Sum("refunded_amount"),
            first=Min("start_date"),
        )
    )
    revenue = (totals["paid"] or Decimal("0")) - (totals["refunded"] or Decimal("0"))
    return QuickStats(
        total_subscriptions=totals["count"],
        total_revenue=revenue,
        first_start=totals["first"],
        today=today or tenant_today(client.tenant),
    )


@dataclass(frozen=True)
class DeletionBlocker:
    """Why a client cannot be deleted (clients.extensions: a delete guard's reason)."""

    message: StoredText  # read in the reader's language (a bulk action stores it)
    subscription: Subscription
    code: str = "has_live_subscription"

    @property
    def url(self) -> str:
        return reverse("subscriptions:subscription_detail", kwargs={"pk": self.subscription.pk})


def client_deletion_blockers(*, client: Client) -> list[DeletionBlocker]:
    """Why the client cannot be deleted now: each active or suspended subscription."""
    return clients_deletion_blockers(tenant=client.tenant, client_ids=[client.pk]).get(
        client.pk, []
    )


def clients_deletion_blockers(*, tenant, client_ids) -> dict[int, list[DeletionBlocker]]:
    """`client_deletion_blockers` of many clients in one query: client id -> its reasons
    (clients that may be deleted are absent)."""
    live = (
        Subscription.objects.for_tenant(tenant)
        .filter(client_id__in=list(client_ids), status__in=LIVE_STATUSES)
        .select_related("package")
        .order_by("client_id", "end_date", "id")
    )
    blockers: dict[int, list[DeletionBlocker]] = {}
    for subscription in live:
        blockers.setdefault(subscription.client_id, []).append(_blocker(subscription))
    return blockers


def _blocker(subscription: Subscription) -> DeletionBlocker:
    if subscription.status == SubscriptionStatus.ACTIVE:
        message = stored_gettext(
            "The client has an active subscription (%(package)s, until %(end)s). Cancel it first.",
            package=subscription.package.name,
            end=subscription.end_date,
        )
    else:
        message = stored_gettext(
            "The client has a suspended subscription (%(package)s) that is not completed. "
            "Cancel it first.",
            package=subscription.package.name,
        )
    return DeletionBlocker(message=message, subscription=subscription)


def subscription_periods(*, subscription: Subscription):
    """Every period of the subscription's series of renewals, newest first."""
    origin_id = subscription.origin_id or subscription.pk
    return (
        Subscription.objects.for_tenant(subscription.tenant)
        .filter(Q(pk=origin_id) | Q(origin_id=origin_id))
        .select_related("package", "created_by")
        .order_by("-start_date", "-id")
    )


def periods_ledger_entries(*, tenant: Tenant, periods: list[Subscription]):
    """The ledger entries that paid and refunded `periods`, newest first, with their
    operators (one query however many periods)."""
    entry_ids = [
        pk for p in periods for pk in (p.charge_entry_id, p.refund_entry_id) if pk is not None
    ]
    return (
        LedgerEntry.objects.for_tenant(tenant)
        .filter(pk__in=entry_ids)
        .select_related("operator")
        .order_by("-created_at", "-id")
    )


def subscriptions_expiring(*, tenant: Tenant, within_days: int | None = None, today=None):
    """Active subscriptions ending within the window (the tenant's by default), by end date:
    the dashboard and the client list's "expiring within N days" filter."""
    today = today or tenant_today(tenant)
    days = tenant.expiring_window_days if within_days is None else within_days
    return Subscription.objects.for_tenant(tenant).filter(
        status=SubscriptionStatus.ACTIVE,
        end_date__gt=today,
        end_date__lte=today + timedelta(days=days),
    )
