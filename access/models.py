"""The sessions an operator is signed in with, as they see them under My account.

A row belongs to one of Django's database sessions and goes with it: logging out, ending the
session here, or `clearsessions` removing it once expired deletes the session row, and this one
with it (the database session backend, Django's default, is required)."""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models


class OperatorSession(models.Model):
    """Where and when a person signed in, and when the session was last used. The session key
    itself is never shown: a page names a session by this row's id."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_sessions"
    )
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-last_activity"])]

    def __str__(self) -> str:
        return f"{self.user} from {self.ip_address or 'unknown address'}"
