import core.tenant_keys
from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):
    """New tables keyed by tenant like the others: their primary keys (tenant_id, id) first, then
    their links FOREIGN KEY (tenant_id, x_id), which need the keys they point at."""

    dependencies = [
        ('clients', '0012_client_bulk_action'),
        ('tenancy', '0011_tenant_keyed_new_tables'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
