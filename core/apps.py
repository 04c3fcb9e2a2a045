"""The shared pieces every app uses (numbers, text, date formats, locks, job runs, leases,
the task base, the outbound policy), and operations: health, metrics, structured logs, the
single beat. Sends no event and hears none; hears Celery's task signals (core.logs).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import (
            logs,  # noqa: F401 - connects the task log and metrics to Celery's signals
            tenant_keys,  # noqa: F401 - registers the check that links are tenant-keyed
        )
