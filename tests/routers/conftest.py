"""Simulated routers on local ports (routers.simulator), so that librouteros runs for real
over TCP; short timeouts keep the failure cases fast."""

import socket

import pytest

from config.celery import app as celery_app
from routers.simulator import SimulatedRouter
from tests.factories import ROUTER_TEST_PASSWORD, RouterFactory


@pytest.fixture(autouse=True)
def celery_eager():
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield celery_app
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def simulators():
    """simulators(n=1, **kwargs) -> started SimulatedRouters, stopped after the test."""
    started: list[SimulatedRouter] = []

    def start(n: int = 1, **kwargs) -> list[SimulatedRouter]:
        kwargs.setdefault("username", "admin")
        kwargs.setdefault("password", ROUTER_TEST_PASSWORD)
        batch = []
        for _ in range(n):
            identity = kwargs.get("identity") or f"sim-{len(started)}"
            options = {k: v for k, v in kwargs.items() if k != "identity"}
            sim = SimulatedRouter(identity=identity, **options)
            sim.start()
            started.append(sim)
            batch.append(sim)
        return batch

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(simulators):
    return simulators(1)[0]


@pytest.fixture
def router_for(tenant):
    """router_for(sim, **fields) -> a Router of `tenant` pointing at the simulator."""

    def make(sim, **fields):
        fields.setdefault("tenant", tenant)
        fields.setdefault("host", sim.host)
        fields.setdefault("port", sim.port)
        return RouterFactory(**fields)

    return make


@pytest.fixture
def closed_port():
    """A local port with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
