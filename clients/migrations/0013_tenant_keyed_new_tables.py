import core.tenant_keys
import django.db.models.deletion
from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):
    """New tables keyed by tenant like the others: primary keys (tenant_id, id) first, then
    their links keyed by tenant (FOREIGN KEY (tenant_id, x_id)), which need the keys they point at."""

    dependencies = [
        ('clients', '0012_client_bulk_action'),
        ('tenancy', '0011_tenant_keyed_new_tables'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tenant column is unchanged in the database: only its field class is.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='clientbulkaction',
                    name='tenant',
                    field=core.tenant_keys.TenantField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
                ),
            ],
        ),
        # The tenant column is unchanged in the database: only its field class is.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='clientimportrefusal',
                    name='tenant',
                    field=core.tenant_keys.TenantField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
                ),
            ],
        ),
        migrations.AlterField(
            model_name='clientimportrefusal',
            name='job',
            field=core.tenant_keys.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='refusals', to='clients.clientimport'),
        ),
        migrations.AddConstraint(
            model_name='clientbulkaction',
            constraint=core.tenant_keys.TenantPrimaryKey(name='clients_clientbulkaction_tenant_pkey'),
        ),
        migrations.AddConstraint(
            model_name='clientimportrefusal',
            constraint=core.tenant_keys.TenantPrimaryKey(name='clients_clientimportrefusal_tenant_pkey'),
        ),
        migrations.AddConstraint(
            model_name='clientimportrefusal',
            constraint=core.tenant_keys.TenantForeignKeyConstraint(field='job', name='clients_clientimportrefusal_job_id_tenant_fk'),
        ),
    ]
