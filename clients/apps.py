"""Clients, the list and the client page with its extension points (clients/extensions.py).
Sends `client_deleted` (after a deletion commits) and defines `client_access_changed`, which
only the holds app sends. Hears no event: the apps above contribute through the registries.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"

    def ready(self):

        from tenancy.navigation import NavSection, register_nav_section

        from .bulk import CLIENT_BULK_ACTIONS
        from .extensions import register_bulk_action
        from .page import register_client_blocks

        register_nav_section(
            NavSection(app="clients", label=_("Clients"), url_name="clients:client_list", order=10)
        )
        # The client page's own blocks; the apps above register theirs (clients.extensions).
        register_client_blocks()
        for action in CLIENT_BULK_ACTIONS:
            register_bulk_action(action)
