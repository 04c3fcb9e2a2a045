"""Benchmark of a bulk administrative hold from the client list: "all N matching this filter"
held by the bulk action's job against the set-based SQL that writes the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bulk_hold.py
    ... bench/bulk_hold.py --clients 2000 --other 1000     # a quicker run

It creates its own database (`clientdesk_bench_bulk_hold`), migrates it and loads with COPY one
tenant with --clients clients of one client type (the selection) and --other clients of none,
each with an e-mail address (a hold owes its client an e-mail), and an owner.
Then, in one run:

- the floor: per chunk of --chunk clients (one transaction each, as the job), one statement
  that locks the chunk's clients and writes what the hold writes for them: the ClientHold rows,
  the clients' status, a `hold.placed` event per client and the e-mail owed (an outbox
  e-mail owed without its text, as the job owes it: the sender renders it after the commit);
  run over the whole selection, then rolled back;
- the bulk action as the operator starts it (the selection is the list's filter, `group=<id>`,
  evaluated again per chunk through the list's FilterSet), run by the job's code
  (`client_bulk_action_execute`: lease, chunks of 1,000 through `clients_place_hold`, the
  job's progress in each chunk's transaction), in a process whose startup heap is frozen as a
  worker's is (core/heap.py), best of --repeat runs, each on the same start (the holds and
  their rows removed between runs, outside the timing);
- the number of SQL statements of each (counted by an execute wrapper).

The figure, `bulk_hold_clients_per_s` with its floor, is written to bench/out/bulk_hold.json;
the issue asks for the job within 3x of the floor.
"""

import argparse
import os
import time
from datetime import UTC, datetime

import common

BENCH_DB = "clientdesk_bench_bulk_hold"
REASON = "Audit of the resellers' contracts"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000, help="clients selected")
    parser.add_argument("--other", type=int, default=10_000, help="clients the filter leaves out")
    parser.add_argument("--chunk", type=int, default=1000, help="clients a floor's transaction")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--profile", action="store_true", help="the slowest statements")
    parser.add_argument("--cprofile", action="store_true", help="Python's hot spots, one run")
    return parser.parse_args()


class Counter:
    """Counts the SQL statements run through Django's connection (an execute wrapper), and
    with --profile the time of each kind of statement."""

    profile: dict | None = None

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if self.profile is None:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split())[:90]
            spent, count = self.profile.get(key, (0.0, 0))
            self.profile[key] = (spent + time.perf_counter() - started, count + 1)


def load(args, now: datetime):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django_scopes import scopes_disabled

    from clients.models import ClientGroup
    from tenancy.models import Membership, Tenant

    with scopes_disabled():
        tenant = Tenant.objects.create(
            name="Bench bulk hold", slug="bench-bulk-hold", currency="EUR", time_zone="UTC"
        )
        group = ClientGroup.objects.create(tenant=tenant, name="Resellers")
        user = get_user_model().objects.create_user("bench-owner", password="bench-pass-1234")
        membership = Membership.objects.create(tenant=tenant, user=user, role="owner")
    total = args.clients + args.other
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
                    "group_id": group.pk if i <= args.clients else None,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                    "search_text": f"bench {i}",
                }
                for i in range(1, total + 1)
            ),
        )
        raw.execute("ANALYZE")
    return tenant, group, membership


def floor_sql(tenant, group, user, chunk: int):
    """One statement a chunk: lock the next clients of the type, then write the holds, the
    status, the events and the e-mails owed. Returns the last id (None when done)."""
    from clients.models import Client
    from events.models import Event
    from events.outbox import OutboxEmail
    from holds.models import ClientHold

    clients, holds = Client._meta.db_table, ClientHold._meta.db_table
    events, notes = Event._meta.db_table, OutboxEmail._meta.db_table
    sql = f"""
        WITH c AS (
            SELECT id FROM {clients}
            WHERE tenant_id = %(tenant)s AND group_id = %(group)s AND status <> 'deleted'
              AND id > %(after)s
            ORDER BY id LIMIT %(chunk)s FOR UPDATE
        ), h AS (
            INSERT INTO {holds} (tenant_id, client_id, kind, reason, set_by_id, set_by_job,
                                 set_at, lifted_by_job, lift_reason)
            SELECT %(tenant)s, c.id, 'administrative', to_jsonb(%(reason)s::text), %(user)s, '',
                   now(), '', '""'::jsonb
            FROM c RETURNING id, client_id
        ), s AS (
            UPDATE {clients} SET status = 'administrative_hold', updated_at = now()
            FROM c WHERE {clients}.id = c.id
        ), e AS (
            INSERT INTO {events} (tenant_id, created_at, type, actor_kind, actor_id, actor_label,
                                  object_type, object_id, client_id, description, payload)
            SELECT %(tenant)s, now(), 'hold.placed', 'operator', %(user)s, '', 'hold', h.id,
                   h.client_id, to_jsonb('Administrative hold set: ' || %(reason)s),
                   jsonb_build_object('hold', h.id, 'kind', 'administrative',
                                      'reason', %(reason)s::text, 'job', '')
            FROM h
        ), n AS (
            INSERT INTO {notes} (tenant_id, key, kind, client_id, "to", subject, body, context,
                                 created_at, status, next_attempt_at, attempts, error)
            SELECT %(tenant)s, 'hold:' || h.id, 'hold_set', h.client_id,
                   jsonb_build_array(cl.email), '', '', jsonb_build_object('hold', h.id), now(),
                   'queued', now() + interval '5 minutes', 0, '""'::jsonb
            FROM h JOIN {clients} cl ON cl.id = h.client_id
        )
        SELECT max(client_id), count(*) FROM h
    """  # noqa: S608 - the table names are the models'

    def run():
        from django.db import connection, transaction

        after, held = 0, 0
        with transaction.atomic():  # rolled back: the real run starts from the same rows
            while True:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        sql,
                        {
                            "tenant": tenant.pk,
                            "group": group.pk,
                            "after": after,
                            "chunk": chunk,
                            "reason": REASON,
                            "user": user.pk,
                        },
                    )
                    last, count = cursor.fetchone()
                if not count:
                    break
                after, held = last, held + count
            transaction.set_rollback(True)
        return held

    return run


