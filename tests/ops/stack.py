"""The compose stack without Docker: the services' own commands (read from docker-compose.yml)
as processes on loopback, against a database of their own on the machine's PostgreSQL and a
queue and key prefix of their own on its Redis, with the production settings compose gives
them; and a browser-like HTTP client that comes in through the proxy's headers."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import redis
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection

from tests.ops.compose import ROOT, compose_services

HOST = "portal.test"
ORIGIN = f"https://{HOST}"
METRICS_TOKEN = "smoke-metrics-token"


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s")


def service_command(name: str) -> list[str]:
    """A service's command from docker-compose.yml, on this interpreter; web binds a free
    loopback port instead of the container's address."""
    command = list(compose_services()[name]["command"])
    if "--bind" in command:
        command[command.index("--bind") + 1] = "127.0.0.1:0"
    if command[0] in ("gunicorn", "celery"):
        return [sys.executable, "-m", *command]
    assert command[0] == "python", command
    return [sys.executable, *command[1:]]


class Stack:
    """The processes of the stack, started in order and stopped together."""

    def __init__(self, directory: Path):
        self.directory = directory
        run = uuid.uuid4().hex[:8]
        self.database = f"{connection.settings_dict['NAME']}_smoke_{run}"[:63]
        self.queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-smoke-{run}"
        self.prefix = f"{settings.CACHES['default']['KEY_PREFIX']}-smoke-{run}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.port = None
        db = connection.settings_dict
        self.db = {
            "host": db["HOST"] or "127.0.0.1",
            "port": db["PORT"] or 5432,
            "user": db["USER"],
            "password": db.get("PASSWORD") or None,
        }
        user = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(directory)),
            # What compose gives every service, with this run's database, queue and keys.
            "DEBUG": "0",
            "SECRET_KEY": "smoke-" + uuid.uuid4().hex * 2,
            "ROUTER_SECRET_KEY": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": ORIGIN,
            "USE_X_FORWARDED_PROTO": "1",
            "DATABASE_URL": f"postgres://{user}@{self.db['host']}:{self.db['port']}/{self.database}",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CACHE_KEY_PREFIX": self.prefix,
            "PROMETHEUS_MULTIPROC_DIR": str(directory / "metrics"),
            "CLIENTDESK_VAR_DIR": str(directory / "var"),
            "MEDIA_ROOT": str(directory / "var" / "media"),
            "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
            "METRICS_TOKEN": METRICS_TOKEN,
            "WEB_CONCURRENCY": "2",
        }
        (directory / "metrics").mkdir()
        (directory / "var").mkdir()

    # -- the database of the stack --------------------------------------------------------
    def _admin(self):
        return psycopg.connect(dbname="postgres", autocommit=True, **self.db)

    def create_database(self) -> None:
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')

    def drop_database(self) -> None:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def query(self, sql: str, params=()):
        with psycopg.connect(dbname=self.database, **self.db) as conn:
            return conn.execute(sql, params).fetchall()

    # -- processes -------------------------------------------------------------------------
    def run(self, command: list[str], what: str) -> str:
        done = subprocess.run(  # noqa: S603 - our interpreter, our commands
            command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{what}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, name: str) -> subprocess.Popen:
        log = (self.directory / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our interpreter, our commands
            service_command(name),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.processes[name]

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def web_port(self) -> int:
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log("web"))
        return int(found.group(1)) if found else 0

    def stop(self) -> dict[str, int]:
        """SIGTERM to every process group, as compose stops containers; their exit codes."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        codes = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = process.wait(timeout=10)
        return codes

    def forget_redis(self) -> None:
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            keys = [
                self.queue,
                f"_kombu.binding.{self.queue}",
                f"_kombu.binding_permanent.{self.queue}",
            ]
            keys += list(client.scan_iter(match=f"{self.queue}*"))
            keys += list(client.scan_iter(match=f"{self.prefix}:*"))
            client.delete(*keys)
            client.zrem("_kombu.binding_deadlines", self.queue)
        finally:
            client.close()


class Browser:
    """Requests as the proxy forwards them: Host is the portal's name, X-Forwarded-Proto says
    https, cookies kept (Secure ones too: the browser's side of the proxy is HTTPS)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []

    def request(self, method: str, path: str, *, data=None, headers=None, https=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": HOST, **({"X-Forwarded-Proto": "https"} if https else {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            sent |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": ORIGIN,
                "Referer": f"{ORIGIN}{path}",
            }
        sent |= headers or {}
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response, content

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        data = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **data}
        return self.request("POST", path, data=data, **kwargs)

    def json(self, path: str, **kwargs):
        response, content = self.get(path, **kwargs)
        return response.status, json.loads(content)
