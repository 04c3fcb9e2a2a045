"""A tenant that sold packages before modules decided what it sees keeps them: without
routers, it is switched to the reseller module; the others are left as they are."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("subscriptions", "0001_initial"), ("tenancy", "0004_tenant_reseller_and_formats")]
AFTER = [("subscriptions", "0002_tenants_selling_packages_keep_them")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_tenants_that_sold_packages_without_routers_become_resellers():
    old = migrate(BEFORE)
    try:
        tenants = old.get_model("tenancy", "Tenant")._base_manager
        packages = old.get_model("subscriptions", "Package")._base_manager
        shop = tenants.create(name="Shop", slug="shop")
        isp = tenants.create(name="ISP", slug="isp", uses_routers=True)
        tenants.create(name="SMS", slug="sms", uses_messaging=True)
        for tenant in (shop, isp):
            packages.create(tenant=tenant, name="Monthly", price="10.00")
        new = migrate(AFTER)
        flags = dict(
            new.get_model("tenancy", "Tenant")._base_manager.values_list("slug", "uses_reseller")
        )
        assert flags == {"shop": True, "isp": False, "sms": False}
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
