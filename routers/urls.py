from django.urls import path

from . import views

app_name = "routers"

urlpatterns = [
    path("", views.RouterListView.as_view(), name="router_list"),
    path("new/", views.RouterCreateView.as_view(), name="router_create"),
    path("<int:pk>/", views.RouterUpdateView.as_view(), name="router_edit"),
    path("<int:pk>/test/", views.RouterTestView.as_view(), name="router_test"),
    path("<int:pk>/poll/", views.RouterPollView.as_view(), name="router_poll"),
    path("<int:pk>/adopt/", views.RouterAdoptView.as_view(), name="router_adopt"),
    path(
        "<int:pk>/adopt/<int:adoption>/",
        views.RouterAdoptionView.as_view(),
        name="router_adoption",
    ),
    path("accounts/", views.PppoeAccountListView.as_view(), name="account_list"),
    path("clients/<int:number>/", views.ClientConnectionView.as_view(), name="client_connection"),
]
