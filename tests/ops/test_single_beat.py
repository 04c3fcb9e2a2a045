"""Only one beat ever: two real `celery beat` processes on the run's Redis; the second waits on
the lock and sends nothing while the first holds it, takes over when the first is killed
(kill -9: its lock lapses), and lets the lock go when it stops cleanly."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SENT = "Sending due task leases-sweep"


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s")


class Beat:
    def __init__(self, directory: Path, key_prefix: str, queue: str):
        directory.mkdir()
        self.log = directory / "beat.log"
        env = os.environ | {
            "CLIENTDESK_TESTING": "1",
            "CACHE_KEY_PREFIX": key_prefix,  # beat's lock and heartbeat: this test's keys
            "CELERY_TASK_DEFAULT_QUEUE": queue,  # what beat sends goes to this test's queue
            "CLIENTDESK_VAR_DIR": str(directory),
            "BEAT_ALIVE_FILE": str(directory / "alive"),
            "BEAT_LOCK_TTL": "3",
            "BEAT_LOCK_RENEW": "1",
            "BEAT_LOCK_RETRY": "1",
            "LEASE_SWEEP_INTERVAL": "1",  # a task due every second, to see who sends
        }
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.alive = directory / "alive"

    @property
    def identity(self) -> str:
        return f"{os.uname().nodename}-{self.process.pid}"

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)


@pytest.fixture
def beats(tmp_path, run_redis):
    """beats() -> a started Beat; all are killed at the end and their queue removed."""
    started: list[Beat] = []
    queue = f"{run_redis.prefix}-queue"

    def start() -> Beat:
        started.append(Beat(tmp_path / f"beat{len(started)}", run_redis.prefix, queue))
        return started[-1]

    yield start
    for beat in started:
        beat.stop(signal.SIGKILL)
        print(beat.log, beat.text()[-3000:])
    run_redis.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    run_redis.zrem("_kombu.binding_deadlines", queue)


def test_a_second_beat_waits_and_takes_over_from_a_killed_one(beats, run_redis):
    def holder():
        value = run_redis.get(settings.BEAT_LOCK_KEY)
        return value.decode() if value else None

    started = {beat.identity: beat for beat in (beats(), beats())}  # both start at once
    first = started[wait_until(holder, 30, "a beat holds the lock")]
    second = next(beat for beat in started.values() if beat is not first)
    wait_until(lambda: "waits for the beat lock" in second.text(), 30, "the other waits")
    wait_until(lambda: first.text().count(SENT) >= 2, 10, "the first sends")
    time.sleep(2)  # the second ticks while the first sends
    assert second.alive.exists() and holder() == first.identity
    assert SENT not in second.text()
    assert float(run_redis.get(settings.BEAT_HEARTBEAT_KEY)) > time.time() - 3

    first.stop(signal.SIGKILL)
    wait_until(lambda: holder() == second.identity, 10, "the second takes the lock over")
    wait_until(lambda: SENT in second.text(), 10, "the second sends")

    second.stop()
    assert "let the beat lock go" in second.text() and holder() is None
