"""Benchmark of the client list at the design point: a tenant of 1,000,000 clients beside another.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clientdesk .venv/bin/python bench/client_list.py
    ... bench/client_list.py --clients 100000      # a quicker run
    ... bench/client_list.py --reuse               # keep the data of the previous run

It creates its own database (`clientdesk_bench`, on the server of DATABASE_URL), migrates it,
and loads the clients with PostgreSQL COPY (secondary indexes dropped during the load and built
after it, `search_text` filled as `Client.save()` would), then measures in one run, for the
default view, a search (a surname, and the start of an ITN), a status filter and a deep page:

- page: the server time of the real view (Django's test Client through every middleware,
  logged in as the tenant's owner), median of --repeat runs after a warm-up;
- floor: the bare SQL of the same page: the statements that fetch the page's rows, taken from
  the view itself and re-run on the same connection ("floor"), and the same plus the page's
  row count ("rows+count": every statement the page runs on clients_client). The difference
  between the page and the floor is Django: middleware, session, the filter bar, rendering;
- (cpu): the CPU time the page took in this process (Django's share, without the database
  and without waiting for a CPU: a busy machine inflates wall times, not this);
- admin: the same operation in the Django admin changelist of Client (equivalent search_fields
  and list_filter, same page size), as a superuser;

and the suggestions' response time (p50/p95 over --suggestions requests of typed prefixes of
names, companies, IDs, logins and ITNs). Ratios are printed against the floor. The figures are
also written to bench/out/client_list.json (common.Figures), which --label names the run in
(copy the file aside to keep a "before" beside an "after").
"""

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import common

BENCH_DB = "clientdesk_bench"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000, help="clients of the big tenant")
    parser.add_argument("--other", type=int, default=50_000, help="clients of the other tenant")
    parser.add_argument("--database", default=BENCH_DB, help="name of the database to create")
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each page")
    parser.add_argument("--admin-repeat", type=int, default=3, help="timed runs in the admin")
    parser.add_argument("--suggestions", type=int, default=300, help="suggestion requests")
    parser.add_argument("--label", default="latest", help="the run's name in the JSON output")
    return parser.parse_args()


# -- data -----------------------------------------------------------------------------------
FIRST = [
    "anna",
    "boris",
    "clara",
    "david",
    "elena",
    "felix",
    "greta",
    "hugo",
    "irina",
    "jonas",
    "katja",
    "lukas",
    "marta",
    "nikolai",
    "olga",
    "pavel",
    "quinn",
    "rita",
    "sergei",
    "tanja",
    "ulla",
    "viktor",
    "wanda",
    "xenia",
    "yuri",
    "zoe",
    "alina",
    "bogdan",
    "denis",
    "egor",
    "fedor",
    "galina",
    "igor",
    "kira",
    "leon",
    "maria",
    "nina",
    "oleg",
    "polina",
    "roman",
    "sofia",
    "timur",
    "uliana",
    "vera",
]
SYLLABLES = [
    "ba",
    "ber",
    "ko",
    "va",
    "len",
    "ro",
    "man",
    "shi",
    "ter",
    "no",
    "vi",
    "ka",
    "mir",
    "zel",
    "dor",
    "pet",
    "ran",
    "sol",
    "lin",
    "gra",
    "fi",
    "tov",
    "ski",
    "mo",
    "ne",
    "lu",
    "ha",
    "wei",
    "sen",
    "tin",
    "ov",
    "ev",
    "in",
]
COMPANY_WORDS = [
    "alpha",
    "baltic",
    "cedar",
    "delta",
    "echo",
    "forest",
    "granite",
    "harbor",
    "iris",
    "juniper",
    "kite",
    "lumen",
    "maple",
    "nova",
    "orbit",
    "pixel",
    "quartz",
    "river",
    "summit",
    "terra",
    "union",
    "vector",
    "willow",
    "xenon",
    "yield",
    "zenith",
    "amber",
    "bright",
    "coral",
    "dune",
    "ember",
    "frost",
    "glade",
]
SUFFIXES = ["gmbh", "llc", "ltd", "sia", "ooo", "inc", "ag"]
STATUSES = ["active"] * 85 + ["administrative_hold"] * 5 + ["financial_hold"] * 6 + ["deleted"] * 4
PROPERTY = ["legal_entity", "individual", "entrepreneur"]
CHANNELS = ["web", "partner", "sales", "api", "import"]


