"""Filters of the Packages page and of a client's subscriptions. A bad value is ignored with
a message next to its field."""

from datetime import timedelta

import django_filters
from django.db.models import Q

from .models import Package, PeriodUnit, Subscription, SubscriptionStatus, tenant_today


class PackageFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    status = django_filters.ChoiceFilter(
        label="Status",
        choices=[("active", "On sale"), ("retired", "Retired")],
        empty_label="On sale and retired",
        method="filter_status",
    )
    period_unit = django_filters.ChoiceFilter(
        label="Period unit", choices=PeriodUnit.choices, empty_label="Any period"
    )

    class Meta:
        model = Package
        fields = ["q", "status", "period_unit"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(pppoe_profile__icontains=value)
            | Q(description__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(is_active=True)
        if value == "retired":
            return queryset.filter(is_active=False)
        return queryset


STATUS_FILTER_CHOICES = [
    ("active", "Active"),
    ("expiring", "Expiring"),
    ("suspended", "Suspended"),
    ("cancelled", "Cancelled"),
    ("expired", "Expired"),
]


class SubscriptionFilterSet(django_filters.FilterSet):
    """A client's subscriptions: by status ("Expiring" derived from the tenant's window and
    today in its time zone) and by package (the tenant's own)."""

    status = django_filters.ChoiceFilter(
        label="Status",
        choices=STATUS_FILTER_CHOICES,
        empty_label="Any status",
        method="filter_status",
    )
    package = django_filters.ModelChoiceFilter(
        label="Package", queryset=Package._base_manager.none(), empty_label="Any package"
    )

    class Meta:
        model = Subscription
        fields = ["status", "package"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.tenant = request.tenant
        self.filters["package"].queryset = Package.objects.for_tenant(self.tenant)

    def filter_status(self, queryset, name, value):
        today = tenant_today(self.tenant)
        window_end = today + timedelta(days=self.tenant.expiring_window_days)
        if value == "expiring":
            return queryset.filter(
                status=SubscriptionStatus.ACTIVE, end_date__gt=today, end_date__lte=window_end
            )
        if value == "active":
            return queryset.filter(status=SubscriptionStatus.ACTIVE, end_date__gt=window_end)
        if value == "expired":
            return queryset.filter(
                Q(status=SubscriptionStatus.EXPIRED)
                | Q(status=SubscriptionStatus.ACTIVE, end_date__lte=today)
            )
        return queryset.filter(status=value)
