"""Benchmark of the client import: 100,000 clients from an .xlsx, preview and commit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clientdesk \
        .venv/bin/python bench/client_import.py
    ... bench/client_import.py --clients 20000      # a quicker run
    ... bench/client_import.py --clients 20000 --cprofile   # hot spots of preview and commit

It creates its own database (`clientdesk_bench_import`), writes a workbook of --clients rows
(2% of them refused: a bad e-mail) and measures in one run:

- read: openpyxl alone reading every row of the file (read-only, values only): the floor of
  the preview;
- preview: `client_import_upload` (file checks, mapping, every row through ClientForm and
  matched against the tenant's clients, nothing written), against that floor;
- commit: `client_import_execute` in this process (chunks of 1,000 through the import's
  writes, accounts, activity lines), against COPY of the same client rows into another
  tenant (the floor of writing them);
- peak memory: the maximum resident size of this process, which ran preview and commit as a
  worker would.

Figures go to bench/out/client_import.json.
"""

import argparse
import resource
import tempfile
import time

import common

BENCH_DB = "clientdesk_bench_import"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument(
        "--cprofile", action="store_true", help="Python's hot spots of the preview and commit"
    )
    return parser.parse_args()


def write_workbook(path: str, count: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["External ID", "Client name", "Company", "E-mail", "Phone", "Opening balance"])
    for i in range(count):
        email = "not-an-email" if i % 50 == 7 else f"client{i}@example.com"
        sheet.append([f"EXT{i}", f"Client {i}", f"Company {i % 997}", email, f"+4930{i:07d}", ""])
    workbook.save(path)


def read_alone(path: str) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return rows


def copy_floor(tenant, count: int) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from clients.models import build_search_text  # after django.setup()

    now = timezone.now()

    def rows():
        for i in range(count):
            name, email = f"Client {i}", f"client{i}@example.com"
            yield {
                "tenant_id": tenant.pk,
                "number": i + 1,
                "name": name,
                "company": f"Company {i % 997}",
                "email": email,
                "phone": f"+4930{i:07d}",
                "external_ref": f"EXT{i}",
                "search_text": build_search_text(name, email),
                "created_at": now,
                "updated_at": now,
            }

    started = time.perf_counter()
    with transaction.atomic():
        common.copy_clients(connection.connection, rows())
    return time.perf_counter() - started


def profiled(function, enabled: bool, title: str):
    """Run `function`, with --cprofile printing its hot spots (the timing then includes the
    profiler's own cost: compare ratios of runs without it)."""
    if not enabled:
        return function()
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(function)
    common.print_header(f"hot spots: {title}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return result


def main():
    args = parse_args()
    common.prepare_environment(args.database)
    common.setup_django()
    common.migrate()
    import os

    from django.conf import settings
    from django_scopes import scope

    from clients.importing import (  # after django.setup()
        client_import_commit,
        client_import_execute,
        client_import_upload,
    )
    from tenancy.models import Tenant  # after django.setup()

    workdir = tempfile.mkdtemp(prefix="bench-import-")
    settings.MEDIA_ROOT = workdir
    path = os.path.join(workdir, "clients.xlsx")
    common.log(f"writing {args.clients:,} rows")
    write_workbook(path, args.clients)
    tenant = Tenant.objects.create(
        name="Import", slug="bench-import", uses_messaging=True, uses_reseller=True
    )
    other = Tenant.objects.create(name="Copy", slug="bench-copy")

    started = time.perf_counter()
    read_alone(path)
    read_seconds = time.perf_counter() - started
    with scope(tenant=tenant):
        started = time.perf_counter()
        job = profiled(
            lambda: client_import_upload(
                tenant=tenant, actor=None, path=path, file_name="clients.xlsx"
            ),
            args.cprofile,
            "preview",
        )
        preview_seconds = time.perf_counter() - started
        job = client_import_commit(job=job, actor=None, queue=False)
        started = time.perf_counter()
        job = profiled(lambda: client_import_execute(job=job), args.cprofile, "commit")
        commit_seconds = time.perf_counter() - started
    assert job.status == "done", job.error
    with scope(tenant=other):
        copy_seconds = copy_floor(other, job.counts["created"])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    common.print_header(f"client import of {args.clients:,} rows: {job.counts}")
    print(f"read (openpyxl alone) {read_seconds:8.2f} s")
    preview_ratio = common.ratio(preview_seconds, read_seconds)
    print(f"preview               {preview_seconds:8.2f} s  {preview_ratio}")
    print(f"COPY of the rows      {copy_seconds:8.2f} s")
    commit_ratio = common.ratio(commit_seconds, copy_seconds)
    print(f"commit                {commit_seconds:8.2f} s  {commit_ratio}")
    print(f"peak memory           {peak_mb:8.0f} MB")
    figures = common.Figures("client_import", **vars(args))
    figures.add("preview", preview_seconds, "s", floor=read_seconds)
    figures.add("commit", commit_seconds, "s", floor=copy_seconds)
    figures.add("peak memory", peak_mb, "MB")
    figures.write()


if __name__ == "__main__":
    main()
