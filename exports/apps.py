"""Export jobs and the .xlsx writer; apps register their kinds. Registers its own: every list
as shown (exports/lists.py: the audit log's and the client list's selection among them), and
the client list's bulk action "Export" (exports/client_selection.py), which queues that same
export for the clients selected. Sends no event and hears none.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = _("Exports")

    def ready(self):
        from clients.extensions import register_bulk_action
        from core.metrics import scrape_register
        from tenancy.navigation import NavSection, register_nav_section
        from tenancy.roles import Capability

        from .client_selection import CLIENT_SELECTION_BULK_ACTION
        from .lists import LIST_EXPORT
        from .metrics import export_jobs_family
        from .registry import register_export_kind

        scrape_register(export_jobs_family)
        register_export_kind(LIST_EXPORT)
        register_bulk_action(CLIENT_SELECTION_BULK_ACTION)

        register_nav_section(
            NavSection(
                app="exports",
                label=_("Exports"),
                url_name="exports:export_list",
                shown=lambda tenant, membership: membership.allows(Capability.EXPORT),
                order=80,
            )
        )
