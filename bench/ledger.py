"""Benchmark of the ledger at the design point: 10,000,000 entries across one tenant.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ledger.py
    ... bench/ledger.py --entries 1000000 --export-rows 100000   # a quicker run
    ... bench/ledger.py --reuse                                  # keep the previous data

It creates its own database (`clientdesk_bench_ledger` on the server of DATABASE_URL), migrates
it and loads with PostgreSQL COPY (triggers and secondary indexes off during the load, built
after it): --clients clients with an account each, and --entries ledger entries with an
unbroken balance_after chain, of which one client ("tab client") has --tab-entries (100,000)
and one ("export client") has --export-rows (1,000,000) entries in the last year. Then, in one
run, it measures:

- Finance tab: the server time of the real view (Django's test Client through every
  middleware, as the tenant's owner) for the default period (last 30 days) and for a year, at
  10 and 100 rows a page, against the floor: the view's own statements on the billing tables
  (opening and closing balance, capped count, page rows) run on a bare cursor;
- posting throughput: --writers threads (8) posting top-ups and charges through
  `billing.services` on one account, and on one account each, against the same statements
  (lock, key check, insert, update) on bare psycopg connections;
- batch posting: --batch-entries (100,000) top-ups over as many accounts through
  `ledger_post_batch` in chunks of --batch-chunk (1,000), against the set-based SQL of the same
  rows (a locked UPDATE ... FROM, then an INSERT ... SELECT, a transaction a chunk);
- export: the export job for the export client's year (--export-rows rows) run by
  `exports.services.export_job_execute` in a child process, against openpyxl write-only writing
  the same rows, same cell types and formats, read with psycopg, in another child process
  (no Django); wall time and peak memory (ru_maxrss) of each;
- `manage.py audit_ledger` over all entries.

The figures are also written to bench/out/ledger.json (`common.Figures`).
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import common

BENCH_DB = "clientdesk_bench_ledger"
TENANT_SLUG = "bench-ledger"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000_000, help="ledger entries in all")
    parser.add_argument("--clients", type=int, default=100_000, help="clients of the tenant")
    parser.add_argument("--tab-entries", type=int, default=100_000, help="the tab client's")
    parser.add_argument("--export-rows", type=int, default=1_000_000, help="rows to export")
    parser.add_argument("--writers", type=int, default=8, help="concurrent posting threads")
    parser.add_argument("--postings", type=int, default=250, help="postings per writer")
    parser.add_argument("--batch-entries", type=int, default=100_000, help="batch posting")
    parser.add_argument("--batch-chunk", type=int, default=1000, help="entries per transaction")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each page")
    parser.add_argument("--database", default=BENCH_DB, help="name of the database to create")
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["tab", "posting", "batch", "export", "audit"],
        default=["tab", "posting", "batch", "export", "audit"],
        help="measure only these (all by default)",
    )
    parser.add_argument("--child", choices=["export", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def prepare_environment(args) -> None:
    if args.child:
        return  # the parent set everything up
    os.environ["BENCH_SOURCE_URL"] = common.source_url()
    os.environ.setdefault("MEDIA_ROOT", "/tmp/clientdesk-bench-ledger-media")
    common.prepare_environment(args.database, reuse=args.reuse)


# -- data -----------------------------------------------------------------------------------
ENTRY_COLUMNS = [
    "tenant_id",
    "account_id",
    "created_at",
    "amount",
    "kind",
    "purpose",
    "comment",
    "balance_after",
    "idempotency_key",
]


def client_rows(tenant_id: int, count: int, now: datetime):
    for number in range(1, count + 1):
        name = f"Bench Client {number}"
        yield {
            "tenant_id": tenant_id,
            "number": number,
            "name": name,
            "company": f"Company {number}",
            "login": f"+4915{number:08d}",
            "email": f"client{number}@example.com",
            "country": "DE",
            "status": "active",
            "sms_price": "0.0350",
            "sms_subscription": True,
            "created_at": now,
            "updated_at": now,
            "search_text": f"{name.lower()} company {number}",
        }


PURPOSES = ["SMS sending", "Viber sending", "Subscription", "=SUM(A1:A2) test", "-adjustment"]
# The purpose column holds JSON (billing/models.py): a top-up's message, the others' old text.
TOP_UP_PURPOSE = json.dumps({"msgid": "Account top-up"})


def entry_rows(tenant_id, plan, now, rng):
    """(account_id, count, days back) -> entries spread evenly over the days, oldest first,
    charges and top-ups keeping the balance around zero; balance_after chained."""
    key = 0
    for account_id, count, days in plan:
        balance = Decimal("0.00")
        start = now - timedelta(days=days)
        step = timedelta(days=days) / max(count, 1)
        for i in range(count):
            key += 1
            if balance < 50:
                amount = Decimal(rng.choice([100, 200, 500, 1000]))
                kind, purpose, comment = "top_up", TOP_UP_PURPOSE, "Bank transfer"
            else:
                amount = -Decimal(rng.randint(1, 4000)) / 100
                kind = "messaging_charge"
                purpose = json.dumps(f"{PURPOSES[i % len(PURPOSES)]} {i}")  # old rows' text
                comment = "" if i % 3 else "@daily"
            balance += amount
            yield (
                tenant_id,
                account_id,
                start + step * i,
                amount,
                kind,
                purpose,
                comment,
                balance,
                f"bench:{key}",
            )


def load(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django_scopes import scopes_disabled

    from billing.models import Account, LedgerEntry
    from clients.models import Client
    from tenancy.models import Membership, Tenant, TenantSequence

    common.migrate()
    with scopes_disabled():
        tenant = Tenant.objects.filter(slug=TENANT_SLUG).first()
        if tenant and LedgerEntry.objects.filter(tenant=tenant).exists():
            print("Reusing the data of the previous run.")
            return context_for(tenant)
        tenant = Tenant.objects.create(
            name="Ledger bench", slug=TENANT_SLUG, currency="EUR", time_zone="Europe/Berlin"
        )
        owner = get_user_model().objects.create_user("bench-owner", password="bench-password-1")
        Membership.objects.create(tenant=tenant, user=owner, role="owner")
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(4)
    clients = max(args.clients, 3)
    rest = args.entries - args.tab_entries - args.export_rows
    if rest < 0:
        sys.exit("--entries must be at least --tab-entries + --export-rows.")
    entry_table, account_table = LedgerEntry._meta.db_table, Account._meta.db_table
    raw = connection.connection
    started = time.perf_counter()
    with transaction.atomic():
        common.copy_clients(raw, client_rows(tenant.pk, clients, now))
        TenantSequence.objects.create(tenant=tenant, name="client", last_value=clients)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {account_table} (tenant_id, client_id, balance, credit_limit, "
                "created_at, updated_at) SELECT tenant_id, id, 0, 0, %s, %s "
                f"FROM {Client._meta.db_table} WHERE tenant_id = %s ORDER BY number",
                [now, now, tenant.pk],
            )
    with scopes_disabled():
        account_ids = list(
            Account.objects.filter(tenant=tenant)
            .order_by("client__number")
            .values_list("id", flat=True)
        )
    tab_account, export_account, others = account_ids[0], account_ids[1], account_ids[2:]
    per_other, extra = divmod(rest, len(others))
    plan = [(tab_account, args.tab_entries, 730), (export_account, args.export_rows, 365)]
    plan += [(aid, per_other + (1 if i < extra else 0), 730) for i, aid in enumerate(others)]
    print(f"Loaded {clients:,} clients and accounts in {time.perf_counter() - started:.1f} s.")
    with connection.cursor() as cursor:
        indexes = common.drop_secondary_indexes(cursor, entry_table)
        cursor.execute(f"ALTER TABLE {entry_table} DISABLE TRIGGER ALL")  # FK checks
    started = time.perf_counter()
    with transaction.atomic():
        loaded = common.copy_rows(
            raw, entry_table, ENTRY_COLUMNS, entry_rows(tenant.pk, plan, now, rng)
        )
    copied = time.perf_counter() - started
    print(f"COPY of {loaded:,} entries in {copied:.1f} s ({loaded / copied:,.0f} rows/s).")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {entry_table} ENABLE TRIGGER ALL")
        common.build_indexes(cursor, indexes)
        cursor.execute(
            f"UPDATE {account_table} a SET balance = s.total, last_posted_at = s.last "
            f"FROM (SELECT account_id, SUM(amount) AS total, MAX(created_at) AS last "
            f"FROM {entry_table} GROUP BY account_id) s WHERE s.account_id = a.id"
        )
        cursor.execute(f"VACUUM ANALYZE {entry_table}")
        cursor.execute(f"VACUUM ANALYZE {account_table}")
        cursor.execute(f"VACUUM ANALYZE {Client._meta.db_table}")
    print(f"Indexes, balances and ANALYZE in {time.perf_counter() - started:.1f} s.")
    return context_for(tenant)


def context_for(tenant) -> dict:
    from django.contrib.auth import get_user_model
    from django_scopes import scopes_disabled

    from clients.models import Client

    with scopes_disabled():
        tab_client = Client.objects.get(tenant=tenant, number=1)
        export_client = Client.objects.get(tenant=tenant, number=2)
    return {
        "tenant": tenant,
        "owner": get_user_model().objects.get(username="bench-owner"),
        "tab_client": tab_client,
        "export_client": export_client,
    }


# -- Finance tab ----------------------------------------------------------------------------
def row_count(html: str) -> str:
    """The page's own row count ("About 52,000 rows (estimated)" -> "~52,000")."""
    import re

    found = re.search(r'data-testid="row-count">\s*(About )?([\d,]+)', html)
    if not found:
        return "?"
    return ("~" if found.group(1) else "") + found.group(2)


