"""Filters of the Routers page and the PPPoE accounts list, and the client list's connection
status filter."""

import django_filters
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import ROUTER_STATE_LABELS, ConnectionStatus, PppoeAccount, Router


class RouterFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    state = django_filters.ChoiceFilter(
        label=_("State"),
        method="filter_state",
        empty_label=_("Any state"),
        choices=list(ROUTER_STATE_LABELS.items()),
    )

    class Meta:
        model = Router
        fields = ["q", "state"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(host__icontains=value) | Q(identity__icontains=value)
        )

    def filter_state(self, queryset, name, value):
        if value == "disabled":
            return queryset.filter(enabled=False)
        queryset = queryset.filter(enabled=True)
        if value == "never":
            return queryset.filter(is_reachable__isnull=True)
        return queryset.filter(is_reachable=value == "reachable")


def tenant_routers(request):
    if request is None or getattr(request, "tenant", None) is None:
        return Router.objects.none()
    return Router.objects.for_tenant(request.tenant)


class PppoeAccountFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    router = django_filters.ModelChoiceFilter(
        queryset=tenant_routers, label=_("Router"), empty_label=_("Any router")
    )
    status = django_filters.ChoiceFilter(
        choices=ConnectionStatus.choices, empty_label=_("Any status"), label=_("Status")
    )
    enabled = django_filters.ChoiceFilter(
        label=_("Access"),
        method="filter_enabled",
        empty_label=pgettext_lazy("router access", "Any"),
        choices=[
            ("yes", pgettext_lazy("router access", "Enabled")),
            ("no", _("Disabled (hold or expiry)")),
        ],
    )

    class Meta:
        model = PppoeAccount
        fields = ["q", "router", "status", "enabled"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        query = Q(username__icontains=value) | Q(client__name__icontains=value)
        if value.isdigit():
            query |= Q(client__number=int(value))
        return queryset.filter(query)

    def filter_enabled(self, queryset, name, value):
        return queryset.filter(enabled=value == "yes")


# The PPPoE account's status (ConnectionStatus), or no account at all.
CONNECTION_CHOICES = [
    ("online", format_lazy("🟢 {}", ConnectionStatus.ONLINE.label)),
    ("offline", format_lazy("🔴 {}", ConnectionStatus.OFFLINE.label)),
    ("unknown", format_lazy("⚪ {}", ConnectionStatus.UNKNOWN.label)),
    ("none", _("No PPPoE account")),
]


class ClientConnectionFilter(django_filters.ChoiceFilter):
    """The client list's filter on the PPPoE account's live status (contributed to
    clients.extensions)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", CONNECTION_CHOICES)
        kwargs.setdefault("label", _("Connection status"))
        kwargs.setdefault("empty_label", _("Any connection status"))
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if value == "none":
            return qs.filter(pppoe_account__isnull=True)
        return qs.filter(pppoe_account__status=value)
