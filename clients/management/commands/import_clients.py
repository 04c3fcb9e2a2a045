"""`manage.py import_clients --tenant SLUG FILE [--dry-run] [--match-by external_ref|itn|login]`:
the page's import from a terminal, through the same services. The mapping is the one the page
would suggest (the tenant's remembered one, else by header wording). The commit runs in this
process under the import's lease. The last line is the counts."""

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from clients.import_files import ImportFileError
from clients.importing import (
    client_import_commit,
    client_import_execute,
    client_import_preview,
    client_import_upload,
    summary_line,
)
from clients.models import ImportStatus, MatchBy
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Import clients from an .xlsx or .csv file."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Preview only.")
        parser.add_argument("--match-by", choices=MatchBy.values)

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}.")
        with scope(tenant=tenant):
            try:
                job = client_import_upload(
                    tenant=tenant, actor=None, path=options["file"], file_name=options["file"]
                )
                if options["match_by"] and options["match_by"] != job.match_by:
                    job = client_import_preview(
                        job=job, mapping=job.mapping, match_by=options["match_by"], actor=None
                    )
            except ImportFileError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            for refused in job.refused_rows().iterator(chunk_size=2000):
                self.stdout.write(f"line {refused.line}: {refused.field_label}: {refused.reason}")
            if options["dry_run"]:
                self.stdout.write(summary_line(job.preview))
                job.file.delete(save=False)
                job.delete()
                return
            try:
                job = client_import_commit(job=job, actor=None, queue=False)
            except Exception as exc:
                raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
            job = client_import_execute(job=job)
            if job.status != ImportStatus.DONE:
                raise CommandError(str(job.error) or f"The import is {job.status}.")
            self.stdout.write(summary_line(job.counts))
