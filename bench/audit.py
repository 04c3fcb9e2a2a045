"""Benchmark of the audit log at the design point, and of an event's cost on the hot path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/audit.py
    ... bench/audit.py --events 1000000     # a quicker run
    ... bench/audit.py --reuse              # keep the events of the previous run

It creates its own database (`clientdesk_bench_audit` on the server of DATABASE_URL), migrates
it and writes --events events (10,000,000) of one tenant over two years with one set-based
INSERT ... SELECT FROM generate_series (the secondary indexes dropped during the load, built
after it), spread over six types and --clients client ids. Then, in one run, it measures:

- the audit log page: the server time of the real view (Django's test Client through every
  middleware, as the tenant's owner) for the first page, a page deep in the middle (its keyset
  cursor), the page before that one, filtered by type, by client and by a month, against the
  floor: the view's own statements on the events table run on a bare cursor. The page's fixed
  cost (session, operator and tenant, navigation, templates, the filter form) is measured on
  the page of a tenant with no events, and "data" is the page minus that cost. Each page is
  also fetched as the HTMX fragment the filter form, sorting and paging ask for (HX-Request
  aimed at #table-region: the table alone), and both are given in this process's CPU time
  too (the server's Python without its waits on PostgreSQL, steadier on a loaded machine);
- the hot path: a top-up with its event (the real `account_top_up`) against the same posting
  without it (billing's posting path with its event left out), --topups each, interleaved in
  rounds on --accounts accounts so that the machine's load weighs on both alike.

The figures are also written to bench/out/audit.json (`common.Figures`).
"""

import argparse
import os
import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

import common

