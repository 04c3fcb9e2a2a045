"""Secrets Clientdesk must read back (router passwords, webhook signing secrets) encrypted at
rest with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`): one piece for every app.

The key comes from the environment: `ROUTER_SECRET_KEY`, one Fernet key or several separated
by commas (the first encrypts, all decrypt: rotate by putting a new key first, re-saving the
routers with `manage.py rotate_router_secrets`, then dropping the old key). Under DEBUG or in
tests, with no key set, a stable development key is derived from SECRET_KEY so that the demo
works with nothing configured. In production the app refuses to start without it
(`RoutersConfig.ready`).
"""

import base64
import hashlib
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ENV_NAME = "ROUTER_SECRET_KEY"


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the configured keys (the key changed)."""


def key_configured() -> bool:
    return bool(os.environ.get(ENV_NAME, "").strip())


def development_allowed() -> bool:
    return bool(settings.DEBUG or getattr(settings, "TESTING", False))


def check_configuration() -> None:
    """Raise ImproperlyConfigured when production has no key, or a key is malformed."""
    if not key_configured():
        if not development_allowed():
            raise ImproperlyConfigured(
                f"Set {ENV_NAME} (a Fernet key: python -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())') to store router passwords"
                " and webhook secrets."
            )
        return
    _fernet()


@lru_cache(maxsize=4)
def _fernet_for(raw: str, secret_key: str) -> MultiFernet:
    if raw:
        try:
            keys = [Fernet(part.strip().encode()) for part in raw.split(",") if part.strip()]
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"{ENV_NAME} must be Fernet keys (32 url-safe base64-encoded bytes)."
            ) from exc
        return MultiFernet(keys)
    derived = hashlib.sha256(f"clientdesk-router-secret:{secret_key}".encode()).digest()
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def _fernet() -> MultiFernet:
    raw = os.environ.get(ENV_NAME, "").strip()
    if not raw and not development_allowed():
        check_configuration()
    return _fernet_for(raw, settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    if plain == "":
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if token == "":
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            f"The stored secret cannot be decrypted: was {ENV_NAME} changed?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    return _fernet().rotate(token.encode()).decode() if token else token
