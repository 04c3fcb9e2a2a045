import core.tenant_keys
from django.db import migrations


class Migration(migrations.Migration):
    """New tables keyed by tenant like the others: their primary keys (tenant_id, id) first, then
    their links FOREIGN KEY (tenant_id, x_id), which need the keys they point at."""

    dependencies = [
        ('tenancy', '0010_saved_views'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='savedview',
            constraint=core.tenant_keys.TenantPrimaryKey(name='tenancy_savedview_tenant_pkey'),
        ),
        migrations.AddConstraint(
            model_name='savedview',
            constraint=core.tenant_keys.TenantForeignKeyConstraint(field='owner', name='tenancy_savedview_owner_id_tenant_fk'),
        ),
    ]
