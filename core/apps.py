"""The shared pieces every app uses (numbers, text, date formats, locks, job runs, leases,
the task base, the outbound policy). Sends no event and hears none.
"""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"
