"""Filters of the webhook pages."""

import django_filters

from .webhook_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


class WebhookEndpointFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="url", lookup_expr="icontains", label="Search", max_length=100
    )
    is_active = django_filters.BooleanFilter(label="Active")

    class Meta:
        model = WebhookEndpoint
        fields = ["q", "is_active"]


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, empty_label="Any status")

    class Meta:
        model = WebhookDelivery
        fields = ["status"]
