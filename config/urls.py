from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import api_urls
from core.views import JavaScriptCatalogView, health_live, health_ready, metrics
from tenancy.views import AccountView, HomeView, LanguageView, PasswordChangeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    # The texts of the portal's scripts in the page's language (a script file: the CSP allows
    # only same-origin scripts); the login page needs it too.
    path(
        "jsi18n/<str:language>/<str:version>/",
        JavaScriptCatalogView.as_view(),
        name="javascript_catalog",
    ),
    path("account/", AccountView.as_view(), name="account"),
    path("account/language/", LanguageView.as_view(), name="account_language"),
    path("account/", include("access.urls")),
    path("", include("tenancy.urls")),
    path("clients/", include("clients.urls")),
    path("billing/", include("billing.urls")),
    path("subscriptions/", include("subscriptions.urls")),
    path("messaging/", include("messaging.urls")),
    path("routers/", include("routers.urls")),
    path("exports/", include("exports.urls")),
    path("audit/", include("events.urls")),
    path("dashboard/", include("holds.urls")),
    path("api/v1/", api_urls()),
    path("admin/", admin.site.urls),
    path("health/live", health_live, name="health_live"),
    path("health/ready", health_ready, name="health_ready"),
    path("metrics", metrics, name="metrics"),
]

admin.site.site_header = "Clientdesk administration"
admin.site.site_title = "Clientdesk admin"
