from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"

    def ready(self):
        from tenancy.navigation import NavSection, register_nav_section

        from .page import register_client_blocks

        register_nav_section(
            NavSection(app="clients", label="Clients", url_name="clients:client_list", order=10)
        )
        # The client page's own blocks; the apps above register theirs (clients.extensions).
        register_client_blocks()

        # The activity timeline records top-ups and credit changes as billing writes them.
        from django.db.models.signals import post_save

        from .signals import record_credit_limit_change, record_ledger_entry

        post_save.connect(
            record_ledger_entry, sender="billing.LedgerEntry", dispatch_uid="activity_ledger"
        )
        post_save.connect(
            record_credit_limit_change,
            sender="billing.CreditLimitChange",
            dispatch_uid="activity_credit",
        )
