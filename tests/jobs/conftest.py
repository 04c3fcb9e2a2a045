"""The kill tests' fixtures: workers to start (stopped at the end, their log printed) and
table locks to take (released at the end)."""

import pytest

from config.celery import app

from .processes import TableLock, Worker


@pytest.fixture
def workers(tmp_path, settings):
    """start(**settings_env) -> a Worker (with more environment); every worker is stopped at
    the end, with its log on failure."""
    settings.MEDIA_ROOT = tmp_path / "media"
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    started = []
    log = tmp_path / "worker.log"

    def start(**settings_env):
        started.append(Worker(tmp_path / "media", log, **settings_env))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()
    app.conf.task_always_eager = eager
    print(log.read_text() if log.exists() else "")


@pytest.fixture
def table_lock():
    """table_lock(table) -> a TableLock, released at the end if the test did not."""
    locks = []

    def take(table):
        locks.append(TableLock(table))
        return locks[-1]

    yield take
    for lock in locks:
        if not lock.conn.closed:
            lock.release()
