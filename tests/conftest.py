"""Shared fixtures. The suite runs against PostgreSQL and Redis (the README's test command sets
DATABASE_URL and REDIS_URL); it stops with an error, never a skip, when either is missing."""

import os

import pytest
from django.conf import settings

from tests.browsing import browser  # noqa: F401 - one Chromium for page and story tests
from tests.factories import ClientFactory, MembershipFactory, TenantFactory
from tests.seeded_demo import seeded_demo  # noqa: F401 - one seeding for all the demo's tests


def pytest_sessionfinish(session, exitstatus):
    """Leave Redis as the run found it: this run's queue, its kombu bindings and its cache keys
    (each run, and each of its pytest-xdist workers, has its own queue name and cache prefix, so
    nothing of another run or worker is touched)."""
    if not settings.REDIS_URL:
        return
    import redis

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    connection = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        keys = [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
        keys += connection.scan_iter(match=f"{queue}:*")  # its unacked messages and their index
        # Queues of the worker processes tests start are named after this one.
        for prefix in ("_kombu.binding.", "_kombu.binding_permanent."):
            keys += connection.scan_iter(match=f"{prefix}{queue}:*")
        keys += connection.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*")
        connection.delete(*keys)
        connection.zrem("_kombu.binding_deadlines", queue)
    finally:
        connection.close()


def pytest_configure(config):
    if not settings.IS_POSTGRES and not os.environ.get("CLIENTDESK_ALLOW_SQLITE_TESTS"):
        raise pytest.UsageError(
            "The tests need PostgreSQL: set DATABASE_URL (the README's test command does)."
        )
    if not settings.REDIS_URL:
        raise pytest.UsageError("The tests need Redis: set REDIS_URL.")


@pytest.fixture(autouse=True)
def portal_language():
    """Every test starts in the portal's default language: a request served in Russian leaves
    Russian active in the thread (LocaleMiddleware activates, nothing deactivates)."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Tenant A", slug="tenant-a")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Tenant B", slug="tenant-b")


@pytest.fixture
def login_as(client):
    """login_as(tenant, role) -> the membership; the test client is logged in as its user."""

    def login(tenant, role="owner", **kwargs):
        membership = MembershipFactory(tenant=tenant, role=role, **kwargs)
        client.force_login(membership.user)
        return membership

    return login


@pytest.fixture
def owner(tenant, login_as):
    return login_as(tenant, "owner")


@pytest.fixture
def make_client(db):
    def make(tenant, **kwargs):
        return ClientFactory(tenant=tenant, **kwargs)

    return make


class AccessChanges(list):
    """What `client_access_changed` said, as (client id, access, reason); `senders` keeps who
    sent each."""

    def __init__(self) -> None:
        super().__init__()
        self.senders: list[str] = []

    def clear(self) -> None:
        super().clear()
        self.senders.clear()

    def __call__(self, sender, **kwargs) -> None:
        self.append((kwargs["client"].pk, kwargs["access"], kwargs["reason"]))
        self.senders.append(sender)


@pytest.fixture
def signals():
    """Every `client_access_changed` sent during the test (AccessChanges)."""
    from clients.signals import client_access_changed

    received = AccessChanges()
    client_access_changed.connect(received, dispatch_uid="test_access_changes")
    yield received
    client_access_changed.disconnect(dispatch_uid="test_access_changes")
