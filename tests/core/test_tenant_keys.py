"""Tenant-keyed keys (core.tenant_keys): the database refuses a link into another tenant's row
and a second one-to-one row per tenant's target; Django still sees `id` as the primary key and
one-to-one links as one-to-one; the check refuses a link that forgets the tenant."""

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import isolate_apps
from django_scopes import scopes_disabled

from billing.models import Account
from clients.models import Client
from core.tenant_keys import (
    TenantField,
    TenantForeignKey,
    TenantOneToOneField,
    link_errors,
)
from subscriptions.models import Subscription
from tests.factories import (
    ClientFactory,
    ClientGroupFactory,
    PackageFactory,
    SubscriptionFactory,
    make_account,
)

pytestmark = pytest.mark.django_db


def refused(create) -> bool:
    """Whether the database refuses the row by a tenant-keyed constraint (deferred to the
    commit; checked at once here); a refusal by any other constraint fails the test."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            create()
    except IntegrityError as error:
        constraint = error.__cause__.diag.constraint_name or ""
        assert constraint.endswith(("_tenant_fk", "_tenant_key")), constraint
        return True
    return False


def test_a_link_into_another_tenants_row_is_refused(tenant, other_tenant):
    mine, theirs = ClientFactory(tenant=tenant), ClientFactory(tenant=other_tenant)
    package = PackageFactory(tenant=tenant)
    with scopes_disabled():
        assert refused(lambda: SubscriptionFactory(tenant=tenant, client=theirs, package=package))
        assert refused(lambda: Account.objects.create(tenant=tenant, client=theirs))
        their_group = ClientGroupFactory(tenant=other_tenant)
        assert refused(lambda: Client.objects.filter(pk=mine.pk).update(group=their_group))
        assert not refused(lambda: SubscriptionFactory(tenant=tenant, client=mine, package=package))


def test_one_to_one_links_stay_one_to_one(tenant):
    client = ClientFactory(tenant=tenant)
    with scopes_disabled():
        account = make_account(client)
        assert refused(lambda: Account.objects.create(tenant=tenant, client=client))
        assert Client.objects.get(pk=client.pk).account == account
        listed = Client.objects.select_related("account").get(pk=client.pk)
        assert listed.account.pk == account.pk
        assert Subscription._meta.get_field("renewal_of").unique


def test_ids_stay_the_primary_key_of_django():
    assert Client._meta.pk.name == "id"
    names = {c.name for c in Client._meta.constraints}
    assert {"clients_client_tenant_pkey", "clients_client_group_id_tenant_fk"} <= names


def model(name: str, **fields) -> type[models.Model]:
    """A model of the check's own, in the isolated registry."""
    meta = type("Meta", (), {"app_label": "core"})
    return type(name, (models.Model,), {"__module__": __name__, "Meta": meta, **fields})


def tenant_field() -> TenantField:
    return TenantField("core.Owner", on_delete=models.CASCADE)


@isolate_apps("core")
def test_the_check_refuses_a_link_without_the_tenant():
    owner = model("Owner")
    target = model("Target", tenant=tenant_field())
    cascade = models.CASCADE
    plain = model(
        "Plain",
        tenant=tenant_field(),
        target=models.ForeignKey(target, on_delete=cascade),
        only=models.OneToOneField(target, on_delete=cascade, related_name="+"),
    )
    keyed = model(
        "Keyed",
        tenant=tenant_field(),
        target=TenantForeignKey(target, on_delete=cascade),
        only=TenantOneToOneField(target, on_delete=cascade, related_name="+"),
    )
    untenanted = model("Untenanted", target=TenantForeignKey(target, on_delete=cascade))

    errors = link_errors([owner, target, plain, keyed, untenanted])
    assert [(e.id, e.obj.model.__name__, e.obj.name) for e in errors] == [
        ("core.E010", "Plain", "target"),
        ("core.E010", "Plain", "only"),
        ("core.E010", "Untenanted", "target"),
    ]
    assert "TenantForeignKey" in errors[0].hint and "TenantOneToOneField" in errors[1].hint
    assert "without a tenant" in errors[2].msg


@isolate_apps("core")
def test_the_check_refuses_a_tenant_keyed_link_to_rows_no_tenant_owns_and_many_to_many():
    cascade = models.CASCADE
    owner = model("Owner")
    shared = model("Shared")
    target = model("ManyTarget", tenant=tenant_field())
    wrong = model(
        "Wrong", tenant=tenant_field(), shared=TenantForeignKey(shared, on_delete=cascade)
    )
    many = model("Many", tenant=tenant_field(), targets=models.ManyToManyField(target))

    errors = link_errors([owner, shared, target, wrong, many])
    assert [(e.obj.model.__name__, e.obj.name) for e in errors] == [
        ("Wrong", "shared"),
        ("Many", "targets"),
    ]
    assert "has no tenant" in errors[0].msg and "many-to-many" in errors[1].msg
