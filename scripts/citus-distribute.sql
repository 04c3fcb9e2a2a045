-- Distributes Clientdesk's tables over a Citus cluster. Run it once with psql on the
-- coordinator, on a database `manage.py migrate` has brought up to date, before traffic:
--     psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f scripts/citus-distribute.sql
-- Reference tables (a copy on every node) first: what a distributed table points at, and the
-- tenant-owned tables read before the tenant is known. Then every other tenant-owned table,
-- distributed by tenant_id and co-located (one tenant's rows on one node), each after the tables
-- its foreign keys point at. Django's other tables (sessions, auth groups, django-axes, OTP
-- devices, migrations) stay on the coordinator. tests/ops/test_citus_readiness.py checks that
-- this file names every tenant-owned table once, in an order the foreign keys allow. Each call
-- is a transaction of its own: after an error, fix it and run the calls from that one on.

-- The tenants, and the operators (users) whom tenant-owned rows name.
SELECT create_reference_table('tenancy_tenant');
SELECT create_reference_table('auth_user');
-- An operator's memberships are read at each request by user, across tenants.
SELECT create_reference_table('tenancy_membership');
-- An API request names no tenant: its token is found by the digest of its secret alone.
SELECT create_reference_table('tenancy_apitoken');
SELECT create_distributed_table('clients_clientgroup', 'tenant_id');
SELECT create_distributed_table('clients_client', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('billing_account', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('billing_creditlimitchange', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('billing_ledgerentry', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('clients_clientimport', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('clients_clientimportrefusal', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('clients_clientbulkaction', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('core_jobrun', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('events_event', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('events_webhookendpoint', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('events_webhookdelivery', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('events_outboxemail', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('exports_exportjob', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('holds_clienthold', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('holds_fundsshortfall', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('holds_notificationtemplate', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('messaging_dailyroutestat', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('messaging_dailysenderstat', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('messaging_dirtyday', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('messaging_message', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('messaging_messagingcharge', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('messaging_senderid', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('routers_router', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('routers_pppoeaccount', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('routers_routeradoption', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('subscriptions_package', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('subscriptions_subscription', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('tenancy_apiidempotencyrecord', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('tenancy_tenantsequence', 'tenant_id', colocate_with => 'clients_clientgroup');
SELECT create_distributed_table('tenancy_savedview', 'tenant_id', colocate_with => 'clients_clientgroup');
