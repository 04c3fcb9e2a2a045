from django.urls import path

from . import bulk_views, import_views, views

app_name = "clients"

urlpatterns = [
    path("", views.ClientListView.as_view(), name="client_list"),
    path("suggest/", views.ClientSuggestView.as_view(), name="client_suggest"),
    path("new/", views.ClientCreateView.as_view(), name="client_create"),
    path("import/", import_views.ClientImportUploadView.as_view(), name="client_import"),
    path(
        "import/<int:pk>/",
        import_views.ClientImportDetailView.as_view(),
        name="client_import_detail",
    ),
    path("bulk/", bulk_views.ClientBulkActionView.as_view(), name="client_bulk_action"),
    path(
        "bulk/<int:pk>/",
        bulk_views.ClientBulkActionDetailView.as_view(),
        name="client_bulk_action_detail",
    ),
    path("<int:number>/", views.ClientDetailView.as_view(), name="client_detail"),
    path("<int:number>/edit/", views.ClientEditView.as_view(), name="client_edit"),
    path("<int:number>/delete/", views.ClientDeleteView.as_view(), name="client_delete"),
    path("<int:number>/activity/", views.ClientActivityView.as_view(), name="client_activity"),
    path(
        "<int:number>/sms-subscription/",
        views.ClientSmsSubscriptionView.as_view(),
        name="client_sms_subscription",
    ),
]
