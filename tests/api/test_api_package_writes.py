"""Packages added, changed, retired and put back on sale over the API, through the package
form and services: the page's refusals as 422s naming the field, nothing changed; managers and
owners only; a tenant that sells no subscriptions gets 404s."""

import json
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from events.models import Event
from subscriptions.models import Package
from tenancy.services import api_token_create
from tests.factories import ClientFactory, PackageFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

GOOD = {"name": "Fibre 100", "price": "25.00", "period_count": 1, "period_unit": "months"}


@pytest.fixture
def token(tenant):
    def issue(scope_name="manager"):
        with scopes_disabled():
            secret = api_token_create(
                tenant=tenant, actor=None, name=scope_name, scope=scope_name
            ).secret
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return issue


@pytest.fixture
def api(client, token):
    headers = token()

    def call(method, path, body=None, **extra):
        kwargs = {**headers, **extra}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(f"/api/v1/packages/{path}", **kwargs)

    return call


def packages(tenant):
    with scopes_disabled():
        return list(Package.objects.filter(tenant=tenant).order_by("pk"))


def test_a_manager_adds_a_package_on_sale(api, tenant):
    added = api("post", "", {**GOOD, "rate_limit": "20M/100M", "description": "Home"})
    assert added.status_code == 201, added.content
    body = added.json()
    assert (body["name"], body["price"], body["is_active"]) == ("Fibre 100", "25.00", True)
    assert body["live_subscriptions"] == 0
    [package] = packages(tenant)
    assert package.price == Decimal("25.00") and package.rate_limit == "20M/100M"
    with scopes_disabled():
        assert Event.objects.filter(tenant=tenant, type="package.created").count() == 1


def test_a_retried_add_adds_one_package(api, tenant):
    first = api("post", "", GOOD, HTTP_IDEMPOTENCY_KEY="pkg-1")
    again = api("post", "", GOOD, HTTP_IDEMPOTENCY_KEY="pkg-1")
    assert first.json() == again.json() and first.status_code == 201
    assert len(packages(tenant)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "name": "  "}, "name"),
        ({**GOOD, "price": "-1"}, "price"),
        ({**GOOD, "price": "1.234"}, "price"),
        ({**GOOD, "price": "lots"}, "price"),
        ({**GOOD, "period_count": 0}, "period_count"),
        ({**GOOD, "period_count": 121}, "period_count"),
        ({**GOOD, "period_unit": "weeks"}, "period_unit"),
        ({**GOOD, "rate_limit": "fast"}, "rate_limit"),
        ({**GOOD, "pppoe_profile": "a;b"}, "pppoe_profile"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_adds_nothing(api, tenant, body, field):
    refused = api("post", "", body)
    assert refused.status_code == 422, refused.content
    assert field in {error["field"] for error in refused.json()["errors"]}
    assert packages(tenant) == []


def test_a_second_package_on_sale_with_the_same_name_is_refused_at_name(api, tenant):
    PackageFactory(tenant=tenant, name="Fibre 100")
    refused = api("post", "", GOOD)
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["name"]
    assert len(packages(tenant)) == 1


def test_a_change_sets_the_fields_sent_and_keeps_what_subscriptions_paid(api, tenant):
    package = PackageFactory(tenant=tenant, name="Old", price=Decimal("10.00"))
    with scopes_disabled():
        bought = SubscriptionFactory(
            tenant=tenant, client=ClientFactory(tenant=tenant), package=package
        )
    changed = api("patch", f"{package.pk}/", {"price": "12.50"})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed.json()["price"]) == ("Old", "12.50")
    assert changed.json()["live_subscriptions"] == 1
    bought.refresh_from_db()
    assert bought.amount_paid == Decimal("10.00")
    refused = api("patch", f"{package.pk}/", {"period_count": 0})
    assert refused.status_code == 422
    assert packages(tenant)[0].period_count == package.period_count


def test_retire_and_reactivate_as_on_the_packages_page(api, tenant):
    package = PackageFactory(tenant=tenant, name="Fibre 100")
    retired = api("post", f"{package.pk}/retire/")
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    assert api("post", f"{package.pk}/retire/").json()["is_active"] is False  # unchanged
    PackageFactory(tenant=tenant, name="Fibre 100")  # now on sale under its name
    clash = api("post", f"{package.pk}/reactivate/")
    assert clash.status_code == 422
    assert [error["field"] for error in clash.json()["errors"]] == ["name"]
    assert packages(tenant)[0].is_active is False
    api("patch", f"{package.pk}/", {"name": "Fibre 100 (2025)"})
    back = api("post", f"{package.pk}/reactivate/")
    assert back.status_code == 200 and back.json()["is_active"] is True


@pytest.mark.parametrize("role", ["accountant", "viewer"])
def test_roles_without_subscriptions_are_refused(client, tenant, token, role):
    package = PackageFactory(tenant=tenant)
    headers = token(role)
    body = {"data": json.dumps(GOOD), "content_type": "application/json"}
    assert client.post("/api/v1/packages/", **body, **headers).status_code == 403
    assert client.patch(f"/api/v1/packages/{package.pk}/", **body, **headers).status_code == 403
    assert client.post(f"/api/v1/packages/{package.pk}/retire/", **headers).status_code == 403
    assert packages(tenant)[0].is_active


def test_a_tenant_that_sells_no_subscriptions_gets_404s(api, tenant, other_tenant):
    theirs = PackageFactory(tenant=other_tenant)
    assert api("post", f"{theirs.pk}/retire/").status_code == 404
    assert api("patch", f"{theirs.pk}/", {"price": "1"}).status_code == 404
    tenant.uses_routers = tenant.uses_reseller = False
    tenant.save()
    assert api("post", "", GOOD).status_code == 404
    assert packages(tenant) == [] and packages(other_tenant)[0].is_active
