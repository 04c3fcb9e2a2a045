"""Real Celery workers for the kill tests: `celery worker` (prefork, as in production) in a
subprocess on the run's PostgreSQL database and Redis queue, with leases and the visibility
timeout shortened through the environment so that recovery takes seconds, and a table lock
that catches a job mid-way deterministically."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from django_scopes import scopes_disabled

from core.leases import leased_models

LEASE = 8  # seconds: an export's lease in the worker
VISIBILITY = 12  # seconds: above the worker's hard time limit (10 s)
ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s")


class Worker:
    """`celery worker` in its own process group, on this run's database and queue."""

    def __init__(self, media_root: Path, log: Path, **settings_env: str):
        """`settings_env`: more of the environment, over the shortened defaults (a longer
        CELERY_VISIBILITY_TIMEOUT for work whose lease may outlive the default's)."""
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = (
            os.environ
            | {
                "DATABASE_URL": url,
                "REDIS_URL": settings.REDIS_URL,
                "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
                "CLIENTDESK_TESTING": "1",
                "MEDIA_ROOT": str(media_root),
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "JOB_LEASE_SECONDS": str(LEASE),
                "CELERY_TASK_SOFT_TIME_LIMIT": "8",
                "CELERY_TASK_TIME_LIMIT": "10",
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
                "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            }
            | settings_env
        )
        if db.get("PASSWORD"):
            env["PGPASSWORD"] = db["PASSWORD"]
        self.log = log
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"kill-{uuid.uuid4().hex[:8]}@%h",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: "ready." in log.read_text(), 60, "worker ready")

    def pool_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(wait_until(lambda: children.read_text().split(), 30, "pool process")[0])

    def kill_pool(self) -> None:
        pid = self.pool_pid()
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: self.pool_pid() != pid, 30, "new pool process")

    def kill_all(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill_all()


class TableLock:
    """An ACCESS EXCLUSIVE lock on one table, from a connection of its own."""

    def __init__(self, table: str):
        db = connection.settings_dict
        self.table = table
        self.conn = psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db.get("PASSWORD") or None,
            dbname=db["NAME"],
        )
        self.conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def waiters(self) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted",
            [self.table],
        ).fetchone()[0]

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def backends_gone() -> bool:
    """No session but this test's still holds an advisory lock or waits on a table lock
    (the killed worker's database session ended)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE a.datname = current_database() AND l.pid <> pg_backend_pid() "
            "AND (l.locktype = 'advisory' OR NOT l.granted)"
        )
        return cursor.fetchone()[0] == 0


def nothing_running() -> bool:
    """No record of work of any leased model (exports, job runs, imports, adoptions...) is
    still running."""
    with scopes_disabled():
        return not any(
            model._base_manager.filter(status=model.LEASE_RUNNING).exists()
            for model in leased_models()
        )
