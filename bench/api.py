"""The JSON API over real HTTP, and the framework it is built on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/api.py \
        [--clients 1000000] [--batches 5] [--label latest] [--database NAME] [--reuse] \
        [--only page] [--rounds 3] [--compare-with ../base-checkout]

Builds its own database (--clients clients of one messaging tenant; --reuse keeps the
database and its clients from an earlier run, its keys new for each run), starts gunicorn on
loopback (one sync worker, the settings of production but no HTTPS) and measures, against a
floor measured in the same run:

- ingestion: batches of 1,000 new message records (each batch to recipients of its own, so
  that no number's resolution is remembered from an earlier batch) posted to
  /api/v1/messages/ (django-ninja) and to the same operation written with DRF serializers
  (bench/api_drf.py), in records per second, against `messages_ingest` called directly on
  the same kind of batches (every record of every batch must be accepted, every report
  applied);
- delivery reports: batches of 1,000 to /api/v1/messages/reports/ against
  `messages_apply_reports` called directly;
- a page of 100 clients (every field) from /api/v1/clients/?limit=100 (ninja) and from the
  DRF view, each over a kept-alive `http.client` connection and its JSON parsed, against its
  bare SQL (the first page's keyset query, every column, fetched by Django's cursor) and
  against the very statement the API sends (caught from one request in this process), in
  --rounds rounds of --pages requests each, the figure being the median of the rounds'
  medians; the ninja page through a `requests` session too, the client the figures used
  before.

`--only page` leaves out the ingestion and reports; `--reuse` keeps the clients of a previous
run on the same --database (the load of 1,000,000 takes minutes). `--compare-with DIR` starts a
second server from another checkout (e.g. `git worktree add --detach ../base main`) on the same
database and times its page in the same rounds, turn about with this checkout's: a change's
before and after in the same minutes of a shared machine.

Figures go to bench/out/api.json (common.Figures).
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common

DATABASE = "clientdesk_bench_api"
BATCH = 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load(clients: int):
    from django_scopes import scopes_disabled

    from tenancy.models import Tenant
    from tenancy.services import api_token_create

    tenant = Tenant.objects.filter(slug="bench-sms").first()
    if tenant is None:  # a new database, or --reuse of one without clients yet
        tenant = Tenant.objects.create(
            name="Bench SMS", slug="bench-sms", uses_messaging=True, currency="EUR"
        )
        load_clients(tenant, clients)
    with scopes_disabled():
        ingest = api_token_create(tenant=tenant, actor=None, name="bench", scope="ingest")
        owner = api_token_create(tenant=tenant, actor=None, name="bench", scope="owner")
    return tenant, ingest.secret, owner.secret


def load_clients(tenant, clients: int) -> None:
    from django.db import connection

    from clients.models import Client
    from tenancy.models import TenantSequence

    now = datetime.now(UTC)
    rows = (
        {
            "tenant_id": tenant.pk,
            "number": n,
            "name": f"Client {n}",
            "company": f"Company {n % 977}",
            "login": f"+7{9000000000 + n}",
            "email": f"c{n}@example.com",
            "status": "active",
            "sms_price": "0.0300",
            "created_at": now - timedelta(minutes=n),
            "updated_at": now,
            "search_text": f"client {n} company {n % 977}",
        }
        for n in range(1, clients + 1)
    )
    with connection.cursor() as cursor:
        indexes = common.drop_secondary_indexes(cursor, Client._meta.db_table)
    common.copy_clients(connection.connection, rows)
    with connection.cursor() as cursor:
        common.build_indexes(cursor, indexes)
        cursor.execute(f"VACUUM ANALYZE {Client._meta.db_table}")
    TenantSequence.objects.create(tenant=tenant, name="client", last_value=clients)


def records(prefix: str, count: int, clients: int) -> list[dict]:
    """A batch of new records; its recipients (Latvian mobile numbers) start at a place of
    the batch's own among ten million."""
    sent = datetime(2026, 3, 10, 12, tzinfo=UTC)
    first = zlib.crc32(prefix.encode())
    return [
        {
            "key": f"{prefix}-{n}",
            "client": 1 + n % min(clients, 5000),
            "sender": "Shop",
            "recipient": f"+3712{(first + n) % 10_000_000:07d}",
            "text": "Your code is 1234" if n % 3 else "Ваш код 1234, спасибо",
            "status": "sent",
            "sent_at": (sent + timedelta(seconds=n)).isoformat(),
        }
        for n in range(count)
    ]


def reports(prefix: str, count: int) -> list[dict]:
    return [{"key": f"{prefix}-{n}", "status": "delivered"} for n in range(count)]


