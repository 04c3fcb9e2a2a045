"""Benchmark of the router poller at the design point: 100 routers with 1,000 active sessions
each (100,000 PPPoE accounts).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres nice .venv/bin/python bench/routers.py
    ... bench/routers.py --routers 20 --sessions 500        # a quicker run

It creates its own database (`clientdesk_bench_routers`), loads one tenant with the clients,
routers and accounts (bulk inserts), and starts the simulated routers in a separate process
(`manage.py run_router_simulator`), so that the routers' side does not share this process's
interpreter. Then, in the same run, it measures (median of --repeat):

- floor: reading /ppp/active from every router with librouteros alone (connect, log in, print,
  close), on a thread pool of the poller's size: the least any poll can cost;
- poll: one full poll cycle as Celery beat runs it (routers.poller.poll_routers): locks, plan,
  connect, read, reconcile, and write every account's status;
- audit: a cycle in which every router is fully reconciled (also reads every /ppp/secret),
  as after an outage;

and the SQL statements per router of a poll cycle. Ratios are printed against the floor.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import common

BENCH_DB = "clientdesk_bench_routers"
ROUTER_PASSWORD = "bench-router-pw"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routers", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=1000, help="active sessions a router")
    parser.add_argument("--base-port", type=int, default=28700)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=16, help="poller threads")
    parser.add_argument("--database", default=BENCH_DB)
    return parser.parse_args()


def prepare_environment(args) -> None:
    os.environ["ROUTER_POLL_WORKERS"] = str(args.workers)
    common.prepare_environment(args.database)


def load(args):
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from clients.models import Client
    from core import crypto
    from routers.models import PppoeAccount, Router, SyncState
    from tenancy.models import Tenant

    common.migrate()
    started = time.monotonic()
    with scopes_disabled():
        tenant = Tenant.objects.create(name="Bench ISP", slug="bench-isp", uses_routers=True)
        secret = crypto.encrypt("pppoe-pw")
        router_secret = crypto.encrypt(ROUTER_PASSWORD)
        routers = Router.objects.bulk_create(
            Router(
                tenant=tenant,
                name=f"Router {i}",
                host="127.0.0.1",
                port=args.base_port + i,
                username="admin",
                password_encrypted=router_secret,
                timeout=10,
            )
            for i in range(args.routers)
        )
        total = args.routers * args.sessions
        seen = timezone.now()
        clients = Client.objects.bulk_create(
            (Client(tenant=tenant, number=n + 1, name=f"Subscriber {n + 1}") for n in range(total)),
            batch_size=5000,
        )
        accounts = (
            PppoeAccount(
                tenant=tenant,
                client_id=clients[i * args.sessions + n].pk,
                router_id=routers[i].pk,
                username=f"r{i}u{n}",
                password_encrypted=secret,
                sync_state=SyncState.SYNCED,
                last_seen_at=seen,  # seen before: the simulator dials it in (never-seen stay off)
            )
            for i in range(args.routers)
            for n in range(args.sessions)
        )
        PppoeAccount.objects.bulk_create(accounts, batch_size=5000)
    print(f"loaded {args.routers} routers, {total:,} accounts in {time.monotonic() - started:.1f}s")
    return [r.pk for r in routers]


def start_simulators(args):
    env = dict(os.environ)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_router_simulator",
            "--from-db",  # every account's secret as Clientdesk provisioned it
            "--online",
            "1",
        ],
        cwd=common.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()  # "Simulating N router(s) …" once all listen
    if not line.startswith("Simulating"):
        process.kill()
        sys.exit(f"simulator did not start: {line!r}")
    return process


def floor_once(args) -> float:
    import librouteros

    def read(index):
        api = librouteros.connect(
            "127.0.0.1", "admin", ROUTER_PASSWORD, port=args.base_port + index, timeout=10
        )
        try:
            rows = list(api.path("ppp", "active"))
        finally:
            api.close()
        return len(rows)

    with common.Stopwatch() as watch, ThreadPoolExecutor(max_workers=args.workers) as pool:
        sessions = sum(pool.map(read, range(args.routers)))
    assert sessions == args.routers * args.sessions, sessions
    return watch.seconds


def poll_once(router_ids, *, audit: bool):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from routers.models import Router
    from routers.poller import poll_routers

    with scopes_disabled():
        if audit:
            Router.objects.update(audit_due=True)
        else:
            Router.objects.update(audit_due=False, last_audit_at=timezone.now())
    with CaptureQueriesContext(connection) as queries, common.Stopwatch() as watch:
        report = poll_routers(deadline_seconds=120)
    elapsed = watch.seconds
    assert report.reachable == len(router_ids), report.errors
    return elapsed, len(queries.captured_queries)


def main():
    args = parse_args()
    prepare_environment(args)
    common.setup_django(plain_static=False)
    router_ids = load(args)
    simulators = start_simulators(args)
    try:
        from django.db import connection
        from django_scopes import scopes_disabled

        from routers.models import PppoeAccount

        poll_once(router_ids, audit=True)  # first contact: audit, warm-up
        floor_once(args)  # warm-up
        floors, polls, audits, statements = [], [], [], []
        for _ in range(args.repeat):
            floors.append(floor_once(args))
            seconds, count = poll_once(router_ids, audit=False)
            polls.append(seconds)
            statements.append(count)
        for _ in range(max(1, args.repeat // 2)):
            audits.append(poll_once(router_ids, audit=True)[0])
        with scopes_disabled():
            online = PppoeAccount.objects.filter(status="online").count()
        connection.close()
        report(args, floors, polls, audits, statements, online)
    finally:
        simulators.terminate()
        try:
            simulators.wait(timeout=10)
        except subprocess.TimeoutExpired:
            simulators.kill()


def report(args, floors, polls, audits, statements, online):
    floor, poll, audit = (statistics.median(v) for v in (floors, polls, audits))
    per_router = statistics.median(statements) / args.routers
    print(
        f"routers: {args.routers}, sessions a router: {args.sessions}, "
        f"online after poll: {online:,}"
    )
    print(f"floor (librouteros alone, /ppp/active from all): {floor:.2f}s  runs {fmt(floors)}")
    print(f"poll cycle (read + reconcile + write):           {poll:.2f}s  runs {fmt(polls)}")
    print(f"audit cycle (also every /ppp/secret):            {audit:.2f}s  runs {fmt(audits)}")
    print(
        f"poll / floor: {common.ratio(poll, floor, '.2f')}   "
        f"audit / floor: {common.ratio(audit, floor, '.2f')}"
    )
    print(
        f"SQL statements per poll cycle: {statistics.median(statements):.0f} "
        f"({per_router:.2f} per router)"
    )
    figures = common.Figures("routers", routers=args.routers, sessions=args.sessions)
    figures.add("poll_cycle_s", poll, "s", floor=floor)
    figures.add("audit_cycle_s", audit, "s", floor=floor)
    figures.add("poll_statements_per_router", per_router, "statements")
    figures.add("online_after_poll", online, "accounts")
    figures.write()


def fmt(values) -> str:
    return " ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
