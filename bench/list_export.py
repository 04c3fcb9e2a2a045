"""Benchmark of a list page's Export .xlsx: 1,000,000 rows of the client list.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/list_export.py
    ... bench/list_export.py --clients 100000     # a quicker run
    ... bench/list_export.py --reuse              # keep the previous data

It creates its own database (`clientdesk_bench_list_export` on the server of DATABASE_URL),
migrates it and loads --clients clients (bench/client_list.py's rows) of a messaging tenant,
each with an account, with COPY. The client list's default view (its default columns and sort,
the tenant's owner) is exported twice, side by side in two child processes:

- export: the export job of the list (`exports.lists`, kind `exports.list`) run by
  `exports.services.export_job_execute`: the list view's own table, FilterSet and sort, every
  row read through the ORM and each column's export value, written by the exports writer;
- floor ("the writer alone"): the same rows, read with psycopg by the SQL of the same columns
  and order, their values mapped as the export maps them (a status's label, the contact's name
  and e-mail), written by the same writer (`exports.xlsx.XlsxStreamWriter`), without Django.

It prints the wall and CPU time of each and their ratio (the target: within 1.3x), and writes
bench/out/list_export.json (`common.Figures`).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import common

BENCH_DB = "clientdesk_bench_list_export"
TENANT_SLUG = "bench-list-export"
TARGET_RATIO = 1.3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000, help="clients to export")
    parser.add_argument("--database", default=BENCH_DB, help="name of the database to create")
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run")
    parser.add_argument("--child", choices=["export", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    return parser.parse_args()


def prepare_environment(args) -> None:
    if args.child:
        return  # the parent set everything up, and its environment is the children's
    os.environ.setdefault("MEDIA_ROOT", f"/tmp/{BENCH_DB}-media")
    common.prepare_environment(args.database, reuse=args.reuse)


# -- data -----------------------------------------------------------------------------------
def load(args):
    """The tenant, its owner, client types, clients and their accounts; returns the tenant."""
    from client_list import client_rows
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from billing.models import Account
    from clients.models import Client, ClientGroup
    from tenancy.models import Membership, Tenant, TenantSequence

    common.migrate()
    with scopes_disabled():
        tenant = Tenant.objects.filter(slug=TENANT_SLUG).first()
        if tenant and Client.objects.filter(tenant=tenant).exists():
            print(f"Reusing {Client.objects.filter(tenant=tenant).count():,} clients.")
            return tenant
        tenant = Tenant.objects.create(
            name="Bench messaging", slug=TENANT_SLUG, uses_messaging=True, currency="EUR"
        )
        owner = get_user_model().objects.create_user("bench-owner", password="bench-password-1")
        Membership.objects.create(tenant=tenant, user=owner, role="owner")
        groups = [
            ClientGroup.objects.create(tenant=tenant, name=name).pk
            for name in ("Enterprise", "SMB", "Education")
        ]
    raw = connection.connection
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        indexes = common.drop_secondary_indexes(cursor, Client._meta.db_table)
    common.copy_clients(raw, client_rows(tenant.pk, args.clients, groups, 1))
    TenantSequence.objects.create(tenant=tenant, name="client", last_value=args.clients)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM clients_client WHERE tenant_id = %s", [tenant.pk])
        ids = [row[0] for row in cursor.fetchall()]
    common.copy_objects(
        raw,
        Account,
        (
            {
                "tenant_id": tenant.pk,
                "client_id": pk,
                "balance": Decimal(pk % 9000 - 1000) / 10,
                "credit_limit": Decimal(pk % 5 * 100),
                "updated_at": now,
            }
            for pk in ids
        ),
    )
    with connection.cursor() as cursor:
        common.build_indexes(cursor, indexes)
        cursor.execute("VACUUM ANALYZE clients_client")
        cursor.execute("VACUUM ANALYZE billing_account")
    print(f"Loaded {args.clients:,} clients and accounts in {time.perf_counter() - started:.1f} s.")
    return tenant


def owner_membership(tenant):
    from tenancy.models import Membership

    return Membership.objects.for_tenant(tenant).select_related("user").get(role="owner")


def floor_plan(table) -> dict:
    """The SQL of the exported columns, in the list's order, and how the floor maps each
    column's values as the export does (its label, or the contact's two parts joined)."""
    from core.tables import export_text_of

    paths, columns, mapping = [], [], []
    for field in table.export_fields():
        bound = table.columns[field.name]
        column = bound.column
        if field.name == "contact":
            parts = ["contact_name", "contact_email"]
        else:
            parts = [str(column.accessor).replace(".", "__") if column.accessor else field.name]
        if getattr(column, "export_value", None) is not None and field.name != "contact":
            sys.exit(f"The floor does not know how column {field.name!r} exports.")
        to_text = export_text_of(table._field_at(parts[0])[0]) if len(parts) == 1 else None
        labels = {}
        if to_text is not None:
            model_field = table._field_at(parts[0])[0]
            labels = {str(v): str(label) for v, label in getattr(model_field, "flatchoices", [])}
            if not labels:  # yes/no
                labels = {"True": "Yes", "False": "No"}
        mapping.append({"at": len(paths), "parts": len(parts), "labels": labels})
        paths.extend(parts)
        columns.append({"header": field.header, "kind": field.kind})
    sql, params = table.data.data.values_list(*paths).query.sql_with_params()
    return {"sql": sql, "params": list(params), "columns": columns, "mapping": mapping}


def create_job(tenant) -> tuple[int, dict]:
    from django.urls import reverse
    from django_scopes import scope

    from exports.lists import LIST_EXPORT_KIND, list_export_parameters, list_export_title
    from exports.models import ExportJob
    from tenancy.lists import list_view_table

    membership = owner_membership(tenant)
    path = reverse("clients:client_list")
    with scope(tenant=tenant):
        table = list_view_table(
            path=path, query="", user=membership.user, tenant=tenant, membership=membership
        ).table
        job = ExportJob.objects.create(
            tenant=tenant,
            created_by=membership.user,
            kind=LIST_EXPORT_KIND,
            parameters=list_export_parameters(path=path, query="", table=table),
            title=list_export_title(table),
        )
        plan = floor_plan(table)
    print("Columns: " + ", ".join(c["header"] for c in plan["columns"]))
    return job.pk, plan


# -- the two children -------------------------------------------------------------------------
def child_export(job_id: int) -> dict:
    from django_scopes import scope, scopes_disabled

    from exports.models import ExportJob
    from exports.services import export_job_execute

    with scopes_disabled():
        job = ExportJob.objects.select_related("tenant").get(pk=job_id)
    with common.Stopwatch() as watch, scope(tenant=job.tenant):
        job = export_job_execute(job=job)
    return {
        "seconds": watch.seconds,
        "cpu": watch.cpu,
        "rows": job.progress,
        "status": job.status,
        "error": str(job.error),
        "size": job.file.size if job.file else 0,
    }


def child_floor(plan_path: str) -> dict:
    """The writer alone: psycopg rows, mapped as the export maps them, into XlsxStreamWriter."""
    from zoneinfo import ZoneInfo

    import psycopg

    from exports.xlsx import XlsxColumn, XlsxStreamWriter

    plan = json.loads(Path(plan_path).read_text())
    columns = [XlsxColumn(c["header"], c["kind"]) for c in plan["columns"]]
    mapping = [(m["at"], m["parts"], m["labels"]) for m in plan["mapping"]]
    target = Path(os.environ["MEDIA_ROOT"]) / "floor.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)

    def values(row):
        out = []
        for at, parts, labels in mapping:
            if parts == 1:
                value = row[at]
                out.append(labels.get(str(value), value) if labels else value)
            else:
                out.append(" ".join(p for p in row[at : at + parts] if p))
        return out

    with common.Stopwatch() as watch, psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        zone = ZoneInfo(plan["time_zone"])
        writer = XlsxStreamWriter(
            target, columns=columns, title="Clients", currency=plan["currency"], time_zone=zone
        )
        with conn.cursor(name="floor") as cursor:
            cursor.itersize = 2000
            cursor.execute(plan["sql"], plan["params"])
            rows = writer.write_rows(values(row) for row in cursor)
        writer.close()
    return {"seconds": watch.seconds, "cpu": watch.cpu, "rows": rows, "size": target.stat().st_size}


def run_children(args, job_id: int, plan_path: str) -> dict:
    """Both children side by side, so that the machine's changing load slows both alike."""
    running = {}
    for kind in ("export", "floor"):
        command = [sys.executable, __file__, "--child", kind, "--job", str(job_id)]
        command += ["--plan", plan_path, "--database", args.database]
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


