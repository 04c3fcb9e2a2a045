"""What the benchmarks share: their own database, Django set up for it, COPY loading, timing.

The scripts import it as `common` (Python puts bench/ on the path of a script run from it);
importing it also puts the project on the path, so that the scripts can import its apps.
"""

import enum
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))


# -- database and Django --------------------------------------------------------------------
def source_url() -> str:
    """DATABASE_URL as given: the PostgreSQL server on which the bench creates its database."""
    source = os.environ.get("DATABASE_URL")
    if not source or not source.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the bench creates its own database).")
    return source


def database_url(source: str, database: str) -> str:
    return urlunparse(urlparse(source)._replace(path=f"/{database}"))


def prepare_environment(database: str, *, reuse: bool = False, create: bool = True) -> str:
    """Point DATABASE_URL at `database` on DATABASE_URL's server and set what Django needs to
    run outside DEBUG in a test client (no Redis, no HTTPS redirect, a throwaway router key,
    loopback as the only outbound network); create the database (dropped first unless `reuse`
    keeps an existing one). Scripts set any environment of their own before this. Returns the
    database's URL."""
    source = source_url()
    bench_url = database_url(source, database)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    if not os.environ.get("ROUTER_SECRET_KEY"):  # required outside DEBUG by the routers app
        from cryptography.fernet import Fernet

        os.environ["ROUTER_SECRET_KEY"] = Fernet.generate_key().decode()
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ[name] = "0"
    os.environ.pop("REDIS_URL", None)  # local-memory cache; no bench needs Redis
    os.environ["OUTBOUND_ALLOWED_NETWORKS"] = "127.0.0.0/8"  # the simulated routers' network
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if create:
        create_database(source, database, reuse=reuse)
    return bench_url


def create_database(source: str, database: str, *, reuse: bool = False) -> None:
    import psycopg

    with psycopg.connect(source, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if exists and not reuse:
            connection.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            exists = None
        if not exists:
            connection.execute(f'CREATE DATABASE "{database}"')


def setup_django(*, plain_static: bool = True) -> None:
    """django.setup(); with plain static storage, since timing a page does not need the
    manifest of collectstatic."""
    import django

    django.setup()
    if plain_static:
        from django.conf import settings
        from django.test.utils import override_settings

        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        override_settings(STORAGES=storages).enable()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# -- loading --------------------------------------------------------------------------------
def copy_rows(connection, table: str, columns, rows) -> int:
    """COPY `rows` (tuples in the order of `columns`) into `table` on a psycopg connection
    (Django's `connection.connection`); returns how many."""
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def model_columns(model) -> list[str]:
    """The columns of a model's table that a COPY fills: every concrete field but the key."""
    return [field.column for field in model._meta.concrete_fields if not field.primary_key]


def copy_objects(connection, model, rows) -> int:
    """COPY rows given as dicts of column -> value (e.g. {"tenant_id": 1, "name": ...}) into
    the model's table; a column a row leaves out gets the field's default (computed once), as
    the model would fill it ("" for text, None for nullable fields)."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = [field.column for field in fields]
    defaults = [field.get_default() for field in fields]
    defaults = [d.value if isinstance(d, enum.Enum) else d for d in defaults]  # choices
    known = set(columns)

    def tuples():
        for row in rows:
            if not known.issuperset(row):
                raise KeyError(f"not columns of {model._meta.db_table}: {set(row) - known}")
            yield tuple(
                row.get(column, default) for column, default in zip(columns, defaults, strict=True)
            )

    return copy_rows(connection, model._meta.db_table, columns, tuples())


def copy_clients(connection, rows) -> int:
    """COPY clients (dicts of column -> value) into clients_client; see copy_objects."""
    from clients.models import Client

    return copy_objects(connection, Client, rows)


def drop_secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """Drop the table's indexes that back no constraint (to load faster); returns their
    (name, definition) for build_indexes."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return indexes


def build_indexes(cursor, indexes) -> None:
    cursor.execute("SET maintenance_work_mem = '1GB'")
    for _, definition in indexes:
        cursor.execute(definition)


# -- timing ---------------------------------------------------------------------------------
@dataclass
class Timing:
    """Of timed(): the median and fastest wall time and the median CPU time of this process
    (Python's own share, which the load of the machine does not inflate), in ms."""

    ms: float
    min_ms: float
    cpu_ms: float
    result: object


def timed(function, repeat: int) -> Timing:
    """Run `function` once to warm up, then `repeat` times, timed (and the last result)."""
    result = function()
    times, cpu = [], []
    for _ in range(repeat):
        started_cpu = time.process_time()
        started = time.perf_counter()  # the wall time leaves out the CPU clock's reading
        result = function()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return Timing(
        ms=statistics.median(times) * 1000,
        min_ms=min(times) * 1000,
        cpu_ms=statistics.median(cpu) * 1000,
        result=result,
    )


class Stopwatch:
    """`with Stopwatch() as watch:` ... then watch.seconds (wall) and watch.cpu (this
    process's CPU time); inside the block, the figures so far."""

    def __enter__(self):
        self.started, self.started_cpu = time.perf_counter(), time.process_time()
        self.stopped = self.stopped_cpu = None
        return self

    def __exit__(self, *exc):
        self.stopped, self.stopped_cpu = time.perf_counter(), time.process_time()
        return False

    @property
    def seconds(self) -> float:
        return (self.stopped or time.perf_counter()) - self.started

    @property
    def cpu(self) -> float:
        return (self.stopped_cpu or time.process_time()) - self.started_cpu


def percentile(values, fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank, no interpolation)."""
    ordered = sorted(values)
    return ordered[int(len(ordered) * fraction) - 1]


def ratio(value: float, floor: float, spec: str = ".1f") -> str:
    """value / floor as printed against the floor: "12.3x" (spec formats the number)."""
    return f"{value / floor:{spec}}x"


def print_header(header: str) -> None:
    print(header)
    print("-" * len(header))


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- statements -----------------------------------------------------------------------------
def captured_statements(client, url: str, keep) -> tuple[list[str], object]:
    """GET `url` with a test client; the SQL it ran for which keep(sql) holds (no cursor
    DECLAREs), and the response."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    statements = [
        q["sql"] for q in captured.captured_queries if keep(q["sql"]) and "DECLARE" not in q["sql"]
    ]
    return statements, response


def run_sql(statements):
    """A function that runs `statements` on a bare cursor of Django's connection (the floor)."""
    from django.db import connection

    def execute():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    return execute


# -- figures --------------------------------------------------------------------------------
def write_figures(script: str, figures: dict, label: str = "latest") -> Path:
    """Keep a run's figures in bench/out/<script>.json under `label` (a run replaces only its
    own label, so that the runs before and after a change sit side by side)."""
    import json

    out = BASE_DIR / "bench" / "out" / f"{script}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(out.read_text()) if out.exists() else {}
    runs[label] = figures
    out.write_text(json.dumps(runs, indent=2, default=str) + "\n")
    return out
