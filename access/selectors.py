"""Reads of a person's second factor and sessions that the pages and the middleware share."""

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import OperatorSession


def totp_device_of(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_device_of(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user) -> bool:
    """An authenticator app set up and confirmed (recovery codes alone are no second factor:
    they come with the app and stand in for it)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_second_factor_subquery(user_field: str = "user"):
    """has_second_factor() of each row's person, for an annotation (a list of operators)."""
    return Exists(TOTPDevice.objects.filter(user=OuterRef(user_field), confirmed=True))


def recovery_codes_left(user) -> int:
    device = recovery_device_of(user)
    return device.token_set.count() if device else 0


def sessions_of(user):
    """The person's sessions that have not expired, the most recently used first."""
    return OperatorSession.objects.filter(
        user=user, session__expire_date__gt=timezone.now()
    ).order_by("-last_activity", "-pk")
