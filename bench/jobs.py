"""Benchmark of the holds and expiry jobs: 1,000,000 subscriptions of which 100,000 are due,
50,000 with auto-renew and the funds to renew.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres nice .venv/bin/python bench/jobs.py
    ... bench/jobs.py --subscriptions 100000 --due 10000 --renewable 5000   # a quicker run

It creates its own database (`clientdesk_bench_jobs`), migrates it and loads with COPY one
tenant with --subscriptions / 2 clients (two packages, one subscription of each per client),
an account per client, and a ledger entry behind every non-zero balance (balance == sum of
entries): the --renewable due subscriptions' clients have funds, --debtors clients are below
zero (untracked, as after a bulk load). Then, in one run:

- the floor: one UPDATE of the due rows that the job expires (those it does not renew), timed
  inside a transaction that is rolled back;
- the financial-holds job twice (the first run starts tracking the debtors, the second, past
  the grace period, puts them on hold) and once more (nothing to do);
- the set-based floor of the renewals: the same writes (balances, entries with their chain,
  old periods ended, new ones inserted, activity lines) as SQL, a transaction of --chunk
  subscriptions each, rolled back;
- the expiry job: renewals (chunks of 1,000 through billing's batch path), then the set-based
  expiry, with the time of each phase; and a second run (nothing to do);
- the daily messaging charges of --charge-days client-days (one closed day of as many
  clients) against their set-based floor (balances, entries, charge rows settled, a chunk a
  transaction, rolled back), and a second run (nothing to do).
Each with its wall time and its number of SQL statements (counted by an execute wrapper). The
figures are written to bench/out/jobs.json: `renewals_per_s` and
`daily_charges_clients_per_s` with their floors. `--profile` adds the statements that took
longest, by the job's phase (renewals, expiry, activity) and for the daily charges;
`--cprofile` profiles the Python of the renewal chunks and of the daily charges (printed, and
kept in bench/out/jobs-renewals.prof and jobs-charges.prof; a profiled run writes no figures).

The run below is of the per-subscription renewals this job had before the batch path (about
11 statements and one transaction per renewal, 83/s on 5,000):

A full run (1,000,000 / 100,000 / 50,000 / 10,000 debtors) on 2 cores under `nice`, with
other test suites running beside it (load average 9-12), 23 November 2026:

    load (COPY 1M subscriptions, 500k clients, accounts, opening entries)    234 s
    floor: one UPDATE of the 50,000 rows to expire        3.48 s          1 statement
    financial holds, 1st run (10,000 start their grace)   4.19 s          9 statements
    financial holds, past the grace (10,000 holds set)   25.60 s         43 statements
    financial holds, again (nothing to do)                2.86 s          9 statements
    expiry and auto-renewal                             1843.31 s    600,136 statements
      renewals (50,000, one transaction each)           1828.22 s    12 statements each
      expire UPDATE ... RETURNING (50,000 rows)            2.25 s          1 statement
      activity, e-mails, access for them                   7.58 s
      (and 16,877 "about to expire" e-mails owed)
    expiry and auto-renewal, again (nothing to do)        0.25 s          7 statements

The set-based part of the expiry job (everything but the renewals) took about 15 s for
50,000 expiries, i.e. the floor's UPDATE plus the activity lines and e-mails it owes; the
renewals cost 37 ms each on this loaded machine (12 round trips through billing's posting:
lock, key check, insert, update, and the subscription rows). In production a run renews for
70% of Celery's soft time limit and the task queues the next run at once. Since that run a
renewal reads the account with the subscription: 11 statements each (22 ms each in a run of
200 on a less loaded machine).
"""

import argparse
import cProfile
import os
import pstats
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import common

BENCH_DB = "clientdesk_bench_jobs"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=100_000)
    parser.add_argument("--renewable", type=int, default=50_000)
    parser.add_argument("--debtors", type=int, default=10_000)
    parser.add_argument("--charge-days", type=int, default=100_000, help="client-days to charge")
    parser.add_argument("--chunk", type=int, default=1000, help="rows a floor's transaction")
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--profile", action="store_true", help="the slowest statements")
    parser.add_argument(
        "--cprofile",
        action="store_true",
        help="the Python functions of the renewals and daily charges (slows them: no figures)",
    )
    return parser.parse_args()


def prepare_environment(args) -> None:
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    common.prepare_environment(args.database)


