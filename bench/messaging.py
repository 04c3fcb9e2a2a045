"""Benchmark of messaging statistics at scale: rollups against raw GROUP BY on the records.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        nice .venv/bin/python bench/messaging.py
    ... bench/messaging.py --records 2000000 --busy 200000     # a quicker run
    ... bench/messaging.py --reuse                              # keep the previous run's data

It creates its own database (`clientdesk_bench_messaging` on DATABASE_URL's server), migrates
it, and loads --records message records for one tenant with PostgreSQL COPY (the secondary
index and the unique key dropped during the load and built after it): --clients clients, of
which one busy client has --busy records over one year, the rest spread over the others; 85 %
SMS, 15 % Viber; a dozen countries and their operators; statuses as a gateway reports them.
Then, in the same run:

- rollup job throughput: every (client, day) marked dirty and rebuilt by `rollups_refresh`,
  the Celery job's own code (client-days/s and records/s);
- each Statistics report for the busy client over a year (day, operator, sender ID, Viber
  sender ID, country): `statistics_report` (reads the rollups) against the equivalent raw
  GROUP BY on the message records (the same filters, the same (tenant, client, day) index),
  median of --repeat runs after a warm-up, and the ratio; also the whole page (Django's test
  client, logged in) for the year by day;
- ingestion throughput: `messages_ingest` of --ingest new records (texts to count parts,
  numbers to resolve) and `messages_apply_reports` of as many delivery reports, then the
  incremental rollup of the days they touched;
- the daily charge job for one closed day of every client (one ledger entry each).

The tenant's time zone is UTC here, so that generated timestamps and days agree trivially.

Figures of a full run (20,000,000 records, busy client 2,000,000, 1,000 clients; 2 cores,
PostgreSQL 15, run with `nice` beside other test runs, 2026-11-23):

    COPY 20M records 33k/s; indexes built after the load; total load 995 s
    rollup job, full build: 365,000 client-days in 800 s = 456 client-days/s, 25,000 records/s
    rollup rows: 2,106,198 by sender, 4,034,493 by route
    year report, busy client      rollups   raw GROUP BY   ratio
      by day                      29.7 ms      4,025 ms     135x
      by operator                 11.1 ms      4,415 ms     398x
      by sender ID                 6.7 ms      3,857 ms     578x
      by Viber sender ID           4.3 ms      3,339 ms     772x
      by country                  12.3 ms      4,035 ms     327x
    Statistics page, a year by day: 30 ms (whole request)
    ingestion 3,785 records/s; re-import of 20,000 known keys 3.8 s; delivery reports 5,693/s
    incremental rollup of the 350 client-days they touched: 2.7 s
    daily charges: 1,000 clients in 15.7 s (64/s); a second run posts nothing (0.09 s)
"""

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import common
from common import log

BENCH_DB = "clientdesk_bench_messaging"
YEAR_END = date(2026, 10, 31)
YEAR_START = YEAR_END - timedelta(days=364)
ROUTES = [  # country, operator, the start of its numbers, digits that follow
    ("LV", "LMT", "+37129", 6),
    ("LV", "Tele2", "+37126", 6),
    ("LV", "Bite", "+37125", 6),
    ("LT", "Telia", "+37068", 6),
    ("LT", "Bite", "+37067", 6),
    ("EE", "Telia", "+37251", 5),
    ("EE", "Elisa", "+37256", 6),
    ("DE", "T-Mobile", "+49151", 8),
    ("DE", "Vodafone", "+49172", 7),
    ("DE", "O2", "+49176", 8),
    ("PL", "Orange", "+48501", 6),
    ("PL", "Play", "+48790", 6),
    ("RU", "MTS", "+7916", 7),
    ("RU", "Beeline", "+7903", 7),
    ("FI", "Elisa", "+35850", 7),
    ("", "", "+88216", 8),
]
STATUSES = ["delivered"] * 88 + ["failed"] * 4 + ["expired"] * 2 + ["rejected"] + ["sent"] * 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000_000)
    parser.add_argument("--busy", type=int, default=2_000_000, help="records of the busy client")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--raw-repeat", type=int, default=3)
    parser.add_argument("--ingest", type=int, default=100_000)
    return parser.parse_args()


