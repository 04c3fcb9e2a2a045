from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("clients/<int:number>/", views.ClientFinanceView.as_view(), name="client_finance"),
    path("clients/<int:number>/top-up/", views.ClientTopUpView.as_view(), name="client_top_up"),
    path(
        "clients/<int:number>/credit/",
        views.ClientSetCreditView.as_view(),
        name="client_set_credit",
    ),
    path(
        "clients/<int:number>/export/",
        views.ClientFinanceExportView.as_view(),
        name="client_finance_export",
    ),
]
