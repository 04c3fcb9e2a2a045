"""The sessions an operator is signed in with, as they see them under My account.

A row belongs to one of Django's database sessions and goes with it: logging out, ending the
session here, or `clearsessions` removing it once expired deletes the session row, and this one
with it (the database session backend, Django's default, is required)."""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models
from django.utils.translation import gettext_lazy as _


class OperatorSession(models.Model):
    """Where and when a person signed in, and when the session was last used. The session key
    itself is never shown: a page names a session by this row's id."""

    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, related_name="+", verbose_name=_("session")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator_sessions",
        verbose_name=_("user"),
    )
    user_agent = models.CharField(max_length=300, blank=True, verbose_name=_("browser"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("signed in at"))
    last_activity = models.DateTimeField(verbose_name=_("last active at"))

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["user", "-last_activity"])]

    def __str__(self) -> str:
        return _("%(user)s from %(address)s") % {
            "user": self.user,
            "address": self.ip_address or _("an unknown address"),
        }