def measure_tab(args, context) -> None:
    from django.test import Client as TestClient
    from django.urls import reverse
    from django.utils import timezone

    operator = TestClient()
    operator.force_login(context["owner"])
    tenant = context["tenant"]
    url = reverse("billing:client_finance", kwargs={"number": context["tab_client"].number})
    today = timezone.localtime(timezone.now(), tenant.zone).date()
    year = {"start": (today - timedelta(days=364)).isoformat(), "end": today.isoformat()}
    scenarios = [
        ("30 days, 10/page", {"per_page": 10}),
        ("30 days, 100/page", {"per_page": 100}),
        ("1 year, 10/page", {**year, "per_page": 10}),
        ("1 year, 100/page", {**year, "per_page": 100}),
        ("1 year, page 50", {**year, "per_page": 10, "page": 50}),
    ]
    empty_url = reverse("billing:client_finance", kwargs={"number": empty_client(tenant).number})
    empty = common.timed(lambda: operator.get(empty_url), args.repeat)
    empty_ms, empty_min = empty.ms, empty.min_ms
    print(
        f"\nFinance tab of a client with {args.tab_entries:,} entries over 2 years "
        f"(median of {args.repeat} runs). The same tab of a client with no entries takes "
        f"{empty_ms:.1f} ms (fastest {empty_min:.1f}): the fixed cost of a portal page "
        "(session, operator and tenant, client, templates, forms). 'SQL' is the floor: the "
        "view's statements on the billing tables run on a bare cursor; 'data' is page minus "
        "that fixed cost."
    )
    common.print_header(
        f"{'period':<20}{'rows':>8}{'page ms':>10}{'SQL ms':>9}{'page/SQL':>10}"
        f"{'data ms':>9}{'data/SQL':>10}{'queries':>9}"
    )
    for label, params in scenarios:
        full = f"{url}?{urlencode(params)}"
        page = common.timed(lambda u=full: operator.get(u), args.repeat)
        page_ms, page_min = page.ms, page.min_ms
        statements, response = common.captured_statements(
            operator, full, lambda sql: "billing_" in sql
        )
        floor = common.timed(common.run_sql(statements), args.repeat)
        sql_ms, sql_min = floor.ms, floor.min_ms
        count = row_count(response.content.decode())
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as all_queries:
            operator.get(full)
        data_ms = max(page_ms - empty_ms, 0.01)
        print(
            f"{label:<20}{count:>8}{page_ms:>10.1f}{sql_ms:>9.2f}"
            f"{common.ratio(page_ms, sql_ms, '>9.1f')}"
            f"{data_ms:>9.1f}{common.ratio(data_ms, sql_ms, '>9.1f')}{len(all_queries):>9}"
            f"   (fastest: page {page_min:.1f}, SQL {sql_min:.2f}, "
            f"data {max(page_min - empty_min, 0):.1f} ms)"
        )


