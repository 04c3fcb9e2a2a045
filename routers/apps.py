"""MikroTik routers, PPPoE accounts and the poller. Hears `client_access_changed` (disables
or enables the PPPoE secret). Sends no event. Contributes the connection column, filter and
block.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutersConfig(AppConfig):
    name = "routers"
    verbose_name = _("Routers")

    def ready(self):
        from clients.extensions import (
            register_list_column,
            register_list_filter,
            register_page_block,
        )
        from clients.tabs import ClientTab, register_client_tab
        from core import crypto
        from tenancy.modules import INTERNET, for_modules
        from tenancy.navigation import NavSection, register_nav_section
        from tenancy.roles import Capability

        from . import contributions

        # Production refuses to start without ROUTER_SECRET_KEY (or with a malformed one).
        crypto.check_configuration()

        register_nav_section(
            NavSection(
                app="routers",
                label=_("Routers"),
                url_name="routers:router_list",
                shown=for_modules(INTERNET, capability=Capability.VIEW),
                order=30,
            )
        )
        register_client_tab(
            ClientTab(
                key="connection",
                label=_("Connection"),
                url_name="routers:client_connection",
                shown=for_modules(INTERNET),
                order=20,
            )
        )
        register_list_column(contributions.CONNECTION_COLUMN)
        register_list_filter(contributions.CONNECTION_FILTER)
        register_page_block(contributions.CONNECTION_BLOCK)
        try:
            from clients.signals import client_access_changed
        except ImportError:  # pragma: no cover - the clients app always has it today
            return
        from .signals import apply_client_access

        client_access_changed.connect(apply_client_access, dispatch_uid="routers_client_access")
