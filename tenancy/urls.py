from django.urls import path

from . import views

app_name = "tenancy"

urlpatterns = [
    path("switch/", views.TenantSwitchView.as_view(), name="tenant_switch"),
    path(
        "preferences/tables/<str:table_name>/",
        views.TablePreferencesView.as_view(),
        name="table_preferences",
    ),
    path("operators/", views.OperatorListView.as_view(), name="operator_list"),
    path("operators/security/", views.TenantSecurityView.as_view(), name="tenant_security"),
    path("operators/add/", views.OperatorCreateView.as_view(), name="operator_create"),
    path("operators/<int:pk>/", views.OperatorUpdateView.as_view(), name="operator_edit"),
]