# -- data -----------------------------------------------------------------------------------
def create_tenant_and_clients(args):
    from django.contrib.auth import get_user_model

    from clients.models import Client
    from tenancy.models import Membership, Tenant

    tenant = Tenant.objects.create(
        name="Bench Messaging", slug="bench-messaging", time_zone="UTC", uses_messaging=True
    )
    Client.objects.for_tenant(tenant).bulk_create(
        [
            Client(tenant=tenant, number=n, name=f"Client {n}", sms_price=Decimal("0.0350"))
            for n in range(1, args.clients + 1)
        ],
        batch_size=5000,
    )
    user = get_user_model().objects.create_user("bench", password="bench-password-42")
    Membership.objects.for_tenant(tenant).create(tenant=tenant, user=user, role="owner")
    return tenant


def load_messages(args, tenant) -> None:
    from django.db import connection

    from clients.models import Client

    client_ids = list(
        Client.objects.for_tenant(tenant).order_by("number").values_list("id", flat=True)
    )
    busy, others = client_ids[0], client_ids[1:] or client_ids
    rng = random.Random(20)
    senders = {cid: [f"S{cid % 97}", f"Brand{cid % 13}", "Info"] for cid in client_ids}
    senders[busy] = ["Shop", "Bank", "Delivery", "Promo", "Info", "1919", "Taxi", "Clinic"]
    days = [(YEAR_START + timedelta(days=i)).isoformat() for i in range(365)]
    routes = [
        (
            country,
            operator,
            prefix,
            digits,
            ("gateway" if i % 3 == 0 else "prefix") if operator else "unknown",
        )
        for i, (country, operator, prefix, digits) in enumerate(ROUTES)
    ]
    countries = sorted({r[0] for r in routes if r[0]})
    home = {
        cid: [r for r in routes if r[0] == countries[cid % len(countries)]] for cid in client_ids
    }
    columns = (
        "tenant_id, client_id, key, channel, sender, recipient, country, operator, "
        "operator_source, mcc_mnc, parts, status, price, sent_at, day, delivered_at, "
        "status_changed_at"
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS message_client_day_idx")
        cursor.execute("ALTER TABLE messaging_message DROP CONSTRAINT IF EXISTS message_unique_key")
    connection.ensure_connection()
    raw = connection.connection
    tenant_id = tenant.pk
    parts_pool = [1] * 70 + [2] * 20 + [3] * 8 + [4] * 2
    busy_share = args.busy / args.records
    start = time.perf_counter()
    written = 0
    chunk = 50_000
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY messaging_message ({columns}) FROM STDIN") as copy,
    ):
        while written < args.records:
            lines = []
            for i in range(written, min(args.records, written + chunk)):
                # Records come in time order, as a gateway sends them (the table is appended
                # day after day); the busy client's share is --busy of --records.
                client_id = busy if rng.random() < busy_share else others[i % len(others)]
                viber = rng.random() < 0.15
                # Most of a client's traffic goes to its home country's operators.
                if rng.random() < 0.8:
                    route = home[client_id][rng.randrange(len(home[client_id]))]
                else:
                    route = routes[rng.randrange(len(routes))]
                country, operator, prefix, digits, source = route
                status = rng.choice(STATUSES)
                parts = 1 if viber else rng.choice(parts_pool)
                day = days[i * 365 // args.records]
                moment = f"{day} {rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}:00+00"
                delivered = moment if status == "delivered" else "\\N"
                lines.append(
                    f"{tenant_id}\t{client_id}\tb{i}\t{'viber' if viber else 'sms'}\t"
                    f"{rng.choice(senders[client_id])}{'V' if viber else ''}\t"
                    f"{prefix}{i % 10**digits:0{digits}d}\t{country}\t{operator}\t{source}\t\t"
                    f"{parts}\t{status}\t{Decimal('0.0350') * parts}\t{moment}\t{day}\t"
                    f"{delivered}\t{delivered}\n"
                )
            copy.write("".join(lines))
            written += len(lines)
            if written % 1_000_000 == 0 or written == args.records:
                log(
                    f"  COPY {written:,} records ({written / (time.perf_counter() - start):,.0f}/s)"
                )
    raw.commit() if not raw.autocommit else None
    log("Building the (tenant, client, day) index and the unique key ...")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX message_client_day_idx ON messaging_message (tenant_id, client_id, day)"
        )
        cursor.execute(
            "ALTER TABLE messaging_message ADD CONSTRAINT message_unique_key "
            "UNIQUE (tenant_id, key)"
        )
        cursor.execute("VACUUM ANALYZE messaging_message")


