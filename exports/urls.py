from django.urls import path

from . import import_refused, views

app_name = "exports"

urlpatterns = [
    path("", views.ExportJobListView.as_view(), name="export_list"),
    path("list/", views.ListExportView.as_view(), name="list_export"),
    path("<int:pk>/", views.ExportJobDetailView.as_view(), name="export_detail"),
    path(
        "client-imports/<int:pk>/refused.xlsx",
        import_refused.ClientImportRefusedView.as_view(),
        name="client_import_refused",
    ),
    path("<int:pk>/download/", views.ExportJobDownloadView.as_view(), name="export_download"),
]
