from django.apps import AppConfig


class HoldsConfig(AppConfig):
    """Registers the financial-hold job (core/jobs.py) and the client page's Holds block
    (contributions.py), and listens to subscriptions' `expiry_done` hook (e-mails of
    expiries, financial holds after failed renewals)."""

    name = "holds"
    verbose_name = "Holds and scheduled jobs"

    def ready(self):
        from django.db.models.signals import post_save

        from clients.extensions import register_page_block
        from core.jobs import job_register
        from subscriptions.services import expiry_done
        from tenancy.modules import for_modules
        from tenancy.navigation import NavSection, register_nav_section
        from tenancy.roles import Capability

        from .contributions import HOLDS_BLOCK
        from .receivers import credit_limit_changed, expiry_run_done, ledger_entry_posted
        from .services import (
            FINANCIAL_HOLDS_JOB,
            FINANCIAL_HOLDS_RESULT_LABELS,
            financial_holds_run,
        )

        register_nav_section(
            NavSection(
                app="holds",
                label="Dashboard",
                url_name="holds:dashboard",
                shown=for_modules(capability=Capability.VIEW),
                order=5,
            )
        )
        register_page_block(HOLDS_BLOCK)
        # Available funds change with every posting and every credit-limit change: track since
        # when they are negative, and lift a financial hold as soon as they are not.
        post_save.connect(
            ledger_entry_posted, sender="billing.LedgerEntry", dispatch_uid="holds_ledger"
        )
        post_save.connect(
            credit_limit_changed, sender="billing.CreditLimitChange", dispatch_uid="holds_credit"
        )
        job_register(
            FINANCIAL_HOLDS_JOB,
            label="Financial holds",
            run=financial_holds_run,
            result_labels=FINANCIAL_HOLDS_RESULT_LABELS,
        )
        expiry_done.connect(expiry_run_done, dispatch_uid="holds_expiry_done")
