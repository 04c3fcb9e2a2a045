"""The client list's "expiring within N days" filter (used by clients.filters.ClientFilterSet):
clients with an active subscription whose end date falls within the next N days of the
tenant's today (the same rule as the derived "Expiring" status, with N for the window)."""

from datetime import timedelta

from django import forms
from django.db.models import Exists, OuterRef
from django_filters import Filter

EXPIRING_MAX_DAYS = 366


class ExpiringWithinFilter(Filter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", "Expiring within (days)")
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", EXPIRING_MAX_DAYS)
        kwargs.setdefault(
            "widget",
            forms.NumberInput(
                attrs={"min": 1, "max": EXPIRING_MAX_DAYS, "placeholder": "days", "size": 5}
            ),
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        from subscriptions.models import Subscription, SubscriptionStatus, tenant_today

        tenant = self.parent.request.tenant
        today = tenant_today(tenant)
        due = Subscription.objects.for_tenant(tenant).filter(
            client=OuterRef("pk"),
            status=SubscriptionStatus.ACTIVE,
            end_date__gt=today,
            end_date__lte=today + timedelta(days=value),
        )
        return qs.filter(Exists(due))