def load(args, now: datetime):
    from django.db import connection
    from django_scopes import scopes_disabled

    from billing.models import Account
    from subscriptions.models import Package, Subscription, tenant_today
    from tenancy.models import Tenant

    with scopes_disabled():
        tenant = Tenant.objects.create(
            name="Bench jobs",
            slug="bench-jobs",
            currency="EUR",
            time_zone="Europe/Berlin",
            financial_hold_grace_days=3,
        )
        packages = [
            Package.objects.create(
                tenant=tenant, name=name, price="10.00", period_count=30, period_unit="days"
            )
            for name in ("Bench A", "Bench B")
        ]
    today = tenant_today(tenant, now)
    n_clients = args.subscriptions // 2
    t0 = time.perf_counter()
    with connection.cursor() as c:
        raw = c.cursor
        common.copy_clients(
            raw.connection,
            (
                {
                    "tenant_id": tenant.pk,
                    "number": i,
                    "name": f"Bench {i}",
                    "email": f"c{i}@example.com",
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                    "search_text": f"bench {i}",
                }
                for i in range(1, n_clients + 1)
            ),
        )
        raw.execute("SELECT min(id) FROM clients_client WHERE tenant_id = %s", [tenant.pk])
        first = raw.fetchone()[0]
        # Subscription k (0-based) belongs to client k // 2, package k % 2. The first --due are
        # due (end date today or earlier); of those the first --renewable auto-renew with funds,
        # the next quarter auto-renew without funds.
        renewable, due = args.renewable, args.due
        short = (due - renewable) // 2

        def subscription_rows():
            for k in range(args.subscriptions):
                client = first + k // 2
                if k < due:
                    end = today - timedelta(days=k % 3)
                else:
                    end = today + timedelta(days=1 + k % 365)
                yield {
                    "tenant_id": tenant.pk,
                    "client_id": client,
                    "package_id": packages[k % 2].pk,
                    "status": "active",
                    "start_date": end - timedelta(days=30),
                    "end_date": end,
                    "auto_renew": k < renewable + short,
                    "amount_paid": "10.00",
                    "refunded_amount": "0.00",
                    "created_at": now,
                    "updated_at": now,
                    "cancel_reason": "",
                }

        common.copy_objects(raw.connection, Subscription, subscription_rows())
        # Funds: the clients of the renewable subscriptions hold 100.00 (room for both of
        # their subscriptions); the last --debtors clients owe 10.00.
        funded = {first + k // 2 for k in range(renewable)}
        debtors = set(range(first + n_clients - args.debtors, first + n_clients))

        def balance(cid):
            return "100.00" if cid in funded else ("-10.00" if cid in debtors else "0.00")

        common.copy_objects(
            raw.connection,
            Account,
            (
                {
                    "tenant_id": tenant.pk,
                    "client_id": cid,
                    "balance": balance(cid),
                    "credit_limit": "0.00",
                    "created_at": now,
                    "updated_at": now,
                    "last_posted_at": now - timedelta(days=1) if balance(cid) != "0.00" else None,
                }
                for cid in range(first, first + n_clients)
            ),
        )
        raw.execute(
            "INSERT INTO billing_ledgerentry (tenant_id, account_id, created_at, amount, kind, "
            "purpose, comment, balance_after, idempotency_key) SELECT tenant_id, id, "
            "last_posted_at, balance, CASE WHEN balance > 0 THEN 'top_up' ELSE 'adjustment' END,"
            " to_jsonb('Bench opening'::text), '', balance, 'bench-open:' || id "
            "FROM billing_account WHERE tenant_id = %s AND balance <> 0",
            [tenant.pk],
        )
        raw.execute("ANALYZE")
    print(
        f"loaded {args.subscriptions:,} subscriptions, {n_clients:,} clients in "
        f"{time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    return tenant, today


class Counter:
    """Counts statements; with --profile, also sums their time by the job's phase and the
    statement's start."""

    profile: dict | None = None
    phase = ""

    def __init__(self):
        self.count = 0

    @classmethod
    def statements_print(cls, top: int = 24) -> None:
        """With --profile, the statements that took longest since the last print."""
        if cls.profile is None:
            return
        for sql, (total, n) in sorted(cls.profile.items(), key=lambda kv: -kv[1][0])[:top]:
            print(f"    {total:8.2f} s {n:>8,}x  {sql}", flush=True)
        cls.profile.clear()

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if self.profile is None:
            return execute(sql, params, many, context)
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = f"{self.phase:<9} {sql[:90]}"
            total, n = self.profile.get(key, (0.0, 0))
            self.profile[key] = (total + time.perf_counter() - t0, n + 1)


RENEWAL_FLOOR = [
    # the charges: one UPDATE of the balances (locking the rows) ...
    "WITH due AS (SELECT s.client_id, p.price FROM subscriptions_subscription s "
    "JOIN subscriptions_package p ON p.id = s.package_id WHERE s.id = ANY(%(ids)s) "
    "FOR UPDATE OF s SKIP LOCKED), total AS (SELECT client_id, SUM(price) AS price FROM due "
    "GROUP BY client_id) UPDATE billing_account a SET balance = a.balance - total.price, "
    "last_posted_at = %(now)s, updated_at = %(now)s FROM total "
    "WHERE a.client_id = total.client_id AND a.tenant_id = %(tenant)s",
    # ... and an INSERT ... SELECT of the entries, with their balance_after chain;
    "INSERT INTO billing_ledgerentry (tenant_id, account_id, created_at, amount, kind, purpose, "
    "comment, balance_after, idempotency_key) SELECT s.tenant_id, a.id, %(now)s, -p.price, "
    "'subscription_purchase', jsonb_build_object('msgid', 'Renewal of %%(package)s, %%(start)s "
    "– %%(end)s', 'params', jsonb_build_object('package', p.name, 'start', jsonb_build_object("
    "'date', s.end_date), 'end', jsonb_build_object('date', s.end_date + p.period_count))), "
    "'', a.balance + COALESCE(SUM(p.price) "
    "OVER (PARTITION BY a.id ORDER BY s.id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0),"
    " 'floor-renewal:' || s.id FROM subscriptions_subscription s JOIN subscriptions_package p "
    "ON p.id = s.package_id JOIN billing_account a ON a.client_id = s.client_id "
    "WHERE s.id = ANY(%(ids)s)",
    # the old periods end, the new ones start, each with its activity line.
    "UPDATE subscriptions_subscription SET status = 'expired', updated_at = %(now)s "
    "WHERE id = ANY(%(ids)s)",
    "INSERT INTO subscriptions_subscription (tenant_id, client_id, package_id, status, "
    "start_date, end_date, auto_renew, amount_paid, refunded_amount, renewal_of_id, origin_id, "
    "created_at, updated_at, cancel_reason) SELECT s.tenant_id, s.client_id, s.package_id, "
    "'active', s.end_date, s.end_date + p.period_count, TRUE, p.price, 0, s.id, "
    "COALESCE(s.origin_id, s.id), %(now)s, %(now)s, '' FROM subscriptions_subscription s "
    "JOIN subscriptions_package p ON p.id = s.package_id WHERE s.id = ANY(%(ids)s)",
    "INSERT INTO events_event (tenant_id, client_id, created_at, actor_kind, actor_label, type, "
    "object_type, object_id, description, payload) SELECT s.tenant_id, s.client_id, %(now)s, "
    "'system', 'system', 'subscription.renewed', 'subscription', s.id, "
    "to_jsonb('Subscription ' || p.name || ' renewed'), "
    "jsonb_build_object('renewal_of', s.id) FROM subscriptions_subscription s "
    "JOIN subscriptions_package p ON p.id = s.package_id WHERE s.id = ANY(%(ids)s)",
]

CHARGE_FLOOR = [
    "WITH due AS (SELECT client_id, ROUND(due_amount, 2) AS amount FROM "
    "messaging_messagingcharge WHERE id = ANY(%(ids)s) FOR UPDATE SKIP LOCKED) "
    "UPDATE billing_account a SET balance = a.balance - due.amount, last_posted_at = %(now)s, "
    "updated_at = %(now)s FROM due WHERE a.client_id = due.client_id AND a.tenant_id = %(tenant)s",
    "INSERT INTO billing_ledgerentry (tenant_id, account_id, created_at, amount, kind, purpose, "
    "comment, balance_after, idempotency_key) SELECT m.tenant_id, a.id, %(now)s, "
    "-ROUND(m.due_amount, 2), 'messaging_charge', jsonb_build_object('msgid', 'SMS sending on "
    "%%(day)s, %%(count)s part', 'plural', 'SMS sending on %%(day)s, %%(count)s parts', 'count', "
    "m.due_parts, 'params', jsonb_build_object('day', jsonb_build_object('date', m.day), "
    "'count', jsonb_build_object('number', m.due_parts))), '', a.balance, "
    "'floor-sms:' || m.id FROM messaging_messagingcharge m JOIN billing_account a "
    "ON a.client_id = m.client_id WHERE m.id = ANY(%(ids)s)",
    "UPDATE messaging_messagingcharge SET settled = TRUE, charged_amount = ROUND(due_amount, 2), "
    "charged_parts = due_parts, postings = postings + 1, updated_at = %(now)s "
    "WHERE id = ANY(%(ids)s)",
]


def set_based_floor(statements, ids, *, tenant, now, chunk):
    """The same writes as a job, set-based, a transaction a chunk of `ids`, each rolled back
    (so that the job finds the data as it was): how long they took."""
    from django.db import connection, transaction

    with common.Stopwatch() as watch:
        for start in range(0, len(ids), chunk):
            params = {"ids": ids[start : start + chunk], "now": now, "tenant": tenant.pk}
            with transaction.atomic(), connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql, params)
                transaction.set_rollback(True)
    return watch.seconds


def load_charges(tenant, count: int, day) -> list[int]:
    """`count` client-days to charge (one closed day of as many clients), as the rollup job
    leaves them: due, not settled."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from clients.models import Client
    from messaging.models import MessagingCharge

    with scopes_disabled():
        clients = list(
            Client.objects.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True)
        )[:count]
    with connection.cursor() as c:
        common.copy_objects(
            c.cursor.connection,
            MessagingCharge,
            (
                {
                    "tenant_id": tenant.pk,
                    "client_id": cid,
                    "day": day,
                    "due_parts": 10 + i % 90,
                    "due_amount": Decimal(10 + i % 90) * Decimal("0.0350"),
                    "updated_at": datetime.now(UTC),
                }
                for i, cid in enumerate(clients)
            ),
        )
        c.execute("ANALYZE messaging_messagingcharge")
    with scopes_disabled():
        return list(
            MessagingCharge.objects.filter(tenant=tenant, settled=False)
            .order_by("day", "client_id")
            .values_list("pk", flat=True)
        )


class PythonProfile:
    """With --cprofile, cProfile of the renewal chunks and the daily charges: where their
    Python time goes. Written to bench/out/jobs-<name>.prof and its top functions printed."""

    enabled = False

    def __init__(self):
        self.profiles = {}

    def wrap(self, name, func):
        if not self.enabled:
            return func

        def wrapper(*a, **kw):
            profile = self.profiles.setdefault(name, cProfile.Profile())
            profile.enable()
            try:
                return func(*a, **kw)
            finally:
                profile.disable()

        return wrapper

    def report(self, top: int = 30) -> None:
        out = common.OUT_DIR
        out.mkdir(parents=True, exist_ok=True)
        for name, profile in self.profiles.items():
            profile.dump_stats(out / f"jobs-{name}.prof")
            print(f"\n-- cProfile of {name}, by own time", flush=True)
            pstats.Stats(profile).sort_stats("tottime").print_stats(top)
            print(f"-- cProfile of {name}, cumulative", flush=True)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(top)


def measure(label, func):
    from django.db import connection

    counter = Counter()
    with connection.execute_wrapper(counter), common.Stopwatch() as watch:
        result = func()
    elapsed = watch.seconds
    print(f"{label:<48} {elapsed:9.2f} s {counter.count:>9,} queries  {result}", flush=True)
    return elapsed, counter.count, result


def main():
    args = parse_args()
    prepare_environment(args)
    common.setup_django(plain_static=False)
    from django.conf import settings
    from django.db import connection, transaction
    from django_scopes import scopes_disabled

    import subscriptions.lifecycle as lifecycle
    from core.jobs import job_run
    from holds.services import FINANCIAL_HOLDS_JOB
    from messaging.services import CHARGES_JOB
    from subscriptions.models import Subscription
    from subscriptions.services import EXPIRY_JOB

    settings.SUBSCRIPTIONS_RENEWAL_SECONDS = 10**9  # every renewal in the one timed run (no budget)
    common.migrate()
    if args.profile:
        Counter.profile = {}
    now = datetime.now(UTC)
    tenant, today = load(args, now)

    # The floor: one UPDATE of the rows the expiry job will expire (due, not renewed).
    def floor():
        with transaction.atomic():
            with connection.cursor() as c:
                c.execute(
                    "UPDATE subscriptions_subscription s SET status = 'expired', updated_at = %s "
                    "WHERE s.tenant_id = %s AND s.status = 'active' AND s.end_date <= %s AND NOT "
                    "(s.auto_renew AND EXISTS (SELECT 1 FROM billing_account a WHERE "
                    "a.client_id = s.client_id AND a.balance + a.credit_limit >= 10))",
                    [now, tenant.pk, today],
                )
                rows = c.rowcount
            transaction.set_rollback(True)
        return f"{rows:,} rows (rolled back)"

    # Phases of the expiry job, timed from inside.
    phases = {}

    def timed(name, func):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            Counter.phase = name.split()[0]
            try:
                return func(*a, **kw)
            finally:
                Counter.phase = ""
                phases[name] = phases.get(name, 0) + time.perf_counter() - t0

        return wrapper

    lifecycle._expire_due = timed("expire UPDATE ... RETURNING", lifecycle._expire_due)
    lifecycle._after_expiry = timed("activity, e-mails, access", lifecycle._after_expiry)
    python = PythonProfile()
    PythonProfile.enabled = args.cprofile
    lifecycle.subscriptions_renew_chunk = timed(
        "renewals", python.wrap("renewals", lifecycle.subscriptions_renew_chunk)
    )
    figures = common.Figures("jobs", **vars(args))

    with scopes_disabled():
        measure("floor: one UPDATE of the rows to expire", floor)
        grace = timedelta(days=tenant.financial_hold_grace_days)
        measure(
            "financial holds, 1st run (tracking starts)",
            lambda: job_run(tenant=tenant, job=FINANCIAL_HOLDS_JOB, now=now).result,
        )
        measure(
            "financial holds, past the grace (holds set)",
            lambda: job_run(tenant=tenant, job=FINANCIAL_HOLDS_JOB, now=now + grace).result,
        )
        measure(
            "financial holds, again (nothing to do)",
            lambda: job_run(tenant=tenant, job=FINANCIAL_HOLDS_JOB, now=now + grace).result,
        )
        renewable = list(
            Subscription.objects.filter(
                tenant=tenant, status="active", auto_renew=True, end_date__lte=today
            )
            .filter(client__account__balance__gte=10)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        renewal_floor = set_based_floor(
            RENEWAL_FLOOR, renewable, tenant=tenant, now=now, chunk=args.chunk
        )
        print(
            f"{'floor: set-based renewals (rolled back)':<48} {renewal_floor:9.2f} s "
            f"{len(renewable) // args.chunk * len(RENEWAL_FLOOR):>9,} queries  "
            f"{len(renewable):,} renewals",
            flush=True,
        )
        seconds, _, result = measure(
            "expiry and auto-renewal",
            lambda: job_run(tenant=tenant, job=EXPIRY_JOB, now=now).result,
        )
        figures.add("expiry_job_s", seconds, "s", result=result)
        figures.add(
            "renewals_per_s",
            result["renewed"] / phases["renewals"],
            "renewals/s",
            floor=len(renewable) / renewal_floor,
            renewed=result["renewed"],
            previous_per_subscription_path_per_s=83,
        )
        Counter.statements_print()
        for name, seconds in phases.items():
            print(f"  {name:<46} {seconds:9.2f} s", flush=True)
        measure(
            "expiry and auto-renewal, again (nothing to do)",
            lambda: job_run(tenant=tenant, job=EXPIRY_JOB, now=now).result,
        )
        yesterday = today - timedelta(days=1)
        charge_ids = load_charges(tenant, args.charge_days, yesterday)
        charge_floor = set_based_floor(
            CHARGE_FLOOR, charge_ids, tenant=tenant, now=now, chunk=args.chunk
        )
        print(
            f"{'floor: set-based daily charges (rolled back)':<48} {charge_floor:9.2f} s "
            f"{len(charge_ids) // args.chunk * len(CHARGE_FLOOR):>9,} queries  "
            f"{len(charge_ids):,} client-days",
            flush=True,
        )
        seconds, _, result = measure(
            "daily messaging charges",
            python.wrap("charges", lambda: job_run(tenant=tenant, job=CHARGES_JOB, now=now).result),
        )
        Counter.statements_print()
        figures.add(
            "daily_charges_clients_per_s",
            len(charge_ids) / seconds,
            "client-days/s",
            floor=len(charge_ids) / charge_floor,
            result=result,
        )
        measure(
            "daily messaging charges, again (nothing to do)",
            lambda: job_run(tenant=tenant, job=CHARGES_JOB, now=now).result,
        )
    python.report()
    if not args.cprofile:  # profiled figures are not figures
        figures.write()


if __name__ == "__main__":
    main()