# -- measurements ---------------------------------------------------------------------------
RAW_SQL = {
    "day": ("day", ""),
    "operator": ("country, operator", ""),
    "sender": ("sender", "AND channel = 'sms'"),
    "viber_sender": ("sender", "AND channel = 'viber'"),
    "country": ("country", ""),
}


def raw_report(tenant, client, key: str):
    from django.db import connection

    dims, channel = RAW_SQL[key]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {dims}, COUNT(*), "
            "SUM(CASE WHEN status <> 'rejected' THEN parts ELSE 0 END), "
            "SUM(CASE WHEN status = 'delivered' THEN parts ELSE 0 END), "
            "SUM(CASE WHEN status = 'sent' THEN parts ELSE 0 END), "
            "SUM(CASE WHEN status IN ('failed', 'expired') THEN parts ELSE 0 END), "
            "SUM(CASE WHEN status = 'rejected' THEN parts ELSE 0 END), "
            "SUM(CASE WHEN status <> 'rejected' THEN price ELSE 0 END) "
            "FROM messaging_message WHERE tenant_id = %s AND client_id = %s "
            f"AND day >= %s AND day <= %s {channel} GROUP BY {dims} ORDER BY {dims}",
            [tenant.pk, client.pk, YEAR_START, YEAR_END],
        )
        return cursor.fetchall()


