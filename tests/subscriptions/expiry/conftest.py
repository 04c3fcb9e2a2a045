"""The expiry job's tests share the jobs' fixtures with the holds tests (Celery in-process,
e-mails to the outbox, clients with accounts, subscriptions written directly)."""

from tests.holds.conftest import celery_eager, funded, subscribe, unscoped  # noqa: F401
