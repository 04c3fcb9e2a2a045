"""Accounts and the ledger. Sends `funds_changed` (in the posting's transaction) and
`funds_changed_committed` (after it) for every posting and credit-limit change. Hears no
event. Contributes the Balance and Credit columns and the account shown on the client page.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from django.db.models.signals import post_save

        from clients.extensions import (
            register_import_column,
            register_list_column,
            register_page_context,
        )
        from clients.models import Client
        from clients.signals import clients_bulk_created
        from clients.tabs import ClientTab, register_client_tab
        from exports.registry import register_export_kind

        from . import contributions
        from .exports import LEDGER_EXPORT
        from .signals import create_account_with_client

        register_client_tab(
            ClientTab(
                key="finance",
                label=_("Finance"),
                url_name="billing:client_finance",
                order=30,
            )
        )
        register_list_column(contributions.BALANCE_COLUMN)
        register_list_column(contributions.CREDIT_COLUMN)
        register_page_context(contributions.ACCOUNT_CONTEXT)
        register_export_kind(LEDGER_EXPORT)
        register_import_column(contributions.OPENING_BALANCE_COLUMN)
        clients_bulk_created.connect(
            contributions.accounts_for_imported_clients, dispatch_uid="billing_imported_accounts"
        )
        post_save.connect(
            create_account_with_client, sender=Client, dispatch_uid="billing_account_for_client"
        )