def empty_client(tenant):
    """A client of the tenant with no ledger entries (created once)."""
    from django.db import transaction
    from django_scopes import scopes_disabled

    from clients.models import Client
    from tenancy.services import tenant_next_number

    with scopes_disabled(), transaction.atomic():
        found = Client.objects.filter(
            tenant=tenant, name="Bench empty client", account__entries__isnull=True
        ).first()
        if found:
            return found
        number = tenant_next_number(tenant=tenant, name="client")
        return Client.objects.create(tenant=tenant, number=number, name="Bench empty client")


# -- posting throughput ---------------------------------------------------------------------
def measure_posting(args, context, figures) -> None:
    from django.db import connection
    from django_scopes import scopes_disabled

    from billing.models import Account
    from billing.services import InsufficientFunds, account_charge, account_top_up
    from core.stored_text import literal_text

    tenant = context["tenant"]
    with scopes_disabled():  # clients 3, 4, ... (1 is the tab's, 2 the export's)
        accounts = list(
            Account.objects.filter(
                tenant=tenant, client__number__gte=3, client__number__lt=4 + args.writers
            )
            .select_related("tenant")
            .order_by("client__number")
        )
    shared, own = accounts[0], accounts[1:]

    def django_writer(account, n, barrier, errors):
        connection.close()  # never share the parent's connection
        barrier.wait()
        try:
            for i in range(n):
                try:
                    if i % 2:
                        account_charge(
                            account=account, amount="1.25", purpose=literal_text("Bench charge")
                        )
                    else:
                        account_top_up(account=account, amount="2.50")
                except InsufficientFunds:
                    pass
        except Exception as exc:  # reported below
            errors.put(repr(exc))
        finally:
            connection.close()

    def bare_writer(account, n, barrier, errors):
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            barrier.wait()
            try:
                for i in range(n):
                    amount = Decimal("-1.25") if i % 2 else Decimal("2.50")
                    key = f"bare:{os.getpid()}:{threading.get_ident()}:{i}:{time.monotonic_ns()}"
                    with conn.transaction():
                        balance, limit = conn.execute(
                            "SELECT balance, credit_limit FROM billing_account WHERE id = %s "
                            "FOR UPDATE",
                            [account.pk],
                        ).fetchone()
                        conn.execute(
                            "SELECT id FROM billing_ledgerentry WHERE tenant_id = %s AND "
                            "idempotency_key = %s",
                            [tenant.pk, key],
                        ).fetchone()
                        if amount < 0 and balance + amount + limit < 0:
                            continue
                        now = datetime.now(UTC)
                        conn.execute(
                            "INSERT INTO billing_ledgerentry (tenant_id, account_id, created_at, "
                            "amount, kind, purpose, comment, balance_after, idempotency_key) "
                            "VALUES (%s, %s, %s, %s, %s, to_jsonb(%s::text), '', %s, %s)",
                            [
                                tenant.pk,
                                account.pk,
                                now,
                                amount,
                                "adjustment",
                                "Bare",
                                balance + amount,
                                key,
                            ],
                        )
                        conn.execute(
                            "UPDATE billing_account SET balance = %s, last_posted_at = %s, "
                            "updated_at = %s WHERE id = %s",
                            [balance + amount, now, now, account.pk],
                        )
            except Exception as exc:
                errors.put(repr(exc))

    def run(writer, targets, mode):
        """Writers as threads of this process, or as forked processes (like gunicorn and
        Celery workers, each with its own interpreter and connection)."""
        import multiprocessing
        import queue

        from django.db import connections

        if mode == "processes":
            context = multiprocessing.get_context("fork")
            barrier, errors, spawn = (
                context.Barrier(len(targets) + 1),
                context.Queue(),
                context.Process,
            )
            connections.close_all()  # the children open their own
        else:
            barrier, errors, spawn = (
                threading.Barrier(len(targets) + 1),
                queue.Queue(),
                threading.Thread,
            )
        workers = [spawn(target=writer, args=(a, args.postings, barrier, errors)) for a in targets]
        for worker in workers:
            worker.start()
        barrier.wait()
        started = time.perf_counter()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        if not errors.empty():
            raise RuntimeError(errors.get())
        return len(targets) * args.postings / elapsed

    print(
        f"\nPosting throughput, {args.writers} writers x {args.postings} postings "
        "(top-up and charge alternating), postings/s:"
    )
    common.print_header(f"{'scenario':<26}{'services':>10}{'bare SQL':>10}{'ratio':>8}")
    for label, name, targets, mode in (
        ("one account, processes", "posting_hot_per_s", [shared] * args.writers, "processes"),
        ("distinct, processes", "posting_distinct_per_s", own[: args.writers], "processes"),
        ("one account, threads", "posting_hot_threads_per_s", [shared] * args.writers, "threads"),
        ("distinct, threads", "posting_distinct_threads_per_s", own[: args.writers], "threads"),
    ):
        services = run(django_writer, targets, mode)
        bare = run(bare_writer, targets, mode)
        print(f"{label:<26}{services:>10,.0f}{bare:>10,.0f}{common.ratio(bare, services, '>7.1f')}")
        figures.add(name, services, "postings/s", floor=bare, writers=args.writers)


