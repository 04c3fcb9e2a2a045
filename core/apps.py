"""The shared pieces every app uses (numbers, text, date formats, locks, job runs, leases,
the task base, the outbound policy), and operations: health, metrics, structured logs, the
single beat. Sends no event and hears none; hears Celery's task signals (core.logs) and a
worker's start (core.heap).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import (
            heap,  # noqa: F401 - a worker freezes its startup heap before its pool forks
            logs,  # noqa: F401 - connects the task log and metrics to Celery's signals
            lookups,  # noqa: F401 - registers `field__any`
            tenant_keys,  # noqa: F401 - registers the check that links are tenant-keyed
        )
