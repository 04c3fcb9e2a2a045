"""Filters of the Packages page, of a client's subscriptions, and the client list's "expiring"
filter. A bad value is ignored with a message next to its field."""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Package, PeriodUnit, Subscription, SubscriptionStatus, tenant_today


class PackageFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[("active", _("On sale")), ("retired", _("Retired"))],
        empty_label=_("On sale and retired"),
        method="filter_status",
    )
    period_unit = django_filters.ChoiceFilter(
        label=_("Period unit"), choices=PeriodUnit.choices, empty_label=_("Any period")
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
    ("active", pgettext_lazy("subscription status", "Active")),
    ("expiring", pgettext_lazy("subscription status", "Expiring")),
    ("suspended", pgettext_lazy("subscription status", "Suspended")),
    ("cancelled", pgettext_lazy("subscription status", "Cancelled")),
    ("expired", pgettext_lazy("subscription status", "Expired")),
]


class SubscriptionFilterSet(django_filters.FilterSet):
    """A client's subscriptions: by status ("Expiring" derived from the tenant's window and
    today in its time zone) and by package (the tenant's own)."""

    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=STATUS_FILTER_CHOICES,
        empty_label=_("Any status"),
        method="filter_status",
    )
    package = django_filters.ModelChoiceFilter(
        label=_("Package"), queryset=Package._base_manager.none(), empty_label=_("Any package")
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


EXPIRING_MAX_DAYS = 366


class ExpiringWithinFilter(django_filters.Filter):
    """The client list's "expiring within N days" filter (contributed to clients.extensions):
    clients with an active subscription whose end date falls within the next N days of the
    tenant's today (the same rule as the derived "Expiring" status, with N for the window)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Expiring within (days)"))
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", EXPIRING_MAX_DAYS)
        kwargs.setdefault(
            "widget",
            forms.NumberInput(
                attrs={"min": 1, "max": EXPIRING_MAX_DAYS, "placeholder": _("days"), "size": 5}
            ),
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        tenant = self.parent.request.tenant
        today = tenant_today(tenant)
        due = Subscription.objects.for_tenant(tenant).filter(
            client=OuterRef("pk"),
            status=SubscriptionStatus.ACTIVE,
            end_date__gt=today,
            end_date__lte=today + timedelta(days=value),
        )
        return qs.filter(Exists(due))