# -- batch posting --------------------------------------------------------------------------
BATCH_FLOOR_UPDATE = (
    "UPDATE billing_account a SET balance = a.balance + v.amount, last_posted_at = %s, "
    "updated_at = %s FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, amount) "
    "WHERE a.id = v.id AND a.tenant_id = %s"
)
BATCH_FLOOR_INSERT = (
    "INSERT INTO billing_ledgerentry (tenant_id, account_id, created_at, amount, kind, purpose, "
    "comment, balance_after, idempotency_key) SELECT a.tenant_id, a.id, %s, v.amount, "
    "'top_up', v.purpose, '', a.balance, v.key FROM unnest(%s::bigint[], %s::numeric[], "
    "%s::jsonb[], %s::text[]) AS v(id, amount, purpose, key) JOIN billing_account a ON a.id = v.id"
)
BATCH_PURPOSE_JSON = json.dumps("Bench batch")  # literal_text("Bench batch") as stored


def measure_batch(args, context, figures) -> None:
    """--batch-entries top-ups, one on each of as many accounts, through
    `ledger_post_batch` in chunks of --batch-chunk, against the set-based SQL that writes the
    same rows (a locked UPDATE ... FROM of the balances, then an INSERT ... SELECT of the
    entries, one transaction a chunk) on a bare psycopg connection."""
    import psycopg
    from django_scopes import scopes_disabled

    from billing.models import Account, EntryKind
    from billing.services import Posting, ledger_post_batch
    from core.stored_text import literal_text

    tenant = context["tenant"]
    with scopes_disabled():
        ids = list(
            Account.objects.filter(tenant=tenant)
            .order_by("?")
            .values_list("id", flat=True)[: args.batch_entries]
        )
    run = time.monotonic_ns()
    amounts = [Decimal(f"{1 + i % 50}.25") for i in range(len(ids))]
    chunk = args.batch_chunk

    def floor():
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            for start in range(0, len(ids), chunk):
                now = datetime.now(UTC)
                part, money = ids[start : start + chunk], amounts[start : start + chunk]
                keys = [f"floor:{run}:{start + i}" for i in range(len(part))]
                with conn.transaction():
                    conn.execute(BATCH_FLOOR_UPDATE, [now, now, part, money, tenant.pk])
                    conn.execute(
                        BATCH_FLOOR_INSERT,
                        [now, part, money, [BATCH_PURPOSE_JSON] * len(part), keys],
                    )

    postings = [
        Posting(
            account_id=pk,
            amount=amount,
            kind=EntryKind.TOP_UP,
            purpose=literal_text("Bench batch"),
            idempotency_key=f"batch:{run}:{i}",
        )
        for i, (pk, amount) in enumerate(zip(ids, amounts, strict=True))
    ]
    with common.Stopwatch() as floor_watch:
        floor()
    with scopes_disabled(), common.Stopwatch() as watch:
        results = ledger_post_batch(tenant=tenant, postings=postings, chunk_size=chunk)
    assert all(r.posted for r in results), [r.error for r in results if r.error][:3]
    ours, bare = len(ids) / watch.seconds, len(ids) / floor_watch.seconds
    print(
        f"\nBatch posting, {len(ids):,} entries over as many accounts, chunks of {chunk:,}:\n"
        f"  ledger_post_batch {watch.seconds:8.2f} s {ours:>10,.0f}/s\n"
        f"  set-based SQL     {floor_watch.seconds:8.2f} s {bare:>10,.0f}/s   "
        f"ratio {common.ratio(bare, ours, '.2f')}"
    )
    figures.add("batch_posting_per_s", ours, "entries/s", floor=bare, entries=len(ids), chunk=chunk)


