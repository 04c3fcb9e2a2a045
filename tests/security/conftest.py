import time
import uuid

import pytest
import redis


def pytest_terminal_summary(terminalreporter):
    """How many requests the bad-input walk sent (it is run time worth watching)."""
    from tests.security.test_bad_input import Walk

    if Walk.requests:
        terminalreporter.write_line(f"bad-input walk: {Walk.requests} requests")


@pytest.fixture(autouse=True)
def healthy_and_scraped(settings):
    """The walks run against a healthy deployment that this machine may scrape: beat's
    heartbeat is fresh, so /health/ready answers 200, and /metrics answers loopback
    (tests/ops/ tests their refusals and 503s)."""
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    settings.BEAT_HEARTBEAT_KEY = f"{prefix}:t{uuid.uuid4().hex[:10]}:beat:heartbeat"
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.set(settings.BEAT_HEARTBEAT_KEY, f"{time.time():.3f}")
    yield
    client.delete(settings.BEAT_HEARTBEAT_KEY)
    client.close()
