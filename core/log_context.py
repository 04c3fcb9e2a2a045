"""The id of the request or task being served, added to every log record (core/logs.py sets
it). Loaded by the logging configuration before Django is, so this module imports nothing of
Django."""

import contextvars
import logging

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class RequestContextFilter(logging.Filter):
    """Adds the current request's (or task's) id to every record, empty outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id.get()
        return True
