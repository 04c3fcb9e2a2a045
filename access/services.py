"""The second factor and the sessions of a person: every write with a rule.

Decisions where the product was silent:
- The second factor is an authenticator app (TOTP, RFC 6238: 6 digits, 30 s, one step of
  clock drift either way), confirmed by a first code before it counts, with 10 recovery codes
  made with it; each recovery code works once, they are shown once (when made) and a new set
  replaces the old one. A code is never accepted twice (django-otp's `last_t`).
- Wrong codes are throttled by django-otp per device: after n wrong codes in a row the next
  try waits 2^(n-1) seconds (OTP_TOTP_THROTTLE_FACTOR, OTP_STATIC_THROTTLE_FACTOR), and a
  right code resets it. Password failures stay with django-axes.
- Nobody turns the second factor off while anything requires it of them (a tenant they work
  in, see requirements.py); turning it off asks for a code and removes the recovery codes too.
- A session is recorded when a person logs in and its last activity noted at most once a
  minute (in the session, so that a page costs no query for it). Ending a session deletes it
  from Django's session store, so its cookie is dead at the next request.
- Behind the proxy the deployment trusts (SECURE_PROXY_SSL_HEADER set), a session's address is
  the last one of X-Forwarded-For, the one that proxy saw; otherwise REMOTE_ADDR.
"""

import ipaddress
import math
import re
import time
from base64 import b32encode
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from core.formatting import format_count

from .models import OperatorSession
from .requirements import second_factor_required_by
from .selectors import has_second_factor

RECOVERY_CODE_COUNT = 10
TOTP_CODE = re.compile(r"^\d{6}$")
RECOVERY_CODE = re.compile(r"^[a-z2-7]{8}$")
CODE_MAX_LENGTH = 20  # a recovery code typed with spaces or hyphens
TOTP_TOLERANCE = 1

SESSION_SECOND_FACTOR_KEY = "access.second_factor"  # does this person have one (at login)
SESSION_SEEN_KEY = "access.seen"  # when this session's activity was last written
TOUCH_INTERVAL_SECONDS = 60

WRONG_CODE = gettext_lazy("That code is not right.")
NO_APP = gettext_lazy("Two-factor authentication is not set up for your login.")
NO_RECOVERY_CODES = gettext_lazy("You have no recovery codes left: use the code from your app.")


# -- codes ---------------------------------------------------------------------------------
def code_normalise(code: str) -> str:
    """A code as typed, without the spaces and hyphens an app or a printout shows in it."""
    return re.sub(r"[\s-]", "", code).lower()


def code_is_well_formed(code: str) -> bool:
    code = code_normalise(code)
    return bool(TOTP_CODE.match(code) or RECOVERY_CODE.match(code))


def totp_key_new() -> str:
    """A new secret (20 random bytes, hex, as django-otp stores it) for an app to be set up."""
    return random_hex(20)


def totp_setup_uri(*, user, key: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, key=key).config_url


def totp_secret_text(key: str) -> str:
    """The secret as an app asks for it when typed (base32, in groups of four)."""
    secret = b32encode(bytes.fromhex(key)).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _totp_step_of(key: str, code: str) -> int | None:
    """The time step at which `code` is right for `key`, or None."""
    code = code_normalise(code)
    if not TOTP_CODE.match(code):
        return None
    totp = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6)
    totp.time = time.time()
    if not totp.verify(int(code), TOTP_TOLERANCE):
        return None
    return totp.t()


