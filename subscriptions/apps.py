"""Packages and a subscription's life. Sends `subscriptions_changed` (after a purchase,
renewal, cancellation or expiry commits) and `expiry_done` (in the expiry run). Hears no
event. Contributes the subscription blocks, the Expiring filter and the live-subscription
delete guard.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    """Registers the expiry and auto-renewal job (core/jobs.py), and its blocks, filter and
    delete guard with the client page and list (contributions.py); its `expiry_done` hook is
    for the apps above (holds connects to it), so that this app imports none of them."""

    name = "subscriptions"
    verbose_name = _("Packages and subscriptions")

    def ready(self):
        from clients.extensions import (
            register_delete_guard,
            register_list_filter,
            register_page_block,
        )
        from clients.tabs import ClientTab, register_client_tab
        from core.jobs import job_register
        from tenancy.modules import SUBSCRIPTIONS, for_modules
        from tenancy.navigation import NavSection, register_nav_section

        from . import contributions
        from .services import EXPIRY_JOB, EXPIRY_RESULT_LABELS, expiry_run

        # Internet plans and software licences are sold as packages; a messaging provider
        # charges per message, so the section and the tab show only with those modules.
        register_nav_section(
            NavSection(
                app="subscriptions",
                label=_("Packages"),
                url_name="subscriptions:package_list",
                shown=for_modules(*SUBSCRIPTIONS),
                order=20,
            )
        )
        register_client_tab(
            ClientTab(
                key="subscriptions",
                label=_("Subscriptions"),
                url_name="subscriptions:client_subscriptions",
                shown=for_modules(*SUBSCRIPTIONS),
                order=10,
            )
        )
        for block in contributions.BLOCKS:
            register_page_block(block)
        register_list_filter(contributions.EXPIRING_FILTER)
        register_delete_guard(contributions.LIVE_SUBSCRIPTION_GUARD)
        job_register(
            EXPIRY_JOB,
            label=_("Expiry and auto-renewal"),
            run=expiry_run,
            result_labels=EXPIRY_RESULT_LABELS,
        )
