"""Business events: one row per change, written in the change's transaction. The client
timeline reads them (clients/page.py) and the audit log lists them. Sits between tenancy and
clients: it knows tenants and operators, never a client model (an event names its client by
id, so that history outlives the rows it speaks of)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from .types import AUDIT_ROLES


def audit_log_shown(tenant, membership) -> bool:
    return membership.role in AUDIT_ROLES


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self):
        from core.jobs import job_register
        from core.metrics import scrape_register
        from tenancy.modules import for_modules
        from tenancy.navigation import NavSection, register_nav_section
        from tenancy.roles import Capability
        from tenancy.signals import tenancy_changed

        from .receivers import tenancy_change_recorded
        from .services import EVENTS_PRUNE_JOB, events_prune
        from .webhook_metrics import webhook_backlog_families

        scrape_register(webhook_backlog_families)
        tenancy_changed.connect(tenancy_change_recorded, dispatch_uid="events_tenancy_changed")

        register_nav_section(
            NavSection(
                app="events",
                label=_("Audit log"),
                url_name="events:event_list",
                shown=audit_log_shown,
                order=90,
            )
        )
        register_nav_section(
            NavSection(
                app="webhooks",
                label=_("Webhooks"),
                url_name="events:webhook_endpoint_list",
                shown=for_modules(capability=Capability.MANAGE_WEBHOOKS),
                order=96,
            )
        )
        job_register(
            EVENTS_PRUNE_JOB,
            label=_("Event retention"),
            run=events_prune,
            result_labels={"deleted": _("Events deleted")},
        )
