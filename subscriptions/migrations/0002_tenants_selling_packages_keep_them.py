"""Packages and subscriptions now belong to the internet and reseller modules. A tenant that
sold packages before modules decided what it sees, without routers, keeps its packages,
subscriptions and their pages: it is switched to the reseller module (the internet module's
tenants keep them anyway). Reversing leaves the flag as it is."""

from django.db import migrations


def tenants_selling_packages_use_reseller(apps, schema_editor):
    Tenant = apps.get_model("tenancy", "Tenant")
    Package = apps.get_model("subscriptions", "Package")
    selling = Package._base_manager.values_list("tenant_id", flat=True).distinct()
    Tenant.objects.filter(pk__in=selling, uses_routers=False, uses_reseller=False).update(
        uses_reseller=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0001_initial"),
        ("tenancy", "0004_tenant_reseller_and_formats"),
    ]

    operations = [
        migrations.RunPython(tenants_selling_packages_use_reseller, migrations.RunPython.noop),
    ]
