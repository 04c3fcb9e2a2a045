"""The rate limit per caller counts atomically in the cache: of many concurrent requests,
exactly the limit pass and the rest get a 429 with `Retry-After`."""

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import requests
from django.core.cache import cache

from tenancy.api import CallerRateThrottle, rate_parse
from tests.api.test_api_http import assert_problem

LIMIT = 7
CONCURRENT = 24


def test_concurrent_requests_pass_exactly_the_limit(api_tenant, api_as, settings, live_server):
    settings.API_RATE_LIMIT = f"{LIMIT}/min"
    api = api_as(api_tenant, "viewer")
    token = api.session.headers["Authorization"]
    start = threading.Barrier(CONCURRENT)

    def call(_):
        with requests.Session() as session:  # one connection, hence one server thread, each
            start.wait(timeout=30)
            response = session.get(
                api.base + "clients/", headers={"Authorization": token}, timeout=60
            )
            return response.status_code, response.headers.get("Retry-After")

    with ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(call, range(CONCURRENT)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * LIMIT + [429] * (CONCURRENT - LIMIT)
    waits = [int(wait) for status, wait in answers if status == 429]
    assert all(1 <= wait <= 60 for wait in waits)
    assert_problem(api.get("clients/"), 429)
    assert api_as(api_tenant, "viewer").get("clients/").status_code == 200  # per token


def test_the_count_is_atomic_under_threads(settings):
    """Many threads on one throttle instance (as one operation serves every request thread):
    exactly the limit are allowed, whatever the interleaving."""
    settings.API_RATE_LIMIT = "50/hour"
    throttle = CallerRateThrottle()
    request = SimpleNamespace(api_token=SimpleNamespace(pk="atomic-test"), user=None)
    cache.delete_many(["api-rate:token:atomic-test:3600", "api-rate:token:atomic-test:3600:opened"])
    start = threading.Barrier(16)
    allowed, waits = [], []

    def hammer():
        start.wait(timeout=30)
        mine = [throttle.allow_request(request) for _ in range(25)]
        allowed.append(sum(mine))
        if not all(mine):
            waits.append(throttle.wait())  # this thread's own refusal

    threads = [threading.Thread(target=hammer) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 50
    assert len(waits) == 16 and all(1 <= wait <= 3600 for wait in waits)


def test_rates_are_read_as_documented():
    assert rate_parse("1200/min") == (1200, 60)
    assert rate_parse("5/s") == (5, 1)
    assert rate_parse("100/hour") == (100, 3600)
