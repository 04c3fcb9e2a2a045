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
    path("views/save/", views.SavedViewCreateView.as_view(), name="saved_view_create"),
    path("views/<int:pk>/", views.SavedViewOpenView.as_view(), name="saved_view_open"),
    path("views/<int:pk>/delete/", views.SavedViewDeleteView.as_view(), name="saved_view_delete"),
    path("operators/", views.OperatorListView.as_view(), name="operator_list"),
    path("operators/security/", views.TenantSecurityView.as_view(), name="tenant_security"),
    path("operators/add/", views.OperatorCreateView.as_view(), name="operator_create"),
    path("operators/<int:pk>/", views.OperatorUpdateView.as_view(), name="operator_edit"),
    path("settings/api-tokens/", views.ApiTokenListView.as_view(), name="api_token_list"),
    path("settings/api-tokens/add/", views.ApiTokenCreateView.as_view(), name="api_token_create"),
    path(
        "settings/api-tokens/<int:pk>/revoke/",
        views.ApiTokenRevokeView.as_view(),
        name="api_token_revoke",
    ),
]
