"""The API's tests talk HTTP to pytest-django's live server (a real server thread on
loopback) with `requests`, as an integration would, with tokens issued by the service the
portal page uses."""

import pytest
import requests
from django.core.cache import cache
from django_scopes import scopes_disabled

from config.celery import app as celery_app
from tenancy.api import RATE_PERIODS
from tenancy.services import api_token_create
from tests.factories import ClientFactory, TenantFactory


class ApiClient:
    """requests against the live server's /api/v1/, as one token (or none)."""

    def __init__(self, base_url: str, secret: str | None = None):
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.session = requests.Session()
        if secret:
            self.session.headers["Authorization"] = f"Bearer {secret}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base + path.lstrip("/"), **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)


@pytest.fixture(autouse=True)
def celery_eager():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def api_tenant(transactional_db):
    """An internet and messaging provider: it adds clients directly and sells subscriptions,
    so that every operation of the API applies to it."""
    return TenantFactory(
        name="Api A", slug="api-a", uses_routers=True, uses_reseller=False, uses_messaging=True
    )


@pytest.fixture
def api_other_tenant(transactional_db):
    return TenantFactory(
        name="Api B", slug="api-b", uses_routers=True, uses_reseller=False, uses_messaging=True
    )


@pytest.fixture
def issue_token():
    def issue(tenant, scope="owner", **kwargs) -> str:
        with scopes_disabled():
            issued = api_token_create(
                tenant=tenant, actor=None, name=f"{scope} token", scope=scope, **kwargs
            )
        # The seeded demo's restore sets the ids back to its copy's, so a token may take the id
        # of an earlier test's token whose rate window is still open in the cache.
        for period in RATE_PERIODS.values():
            key = f"api-rate:token:{issued.token.pk}:{period}"
            cache.delete_many([key, f"{key}:opened"])
        return issued.secret

    return issue


@pytest.fixture
def http_sessions():
    """Sessions to close at the end, so that no keep-alive connection holds a server thread
    (and its database connection) past the test."""
    opened: list[requests.Session] = []
    yield opened
    for session in opened:
        session.close()


@pytest.fixture
def api_as(live_server, issue_token, http_sessions):
    """api_as(tenant, scope) -> an ApiClient holding a new token of that scope."""

    def make(tenant, scope="owner", **kwargs) -> ApiClient:
        api = ApiClient(live_server.url, issue_token(tenant, scope, **kwargs))
        http_sessions.append(api.session)
        return api

    return make


@pytest.fixture
def anonymous_api(live_server, http_sessions):
    api = ApiClient(live_server.url)
    http_sessions.append(api.session)
    return api


@pytest.fixture
def http_session(http_sessions):
    session = requests.Session()
    http_sessions.append(session)
    return session


@pytest.fixture
def api_client_of():
    def make(tenant, **kwargs):
        with scopes_disabled():
            return ClientFactory(tenant=tenant, **kwargs)

    return make
