"""How every operation of the JSON API is guarded, the same way for every app's part.

- Who: `Authorization: Bearer <token>` (TenantMiddleware has resolved the token, its tenant
  and its scope), or a logged-in operator's session with its CSRF token. Either way the
  request already runs inside its tenant's django-scopes scope, so another tenant's object is
  a 404, as in the portal.
- What: each operation names the capability it needs (tenancy.roles), checked against the
  operator's role or the token's scope (403 otherwise), and the modules it belongs to (a
  tenant without them gets a 404, as its pages do). Both are also written into the schema
  (`x-capability`, `x-modules`), so that tests walk them from the schema.
- Limits: a maximum body size (413) and a rate per caller (429 with `Retry-After`, counted in
  the Django cache).
- Retries: an operation declared `idempotent` keeps its first answer under the caller's
  `Idempotency-Key`; the same key again gets that answer, the same key with another body a
  422. The record is inserted first in the operation's transaction, so a concurrent identical
  request waits on the unique key and then reads the committed answer.
"""

import hashlib
import threading
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Status
from ninja.security import APIKeyCookie, HttpBearer
from ninja.throttling import BaseThrottle

from core import crypto
from core.api import Problem
from core.formatting import format_count

from .models import ApiIdempotencyRecord
from .modules import uses_any

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255


def api_caller(request) -> str:
    """Who is calling, for rate limits and idempotency keys: the token, or the operator."""
    if request.api_token is not None:
        return f"token:{request.api_token.pk}"
    return f"user:{request.user.pk}"


def api_actor(request):
    """The operator to record as having done a write; None for a token (the system)."""
    return request.user if request.api_token is None else None


def check_body_size(request) -> None:
    length = request.META.get("CONTENT_LENGTH") or "0"
    try:
        size = int(length)
    except ValueError:
        size = 0
    if size > settings.API_MAX_BODY_BYTES:
        raise Problem(
            413,
            _("Request too large"),
            _("The body may have at most %(bytes)s bytes.")
            % {"bytes": format_count(settings.API_MAX_BODY_BYTES)},
        )


class TokenAuth(HttpBearer):
    """A token TenantMiddleware found usable; anything else is a 401."""

    def __call__(self, request):
        if request.api_token is None:
            return None
        check_body_size(request)
        return request.api_token

    def authenticate(self, request, token):  # the middleware authenticated already
        return request.api_token


class OperatorSessionAuth(APIKeyCookie):
    """A logged-in operator with a tenant, CSRF-checked like a portal form."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request, key):
        if request.api_token is not None or request.tenant is None:
            return None
        if not request.user.is_authenticated:
            return None
        check_body_size(request)
        return request.membership


class CallerRateThrottle(BaseThrottle):
    """`API_RATE_LIMIT` requests per caller (token or operator) in a window that opens with the
    caller's first request, counted atomically in the cache (rate_count), so that concurrent
    requests never read-modify-write a count and exactly the limit pass. Refused requests
    count too: hammering does not shorten the wait."""

    def __init__(self):
        self._waits = threading.local()  # one instance serves every request thread

    def allow_request(self, request) -> bool:
        limit, period = rate_parse(settings.API_RATE_LIMIT)
        count, left = rate_count(f"api-rate:{api_caller(request)}:{period}", period)
        if count <= limit:
            return True
        self._waits.seconds = max(1.0, left)
        return False

    def wait(self) -> float | None:
        return getattr(self._waits, "seconds", None)


RATE_PERIODS = {"s": 1, "min": 60, "hour": 3600}


def rate_parse(rate: str) -> tuple[int, int]:
    """ "N/s", "N/min" or "N/hour" as (N, seconds)."""
    count, _, unit = rate.partition("/")
    if unit not in RATE_PERIODS or not count.isdigit():
        raise ImproperlyConfigured(f"API_RATE_LIMIT must be N/s, N/min or N/hour, not {rate!r}")
    return int(count), RATE_PERIODS[unit]


# Redis: the count, the window's expiry when the count opens it (or finds none), and the
# milliseconds left, in one round trip and atomically (a script runs alone). Django's incr
# asks EXISTS before INCRBY, and the window's opening needed two more.
RATE_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    left = tonumber(ARGV[1])
end
return {count, left}
"""


