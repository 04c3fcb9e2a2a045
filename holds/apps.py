"""Holds, negative funds and access. Hears billing's `funds_changed` and
`funds_changed_committed`, subscriptions' `subscriptions_changed` and `expiry_done`, and
clients' `client_deleted`; sends `client_access_changed`, the only app that does.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HoldsConfig(AppConfig):
    """Registers the financial-hold job (core/jobs.py) and the client page's Holds block
    (contributions.py), and listens to subscriptions' `expiry_done` hook (e-mails of
    expiries, financial holds after failed renewals)."""

    name = "holds"
    verbose_name = _("Holds and scheduled jobs")

    def ready(self):
        from billing.signals import funds_changed, funds_changed_committed
        from clients.extensions import register_bulk_action, register_page_block
        from clients.signals import client_deleted, clients_deleted
        from core.jobs import job_register
        from events.outbox import register_email_renderer
        from subscriptions.services import expiry_done, subscriptions_changed
        from tenancy.modules import for_modules
        from tenancy.navigation import NavSection, register_nav_section
        from tenancy.roles import Capability

        from . import receivers
        from .contributions import BULK_HOLD_ACTIONS, HOLDS_BLOCK
        from .models import NotificationKind
        from .notifications import notices_render
        from .services import (
            FINANCIAL_HOLDS_JOB,
            FINANCIAL_HOLDS_RESULT_LABELS,
            financial_holds_run,
        )

        register_nav_section(
            NavSection(
                app="holds",
                label=_("Dashboard"),
                url_name="holds:dashboard",
                shown=for_modules(capability=Capability.VIEW),
                order=5,
            )
        )
        register_page_block(HOLDS_BLOCK)
        register_email_renderer(NotificationKind.values, notices_render)
        # Available funds change with every posting and every credit-limit change: track since
        # when they are negative, and lift a financial hold as soon as they are not.
        funds_changed.connect(receivers.funds_changed, dispatch_uid="holds_funds")
        funds_changed_committed.connect(
            receivers.funds_changed_committed, dispatch_uid="holds_funds_committed"
        )
        job_register(
            FINANCIAL_HOLDS_JOB,
            label=_("Financial holds"),
            run=financial_holds_run,
            result_labels=FINANCIAL_HOLDS_RESULT_LABELS,
        )
        expiry_done.connect(receivers.expiry_run_done, dispatch_uid="holds_expiry_done")
        # This app owns access: what subscriptions and clients change, it passes on to the
        # routers app as `client_access_changed`, once per change.
        subscriptions_changed.connect(
            receivers.subscriptions_changed, dispatch_uid="holds_subscriptions_changed"
        )
        client_deleted.connect(receivers.client_deleted, dispatch_uid="holds_client_deleted")
        clients_deleted.connect(receivers.clients_deleted, dispatch_uid="holds_clients_deleted")
        for action in BULK_HOLD_ACTIONS:
            register_bulk_action(action)
