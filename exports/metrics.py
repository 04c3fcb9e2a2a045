"""The export jobs' family for /metrics (core.metrics), read from the table at each scrape:
right whichever process is scraped, and the table stays small (jobs are purged after a week)."""

from collections.abc import Iterable

from django.db.models import Count
from django_scopes import scopes_disabled
from prometheus_client.core import GaugeMetricFamily, Metric

from .models import ExportJob


def export_jobs_family() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "clientdesk_export_jobs",
        "Export jobs kept (a week), by kind and status, every tenant.",
        labels=["kind", "status"],
    )
    with scopes_disabled():
        rows = ExportJob.objects.values("kind", "status").annotate(n=Count("id")).order_by()
        for row in rows:
            family.add_metric([row["kind"], row["status"]], row["n"])
    yield family
