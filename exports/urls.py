from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("", views.ExportJobListView.as_view(), name="export_list"),
    path("<int:pk>/", views.ExportJobDetailView.as_view(), name="export_detail"),
    path("<int:pk>/download/", views.ExportJobDownloadView.as_view(), name="export_download"),
]
