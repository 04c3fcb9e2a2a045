from django.urls import path

from . import views

app_name = "subscriptions"

urlpatterns = [
    path("packages/", views.PackageListView.as_view(), name="package_list"),
    path("packages/new/", views.PackageCreateView.as_view(), name="package_create"),
    path("packages/<int:pk>/", views.PackageEditView.as_view(), name="package_edit"),
    path("packages/<int:pk>/retire/", views.PackageRetireView.as_view(), name="package_retire"),
    path(
        "packages/<int:pk>/reactivate/",
        views.PackageRetireView.as_view(reactivate=True),
        name="package_reactivate",
    ),
    path("order/", views.OrderSubscriptionView.as_view(), name="order"),
    path(
        "clients/<int:number>/",
        views.ClientSubscriptionsView.as_view(),
        name="client_subscriptions",
    ),
    path(
        "clients/<int:number>/new/",
        views.SubscriptionCreateView.as_view(),
        name="subscription_create",
    ),
    path("<int:pk>/", views.SubscriptionDetailView.as_view(), name="subscription_detail"),
    path("<int:pk>/cancel/", views.SubscriptionCancelView.as_view(), name="subscription_cancel"),
    path(
        "<int:pk>/auto-renew/",
        views.SubscriptionAutoRenewView.as_view(),
        name="subscription_auto_renew",
    ),
]
