"""Structured logs: one line per request and one per task, that a log aggregator can read.

Every record a request or a task writes carries its `request_id` (taken from the proxy's
`X-Request-ID` when it is a plain token, otherwise made here, and sent back in the response),
so that the lines of one request can be found together. The lines say who and what (tenant
id, operator id, view name, status, duration; task name, id, outcome, duration), never what
was typed: no form field, query string, header or cookie is logged, so a password, a router
secret or an API token cannot reach a log. LOG_FORMAT (settings) picks JSON or plain text.
"""

import logging
import re
import time
import uuid

from celery.signals import task_postrun, task_prerun

from .log_context import current_request_id as _request_id
from .metrics import task_observed

request_logger = logging.getLogger("clientdesk.request")
task_logger = logging.getLogger("clientdesk.task")

_task_started: dict[str, float] = {}
REQUEST_ID_HEADER = "X-Request-ID"
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_from(request) -> str:
    """The proxy's request id when it is a plain token; a new one otherwise."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given if _PLAIN_TOKEN.fullmatch(given) else uuid.uuid4().hex


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name or match._func_path) if match else ""


def _authenticated_id(request):
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


class RequestLogMiddleware:
    """The outermost middleware: one line when the response is ready, whatever answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request)
        token = _request_id.set(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            request_log(request, response.status_code, time.perf_counter() - started)
            return response
        finally:
            _request_id.reset(token)


def request_log(request, status: int, seconds: float) -> None:
    tenant = getattr(request, "tenant", None)
    view = _view_name(request)
    duration_ms = round(seconds * 1000, 1)
    request_logger.info(
        "%s %s %s %sms",
        request.method,
        request.path,
        status,
        duration_ms,
        extra={
            "event": "request",
            "request_id": request.request_id,
            "method": request.method,
            "path": request.path,
            "view": view,
            "status": status,
            "duration_ms": duration_ms,
            "tenant": tenant.pk if tenant is not None else None,
            "operator": _authenticated_id(request),
        },
    )


@task_prerun.connect(dispatch_uid="core.logs.task_started")
def task_started(task_id=None, task=None, **kwargs) -> None:
    _task_started[task_id] = time.perf_counter()
    _request_id.set(task_id or "")


@task_postrun.connect(dispatch_uid="core.logs.task_finished")
def task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    """One line per task run, and its metrics (core.metrics): name, id, outcome, duration."""
    started = _task_started.pop(task_id, None)
    seconds = time.perf_counter() - started if started is not None else 0.0
    outcome = (state or "unknown").lower()
    name = getattr(task, "name", "unknown")
    task_observed(name, outcome, seconds)
    duration_ms = round(seconds * 1000, 1)
    task_logger.info(
        "task %s %s %s %sms",
        name,
        task_id,
        outcome,
        duration_ms,
        extra={
            "event": "task",
            "request_id": task_id,
            "task": name,
            "task_id": task_id,
            "outcome": outcome,
            "duration_ms": duration_ms,
            "retries": getattr(getattr(task, "request", None), "retries", 0),
        },
    )
    _request_id.set("")