def reset(tenant) -> None:
    """Back to the start: no holds, events or e-mails owed, every client Active, no job; then
    VACUUM, so that each run finds the tables as the floor did (not bloated by the last run)."""
    from django.db import connection

    tables = ("events_outboxemail", "events_event", "holds_clienthold")
    with connection.cursor() as c:
        for table in tables:
            c.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        c.execute(
            "UPDATE clients_client SET status = 'active' WHERE tenant_id = %s "
            "AND status <> 'active'",
            [tenant.pk],
        )
        c.execute("DELETE FROM clients_clientbulkaction WHERE tenant_id = %s", [tenant.pk])
        for table in (*tables, "clients_client", "clients_clientbulkaction"):
            c.execute(f"VACUUM ANALYZE {table}")


def bulk_hold(tenant, group, membership, expected: int):
    from django.db import transaction
    from django_scopes import scope

    from clients.bulk import bulk_action_for, client_bulk_action_execute, client_bulk_action_start
    from clients.bulk_views import bulk_title
    from clients.models import ClientBulkAction

    def run():
        with scope(tenant=tenant):
            action = bulk_action_for(membership, "hold_place")
            with transaction.atomic():  # the request: the job is queued (not run inline)
                job = client_bulk_action_start(
                    tenant=tenant,
                    actor=membership.user,
                    membership=membership,
                    action=action,
                    selection={"query": f"group={group.pk}"},
                    parameters={"reason": REASON},
                    title=bulk_title(action, expected),
                    inline_limit=100,
                )
            job = ClientBulkAction.objects.for_tenant(tenant).get(pk=job.pk)
            job = client_bulk_action_execute(job=job)  # the worker
        if job.done != expected:
            raise SystemExit(f"the job held {job.done}, not {expected}: {job.error}")
        return job.done

    return run


def main():
    args = parse_args()
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"
    common.prepare_environment(args.database)
    common.setup_django(plain_static=False)
    from django.db import connection

    import clients.bulk as bulk
    from core.heap import startup_heap_freeze

    common.migrate()
    now = datetime.now(UTC)
    common.print_header(f"Bulk hold of {args.clients:,} clients ({args.other:,} others)")
    with common.Stopwatch() as watch:
        tenant, group, membership = load(args, now)
    common.log(f"loaded in {watch.seconds:.1f} s")
    # The job's task is queued after the commit: the bench runs the job itself, so no broker.
    bulk._queue = lambda job: None

    floor = floor_sql(tenant, group, membership.user, args.chunk)
    counter = Counter()
    with connection.execute_wrapper(counter):
        floor_timing = common.timed(floor, args.repeat)
    floor_statements = counter.count // (args.repeat + 1)
    if floor_timing.result != args.clients:
        raise SystemExit(f"the floor held {floor_timing.result}, not {args.clients}")

    run = bulk_hold(tenant, group, membership, args.clients)
    # The worker, as it starts: its heap frozen once the app is loaded (core.heap).
    startup_heap_freeze()
    if args.profile:
        Counter.profile = {}
    times, cpu, statements = [], [], 0
    for _ in range(args.repeat):
        reset(tenant)
        counter = Counter()
        with common.Stopwatch() as watch, connection.execute_wrapper(counter):
            run()
        times.append(watch.seconds)
        cpu.append(watch.cpu)
        statements = counter.count
    job_s = min(times)
    floor_s = floor_timing.min_ms / 1000

    rate, floor_rate = args.clients / job_s, args.clients / floor_s
    print(f"floor (set-based SQL, {args.chunk:,} a chunk)  {floor_s:8.2f} s  {floor_rate:8,.0f}/s")
    print(f"  statements                              {floor_statements:8,}")
    print(f"bulk hold job (best of {args.repeat})           {job_s:8.2f} s  {rate:8,.0f}/s")
    print(f"  runs                                    {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"  CPU of this process                     {min(cpu):8.2f} s")
    print(f"  statements                              {statements:8,}")
    print(f"  ratio to the floor                      {common.ratio(job_s, floor_s, '.2f')}")

    if args.cprofile:
        import cProfile
        import pstats

        reset(tenant)
        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    if args.profile:
        slowest = sorted(Counter.profile.items(), key=lambda item: -item[1][0])[:12]
        for statement, (spent, count) in slowest:
            print(f"  {spent * 1000:9.1f} ms {count:5}x  {statement}")

    figures = common.Figures(
        "bulk_hold", clients=args.clients, other=args.other, chunk=args.chunk, repeat=args.repeat
    )
    figures.add("bulk_hold_clients_per_s", rate, "/s", floor=floor_rate)
    figures.add("bulk_hold_statements", statements, "statements", floor=floor_statements)
    figures.add("bulk_hold_cpu_s", min(cpu), "s")
    figures.write()


if __name__ == "__main__":
    main()