def surname(rng) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


def client_rows(tenant_id: int, count: int, group_ids: list[int], seed: int):
    from clients.models import build_search_text

    rng = random.Random(seed)
    now = datetime.now(UTC)
    for number in range(1, count + 1):
        first, last = rng.choice(FIRST), surname(rng)
        name = f"{first.title()} {last.title()}"
        company = (
            f"{rng.choice(COMPANY_WORDS).title()} {rng.choice(COMPANY_WORDS).title()} "
            f"{rng.choice(SUFFIXES).upper()}"
        )
        login = f"+7{rng.randint(9000000000, 9999999999)}"
        email = f"{first}.{last}{number}@example.com"
        contact = f"{rng.choice(FIRST).title()} {surname(rng).title()}"
        contact_email = f"contact{number}@{company.split()[0].lower()}.example.com"
        itn = str(rng.randint(10**9, 10**10 - 1))
        created = now - timedelta(minutes=rng.randint(0, 5 * 365 * 1440))
        bought = (
            min(created + timedelta(minutes=rng.randint(0, 400 * 1440)), now)
            if rng.random() < 0.8
            else None
        )
        yield {
            "tenant_id": tenant_id,
            "number": number,
            "name": name,
            "company": company,
            "login": login,
            "email": email,
            "contact_name": contact,
            "contact_email": contact_email,
            "country": "RU",
            "itn": itn,
            "group_id": rng.choice(group_ids),
            "status": rng.choice(STATUSES),
            "property_type": rng.choice(PROPERTY),
            "channel": rng.choice(CHANNELS),
            "registered_on": created.date(),
            "sms_price": "0.0400",
            "last_purchase_at": bought,
            "created_at": created,
            "updated_at": now,
            "search_text": build_search_text(
                name, company, login, itn, email, contact, contact_email
            ),
        }


