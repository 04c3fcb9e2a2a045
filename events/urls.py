from django.urls import path

from . import views, webhook_views

app_name = "events"

urlpatterns = [
    path("", views.EventListView.as_view(), name="event_list"),
    path(
        "webhooks/", webhook_views.WebhookEndpointListView.as_view(), name="webhook_endpoint_list"
    ),
    path(
        "webhooks/new/",
        webhook_views.WebhookEndpointCreateView.as_view(),
        name="webhook_endpoint_create",
    ),
    path(
        "webhooks/<int:pk>/",
        webhook_views.WebhookEndpointUpdateView.as_view(),
        name="webhook_endpoint_edit",
    ),
    path(
        "webhooks/<int:pk>/delete/",
        webhook_views.WebhookEndpointDeleteView.as_view(),
        name="webhook_endpoint_delete",
    ),
    path(
        "webhooks/<int:pk>/deliveries/",
        webhook_views.WebhookDeliveryListView.as_view(),
        name="webhook_delivery_list",
    ),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        webhook_views.WebhookDeliveryRedeliverView.as_view(),
        name="webhook_delivery_redeliver",
    ),
]