def rate_count(key: str, period: int) -> tuple[int, float]:
    """(this request's number in the caller's window, the seconds left in the window), the
    window opened if there is none: one script on Redis, the cache's own atomic add and incr
    elsewhere (the demo's local memory)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        cache_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(cache_key, write=True)
        count, left_ms = client.eval(RATE_SCRIPT, 1, cache_key, period * 1000)
        return int(count), int(left_ms) / 1000
    return _rate_count_in_memory(backend, key, period)


def _rate_count_in_memory(backend, key: str, period: int) -> tuple[int, float]:
    """`add` opens the window with its expiry, `incr` counts (LocMemCache holds its lock)."""
    for _attempt in range(3):
        try:
            count = backend.incr(key)
        except ValueError:  # no window: open one, unless a concurrent request just did
            if backend.add(key, 1, timeout=period):
                backend.set(f"{key}:opened", time.time(), timeout=period)
                return 1, float(period)
            continue
        if count == 1:  # INCR recreated a key that expired after its existence check
            backend.touch(key, period)
        opened = backend.get(f"{key}:opened")
        now = time.time()
        return count, (opened or now) + period - now
    return 1, float(period)


AUTH = [TokenAuth(), OperatorSessionAuth()]


def requires(capability: str, modules: frozenset[str] = frozenset()):
    """The operation needs `capability` (403 otherwise) and, when named, one of `modules`
    (404 otherwise, as a page of a module the tenant does not use)."""

    def decorate(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if modules and not uses_any(request.tenant, modules):
                raise Http404("This organisation does not use this module.")
            if not request.membership.allows(capability):
                raise Problem(403, _("Forbidden"), _("Your role or token does not allow this."))
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def operation_extra(capability: str, modules=frozenset(), idempotent: bool = False) -> dict:
    extra = {"x-capability": str(capability)}
    if modules:
        extra["x-modules"] = sorted(modules)
    if idempotent:
        extra["x-idempotent"] = True
        extra["parameters"] = [
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                # Not blank: a key of spaces only is refused (idempotency_key).
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_MAX,
                    "pattern": r"\S",
                },
                "description": "A retry with the same key returns the first answer.",
            }
        ]
    return extra


# Query parameters an operation reads beyond its type hints, by operationId: a function that
# gives them when the schema is made (a list's filters that other apps register in ready()).
SCHEMA_PARAMETERS: dict[str, Callable[[], list[dict]]] = {}


def operation_id(view) -> str:
    """The operationId django-ninja gives a view (module and function name)."""
    return f"{view.__module__}_{view.__name__}".replace(".", "_")


def schema_parameters(operation: str) -> list[dict]:
    """The parameters `operation` (an operationId) adds to its schema when it is made."""
    given = SCHEMA_PARAMETERS.get(operation)
    return given() if given is not None else []


def api_operation(
    router,
    method: str,
    path: str,
    *,
    capability,
    modules=frozenset(),
    idempotent=False,
    openapi: dict | None = None,
    query_parameters: Callable[[], list[dict]] | None = None,
    sealed: tuple[str, ...] = (),
    **kw,
):
    """Declare an operation on `router` with its capability, modules and idempotency: the one
    way every app's api.py declares its operations. `openapi` adds to the operation's schema
    what its type hints cannot say (e.g. a file answer's content type); `query_parameters`
    gives, when the schema is made, the query parameters the operation reads without a type
    hint; `sealed` names answer fields an idempotent operation keeps encrypted for its
    retries (a secret shown once)."""

    def decorate(view):
        if query_parameters is not None:
            SCHEMA_PARAMETERS[operation_id(view)] = query_parameters
        wrapped = idempotent_answer(view, sealed=sealed) if idempotent else view
        wrapped = requires(capability, modules)(wrapped)
        extra = {**operation_extra(capability, modules, idempotent), **(openapi or {})}
        return router.api_operation(
            [method],
            path,
            openapi_extra=extra,
            throttle=[CallerRateThrottle()],
            **kw,
        )(wrapped)

    return decorate


# -- idempotency -----------------------------------------------------------------------------
def idempotency_key(request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise Problem(
            422,
            _("Invalid request"),
            _("The Idempotency-Key header is empty or too long."),
            [{"field": IDEMPOTENCY_HEADER, "message": _("Use 1 to 255 characters, e.g. a UUID.")}],
        )
    return key


def idempotency_digest(request) -> str | None:
    """The request's Idempotency-Key hashed with its caller (40 hex characters), for the keys a
    service keeps of its own (a ledger entry's), which are unique per tenant; None without the
    header."""
    key = idempotency_key(request)
    if key is None:
        return None
    return hashlib.sha256(f"{api_caller(request)}\n{key}".encode()).hexdigest()[:40]


def request_fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotent_answer(view, sealed: tuple[str, ...] = ()):
    """Answer a retry under the same Idempotency-Key with the first answer. The view returns
    Status(code, schema instance); a refusal (an exception) rolls the record back with the rest,
    so a corrected request may use the key again. The `sealed` fields of the answer are kept
    encrypted (core.crypto), as the object keeps them, and opened for the retry."""

    @wraps(view)
    def remembered(request, *args, **kwargs):
        key = idempotency_key(request)
        if key is None:
            return view(request, *args, **kwargs)
        records = ApiIdempotencyRecord.objects.for_tenant(request.tenant)
        fingerprint = request_fingerprint(request)
        caller = api_caller(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = records.create(
                        tenant=request.tenant,
                        caller=caller,
                        key=key,
                        fingerprint=fingerprint,
                        status=0,
                        body={},
                    )
            except IntegrityError:
                first = records.get(caller=caller, key=key)
                if first.fingerprint != fingerprint:
                    raise Problem(
                        422,
                        _("Idempotency-Key reused"),
                        _("This Idempotency-Key was used for a different request."),
                        [{"field": IDEMPOTENCY_HEADER, "message": _("Use a new key.")}],
                    ) from None
                return Status(first.status, answer_unsealed(first.body, sealed))
            answer = view(request, *args, **kwargs)
            body = answer.value.model_dump(mode="json")
            record.status = answer.status_code
            record.body = answer_sealed(body, sealed)
            record.save(update_fields=["status", "body"])
            return Status(record.status, body)

    return remembered


def answer_sealed(body: dict, sealed: tuple[str, ...]) -> dict:
    return {
        name: crypto.encrypt(value) if name in sealed and isinstance(value, str) else value
        for name, value in body.items()
    }


def answer_unsealed(body: dict, sealed: tuple[str, ...]) -> dict:
    return {
        name: crypto.decrypt(value) if name in sealed and isinstance(value, str) else value
        for name, value in body.items()
    }
