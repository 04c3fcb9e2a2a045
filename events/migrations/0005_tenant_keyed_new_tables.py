import core.tenant_keys
import django.db.models.deletion
from django.db import migrations


class Migration(migrations.Migration):
    """New tables keyed by tenant like the others: primary keys (tenant_id, id) first, then
    their links keyed by tenant (FOREIGN KEY (tenant_id, x_id)), which need the keys they point at."""

    dependencies = [
        ('events', '0004_email_outbox'),
        ('tenancy', '0011_tenant_keyed_new_tables'),
    ]

    operations = [
        # The tenant column is unchanged in the database: only its field class is.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='outboxemail',
                    name='tenant',
                    field=core.tenant_keys.TenantField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
                ),
            ],
        ),
        # The tenant column is unchanged in the database: only its field class is.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='webhookdelivery',
                    name='tenant',
                    field=core.tenant_keys.TenantField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
                ),
            ],
        ),
        # The tenant column is unchanged in the database: only its field class is.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='webhookendpoint',
                    name='tenant',
                    field=core.tenant_keys.TenantField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
                ),
            ],
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='endpoint',
            field=core.tenant_keys.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='events.webhookendpoint'),
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='event',
            field=core.tenant_keys.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='events.event'),
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='redelivery_of',
            field=core.tenant_keys.TenantForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='events.webhookdelivery'),
        ),
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