def load(args) -> dict:
    """Tenants, operators, groups and clients; returns what the measurements need."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django_scopes import scopes_disabled

    from clients.models import Client, ClientGroup
    from tenancy.models import Membership, Tenant, TenantSequence

    common.migrate()
    user_model = get_user_model()
    with scopes_disabled():
        big = Tenant.objects.filter(slug="bench-big").first()
        if big and Client.objects.filter(tenant=big).exists():
            print(f"Reusing {Client.objects.filter(tenant=big).count():,} clients.")
            return context_for(big)
        # Reseller and messaging: the list has the columns, sorts and filters it was built for
        # (last purchase date first, ID, login, ITN).
        big = Tenant.objects.create(
            name="Big provider", slug="bench-big", uses_reseller=True, uses_messaging=True
        )
        other = Tenant.objects.create(name="Other provider", slug="bench-other")
        owner = user_model.objects.create_user("bench-owner", password="bench-password-1")
        user_model.objects.create_superuser("bench-admin", password="bench-password-1")
        Membership.objects.create(tenant=big, user=owner, role="owner")
        groups = {}
        for tenant in (big, other):
            groups[tenant.pk] = [
                ClientGroup.objects.create(tenant=tenant, name=name).pk
                for name in ("Enterprise", "SMB", "Education", "Non-profit", "Government")
            ]
    table = Client._meta.db_table
    with connection.cursor() as cursor:
        indexes = common.drop_secondary_indexes(cursor, table)
    started = time.perf_counter()
    raw = connection.connection  # psycopg connection under Django's
    for tenant, count, seed in ((big, args.clients, 1), (other, args.other, 2)):
        common.copy_clients(raw, client_rows(tenant.pk, count, groups[tenant.pk], seed))
        TenantSequence.objects.create(tenant=tenant, name="client", last_value=count)
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        started_indexes = time.perf_counter()
        common.build_indexes(cursor, indexes)
        cursor.execute(f"VACUUM ANALYZE {table}")
    indexed = time.perf_counter() - started_indexes
    total = args.clients + args.other
    print(
        f"Loaded {total:,} clients in {loaded:.1f} s (COPY, {total / loaded:,.0f} rows/s); "
        f"indexes and ANALYZE in {indexed:.1f} s."
    )
    return context_for(big)


def context_for(big) -> dict:
    from django.contrib.auth import get_user_model
    from django_scopes import scopes_disabled

    from clients.models import Client

    user_model = get_user_model()
    with scopes_disabled():
        clients = Client.objects.filter(tenant=big)
        total = clients.count()
        sample = list(
            clients.filter(number__in=random.Random(7).sample(range(1, total + 1), 200)).values(
                "number", "name", "company", "login", "itn"
            )
        )
    return {
        "tenant": big,
        "total": total,
        "owner": user_model.objects.get(username="bench-owner"),
        "admin": user_model.objects.get(username="bench-admin"),
        "sample": sample,
    }


# -- measuring ------------------------------------------------------------------------------
def page_queries(client, url):
    """The statements the view runs on clients_client: (those that fetch the page's rows, all
    of them, i.e. with the row count)."""
    statements, _ = common.captured_statements(client, url, lambda sql: '"clients_client"' in sql)
    rows = [s for s in statements if "COUNT(" not in s and "EXPLAIN" not in s]
    return rows, statements


def measure(args, context) -> dict:
    from django.contrib import admin
    from django.test import Client as TestClient
    from django.urls import reverse

    from clients.models import Client
    from tests.helpers import force_login_verified

    admin.site._registry[Client].list_per_page = 10  # the list's page size, for a like-for-like
    operator, superuser = TestClient(), TestClient()
    operator.force_login(context["owner"])
    force_login_verified(superuser, context["admin"])  # the admin asks for a second factor
    tenant = context["tenant"]
    list_url = reverse("clients:client_list")
    admin_url = reverse("admin:clients_client_changelist")
    term = context["sample"][0]["name"].split()[1].lower()  # a surname, as typed
    deep_page = max(1, int(context["total"] * 0.96 / 10 * 0.8))  # 80% down the list
    itn = context["sample"][1]["itn"][:6]
    scenarios = [
        ("default view", {}, {}),
        ("search", {"q": term}, {"q": term}),
        ("search ITN", {"q": itn}, {"q": itn}),
        ("status filter", {"status": "financial_hold"}, {"status__exact": "financial_hold"}),
        ("deep page", {"page": deep_page}, {"p": deep_page}),
    ]
    print(
        f"\n{context['total']:,} clients in the measured tenant; search terms {term!r} and "
        f"{itn!r} (an ITN's start); "
        f"deep page {deep_page:,} (10 rows a page); median of {args.repeat} runs (admin "
        f"{args.admin_repeat}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
        "CPUs.\n"
    )
    common.print_header(
        f"{'operation':<15}{'page ms':>9}{'(cpu)':>7}{'floor ms':>10}{'rows+count':>12}"
        f"{'page/floor':>12}{'page/(r+c)':>12}{'admin ms':>10}{'admin/page':>12}"
    )
    figures = {}
    for label, params, admin_params in scenarios:
        url = f"{list_url}?{urlencode(params)}" if params else list_url
        page = common.timed(lambda url=url: operator.get(url), args.repeat)
        assert page.result.status_code == 200
        rows_sql, all_sql = page_queries(operator, url)
        floor_ms = common.timed(common.run_sql(rows_sql), args.repeat).ms
        data_ms = common.timed(common.run_sql(all_sql), args.repeat).ms
        admin_query = {"tenant__id__exact": tenant.pk, **admin_params}
        admin_full = f"{admin_url}?{urlencode(admin_query)}"
        admin = common.timed(lambda u=admin_full: superuser.get(u), max(1, args.admin_repeat))
        assert admin.result.status_code == 200, admin.result.status_code
        page_ms, admin_ms = page.ms, admin.ms
        print(
            f"{label:<15}{page_ms:>9.1f}{page.cpu_ms:>7.1f}{floor_ms:>10.2f}{data_ms:>12.2f}"
            f"{common.ratio(page_ms, floor_ms, '>11.1f')}"
            f"{common.ratio(page_ms, data_ms, '>11.1f')}{admin_ms:>10.1f}"
            f"{common.ratio(admin_ms, page_ms, '>11.1f')}"
        )
        figures[label] = {
            "page_ms": round(page_ms, 2),
            "cpu_ms": round(page.cpu_ms, 2),
            "floor_ms": round(floor_ms, 3),
            "rows_count_ms": round(data_ms, 3),
            "page_floor": round(page_ms / floor_ms, 2) if floor_ms else None,
            "page_rows_count": round(page_ms / data_ms, 2) if data_ms else None,
            "admin_ms": round(admin_ms, 2),
        }
    return {"scenarios": figures, "suggestions": measure_suggestions(args, context, operator)}


def measure_suggestions(args, context, operator) -> dict:
    from django.urls import reverse

    rng = random.Random(11)
    url = reverse("clients:client_suggest")
    terms = []
    for row in context["sample"]:
        first, last = row["name"].lower().split()
        terms += [
            last[: rng.randint(3, len(last))],
            first[: rng.randint(3, len(first))],
            row["company"].split()[0].lower()[:4],
            str(row["number"])[: rng.randint(1, len(str(row["number"])))],
            row["login"][: rng.randint(3, 8)],
            row["itn"][: rng.randint(2, 6)],
        ]
    rng.shuffle(terms)
    terms = terms[: args.suggestions]
    for term in terms[:10]:
        operator.get(url, {"q": term})  # warm-up
    times, empty = [], 0
    for term in terms:
        started = time.perf_counter()
        response = operator.get(url, {"q": term})
        times.append((time.perf_counter() - started) * 1000)
        empty += b'data-testid="suggestion"' not in response.content
    times.sort()
    p50 = statistics.median(times)
    p95 = common.percentile(times, 0.95)
    print(
        f"\nsuggestions: {len(times)} requests (name, company, ID, login and ITN prefixes): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms "
        f"({empty} with no match)"
    )
    return {"requests": len(times), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}


def write_figures(args, context, figures: dict) -> None:
    """bench/out/client_list.json (common.Figures): each scenario's page against its floor (the
    rows' SQL alone), with its CPU, rows-and-count and admin times beside it."""
    out = common.Figures(
        "client_list",
        clients=context["total"],
        other=args.other,
        repeat=args.repeat,
        label=args.label,
    )
    for label, scenario in figures["scenarios"].items():
        out.add(
            f"{label.replace(' ', '_')}_page_ms",
            scenario["page_ms"],
            "ms",
            scenario["floor_ms"],
            cpu_ms=scenario["cpu_ms"],
            rows_count_ms=scenario["rows_count_ms"],
            admin_ms=scenario["admin_ms"],
        )
    suggestions = figures["suggestions"]
    out.add("suggestions_p50_ms", suggestions["p50_ms"], "ms", requests=suggestions["requests"])
    out.add("suggestions_p95_ms", suggestions["p95_ms"], "ms", requests=suggestions["requests"])
    out.write()


def main():
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when redirected to a file
    args = parse_args()
    common.prepare_environment(args.database, reuse=args.reuse)
    common.setup_django()
    import logging

    logging.getLogger("axes").setLevel(logging.WARNING)  # one line per force_login otherwise
    warnings.filterwarnings("ignore", message="No directory at")
    started = time.perf_counter()
    context = load(args)
    print(f"Data ready in {time.perf_counter() - started:.1f} s.")
    write_figures(args, context, measure(args, context))


if __name__ == "__main__":
    main()
