from django.urls import path

from . import audit, import_refused, views

app_name = "exports"

urlpatterns = [
    path("", views.ExportJobListView.as_view(), name="export_list"),
    path("<int:pk>/", views.ExportJobDetailView.as_view(), name="export_detail"),
    path(
        "client-imports/<int:pk>/refused.xlsx",
        import_refused.ClientImportRefusedView.as_view(),
        name="client_import_refused",
    ),
    path("audit-log/", audit.AuditLogExportView.as_view(), name="audit_export"),
    path("<int:pk>/download/", views.ExportJobDownloadView.as_view(), name="export_download"),
]
