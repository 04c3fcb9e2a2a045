"""Operator access: the second factor (TOTP with recovery codes, through django-otp) and the
signed-in sessions an operator sees and ends. It knows nothing of tenants: tenancy asks it
whether a person has a second factor and to end their sessions, and the middleware reads the
tenant's requirement from the request."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Operator access")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .services import session_start

        user_logged_in.connect(session_start, dispatch_uid="access_session_start")
