import core.tenant_keys
from django.db import migrations


class Migration(migrations.Migration):
    """New tables keyed by tenant like the others: their primary keys (tenant_id, id) first, then
    their links FOREIGN KEY (tenant_id, x_id), which need the keys they point at."""

    dependencies = [
        ('events', '0004_email_outbox'),
        ('tenancy', '0011_tenant_keyed_new_tables'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='outboxemail',
            constraint=core.tenant_keys.TenantPrimaryKey(name='events_outboxemail_tenant_pkey'),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=core.tenant_keys.TenantPrimaryKey(name='events_webhookdelivery_tenant_pkey'),
        ),
        migrations.AddConstraint(
            model_name='webhookendpoint',
            constraint=core.tenant_keys.TenantPrimaryKey(name='events_webhookendpoint_tenant_pkey'),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=core.tenant_keys.TenantForeignKeyConstraint(field='endpoint', name='events_webhookdelivery_endpoint_id_tenant_fk'),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=core.tenant_keys.TenantForeignKeyConstraint(field='event', name='events_webhookdelivery_event_id_tenant_fk'),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=core.tenant_keys.TenantForeignKeyConstraint(field='redelivery_of', name='events_webhookdelivery_redelivery_of_id_tenant_fk'),
        ),
    ]
