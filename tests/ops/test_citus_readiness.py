"""Citus readiness: every tenant-owned table is to be distributed by tenant_id, and Citus needs
every primary key and unique constraint of a distributed table to include it. This lists, from
PostgreSQL's catalogue, each constraint and unique index of a table with a tenant_id column that
does not, against the allow-list below: the remaining Citus work (README, "Scale past one
machine"). A new table or constraint without tenant_id fails here; so does fixing one without
taking it off the list."""

import pytest
from django.apps import apps
from django.db import connection

from tenancy.models import TenantOwnedModel

pytestmark = pytest.mark.django_db

SQL = """
SELECT c.relname, i.relname, ix.indisprimary
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
JOIN pg_index ix ON ix.indrelid = c.oid AND ix.indisunique
JOIN pg_class i ON i.oid = ix.indexrelid
WHERE c.relkind = 'r'
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                    AND a.attnum = ANY (ix.indkey))
ORDER BY 1, 2
"""

# Every tenant-owned table's primary key is its own `id` (Django's default): turning each into
# (tenant_id, id) touches every foreign key to it, which is the Citus migration itself.
PRIMARY_KEYS_WITHOUT_TENANT = {
    "billing_account",
    "billing_creditlimitchange",
    "billing_ledgerentry",
    "clients_client",
    "clients_clientgroup",
    "clients_clientimport",
    "clients_clientimportrefusal",
    "core_jobrun",
    "events_event",
    "exports_exportjob",
    "holds_clienthold",
    "holds_fundsshortfall",
    "holds_notification",
    "holds_notificationtemplate",
    "messaging_dailyroutestat",
    "messaging_dailysenderstat",
    "messaging_dirtyday",
    "messaging_message",
    "messaging_messagingcharge",
    "messaging_senderid",
    "routers_pppoeaccount",
    "routers_router",
    "subscriptions_package",
    "subscriptions_subscription",
    "tenancy_apiidempotencyrecord",
    "tenancy_apitoken",
    "tenancy_membership",
    "tenancy_tenantsequence",
}
# Unique constraints without tenant_id. One-to-one links (an account, a shortfall, a PPPoE
# account per client; a ledger entry's reversal; a subscription's charge, refund and renewal)
# become a foreign key with a unique (tenant_id, ...) constraint; the three business
# constraints gain tenant_id, with their check moved from the model form (which leaves out
# constraints on fields it does not show, tenant_id among them) into the services.
UNIQUE_WITHOUT_TENANT = {
    ("billing_account", "billing_account_client_id_key"),
    ("billing_ledgerentry", "billing_ledgerentry_reverses_id_key"),
    ("holds_clienthold", "hold_one_in_force_per_kind"),
    ("holds_fundsshortfall", "holds_fundsshortfall_client_id_key"),
    ("routers_pppoeaccount", "pppoe_account_unique_username"),
    ("routers_pppoeaccount", "routers_pppoeaccount_client_id_key"),
    ("subscriptions_subscription", "subscription_one_live_per_package"),
    ("subscriptions_subscription", "subscriptions_subscription_charge_entry_id_key"),
    ("subscriptions_subscription", "subscriptions_subscription_refund_entry_id_key"),
    ("subscriptions_subscription", "subscriptions_subscription_renewal_of_id_key"),
    # An API token is found by its secret's digest before its tenant is known: under Citus the
    # tokens become a reference table (few rows, on every node) rather than a distributed one.
    ("tenancy_apitoken", "tenancy_apitoken_digest_key"),
}


def test_tenant_owned_tables_keyed_by_tenant_or_listed():
    with connection.cursor() as cursor:
        cursor.execute(SQL)
        rows = cursor.fetchall()
    primary = {table for table, _, is_primary in rows if is_primary}
    unique = {(table, index) for table, index, is_primary in rows if not is_primary}
    assert unique == UNIQUE_WITHOUT_TENANT
    assert primary == PRIMARY_KEYS_WITHOUT_TENANT


def test_every_table_that_points_at_a_tenants_row_carries_tenant_id():
    """A row that belongs to a tenant's row belongs to the tenant: it must carry tenant_id to
    be distributed with it (co-located), not only reach it through a join."""
    missing = [
        f"{model._meta.db_table}.{field.name}"
        for model in apps.get_models()
        if not any(f.name == "tenant" for f in model._meta.get_fields())
        for field in model._meta.get_fields()
        if field.many_to_one
        and field.concrete
        and isinstance(field.related_model, type)
        and issubclass(field.related_model, TenantOwnedModel)
    ]
    assert missing == []
