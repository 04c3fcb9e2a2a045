import core.tenant_keys
import django.db.models.deletion
from django.db import migrations


class Migration(migrations.Migration):
    """New tables keyed by tenant like the others: primary keys (tenant_id, id) first, then
    their links keyed by tenant (FOREIGN KEY (tenant_id, x_id)), which need the keys they point at."""

    dependencies = [
        ('tenancy', '0010_saved_views'),
    ]

    operations = [
        # The tenant column is unchanged in the database: only its field class is.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='savedview',
                    name='tenant',
                    field=core.tenant_keys.TenantField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
                ),
            ],
        ),
        migrations.AlterField(
            model_name='savedview',
            name='owner',
            field=core.tenant_keys.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='saved_views', to='tenancy.membership'),
        ),
        migrations.AddConstraint(
            model_name='savedview',
            constraint=core.tenant_keys.TenantPrimaryKey(name='tenancy_savedview_tenant_pkey'),
        ),
        migrations.AddConstraint(
            model_name='savedview',
            constraint=core.tenant_keys.TenantForeignKeyConstraint(field='owner', name='tenancy_savedview_owner_id_tenant_fk'),
        ),
    ]