BENCH_DB = "clientdesk_bench_audit"
TENANT_SLUG = "bench-audit"
EMPTY_SLUG = "bench-audit-empty"
HTMX = {"HX-Request": "true", "HX-Target": "table-region"}  # the filter form, sorting, paging
TYPES = [
    "client.updated",
    "hold.placed",
    "ledger.entry_posted",
    "subscription.renewed",
    "pppoe.session_started",
    "pppoe.session_ended",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events of the tenant")
    parser.add_argument("--clients", type=int, default=100_000, help="client ids they name")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each page")
    parser.add_argument("--topups", type=int, default=400, help="top-ups of each kind")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds of them")
    parser.add_argument("--accounts", type=int, default=20, help="accounts topped up")
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's data")
    return parser.parse_args()


# -- data -----------------------------------------------------------------------------------
def tenant_with_owner(slug: str, name: str):
    from django.contrib.auth import get_user_model
    from django_scopes import scopes_disabled

    from tenancy.models import Membership, Tenant

    with scopes_disabled():
        tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": name})
        user, _ = get_user_model().objects.get_or_create(username=f"owner@{slug}")
        Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": "owner"})
    return tenant, user


_LOAD_SQL = """
INSERT INTO events_event (tenant_id, created_at, type, actor_kind, actor_id, actor_label,
                          object_type, object_id, client_id, description, payload)
SELECT %(tenant)s,
       %(now)s - (g::bigint * %(step)s::bigint) * interval '1 microsecond',
       (%(types)s::text[])[1 + g %% %(type_count)s],
       'job', NULL, 'bench', 'client', 1 + g %% %(clients)s, 1 + g %% %(clients)s,
       to_jsonb('Bench event ' || g), jsonb_build_object('n', g)
  FROM generate_series(1, %(events)s) AS g
"""


def load(args, tenant, now) -> None:
    from django.db import connection

    from events.models import Event

    with connection.cursor() as cursor:
        # The loaded events only: the hot path's top-ups add theirs to the tenant.
        cursor.execute(
            "SELECT count(*) FROM events_event WHERE tenant_id = %s AND actor_label = 'bench'",
            [tenant.pk],
        )
        if cursor.fetchone()[0] == args.events:
            common.log(f"{args.events:,} events kept from the previous run")
            return
        cursor.execute("DELETE FROM events_event WHERE tenant_id = %s", [tenant.pk])
        common.log(f"loading {args.events:,} events (one INSERT ... SELECT)")
        indexes = common.drop_secondary_indexes(cursor, Event._meta.db_table)
        two_years_us = 2 * 365 * 24 * 3600 * 10**6
        with common.Stopwatch() as watch:
            cursor.execute(
                _LOAD_SQL,
                {
                    "tenant": tenant.pk,
                    "now": now,
                    "step": two_years_us // args.events,
                    "types": TYPES,
                    "type_count": len(TYPES),
                    "clients": args.clients,
                    "events": args.events,
                },
            )
        common.log(f"  inserted in {watch.seconds:.1f} s; building the indexes")
        with common.Stopwatch() as watch:
            common.build_indexes(cursor, indexes)
            cursor.execute(f"VACUUM ANALYZE {Event._meta.db_table}")
        common.log(f"  indexes and statistics in {watch.seconds:.1f} s")


def middle_cursor(tenant, events: int) -> str:
    """The keyset cursor of the event half way down the newest-first list."""
    from django.db import connection

    from core.api import cursor_encode

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT created_at, id FROM events_event WHERE tenant_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [tenant.pk, events // 2],
        )
        created_at, pk = cursor.fetchone()
    return cursor_encode("-created_at", [created_at, pk])


# -- the audit log page ---------------------------------------------------------------------
def page_rows(tenant, membership, params) -> list:
    """The rows of one page as the view reads them: its queryset (the member's events), its
    FilterSet over the query string, then its keyset page."""
    from django.http import QueryDict

    from core.api import SortKey
    from core.pagination import keyset_paginate
    from events.filters import EventFilterSet
    from events.selectors import audit_events, sees_money_only

    query = QueryDict(urlencode(params))
    events = EventFilterSet(
        query or None,
        queryset=audit_events(tenant=tenant, membership=membership),
        tenant=tenant,
        money_only=sees_money_only(membership),
    ).qs
    page = keyset_paginate(
        events.select_related("actor"),
        keys=[SortKey("created_at", True), SortKey("id", True)],
        sort="-created_at",
        after=params.get("after"),
        before=params.get("before"),
        limit=int(params.get("per_page", 10)),
    )
    return page.object_list


def measure_page(args, figures, tenant, owner, empty_owner, now) -> None:
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tenancy.models import Membership

    url = reverse("events:event_list")
    membership = Membership.all_tenants.get(tenant=tenant, user=owner)
    operator, empty = TestClient(), TestClient()
    operator.force_login(owner)
    empty.force_login(empty_owner)
    fixed = common.timed(lambda: empty.get(url), args.repeat)
    fixed_fragment = common.timed(lambda: empty.get(url, headers=HTMX), args.repeat)
    print(f"Fixed cost, CPU: page {fixed.cpu_ms:.1f} ms, fragment {fixed_fragment.cpu_ms:.1f} ms")
    middle = middle_cursor(tenant, args.events)
    today = now.date()
    month = {"since": (today - timedelta(days=400)).isoformat()}
    month["until"] = (today - timedelta(days=370)).isoformat()
    scenarios = [
        ("first page", {}),
        ("middle page", {"after": middle}),
        ("before the middle", {"before": middle}),
        ("by type", {"type": "hold.placed"}),
        ("by client", {"client_id": 4242}),
        ("a month, a year ago", month),
        ("by type, 100/page", {"type": "hold.placed", "per_page": 100}),
    ]
    print(
        f"\nAudit log of {args.events:,} events (median of {args.repeat} runs). The page of a "
        f"tenant with no events takes {fixed.ms:.1f} ms (its HTMX fragment "
        f"{fixed_fragment.ms:.1f} ms): the fixed cost of a portal page. "
        "'SQL' is the floor: the view's statements on the events table on a bare cursor; "
        "'ORM' the page's rows built as the view builds them (its FilterSet, the keyset page, "
        "model instances with their operator); 'data' is the page minus the fixed cost; "
        "'HTMX' the fragment the filter form, sorting and paging fetch (HX-Request); 'CPU' "
        "the page's and the fragment's CPU time in this process (the server's Python, without "
        "waiting on PostgreSQL: steadier than the wall time on a loaded machine)."
    )
    common.print_header(
        f"{'page':<22}{'rows':>6}{'page ms':>9}{'SQL ms':>8}{'ORM ms':>8}{'ORM/SQL':>9}"
        f"{'data ms':>9}{'data/SQL':>9}{'queries':>9}{'page/SQL':>10}{'HTMX ms':>8}"
        f"{'HTMX/SQL':>10}{'CPU ms':>8}{'HTMX CPU':>9}"
    )
    for label, params in scenarios:
        name = label.replace(" ", "_").replace(",", "").replace("/", "_per_")
        full = f"{url}?{urlencode(params)}"
        page = common.timed(lambda u=full: operator.get(u), args.repeat)
        fragment = common.timed(lambda u=full: operator.get(u, headers=HTMX), args.repeat)
        statements, response = common.captured_statements(
            operator, full, lambda sql: "events_event" in sql
        )
        rows = response.content.decode().count("data-event=")
        floor = common.timed(common.run_sql(statements), args.repeat)
        with CaptureQueriesContext(connection) as queries:
            operator.get(full)
        data_ms = max(page.ms - fixed.ms, 0.01)
        orm = common.timed(lambda p=params: page_rows(tenant, membership, p), args.repeat)
        print(
            f"{label:<22}{rows:>6}{page.ms:>9.1f}{floor.ms:>8.2f}{orm.ms:>8.2f}"
            f"{common.ratio(orm.ms, floor.ms, '>9.2f')}{data_ms:>9.1f}"
            f"{common.ratio(data_ms, floor.ms, '>9.1f')}{len(queries):>9}"
            f"{page.ms / floor.ms:>9.1f}x{fragment.ms:>8.1f}{fragment.ms / floor.ms:>9.1f}x"
            f"{page.cpu_ms:>8.1f}{fragment.cpu_ms:>9.1f}"
        )
        figures.add(f"page_cpu_{name}_ms", page.cpu_ms, "ms", rows=rows)
        figures.add(f"fragment_cpu_{name}_ms", fragment.cpu_ms, "ms", rows=rows)
        figures.add(f"fragment_{name}_ms", fragment.ms, "ms", floor=floor.ms, rows=rows)
        figures.add(f"rows_{name}_ms", orm.ms, "ms", floor=floor.ms, rows=rows)
        figures.add(f"page_{name}_ms", page.ms, "ms", floor=floor.ms, rows=rows)
        figures.add(f"data_{name}_ms", data_ms, "ms", floor=floor.ms, rows=rows)
    figures.add("page_fixed_ms", fixed.ms, "ms")
    figures.add("fragment_fixed_ms", fixed_fragment.ms, "ms")


# -- the hot path ---------------------------------------------------------------------------
def measure_hot_path(args, figures, tenant) -> None:
    from django.db import connection
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from billing.models import Account, EntryKind
    from billing.services import _post_entry, account_top_up, accounts_create_for_clients
    from clients.models import Client
    from core.stored_text import stored_gettext

    now = time.time()
    with scopes_disabled():
        start = Client.objects.filter(tenant=tenant).count() + 1
        with connection.cursor() as cursor:
            common.copy_clients(
                cursor.cursor.connection,
                (
                    {
                        "tenant_id": tenant.pk,
                        "number": start + i,
                        "name": f"Hot {now} {i}",
                        "created_at": timezone.now(),
                        "updated_at": timezone.now(),
                    }
                    for i in range(args.accounts)
                ),
            )
        ids = list(
            Client.objects.filter(tenant=tenant, number__gte=start).values_list("pk", flat=True)
        )
        accounts_create_for_clients(tenant=tenant, client_ids=ids)
        accounts = list(Account.objects.filter(tenant=tenant, client_id__in=ids))
    for account in accounts:
        account.tenant = tenant

    def with_event(count):
        for i in range(count):
            account_top_up(account=accounts[i % len(accounts)], amount="1.00")

    def without_event(count):
        for i in range(count):
            # The same posting through the same path, its event left out.
            _post_entry(
                account=accounts[i % len(accounts)],
                kind=EntryKind.TOP_UP,
                amount="1.00",
                purpose=stored_gettext("Account top-up"),
                activity=False,
            )

    per_round = max(args.topups // args.rounds, 1)
    with scopes_disabled():
        with_event(20), without_event(20)  # warm up
        timings = {"with": [], "without": []}
        for _ in range(args.rounds):
            for kind, work in (("without", without_event), ("with", with_event)):
                started = time.perf_counter()
                work(per_round)
                timings[kind].append((time.perf_counter() - started) * 1000 / per_round)
    ours, floor = statistics.median(timings["with"]), statistics.median(timings["without"])
    print(
        f"\nA top-up, median of {args.rounds} interleaved rounds of {per_round}: with its event "
        f"{ours:.2f} ms, without {floor:.2f} ms: {common.ratio(ours, floor, '.3f')} "
        f"({(ours / floor - 1) * 100:+.1f}%; aim: under +15%)"
    )
    figures.add("topup_with_event_ms", ours, "ms", floor=floor, rounds=args.rounds)


def main():
    args = parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no request log line per timed page
    common.prepare_environment(args.database, reuse=args.reuse)
    common.setup_django()
    common.migrate()
    from django.utils import timezone

    now = timezone.now()
    tenant, owner = tenant_with_owner(TENANT_SLUG, "Bench audit")
    _, empty_owner = tenant_with_owner(EMPTY_SLUG, "Bench audit, no events")
    load(args, tenant, now)
    figures = common.Figures("audit", **vars(args))
    measure_page(args, figures, tenant, owner, empty_owner, now)
    measure_hot_path(args, figures, tenant)
    figures.write()


if __name__ == "__main__":
    main()
