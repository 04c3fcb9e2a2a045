"""Benchmark of webhook delivery: deliveries per second per worker to a receiver on 127.0.0.1,
against the same receiver hit by a plain client loop (the floor).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres nice .venv/bin/python bench/webhooks.py
    ... bench/webhooks.py --events 500     # a quicker run

It creates its own database (`clientdesk_bench_webhooks`), migrates it, and starts a receiver
(a threaded http.server answering 204) in a process of its own, so that it does not share the
interpreter with the code measured. Then, in one run:

- the floor: --events POSTs of an event's body with the delivery headers through `requests`,
  one connection each (as a delivery opens one), in a loop;
- the deliveries: --events events of distinct clients written in one transaction by
  `events_record_bulk` to a tenant with one endpoint that wants them; after the commit the
  fan-out writes the deliveries and each is sent by its task, Celery running eagerly in this
  process (what one worker with one process does, without the broker's round trips), each
  through the outbound address policy, signed, under its lease, logged;
- the fan-out alone, again over the same events (it finds nothing to write: the idempotent
  run beat's sweep does).

Figures go to bench/out/webhooks.json: `deliveries_per_s` with the floor's rate, and the
statements per delivery.
"""

import argparse
import multiprocessing
import os
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import common

DATABASE = "clientdesk_bench_webhooks"
SECRET = "bench-signing-secret-0123456789"


def serve(connection) -> None:
    """The receiver: 204 to every POST; sends its port, then the count when asked to stop."""
    count = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            count["n"] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connection.send(server.server_address[1])
    connection.recv()  # stop
    server.shutdown()
    connection.send(count["n"])


class Counter:
    """Counts the SQL statements the block runs (Django's execute wrapper)."""

    def __init__(self):
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()

    # Celery runs eagerly here: no broker, and results kept in memory (none is read).
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"
    common.prepare_environment(DATABASE)
    common.setup_django()
    common.migrate()

    import requests
    from django.db import connection, transaction
    from django_scopes import scope, scopes_disabled

    from config.celery import app as celery_app
    from core.stored_text import StoredText
    from events.services import EventLine, events_record_bulk
    from events.webhook_models import WebhookDelivery
    from events.webhooks import webhook_endpoint_create, webhooks_fan_out
    from tenancy.models import Tenant

    here, there = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=serve, args=(there,), daemon=True)
    receiver.start()
    port = here.recv()
    url = f"http://127.0.0.1:{port}/hook"

    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    tenant = Tenant.objects.create(name="Bench hooks", slug="bench-hooks")
    with scope(tenant=tenant):
        webhook_endpoint_create(
            tenant=tenant, actor=None, url=url, secret=SECRET, event_types=["client.updated"]
        )

    body = b'{"type":"client.updated","payload":{"name":["Old","New"]}}'
    headers = {
        "Content-Type": "application/json",
        "X-Clientdesk-Event": "client.updated",
        "X-Clientdesk-Delivery": "00000000-0000-0000-0000-000000000000",
        "X-Clientdesk-Timestamp": "1700000000",
        "X-Clientdesk-Signature": "sha256=" + "0" * 64,
    }
    started = time.perf_counter()
    for _ in range(args.events):
        requests.post(url, data=body, headers=headers, timeout=10, allow_redirects=False)
    floor_s = time.perf_counter() - started
    floor_rate = args.events / floor_s

    lines = [
        EventLine(
            type="client.updated",
            client_id=n,
            description=StoredText.of_literal(f"Client {n} edited."),
        )
        for n in range(1, args.events + 1)
    ]
    counter = Counter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter), scope(tenant=tenant), transaction.atomic():
        events_record_bulk(tenant=tenant, lines=lines)
        # The commit ran the fan-out and every send, eagerly, in this process.
    delivery_s = time.perf_counter() - started
    with scopes_disabled():
        delivered = WebhookDelivery.objects.filter(status="delivered").count()
    if delivered != args.events:
        raise SystemExit(f"{delivered} of {args.events} delivered")
    rate = args.events / delivery_s

    refan = time.perf_counter()
    with scope(tenant=tenant):
        again = webhooks_fan_out(tenant=tenant, since=datetime(2000, 1, 1, tzinfo=UTC))
    refan_s = time.perf_counter() - refan

    here.send("stop")
    received = here.recv()
    receiver.join(timeout=10)

    print(f"{'':40} {'seconds':>10} {'per second':>12}")
    print(f"{'floor: plain POSTs':40} {floor_s:10.2f} {floor_rate:12.1f}")
    print(f"{'deliveries (fan-out, sign, lease, log)':40} {delivery_s:10.2f} {rate:12.1f}")
    print(f"{'fan-out again (nothing to write)':40} {refan_s:10.2f}")
    per_delivery = counter.statements / args.events
    print(f"\n{rate / floor_rate:.0%} of the floor's rate; {per_delivery:.1f} statements a")
    print(f"delivery; the receiver counted {received} requests ({again} written again).")

    figures = common.Figures("webhooks", events=args.events)
    figures.add("deliveries_per_s", rate, "/s", floor=floor_rate)
    figures.add("statements_per_delivery", per_delivery, "statements")
    figures.add("fan_out_again_s", refan_s, "s")
    figures.write()


if __name__ == "__main__":
    main()
