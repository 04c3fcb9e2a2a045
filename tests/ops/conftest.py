"""Fixtures of the operations tests: a closed local port, the Redis of the run, a scrape."""

import socket
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from prometheus_client.parser import text_string_to_metric_families


@pytest.fixture
def closed_port():
    """A local port with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_key_prefix() -> str:
    """A key prefix of this test's own, under the run's (which the run's end removes), so that
    tests running side by side never share beat's lock or heartbeat."""
    return f"{django_settings.CACHES['default']['KEY_PREFIX']}:t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def run_redis(settings):
    """The run's Redis, with beat's lock and heartbeat under keys of this test's own."""
    prefix = own_key_prefix()
    settings.BEAT_LOCK_KEY = f"{prefix}:beat:lock"
    settings.BEAT_HEARTBEAT_KEY = f"{prefix}:beat:heartbeat"
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.prefix = prefix
    yield client
    client.delete(settings.BEAT_LOCK_KEY, settings.BEAT_HEARTBEAT_KEY)
    client.close()


@pytest.fixture
def scrape(client, settings):
    """scrape() -> {(sample name, labels as a sorted tuple): value} from /metrics."""
    settings.METRICS_TOKEN = "scrape-token-for-tests"

    def read() -> dict:
        response = client.get(
            "/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"}
        )
        assert response.status_code == 200, response.status_code
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return read


def sample(samples: dict, name: str, **labels) -> float:
    """The value of one sample (0 when absent)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def family_names(samples: dict) -> set[str]:
    return {name for name, _ in samples}
