"""Fixtures of the operations tests: a closed local port, the Redis of the run, a scrape."""

import socket

import pytest
import redis
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families


@pytest.fixture
def closed_port():
    """A local port with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def run_redis():
    """The run's Redis; beat's keys of this run are removed before and after the test."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = [settings.BEAT_LOCK_KEY, settings.BEAT_HEARTBEAT_KEY]
    client.delete(*keys)
    yield client
    client.delete(*keys)
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
