"""The root of the JSON API (/api/v1/): one NinjaAPI that mounts each app's part (its
`api.py`), answers every error as RFC 9457 problem details, and serves its OpenAPI 3 schema
at /api/v1/schema/ and the interactive docs (Swagger UI from static/, no CDN) at
/api/v1/docs/.

Why django-ninja and not DRF: see the README ("The JSON API"); bench/api.py measures both.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import URLPattern, URLResolver, re_path
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import BaseRenderer

from billing.api import router as billing_router
from clients.api import router as clients_router
from core.api import PROBLEM_CONTENT_TYPE, Problem, field_errors, json_bytes, problem_response
from core.validation_messages import field_error_message
from events.api import router as webhooks_router
from exports.api import router as exports_router
from holds.api import router as holds_router
from messaging.api import clients_router as messaging_clients_router
from messaging.api import router as messaging_router
from routers.api import accounts_router as pppoe_accounts_router
from routers.api import router as routers_router
from subscriptions.api import router as subscriptions_router
from tenancy.api import AUTH, schema_parameters

TITLES = {
    400: _("Bad request"),
    401: _("Not authenticated"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    413: _("Request too large"),
    422: _("Invalid request"),
    429: _("Too many requests"),
}
logger = logging.getLogger(__name__)
ERROR_STATUSES = (400, 401, 403, 404, 413, 422, 429)


class FastJSONRenderer(BaseRenderer):
    """JSON written by pydantic-core (core.api.json_bytes)."""

    media_type = "application/json"

    def render(self, request, data, *, response_status):
        return json_bytes(data)


SCHEMA_LANGUAGE = "en"


class ClientdeskAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Error answers are documented as problem details on every operation, and each
        operation's query parameters from other apps' registrations are added. The schema is
        written in English whatever the caller's language, like its field names: it is a
        contract for developers (the answers' problems follow Accept-Language)."""
        with translation.override(SCHEMA_LANGUAGE):
            return self._documented_schema(*args, **kwargs)

    def _documented_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for path in schema["paths"].values():
            for operation in path.values():
                add_parameters(operation, schema_parameters(operation.get("operationId", "")))
                for status in ERROR_STATUSES:
                    operation.setdefault("responses", {})[str(status)] = {
                        "description": str(TITLES[status]),
                        "content": {
                            PROBLEM_CONTENT_TYPE: {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        },
                    }
        return schema


def add_parameters(operation: dict, parameters: list[dict]) -> None:
    """Add the parameters the operation's type hints do not already name."""
    named = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
    for parameter in parameters:
        if (parameter["in"], parameter["name"]) not in named:
            operation.setdefault("parameters", []).append(parameter)


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

api = ClientdeskAPI(
    title="Clientdesk API",
    version="1",
    description=(
        "The portal's services over HTTP. Authenticate with `Authorization: Bearer <token>` "
        "(an owner creates tokens under API tokens), or as a logged-in operator with the CSRF "
        "token. Errors are RFC 9457 problem details. Lists use cursor pagination "
        "(`next` is the cursor of the next page) and `?fields=` to choose fields."
    ),
    urls_namespace="api",
    renderer=FastJSONRenderer(),
    auth=AUTH,
    openapi_url="/schema/",
    docs_url="/docs/",
    docs=Swagger(settings={"persistAuthorization": True}),
)


def _loc(error: dict) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    if loc and loc[0] == "payload":
        loc = loc[1:]
    return ".".join(loc)


@api.exception_handler(Problem)
def on_problem(request, exc: Problem):
    return problem_response(exc)


@api.exception_handler(NinjaValidationError)
def on_invalid(request, exc: NinjaValidationError):
    errors = [{"field": _loc(error), "message": field_error_message(error)} for error in exc.errors]
    return problem_response(
        Problem(422, TITLES[422], gettext("Some values were refused."), errors[:100])
    )


@api.exception_handler(DjangoValidationError)
def on_refused(request, exc: DjangoValidationError):
    return problem_response(
        Problem(422, TITLES[422], gettext("Some values were refused."), field_errors(exc))
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    problem = Problem(
        401,
        TITLES[401],
        gettext(
            "Send Authorization: Bearer <token> with a token that is neither revoked nor expired."
        ),
        headers={"WWW-Authenticate": "Bearer"},
    )
    return problem_response(problem)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    headers = {}
    if exc.status_code == 429:
        headers["Retry-After"] = str(getattr(exc, "wait", None) or 1)
    title = TITLES.get(exc.status_code) or gettext("Error")
    return problem_response(
        Problem(exc.status_code, title, _http_error_detail(exc), headers=headers)
    )


def _http_error_detail(exc: HttpError) -> str:
    """django-ninja raises these with English details; say them in the caller's language."""
    if exc.status_code == 400:
        return gettext("The request body could not be read: send valid JSON.")
    if exc.status_code == 403:
        return gettext("The CSRF check failed: send the CSRF token with the session cookie.")
    if exc.status_code == 429:
        return gettext("Too many requests: wait as long as Retry-After says, then try again.")
    return str(exc)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return problem_response(Problem(404, TITLES[404], gettext("No such object.")))


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return problem_response(
        Problem(403, TITLES[403], gettext("Your role or token does not allow this."))
    )


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return problem_response(Problem(413, TITLES[413], gettext("The request body is too large.")))


@api.exception_handler(Exception)
def on_failure(request, exc):
    """A fault is logged with its traceback and answered as a problem, never as HTML."""
    logger.error("API fault on %s", request.path, exc_info=exc)
    return problem_response(
        Problem(500, gettext("Server error"), gettext("The request could not be done."))
    )


api.add_router("/clients/", clients_router, tags=["clients"])
api.add_router("/clients/", billing_router, tags=["billing"])
api.add_router("/clients/", messaging_clients_router, tags=["messaging"])
api.add_router("/messages/", messaging_router, tags=["messages"])
# Paths of their own (packages/, subscriptions/, holds/) and under a client's.
api.add_router("", subscriptions_router, tags=["subscriptions"])
api.add_router("", holds_router, tags=["holds"])
api.add_router("/routers/", routers_router, tags=["routers"])
api.add_router("/pppoe-accounts/", pppoe_accounts_router, tags=["routers"])
api.add_router("/exports/", exports_router, tags=["exports"])
api.add_router("/webhooks/", webhooks_router, tags=["webhooks"])


def api_urls():
    """The API's URL patterns; their views need no login redirect (they answer 401). A path
    that names no operation is a 404 problem document, as any other error (not a page)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if getattr(pattern, "name", None) == "api-root":  # the schema's base URL names it
            pattern.callback = no_such_operation
    patterns = [*patterns, re_path(r"^.*$", no_such_operation, name="no_such_operation")]
    _mark_login_not_required(patterns)
    return patterns, app_name, namespace


def no_such_operation(request):
    return problem_response(
        Problem(404, TITLES[404], gettext("No such operation; see /api/v1/docs/."))
    )


def _mark_login_not_required(patterns) -> None:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            _mark_login_not_required(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            entry.callback.login_required = False
