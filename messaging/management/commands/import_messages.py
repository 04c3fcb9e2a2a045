"""Import message records (or delivery reports) from CSV or JSON lines.

    manage.py import_messages --tenant demo-sms messages.csv
    manage.py import_messages --tenant demo-sms --format jsonl messages.jsonl
    manage.py import_messages --tenant demo-sms --reports reports.jsonl
    cat messages.jsonl | manage.py import_messages --tenant demo-sms --format jsonl -

CSV has a header row naming the fields (key, client, channel, sender, recipient, text or parts,
status, price, sent_at, delivered_at, operator, mcc_mnc; for reports: key, status, at,
operator, mcc_mnc). Records go to the ingestion service in batches, so a file of any size
streams; a record already imported (same key) is skipped, so the same file twice changes
nothing. With --rollup the tenant's rollups are rebuilt at the end (otherwise the next run of
the Celery job does it).
"""

import csv
import io
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from messaging.services import messages_apply_reports, messages_ingest, rollups_refresh
from tenancy.models import Tenant


def _csv_records(handle):
    for row in csv.DictReader(handle):
        yield {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}


def _jsonl_records(handle, errors: list):
    for number, line in enumerate(handle, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(value, dict):
            errors.append(f"line {number}: not a JSON object")
            continue
        yield value


class Command(BaseCommand):
    help = "Import message records or delivery reports from CSV or JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("path", help="File to read, or - for standard input.")
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--format", choices=["csv", "jsonl"], help="Default: by extension.")
        parser.add_argument("--reports", action="store_true", help="The file holds reports.")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--rollup", action="store_true", help="Rebuild rollups at the end.")

    def handle(self, *args, path, tenant, format=None, reports=False, batch_size=2000, **options):
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant with slug “{tenant}”.")
        if not tenant_obj.uses_messaging:
            raise CommandError(f"{tenant_obj.name} does not use messaging.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        fmt = format or ("csv" if path.lower().endswith(".csv") else "jsonl")
        if path == "-":
            handle = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
        else:
            file = Path(path)
            if not file.is_file():
                raise CommandError(f"No file {path}.")
            handle = file.open(encoding="utf-8-sig", newline="")
        parse_errors: list[str] = []
        with handle, scope(tenant=tenant_obj):
            records = _csv_records(handle) if fmt == "csv" else _jsonl_records(handle, parse_errors)
            if reports:
                result = messages_apply_reports(
                    tenant=tenant_obj, reports=records, batch_size=batch_size
                )
                summary = (
                    f"{result.received} reports: {result.applied} applied, "
                    f"{result.unchanged} unchanged, {result.unknown} unknown, "
                    f"{result.failed} refused"
                )
            else:
                result = messages_ingest(tenant=tenant_obj, records=records, batch_size=batch_size)
                summary = (
                    f"{result.received} records: {result.created} new, "
                    f"{result.duplicates} already imported, {result.failed} refused"
                )
            for message in parse_errors[:50]:
                self.stderr.write(message)
            for error in result.errors[:50]:
                self.stderr.write(
                    f"record {error.index} ({error.key or 'no key'}): {error.message}"
                )
            if options.get("rollup"):
                done = rollups_refresh(tenant=tenant_obj)
                summary += f"; rollups rebuilt for {done.days} client-days"
        self.stdout.write(self.style.SUCCESS(summary))
