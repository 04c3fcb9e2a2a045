"""Filters of the webhook pages."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .webhook_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


class WebhookEndpointFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="url", lookup_expr="icontains", label=_("Search"), max_length=100
    )
    is_active = django_filters.BooleanFilter(label=pgettext_lazy("webhook endpoint", "Active"))

    class Meta:
        model = WebhookEndpoint
        fields = ["q", "is_active"]


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=DeliveryStatus.choices, empty_label=_("Any status"), label=_("Status")
    )

    class Meta:
        model = WebhookDelivery
        fields = ["status"]
