"""Only one beat ever: a scheduler that sends tasks only while it holds a lock in Redis.

Every beat process (`celery beat`, configured by CELERY_BEAT_SCHEDULER) runs this scheduler.
At each tick it takes, or renews, the lock `BEAT_LOCK_KEY` (redis-py's Lock: SET NX with a
time to live, renewed by its owner's token); a beat that does not hold it sends nothing and
tries again after BEAT_LOCK_RETRY seconds. A beat that stops cleanly lets the lock go; one that
is killed stops renewing it, and another takes over once BEAT_LOCK_TTL has passed. A holder
that finds its lock taken (it was paused past the time to live) stops sending at once.

While it holds the lock, beat writes its heartbeat (the time of its last tick) beside the lock,
which /health/ready and /metrics read. Every beat, holder or waiting, touches BEAT_ALIVE_FILE at
each tick: the container's health check (the process ticks, whichever it is).

Without Redis (the demo's single worker with beat) there is no lock and no heartbeat.
"""

import logging
import os
import socket
import time
from pathlib import Path

from celery.beat import PersistentScheduler
from django.conf import settings
from redis.exceptions import LockError, RedisError

from .health import redis_client, redis_connect, redis_url

logger = logging.getLogger(__name__)


def beat_identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def heartbeat_write(client) -> None:
    client.set(settings.BEAT_HEARTBEAT_KEY, f"{time.time():.3f}", ex=settings.BEAT_LOCK_TTL * 10)


def lock_holder() -> str | None:
    url = redis_url()
    if not url:
        return None
    with redis_client(url) as client:
        value = client.get(settings.BEAT_LOCK_KEY)
    return value.decode() if value else None


class SingleBeatScheduler(PersistentScheduler):
    """Celery's persistent scheduler, sending only while this beat holds the Redis lock."""

    def __init__(self, *args, **kwargs):
        self.identity = beat_identity()
        self._client = None
        self._lock = None
        self._holding = False
        self._waiting_said = False
        url = redis_url()
        if url:
            self._client = redis_connect(url, timeout=5)
            self._lock = self._client.lock(
                settings.BEAT_LOCK_KEY, timeout=settings.BEAT_LOCK_TTL, thread_local=False
            )
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        alive_touch()
        if self._lock is None:
            return super().tick(*args, **kwargs)
        try:
            if not self._hold_lock():
                return settings.BEAT_LOCK_RETRY
            heartbeat_write(self._client)
        except RedisError as error:
            logger.warning("Beat cannot reach Redis (%s); sending nothing.", type(error).__name__)
            self._holding = False
            return settings.BEAT_LOCK_RETRY
        return min(super().tick(*args, **kwargs), settings.BEAT_LOCK_RENEW)

    def _hold_lock(self) -> bool:
        if self._holding:
            try:
                self._lock.reacquire()
                return True
            except LockError:
                self._holding = False
                logger.warning("Beat %s lost the beat lock; it sends nothing now.", self.identity)
        self._holding = self._lock.acquire(blocking=False, token=self.identity)
        if self._holding:
            self._waiting_said = False
            logger.info("Beat %s holds the beat lock and sends the schedule.", self.identity)
        elif not self._waiting_said:
            self._waiting_said = True
            logger.info(
                "Beat %s waits for the beat lock (held by %s).", self.identity, lock_holder()
            )
        return self._holding

    def close(self):
        if self._holding:
            try:
                self._lock.release()
                logger.info("Beat %s let the beat lock go.", self.identity)
            except (LockError, RedisError):
                pass
            self._holding = False
        super().close()


def alive_touch() -> None:
    path = Path(settings.BEAT_ALIVE_FILE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        logger.warning("Beat cannot touch %s.", path)
