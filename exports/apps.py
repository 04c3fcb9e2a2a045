"""Export jobs and the .xlsx writer; apps register their kinds. Registers its own: every list
as shown (exports/lists.py), the audit log's (of the events app below it: exports/audit.py),
and the export of a selection of the client list, also offered as the list's bulk action
"Export". Sends no event and hears none.
"""

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"

    def ready(self):
        from clients.extensions import register_bulk_action
        from core.metrics import scrape_register
        from tenancy.navigation import NavSection, register_nav_section
        from tenancy.roles import Capability

        from .audit import AUDIT_EXPORT
        from .client_selection import CLIENT_SELECTION_BULK_ACTION, CLIENT_SELECTION_EXPORT
        from .lists import LIST_EXPORT
        from .metrics import export_jobs_family
        from .registry import register_export_kind

        scrape_register(export_jobs_family)
        register_export_kind(AUDIT_EXPORT)
        register_export_kind(LIST_EXPORT)
        register_export_kind(CLIENT_SELECTION_EXPORT)
        register_bulk_action(CLIENT_SELECTION_BULK_ACTION)

        register_nav_section(
            NavSection(
                app="exports",
                label="Exports",
                url_name="exports:export_list",
                shown=lambda tenant, membership: membership.allows(Capability.EXPORT),
                order=80,
            )
        )