def _recovery_codes_new(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _lock_person(user):
    return get_user_model().objects.select_for_update().get(pk=user.pk)


# -- the second factor ---------------------------------------------------------------------
def second_factor_enrol(
    *, user, key: str, code: str, current_session_key: str | None
) -> tuple[TOTPDevice, list[str]]:
    """Set up the authenticator app whose secret is `key`, confirmed by its first code, and
    the recovery codes that stand in for it. Returns the device and the codes (shown once).
    The person's other sessions end: they were signed in with the password alone."""
    device, codes = _second_factor_create(user=user, key=key, code=code)
    sessions_end_others(user=user, current_key=current_session_key)
    return device, codes


@transaction.atomic
def _second_factor_create(*, user, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    _lock_person(user)
    if has_second_factor(user):
        raise ValidationError({"code": _("Two-factor authentication is already set up.")})
    step = _totp_step_of(key, code)
    if step is None:
        raise ValidationError(
            {
                "code": _(
                    "That code is not right. Check that your phone's clock is right and try again."
                )
            }
        )
    TOTPDevice.objects.filter(user=user).delete()  # an app set up and never confirmed
    device = TOTPDevice.objects.create(
        user=user, name="Authenticator app", key=key, confirmed=True, last_t=step
    )
    return device, _recovery_codes_new(user)


@transaction.atomic
def recovery_codes_replace(*, user) -> list[str]:
    """A new set of recovery codes; the old ones stop working."""
    _lock_person(user)
    if not has_second_factor(user):
        raise ValidationError(str(NO_APP))
    return _recovery_codes_new(user)


def _wait_text(info) -> str:
    seconds = max(1, math.ceil((info["locked_until"] - timezone.now()).total_seconds()))
    return ngettext(
        "Too many wrong codes: try again in %(count)s second.",
        "Too many wrong codes: try again in %(count)s seconds.",
        seconds,
    ) % {"count": format_count(seconds)}


def second_factor_verify(*, user, code: str):
    """The device that accepts `code` (the app's 6 digits, or an unused recovery code, which
    is then spent). A wrong code counts towards the device's throttle, and stays counted:
    the refusal is raised after the transaction that recorded it."""
    code = code_normalise(code)
    model = TOTPDevice if TOTP_CODE.match(code) else StaticDevice
    refusal = None
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            refusal = str(NO_APP if model is TOTPDevice else NO_RECOVERY_CODES)
        else:
            allowed, info = device.verify_is_allowed()
            if not allowed:
                refusal = _wait_text(info)
            elif not device.verify_token(code):
                allowed, info = device.verify_is_allowed()
                refusal = str(WRONG_CODE) if allowed else f"{WRONG_CODE} {_wait_text(info)}"
    if refusal:
        raise ValidationError({"code": refusal})
    return device


def second_factor_disable(*, user, code: str) -> None:
    """Turn two-factor authentication off (the app and the recovery codes), with a code."""
    required_by = second_factor_required_by(user)
    if required_by:
        raise ValidationError(
            {
                "code": _("Required by %(tenants)s: it cannot be turned off.")
                % {"tenants": ", ".join(required_by)}
            }
        )
    second_factor_verify(user=user, code=code)
    with transaction.atomic():
        _lock_person(user)
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


# -- sessions ------------------------------------------------------------------------------
def request_address(request) -> str | None:
    address = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        address = forwarded or address
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def session_remember_second_factor(request, user) -> None:
    """Note in the session whether the person has a second factor, so that the middleware
    asks for it without a query on every page."""
    request.session[SESSION_SECOND_FACTOR_KEY] = has_second_factor(user)


def session_record(request, user) -> None:
    """Create or refresh the row of the request's session (who, from where, when)."""
    session = request.session
    if session.session_key is None:
        session.save()  # a login that flushed the session: it gets its key here
    now = timezone.now()
    try:
        OperatorSession.objects.update_or_create(
            session_id=session.session_key,
            defaults={
                "user": user,
                "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
                "ip_address": request_address(request),
                "last_activity": now,
            },
        )
    except IntegrityError:  # the session ended meanwhile (another tab logged out)
        return
    session[SESSION_SEEN_KEY] = int(time.time())


def session_start(sender, request, user, **kwargs) -> None:
    """On every login (the portal's form, the admin's, any other way in): the session is
    recorded and remembers whether a second factor is to be asked for."""
    if request is None or not hasattr(request, "session"):
        return
    session_remember_second_factor(request, user)
    session_record(request, user)


def session_touch(request) -> None:
    """Note the session's activity, at most once a minute."""
    seen = request.session.get(SESSION_SEEN_KEY)
    if isinstance(seen, int) and time.time() - seen < TOUCH_INTERVAL_SECONDS:
        return
    session_record(request, request.user)


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _sessions_delete(keys) -> int:
    store = _session_store()
    keys = list(keys)
    for key in keys:
        store().delete(key)  # its OperatorSession row goes with it
    return len(keys)


def sessions_end(*, user, session_ids, current_key: str | None) -> int:
    """End some of the person's own sessions (never the one in use: that is logging out).
    Ids that are not theirs end nothing."""
    keys = (
        OperatorSession.objects.filter(user=user, pk__in=session_ids)
        .exclude(session_id=current_key)
        .values_list("session_id", flat=True)
    )
    return _sessions_delete(keys)


def sessions_end_others(*, user, current_key: str | None) -> int:
    keys = OperatorSession.objects.filter(user=user).exclude(session_id=current_key)
    return _sessions_delete(keys.values_list("session_id", flat=True))


def user_sessions_end_all(*, user) -> int:
    """Sign the person out everywhere (an owner deactivating them)."""
    keys = OperatorSession.objects.filter(user=user).values_list("session_id", flat=True)
    return _sessions_delete(keys)
