from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path(
        "clients/<int:number>/statistics/",
        views.ClientStatisticsView.as_view(),
        name="client_statistics",
    ),
    path(
        "clients/<int:number>/statistics/export/",
        views.ClientStatisticsExportView.as_view(),
        name="client_statistics_export",
    ),
    path("clients/<int:number>/names/", views.ClientNamesView.as_view(), name="client_names"),
    path("clients/<int:number>/names/new/", views.SenderIdFormView.as_view(), name="sender_create"),
    path(
        "clients/<int:number>/names/<int:pk>/edit/",
        views.SenderIdFormView.as_view(),
        name="sender_update",
    ),
    path(
        "clients/<int:number>/names/<int:pk>/decision/",
        views.SenderIdDecideView.as_view(),
        name="sender_decide",
    ),
]