def start_server(
    port: int, checkout: Path = common.BASE_DIR, worker_class: str = "sync"
) -> subprocess.Popen:
    """gunicorn serving `checkout`'s code (this one's unless another is named), with the
    worker class of production (config/gunicorn.py: sync) unless another is named."""
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1,testserver", "API_RATE_LIMIT": "100000/min"}
    env["PYTHONPATH"] = os.pathsep.join([str(checkout / "bench"), str(checkout)])
    env["DJANGO_SETTINGS_MODULE"] = "api_drf_settings"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            *(str(gunicorn), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"),
            *("--timeout", "300", "-k", worker_class),
        ],
        cwd=checkout,
        env=env,
        stdout=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "a"),  # noqa: SIM115 - the server's for its life
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def rate(total: int, seconds: float) -> float:
    return total / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", default="latest")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--reuse", action="store_true", help="keep the database and clients")
    parser.add_argument("--only", choices=["all", "page"], default="all")
    parser.add_argument("--compare-with", type=Path, help="another checkout's server beside")
    parser.add_argument(
        "--worker-class", default="sync", help="gunicorn's worker class (gthread keeps alive)"
    )
    args = parser.parse_args()

    common.prepare_environment(args.database, reuse=args.reuse)
    common.setup_django()
    common.migrate()
    import psycopg
    import requests
    from django.db import connection
    from django_scopes import scope

    from clients.models import Client
    from messaging.services import messages_apply_reports, messages_ingest

    tenant, ingest_secret, owner_secret = loaded(args)
    port = free_port()
    servers = [start_server(port, worker_class=args.worker_class)]
    base = f"http://127.0.0.1:{port}"
    run = f"{time.time_ns()}-"  # keys of this run's own (--reuse keeps earlier runs' messages)
    compared = None
    if args.compare_with:
        compared_port = free_port()
        servers.append(
            start_server(
                compared_port,
                checkout=args.compare_with.resolve(),
                worker_class=args.worker_class,
            )
        )
        compared = f"http://127.0.0.1:{compared_port}"
    figures: dict = {"clients": args.clients, "batch": BATCH, "batches": args.batches}
    try:
        http = requests.Session()
        ingest = {"Authorization": f"Bearer {ingest_secret}"}
        owner = {"Authorization": f"Bearer {owner_secret}"}

        def post_all(url, key, prefix, make):
            with common.Stopwatch() as watch:
                for b in range(args.batches):
                    body = {key: make(f"{run}{prefix}{b}")}
                    answer = http.post(f"{base}{url}", json=body, headers=ingest, timeout=300)
                    assert answer.status_code == 200, answer.text[:300]
                    done = answer.json()
                    assert done.get("accepted", done.get("applied")) == BATCH, answer.text[:300]
            return rate(args.batches * BATCH, watch.seconds)

        def direct_all(prefix, make, service, key):
            with common.Stopwatch() as watch, scope(tenant=tenant):
                for b in range(args.batches):
                    done = service(
                        tenant=tenant, answer_items=True, **{key: make(f"{run}{prefix}{b}")}
                    )
                    assert getattr(done, "created", getattr(done, "applied", 0)) == BATCH
            return rate(args.batches * BATCH, watch.seconds)

        def new_records(prefix):
            return records(prefix, BATCH, args.clients)

        def new_reports(prefix):
            return reports(prefix, BATCH)

        if args.only == "all":
            common.log("warming up")
            post_all("/api/v1/messages/", "records", "warm-n", new_records)
            post_all("/api/drf/messages/", "records", "warm-d", new_records)
            with connection.cursor() as cursor:
                # As autovacuum would after the warm-up's rows (this server runs without it):
                # without statistics the planner takes the messages for a handful of rows and
                # reads all of them for each batch of reports.
                cursor.execute("ANALYZE messaging_message")
            common.log("ingestion")
            direct = direct_all("direct", new_records, messages_ingest, "records")
            ninja = post_all("/api/v1/messages/", "records", "ninja", new_records)
            drf = post_all("/api/drf/messages/", "records", "drf", new_records)
            figures["ingest_records_per_s"] = {"direct": direct, "ninja": ninja, "drf": drf}
            common.log("delivery reports")
            direct_reports = direct_all("direct", new_reports, messages_apply_reports, "reports")
            ninja_reports = post_all("/api/v1/messages/reports/", "reports", "ninja", new_reports)
            figures["reports_per_s"] = {"direct": direct_reports, "ninja": ninja_reports}

        common.log("client pages")
        with scope(tenant=tenant):
            page = (
                Client.objects.for_tenant(tenant)
                .exclude(status="deleted")
                .order_by("-created_at", "-id")
                .values()[:101]
            )
            sql, params = page.query.sql_with_params()
        page_sql, page_params = page_statement(owner_secret)

        def bare(statement, values):
            def run():
                with connection.cursor() as cursor:
                    cursor.execute(statement, values)
                    return cursor.fetchall()

            return run

        plain = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)

        def plain_sql(statement, values):
            """On a connection of psycopg's own: its C loaders (Django's connection reads
            times through a Python one) and its statements prepared after five runs."""

            def run():
                with plain.cursor() as cursor:
                    cursor.execute(statement, values)
                    return cursor.fetchall()

            return run

        def over(url, server=base, client=None):
            get_page = client or KeptAliveClient(server)

            def get():
                status, body = get_page(url, owner)
                assert status == 200, body[:300]
                assert len(json.loads(body)["items"]) == 100
                return body

            return get

        def over_requests(url):
            def get(url, headers):
                answer = http.get(f"{base}{url}", headers=headers, timeout=60)
                return answer.status_code, answer.content

            return over(url, client=get)

        pages = {
            "bare_sql": bare(sql, params),
            "bare_sql_page_statement": bare(page_sql, page_params),
            "bare_sql_page_statement_psycopg": plain_sql(page_sql, page_params),
            "ninja": over("/api/v1/clients/?limit=100"),
            "ninja_requests": over_requests("/api/v1/clients/?limit=100"),
            "drf": over("/api/drf/clients/?limit=100"),
        }
        workers = dict.fromkeys(("ninja", "ninja_requests", "drf"), servers[0].pid)
        if compared:
            pages["compared"] = over("/api/v1/clients/?limit=100", compared)
            workers["compared"] = servers[1].pid
        figures["page_100_ms"] = timed_in_rounds(pages, args.rounds, args.pages, workers)
        plain.close()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)

    common.print_header(f"JSON API at {args.clients:,} clients, batches of {BATCH:,}")
    if args.only == "all":
        ingest_rates = figures["ingest_records_per_s"]
        print(
            f"ingestion, records/s: direct {ingest_rates['direct']:,.0f}; "
            f"ninja {ingest_rates['ninja']:,.0f} "
            f"({common.ratio(ingest_rates['direct'], ingest_rates['ninja'], '.2f')} slower); "
            f"DRF {ingest_rates['drf']:,.0f} "
            f"({common.ratio(ingest_rates['direct'], ingest_rates['drf'], '.2f')} slower)"
        )
        report_rates = figures["reports_per_s"]
        print(
            f"reports, per s: direct {report_rates['direct']:,.0f}; ninja "
            f"{report_rates['ninja']:,.0f} "
            f"({common.ratio(report_rates['direct'], report_rates['ninja'], '.2f')} slower)"
        )
    pages = figures["page_100_ms"]
    bare, statement = pages["bare_sql"], pages["bare_sql_page_statement"]
    print(
        f"100 clients: bare SQL {bare:.1f} ms (every column; the page's own statement "
        f"{statement:.1f} ms); ninja {pages['ninja']:.1f} ms "
        f"({common.ratio(pages['ninja'], bare)}; {common.ratio(pages['ninja'], statement)} "
        f"its statement); DRF {pages['drf']:.1f} ms "
        f"({common.ratio(pages['drf'], bare)}); ninja with requests "
        f"{pages['ninja_requests']:.1f} ms ({common.ratio(pages['ninja_requests'], bare)})"
    )
    print(
        f"the page's statement on a plain psycopg connection: "
        f"{pages['bare_sql_page_statement_psycopg']:.1f} ms; ninja "
        f"{common.ratio(pages['ninja'], pages['bare_sql_page_statement_psycopg'])} of it"
    )
    if "compared" in pages:
        print(
            f"100 clients from {args.compare_with}: {pages['compared']:.1f} ms "
            f"({common.ratio(pages['compared'], bare)}; "
            f"{common.ratio(pages['compared'], statement)} its statement)"
        )
    cpu = {
        name: pages[f"{name}_server_cpu"]
        for name in ("ninja", "ninja_requests", "drf", "compared")
        if f"{name}_server_cpu" in pages
    }
    print("server CPU per request, ms: " + ", ".join(f"{n} {v:.1f}" for n, v in cpu.items()))
    print(f"rounds: {pages['rounds']}")
    write_figures(args, figures)