def main():
    args = parse_args()
    prepare_environment(args)
    if args.child == "floor":
        result = child_floor(args.plan)
        print(json.dumps(result))
        return
    common.setup_django()
    if args.child == "export":
        print(json.dumps(child_export(args.job)))
        return
    started = time.perf_counter()
    tenant = load(args)
    print(f"Data ready in {time.perf_counter() - started:.1f} s.")
    job_id, plan = create_job(tenant)
    plan.update(time_zone=tenant.time_zone, currency=tenant.currency)
    plan_path = Path(os.environ["MEDIA_ROOT"]) / "floor-plan.json"
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path.write_text(json.dumps(plan, default=str))
    common.log(f"Exporting {args.clients:,} rows: the export job and the floor, side by side")
    results = run_children(args, job_id, str(plan_path))
    export, floor = results["export"], results["floor"]
    if export["status"] != "done":
        sys.exit(f"The export failed: {export['error']}")
    if export["rows"] != floor["rows"]:
        sys.exit(f"The export wrote {export['rows']:,} rows, the floor {floor['rows']:,}.")
    common.print_header(
        f"{'(side by side)':<28}{'rows':>11}{'wall s':>9}{'CPU s':>9}{'file MB':>9}"
    )
    for label, result in (
        ("export job (list view, ORM)", export),
        ("writer alone (psycopg)", floor),
    ):
        print(
            f"{label:<28}{result['rows']:>11,}{result['seconds']:>9.1f}{result['cpu']:>9.1f}"
            f"{result['size'] / 2**20:>9.1f}"
        )
    print(
        f"export / writer alone: {common.ratio(export['seconds'], floor['seconds'], '.2f')} wall, "
        f"{common.ratio(export['cpu'], floor['cpu'], '.2f')} CPU (target: within {TARGET_RATIO}x)"
    )
    figures = common.Figures("list_export", clients=args.clients, reuse=args.reuse)
    figures.add("list_export_wall", export["seconds"], "s", floor=floor["seconds"])
    figures.add("list_export_cpu", export["cpu"], "s", floor=floor["cpu"])
    figures.add(
        "list_export_rows_per_s",
        export["rows"] / export["seconds"],
        "rows/s",
        floor=floor["rows"] / floor["seconds"],
    )
    figures.write()


if __name__ == "__main__":
    main()
