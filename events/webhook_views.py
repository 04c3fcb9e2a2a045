"""The webhook pages (owners only, MANAGE_WEBHOOKS): endpoints list, add, edit, delete, and
an endpoint's delivery log with Redeliver. Thin: parse, call a service in events/webhooks.py,
render. Another tenant's endpoint or delivery is a 404; the signing secret is never shown."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.views import form_errors_from
from tenancy.mixins import FilteredTableView, TenantScopedMixin
from tenancy.roles import Capability

from .webhook_filters import WebhookDeliveryFilterSet, WebhookEndpointFilterSet
from .webhook_forms import WebhookEndpointForm
from .webhook_models import WebhookDelivery, WebhookEndpoint
from .webhook_tables import WebhookDeliveryTable, WebhookEndpointTable
from .webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_redeliver,
)


class WebhookEndpointListView(FilteredTableView):
    model = WebhookEndpoint
    required_capability = Capability.MANAGE_WEBHOOKS
    table_class = WebhookEndpointTable
    filterset_class = WebhookEndpointFilterSet
    template_name = "events/webhook_endpoint_list.html"
    nav_section = "webhooks"


class WebhookEndpointFormMixin(TenantScopedMixin):
    model = WebhookEndpoint
    required_capability = Capability.MANAGE_WEBHOOKS
    template_name = "events/webhook_endpoint_form.html"
    nav_section = "webhooks"

    def get_endpoint(self):
        return None

    def render_form(self, form, status=200):
        context = {"form": form, "endpoint": self.get_endpoint()}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        return self.render_form(WebhookEndpointForm(endpoint=self.get_endpoint()))

    def post(self, request, *args, **kwargs):
        form = WebhookEndpointForm(request.POST, endpoint=self.get_endpoint())
        if form.is_valid():
            try:
                endpoint = self.save(form.service_data())
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request, _("Webhook endpoint %(url)s saved.") % {"url": endpoint.url}
                )
                return redirect("events:webhook_endpoint_list")
        return self.render_form(form, status=400)


class WebhookEndpointCreateView(WebhookEndpointFormMixin, View):
    def save(self, data):
        return webhook_endpoint_create(tenant=self.request.tenant, actor=self.request.user, **data)


class WebhookEndpointUpdateView(WebhookEndpointFormMixin, View):
    def get_endpoint(self):
        if not hasattr(self, "_endpoint"):
            self._endpoint = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return self._endpoint

    def save(self, data):
        return webhook_endpoint_update(
            endpoint=self.get_endpoint(), actor=self.request.user, **data
        )


class WebhookEndpointDeleteView(TenantScopedMixin, View):
    model = WebhookEndpoint
    required_capability = Capability.MANAGE_WEBHOOKS
    http_method_names = ["post"]

    def post(self, request, pk):
        endpoint = get_object_or_404(self.get_queryset(), pk=pk)
        webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
        messages.success(request, _("Webhook endpoint %(url)s deleted.") % {"url": endpoint.url})
        return redirect("events:webhook_endpoint_list")


class WebhookDeliveryListView(FilteredTableView):
    """An endpoint's delivery log, newest first."""

    model = WebhookDelivery
    required_capability = Capability.MANAGE_WEBHOOKS
    table_class = WebhookDeliveryTable
    filterset_class = WebhookDeliveryFilterSet
    template_name = "events/webhook_delivery_list.html"
    nav_section = "webhooks"

    def dispatch(self, request, *args, **kwargs):
        self.endpoint = None
        return super().dispatch(request, *args, **kwargs)

    def get_endpoint(self):
        if self.endpoint is None:
            endpoints = WebhookEndpoint.objects.for_tenant(self.request.tenant)
            self.endpoint = get_object_or_404(endpoints, pk=self.kwargs["pk"])
        return self.endpoint

    def get_queryset(self):
        return super().get_queryset().filter(endpoint=self.get_endpoint())

    def get_context_data(self, **kwargs):
        return super().get_context_data(endpoint=self.get_endpoint(), **kwargs)


class WebhookDeliveryRedeliverView(TenantScopedMixin, View):
    model = WebhookDelivery
    required_capability = Capability.MANAGE_WEBHOOKS
    http_method_names = ["post"]

    def post(self, request, pk):
        delivery = get_object_or_404(self.get_queryset().select_related("endpoint"), pk=pk)
        again = webhook_redeliver(delivery=delivery, actor=request.user)
        messages.success(
            request,
            _("Event %(event)s is being sent again (%(delivery)s).")
            % {"event": delivery.event_id, "delivery": again.delivery_id},
        )
        return redirect("events:webhook_delivery_list", pk=delivery.endpoint_id)
