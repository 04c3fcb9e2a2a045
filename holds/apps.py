from django.apps import AppConfig


class HoldsConfig(AppConfig):
    name = "holds"
    verbose_name = "Holds and scheduled jobs"

    def ready(self):
        from django.db.models.signals import post_save

        from tenancy.modules import for_modules
        from tenancy.navigation import NavSection, register_nav_section
        from tenancy.roles import Capability

        from .receivers import credit_limit_changed, ledger_entry_posted

        register_nav_section(
            NavSection(
                app="holds",
                label="Dashboard",
                url_name="holds:dashboard",
                shown=for_modules(capability=Capability.VIEW),
                order=5,
            )
        )
        # Available funds change with every posting and every credit-limit change: track since
        # when they are negative, and lift a financial hold as soon as they are not.
        post_save.connect(
            ledger_entry_posted, sender="billing.LedgerEntry", dispatch_uid="holds_ledger"
        )
        post_save.connect(
            credit_limit_changed, sender="billing.CreditLimitChange", dispatch_uid="holds_credit"
        )