# -- export ---------------------------------------------------------------------------------
def child_export(job_id: int) -> dict:
    from django_scopes import scope, scopes_disabled

    from exports.models import ExportJob
    from exports.services import export_job_execute

    with scopes_disabled():
        job = ExportJob.objects.select_related("tenant").get(pk=job_id)
    baseline = current_memory_mb()  # Django and every app loaded, before the first row
    with common.Stopwatch() as watch, scope(tenant=job.tenant):
        job = export_job_execute(job=job)
    return {
        "seconds": watch.seconds,
        "cpu": watch.cpu,
        "baseline_mb": baseline,
        "rows": job.progress,
        "status": job.status,
        "error": str(job.error),
        "path": job.file.path if job.file else "",
        "size": job.file.size if job.file else 0,
    }


def child_floor(job_id: int) -> dict:
    """The same rows, types and formats, with psycopg and openpyxl only (no Django)."""
    from zoneinfo import ZoneInfo

    import psycopg
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    url = os.environ["DATABASE_URL"]
    baseline = current_memory_mb()
    with common.Stopwatch() as watch, psycopg.connect(url) as conn:
        job = conn.execute(
            "SELECT j.parameters, t.time_zone, t.currency, j.tenant_id FROM exports_exportjob j "
            "JOIN tenancy_tenant t ON t.id = j.tenant_id WHERE j.id = %s",
            [job_id],
        ).fetchone()
        params, zone_name, currency, tenant_id = job
        zone = ZoneInfo(zone_name)
        since = datetime.fromisoformat(params["start"]).replace(tzinfo=zone)
        until = (datetime.fromisoformat(params["end"]) + timedelta(days=1)).replace(tzinfo=zone)
        account_id = conn.execute(
            "SELECT a.id FROM billing_account a JOIN clients_client c ON c.id = a.client_id "
            "WHERE c.tenant_id = %s AND c.number = %s",
            [tenant_id, params["client_number"]],
        ).fetchone()[0]
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Floor")
        sheet.freeze_panes = "A2"
        sheet.append(["Entry", "Date", "Credit", "Debit", "Purpose", "Comment", "Kind", "Balance"])
        money = f'#,##0.00 "{currency}";-#,##0.00 "{currency}"'
        formats = ["#,##0", "yyyy-mm-dd hh:mm:ss", money, money, "@", "@", "@", money]
        labels = {"top_up": "Top-up", "messaging_charge": "Messaging charge"}
        styles = []  # one styled cell per column; the data cells share its style (fastest)
        for fmt in formats:
            template = WriteOnlyCell(sheet)
            template.number_format = fmt
            styles.append(template._style)
        with conn.cursor(name="floor") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                "SELECT id, created_at, amount, purpose, comment, kind, balance_after "
                "FROM billing_ledgerentry WHERE tenant_id = %s AND account_id = %s AND "
                "created_at >= %s AND created_at < %s ORDER BY created_at DESC, id DESC",
                [tenant_id, account_id, since, until],
            )
            rows = 0
            for pk, created, amount, purpose, comment, kind, after in cursor:
                if not isinstance(
                    purpose, str
                ):  # a message, in English (the floor has no catalogue)
                    purpose = purpose["msgid"]
                if purpose[:1] in "=+-@\t\r":
                    purpose = "'" + purpose
                if comment[:1] in "=+-@\t\r":
                    comment = "'" + comment
                values = (
                    pk,
                    created.astimezone(zone).replace(tzinfo=None),
                    -amount if amount < 0 else None,
                    amount if amount > 0 else None,
                    purpose,
                    comment,
                    labels.get(kind, kind),
                    after,
                )
                cells = []
                for value, style in zip(values, styles, strict=True):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell._style = style
                    cells.append(cell)
                sheet.append(cells)
                rows += 1
        path = Path(os.environ.get("MEDIA_ROOT", "/tmp")) / "floor.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(path)
    return {
        "seconds": watch.seconds,
        "cpu": watch.cpu,
        "baseline_mb": baseline,
        "rows": rows,
        "size": path.stat().st_size,
    }


