import core.tenant_keys
from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):
    """New tables keyed by tenant like the others: their primary keys (tenant_id, id) first, then
    their links FOREIGN KEY (tenant_id, x_id), which need the keys they point at."""

    dependencies = [
        ('exports', '0004_export_job_api_token'),
        ('tenancy', '0011_tenant_keyed_new_tables'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='exportjob',
            constraint=core.tenant_keys.TenantForeignKeyConstraint(field='api_token', name='exports_exportjob_api_token_id_tenant_fk'),
        ),
    ]
