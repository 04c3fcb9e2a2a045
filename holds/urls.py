from django.urls import path

from . import views

app_name = "holds"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path(
        "clients/<int:number>/hold/",
        views.ClientHoldActionView.as_view(action="place"),
        name="client_hold",
    ),
    path(
        "clients/<int:number>/release/",
        views.ClientHoldActionView.as_view(action="release"),
        name="client_release",
    ),
]