def peak_memory_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process image, so unlike
    ru_maxrss it does not carry the parent's peak over the fork and exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_memory_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_children(args, job_id: int, kinds: list[str]) -> dict:
    """Run the children side by side, so that a machine whose load changes from minute to
    minute slows both alike; each reports its wall and CPU time."""
    running = {}
    for kind in kinds:
        command = [sys.executable, __file__, "--child", kind, "--job", str(job_id)]
        command += ["--database", args.database]
        running[kind] = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
        )
    results = {}
    for kind, process in running.items():
        stdout, stderr = process.communicate()
        if process.returncode:
            sys.exit(f"The {kind} child failed:\n{stderr[-3000:]}")
        results[kind] = json.loads(stdout.strip().splitlines()[-1])
    return results


def measure_export(args, context) -> None:
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from exports.models import ExportJob

    tenant, client = context["tenant"], context["export_client"]
    today = timezone.localtime(timezone.now(), tenant.zone).date()
    parameters = {
        "client_number": client.number,
        "start": (today - timedelta(days=400)).isoformat(),
        "end": today.isoformat(),
        "sort": "-created_at",
    }
    with scopes_disabled():
        job = ExportJob.objects.create(
            tenant=tenant,
            created_by=context["owner"],
            kind="billing.ledger",
            parameters=parameters,
            title="Bench export",
        )
    print(f"\nExport of the export client's year ({args.export_rows:,} rows expected):")
    results = run_children(args, job.pk, ["export", "floor"])
    export, floor = results["export"], results["floor"]
    if export["status"] != "done":
        print(f"  export failed: {export['error']}")
        return
    common.print_header(
        f"{'(run side by side)':<26}{'rows':>11}{'wall s':>8}{'CPU s':>8}{'rows/CPU s':>11}"
        f"{'peak MB':>9}{'before MB':>10}{'file MB':>9}"
    )
    for label, result in (("export job (Django)", export), ("openpyxl floor (no Django)", floor)):
        print(
            f"{label:<26}{result['rows']:>11,}{result['seconds']:>8.1f}{result['cpu']:>8.1f}"
            f"{result['rows'] / result['cpu']:>11,.0f}{result['peak_mb']:>9.0f}"
            f"{result['baseline_mb']:>10.0f}{result['size'] / 2**20:>9.1f}"
        )
    print(
        f"export / floor: {common.ratio(export['cpu'], floor['cpu'], '.2f')} CPU time, "
        f"{common.ratio(export['seconds'], floor['seconds'], '.2f')} wall time; "
        "the export's own memory (peak minus the process before its first row): "
        f"{export['peak_mb'] - export['baseline_mb']:.0f} MB"
    )


def measure_audit(args) -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("audit_ledger")
    print(f"audit_ledger over all entries: {time.perf_counter() - started:.1f} s")


def main():
    args = parse_args()
    prepare_environment(args)
    if args.child:
        if args.child == "floor":
            result = child_floor(args.job)
        else:
            common.setup_django()
            result = child_export(args.job)
        result["peak_mb"] = peak_memory_mb()
        print(json.dumps(result))
        return
    common.setup_django()
    started = time.perf_counter()
    context = load(args)
    print(f"Data ready in {time.perf_counter() - started:.1f} s.")
    if "tab" in args.only:
        measure_tab(args, context)
    figures = common.Figures(
        "ledger", entries=args.entries, clients=args.clients, only=args.only, reuse=args.reuse
    )
    if "posting" in args.only:
        measure_posting(args, context, figures)
    if "batch" in args.only:
        measure_batch(args, context, figures)
    if "export" in args.only:
        measure_export(args, context)
    if "audit" in args.only:
        print()
        measure_audit(args)
    figures.write()


if __name__ == "__main__":
    main()
