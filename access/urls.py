from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path("two-factor/", views.TwoFactorView.as_view(), name="two_factor"),
    path("two-factor/enrol/", views.TwoFactorEnrolView.as_view(), name="enrol"),
    path("two-factor/verify/", views.TwoFactorVerifyView.as_view(), name="verify"),
    path("two-factor/recovery-codes/", views.RecoveryCodesView.as_view(), name="recovery_codes"),
    path("two-factor/disable/", views.TwoFactorDisableView.as_view(), name="disable"),
    path("sessions/", views.SessionListView.as_view(), name="session_list"),
    path("sessions/end/", views.SessionEndView.as_view(), name="session_end"),
    path("sessions/end-others/", views.SessionEndOthersView.as_view(), name="session_end_others"),
]
