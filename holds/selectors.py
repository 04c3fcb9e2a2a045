"""What the dashboard reads: a fixed number of queries whatever the tenant's size."""

from datetime import datetime, time, timedelta

from django.db.models import Count

from clients.models import Client, ClientStatus
from subscriptions.models import Subscription, SubscriptionStatus, tenant_today
from tenancy.models import Tenant

from .models import ClientHold


def clients_by_status(tenant: Tenant) -> list[dict]:
    counts = dict(
        Client.objects.for_tenant(tenant)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [
        {"status": value, "label": label, "count": counts.get(value, 0)}
        for value, label in ClientStatus.choices
    ]


def expiring_subscriptions(tenant: Tenant, today=None):
    today = today or tenant_today(tenant)
    return (
        Subscription.objects.for_tenant(tenant)
        .filter(
            status=SubscriptionStatus.ACTIVE,
            end_date__gt=today,
            end_date__lte=today + timedelta(days=tenant.expiring_window_days),
        )
        .select_related("client", "package")
        .order_by("end_date", "pk")
    )


def holds_set_today(tenant: Tenant, today=None):
    today = today or tenant_today(tenant)
    start = datetime.combine(today, time.min, tzinfo=tenant.zone)
    return (
        ClientHold.objects.for_tenant(tenant)
        .filter(set_at__gte=start, set_at__lt=start + timedelta(days=1))
        .select_related("client", "set_by", "lifted_by")
        .order_by("-set_at", "-pk")
    )