def main():
    args = parse_args()
    common.prepare_environment(args.database, reuse=args.reuse)
    common.setup_django()  # plain static storage: no collectstatic manifest needed
    from django.db import connection
    from django.test import Client as TestClient
    from django.urls import reverse
    from django_scopes import scopes_disabled

    from billing.selectors import Period
    from clients.models import Client
    from messaging.models import DailyRouteStat, DailySenderStat, MessagingCharge
    from messaging.selectors import REPORTS, statistics_report
    from messaging.services import (
        messages_apply_reports,
        messages_ingest,
        messaging_charges_post,
        rollups_rebuild_all,
        rollups_refresh,
    )
    from tenancy.models import Tenant

    figures = common.Figures(
        "messaging", records=args.records, busy=args.busy, clients=args.clients, reuse=args.reuse
    )
    with scopes_disabled():
        common.migrate()
        tenant = Tenant.objects.filter(slug="bench-messaging").first()
        if tenant is None or not args.reuse:
            log(f"Loading {args.records:,} records ({args.busy:,} of the busy client) ...")
            with common.Stopwatch() as watch:
                tenant = create_tenant_and_clients(args)
                load_messages(args, tenant)
            log(f"Loaded in {watch.seconds:,.0f} s")
            log("Rollup job over every (client, day) ...")
            with common.Stopwatch() as watch:
                result = rollups_rebuild_all(tenant=tenant)
            elapsed = watch.seconds
            log(
                f"ROLLUP full build: {result.days:,} client-days in {elapsed:,.1f} s = "
                f"{result.days / elapsed:,.0f} client-days/s, {args.records / elapsed:,.0f} "
                f"records/s"
            )
            figures.add("rollup_full_client_days_per_s", result.days / elapsed, "client-days/s")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE messaging_dailysenderstat")
                cursor.execute("VACUUM ANALYZE messaging_dailyroutestat")
        busy = Client.objects.for_tenant(tenant).get(number=1)
        log(
            f"Rollup rows: {DailySenderStat.objects.for_tenant(tenant).count():,} by sender, "
            f"{DailyRouteStat.objects.for_tenant(tenant).count():,} by route"
        )
        period = Period(start=YEAR_START, end=YEAR_END)
        print()
        header = f"{'report (busy client, one year)':34} {'rollups':>10} {'raw GROUP BY':>13}"
        print(f"{header} {'ratio':>8}")
        for key in REPORTS:
            fast = common.timed(
                lambda key=key: statistics_report(client=busy, report=key, period=period),
                args.repeat,
            )
            slow = common.timed(lambda key=key: raw_report(tenant, busy, key), args.raw_repeat)
            report, rows = fast.result, slow.result
            raw_sent = sum(r[-6] for r in rows)
            assert raw_sent == report.totals.sent, (key, raw_sent, report.totals.sent)
            print(
                f"{REPORTS[key].label:34} {fast.ms:8.1f} ms {slow.ms:10.1f} ms "
                f"{common.ratio(slow.ms, fast.ms, '7.0f')}  "
                f"(sent {report.totals.sent:,} parts, {len(report.rows)} rows)"
            )
            figures.add(f"report_{key}_ms", fast.ms, "ms", floor=slow.ms)
        browser = TestClient()
        from django.contrib.auth import get_user_model

        browser.force_login(get_user_model().objects.get(username="bench"))
        url = reverse("messaging:client_statistics", kwargs={"number": busy.number})
        query = {"report": "day", "start": YEAR_START.isoformat(), "end": YEAR_END.isoformat()}
        page = common.timed(lambda: browser.get(url, query), args.repeat)
        assert page.result.status_code == 200, page.result.status_code
        print(f"{'Statistics page, year by day':34} {page.ms:8.1f} ms (whole request)")
        figures.add("statistics_page_year_by_day_ms", page.ms, "ms")
        print()

        # Ingestion and delivery reports, then the incremental rollup of the touched days.
        clients = list(Client.objects.for_tenant(tenant).order_by("number")[:50])
        rng = random.Random(7)
        texts = ["Your code is 4711", "x" * 200, "Привет, ваш заказ готов", "Sale! 😀 -20 %"]
        now = datetime(2026, 10, 30, 12, tzinfo=UTC)
        records = [
            {
                "key": f"ingest-{i}",
                "client": clients[i % len(clients)].number,
                "channel": "sms",
                "sender": "Shop",
                "recipient": route[2] + f"{i % 10 ** route[3]:0{route[3]}d}",
                "text": rng.choice(texts),
                "status": "sent",
                "sent_at": (now - timedelta(days=rng.randint(0, 6))).isoformat(),
            }
            for i, route in ((i, rng.choice(ROUTES[:-1])) for i in range(args.ingest))
        ]
        with common.Stopwatch() as watch:
            ingested = messages_ingest(tenant=tenant, records=records)
        elapsed = watch.seconds
        log(
            f"INGEST {ingested.created:,} new records in {elapsed:,.1f} s = "
            f"{ingested.created / elapsed:,.0f} records/s ({ingested.failed} refused)"
        )
        figures.add("ingest_records_per_s", ingested.created / elapsed, "records/s")
        with common.Stopwatch() as watch:
            again = messages_ingest(tenant=tenant, records=records[:20000])
        log(f"INGEST re-import of 20,000: {again.duplicates:,} skipped in {watch.seconds:,.1f} s")
        reports = [{"key": r["key"], "status": "delivered"} for r in records]
        with common.Stopwatch() as watch:
            applied = messages_apply_reports(tenant=tenant, reports=reports)
        elapsed = watch.seconds
        log(
            f"REPORTS {applied.applied:,} delivery reports in {elapsed:,.1f} s = "
            f"{applied.applied / elapsed:,.0f}/s"
        )
        figures.add("delivery_reports_per_s", applied.applied / elapsed, "reports/s")
        with common.Stopwatch() as watch:
            incremental = rollups_refresh(tenant=tenant)
        elapsed = watch.seconds
        log(
            f"ROLLUP incremental: {incremental.days:,} client-days in {elapsed:,.1f} s "
            f"({incremental.days / elapsed:,.0f} client-days/s)"
        )
        figures.add(
            "rollup_incremental_client_days_per_s", incremental.days / elapsed, "client-days/s"
        )

        # The daily charge: every client's last closed day, one ledger entry each.
        charges = MessagingCharge.objects.for_tenant(tenant)
        last_day = YEAR_END
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE messaging_messagingcharge SET settled = TRUE, charged_parts = due_parts, "
                "charged_amount = ROUND(due_amount, 2) WHERE tenant_id = %s AND day <> %s",
                [tenant.pk, last_day],
            )
        todo = charges.filter(settled=False).count()
        with common.Stopwatch() as watch:
            charged = messaging_charges_post(
                tenant=tenant, now=datetime(2026, 11, 1, 1, tzinfo=UTC)
            )
        elapsed = watch.seconds
        log(
            f"CHARGES {charged.charged:,} daily charges ({todo:,} due) in {elapsed:,.1f} s = "
            f"{charged.charged / max(elapsed, 1e-9):,.0f}/s"
        )
        figures.add("daily_charges_per_s", charged.charged / max(elapsed, 1e-9), "charges/s")
        with common.Stopwatch() as watch:
            second = messaging_charges_post(tenant=tenant, now=datetime(2026, 11, 1, 1, tzinfo=UTC))
        log(f"CHARGES second run: {second.charged} posted in {watch.seconds:,.2f} s")
        figures.add("daily_charges_second_run_s", watch.seconds, "s", posted=second.charged)
    figures.write()


if __name__ == "__main__":
    main()
