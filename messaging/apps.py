"""Messaging traffic, statistics, sender IDs and daily charges. Sends no event and hears
none; its charges go through billing's posting path.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from tenancy.modules import MESSAGING, for_modules, uses_any


def _tenant_uses_messaging(tenant) -> bool:
    """Which tenants the messaging jobs run for."""
    return uses_any(tenant, {MESSAGING})


class MessagingConfig(AppConfig):
    """Registers its client tabs, its export and its two scheduled jobs (core/jobs.py)."""

    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        from clients.tabs import ClientTab, register_client_tab
        from core.jobs import job_register
        from exports.registry import register_export_kind

        from . import services
        from .exports import STATISTICS_EXPORT

        register_client_tab(
            ClientTab(
                key="statistics",
                label=_("Statistics"),
                url_name="messaging:client_statistics",
                shown=for_modules(MESSAGING),
                order=40,
            )
        )
        register_client_tab(
            ClientTab(
                key="names",
                label=_("Names"),
                url_name="messaging:client_names",
                shown=for_modules(MESSAGING),
                order=45,
            )
        )
        register_export_kind(STATISTICS_EXPORT)
        job_register(
            services.ROLLUPS_JOB,
            label=_("Messaging statistics"),
            run=services.rollups_job,
            result_labels=services.ROLLUPS_RESULT_LABELS,
            applies=_tenant_uses_messaging,
        )
        job_register(
            services.CHARGES_JOB,
            label=_("Daily messaging charges"),
            run=services.messaging_charges_job,
            result_labels=services.CHARGES_RESULT_LABELS,
            applies=_tenant_uses_messaging,
        )