class KeptAliveClient:
    """GET over one kept-alive `http.client` connection, opened again when the server closes
    it (gunicorn's sync worker closes after each answer): the standard library's client,
    without the layers `requests` adds on each call (its sessions, adapters and hooks cost
    0.7 ms a request, half again what the server's share of HTTP costs)."""

    def __init__(self, base: str):
        address = base.removeprefix("http://")
        host, port = address.rsplit(":", 1)
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)

    def __call__(self, url: str, headers: dict) -> tuple[int, bytes]:
        try:
            return self.get(url, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A kept-alive connection the server closed while it sat idle (gthread's
            # keep-alive timeout): the GET again on a new one, as urllib3 retries.
            self.connection.close()
            return self.get(url, headers)

    def get(self, url: str, headers: dict) -> tuple[int, bytes]:
        self.connection.request("GET", url, headers=headers)
        answer = self.connection.getresponse()
        body = answer.read()
        if answer.will_close:
            self.connection.close()  # the next request connects again
        return answer.status, body


def page_statement(owner_secret: str) -> tuple[str, list]:
    """The statement and parameters the API's page of 100 clients sends to the database,
    caught from one request to the API in this process: its bare SQL, the same columns, order
    and limit as the answer's."""
    from django.db import connection
    from django.test import Client as TestClient

    caught = []

    def catch(execute, sql, params, many, context):
        if '"clients_client"' in sql and "LIMIT 101" in sql:
            caught.append((sql, list(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        answer = TestClient().get(
            "/api/v1/clients/?limit=100", headers={"Authorization": f"Bearer {owner_secret}"}
        )
    assert answer.status_code == 200 and len(caught) == 1, (answer.status_code, caught)
    return caught[0]


def loaded(args):
    """(the tenant, an ingest token's secret, an owner token's secret): the clients loaded, or
    with --reuse those of a previous run when there are (new tokens either way)."""
    from django_scopes import scopes_disabled

    from tenancy.models import Tenant
    from tenancy.services import api_token_create

    tenant = Tenant.objects.filter(slug="bench-sms").first() if args.reuse else None
    if tenant is None:
        common.log(f"loading {args.clients:,} clients")
        return load(args.clients)
    common.log("reusing the clients of a previous run")
    with scopes_disabled():
        ingest = api_token_create(tenant=tenant, actor=None, name="bench", scope="ingest")
        owner = api_token_create(tenant=tenant, actor=None, name="bench", scope="owner")
    return tenant, ingest.secret, owner.secret


def timed_in_rounds(functions: dict, rounds: int, repeat: int, servers: dict) -> dict:
    """Each function timed `repeat` times per round, the functions in turn within a round; per
    name the median of the rounds' medians (ms), and every round's figures under "rounds".
    For a request to one of `servers` (name -> gunicorn's pid), also the CPU time its worker
    spent per request ("<name>_server_cpu"), which the load of a shared machine does not
    inflate as it does wall time."""
    per_round = []
    for _ in range(rounds):
        figures = {}
        for name, function in functions.items():
            worker = worker_pid(servers[name]) if name in servers else None
            cpu = worker_cpu_seconds(worker) if worker else 0.0
            figures[name] = round(common.timed(function, repeat).ms, 2)
            if worker:
                spent = worker_cpu_seconds(worker) - cpu
                figures[f"{name}_server_cpu"] = round(spent * 1000 / (repeat + 1), 2)
        per_round.append(figures)
    names = per_round[0].keys()
    medians = {name: statistics.median(r[name] for r in per_round) for name in names}
    return {**medians, "rounds": per_round}


def worker_pid(server_pid: int) -> int | None:
    """The one worker of a gunicorn master."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children")
    pids = children.read_text().split() if children.exists() else []
    return int(pids[0]) if pids else None


def worker_cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_figures(args, figures: dict) -> None:
    """bench/out/api.json: each framework's rate against the direct call, each page against its
    bare SQL."""
    out = common.Figures(
        "api",
        clients=args.clients,
        label=args.label,
        only=args.only,
        compared_with=str(args.compare_with or ""),
        worker_class=args.worker_class,
    )
    pages = figures["page_100_ms"]
    for floor in ("bare_sql_page_statement", "bare_sql_page_statement_psycopg"):
        out.add(f"page_100_{floor}_ms", pages[floor], "ms")
    for framework in ("ninja", "ninja_requests", "drf", "compared"):
        if framework in pages:
            out.add(
                f"page_100_{framework}_ms",
                pages[framework],
                "ms",
                pages["bare_sql"],
                ratio_to_page_statement=round(
                    pages[framework] / pages["bare_sql_page_statement"], 3
                ),
            )
            out.add(f"page_100_{framework}_server_cpu_ms", pages[f"{framework}_server_cpu"], "ms")
    if args.only == "all":
        ingest, reports = figures["ingest_records_per_s"], figures["reports_per_s"]
        for framework in ("ninja", "drf"):
            out.add(f"ingest_{framework}_per_s", ingest[framework], "records/s", ingest["direct"])
        out.add("reports_ninja_per_s", reports["ninja"], "reports/s", reports["direct"])
    out.write()


if __name__ == "__main__":
    main()
