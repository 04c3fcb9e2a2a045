"""Every edit form over stored data keeps a value the operator left as shown, even one today's
rules refuse (a value stored under older rules), validates what changed, and saving it
unchanged changes nothing. The client form has its own tests (tests/clients)."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_scopes import scopes_disabled

from messaging.models import SenderId
from routers.models import PppoeAccount, Router
from subscriptions.models import Package
from tests.factories import (
    MembershipFactory,
    PackageFactory,
    PppoeAccountFactory,
    RouterFactory,
    SenderIdFactory,
)
from tests.html_forms import page_forms

pytestmark = pytest.mark.django_db


@dataclass
class Legacy:
    """An object whose `field` holds `stored` (refused today); `other` is a field to change."""

    url: str
    obj: object
    field: str
    stored: object
    other: tuple[str, str]  # (field, new value)
    refused: str  # a changed value the form refuses


def stored(obj, field: str):
    with scopes_disabled():
        return getattr(type(obj)._base_manager.get(pk=obj.pk), field)


def legacy_router(tenant) -> Legacy:
    router = RouterFactory(tenant=tenant, name="Old core", port=8728)
    with scopes_disabled():  # TLS on the plain API port, as an older form let it be saved
        Router._base_manager.filter(pk=router.pk).update(use_tls=True)
    url = reverse("routers:router_edit", kwargs={"pk": router.pk})
    return Legacy(url, router, "port", 8728, ("name", "Old core 2"), "70000")


def legacy_pppoe(tenant) -> Legacy:
    account = PppoeAccountFactory(tenant=tenant)
    with scopes_disabled():
        PppoeAccount._base_manager.filter(pk=account.pk).update(username="old user#1")
    url = reverse("routers:client_connection", kwargs={"number": account.client.number})
    return Legacy(url, account, "username", "old user#1", ("profile", "home50"), "x y")


def legacy_package(tenant) -> Legacy:
    package = PackageFactory(tenant=tenant, name="Old plan")
    with scopes_disabled():
        Package._base_manager.filter(pk=package.pk).update(rate_limit="10M/50M burst")
    url = reverse("subscriptions:package_edit", kwargs={"pk": package.pk})
    return Legacy(url, package, "rate_limit", "10M/50M burst", ("name", "Old plan 2"), "fast")


def legacy_sender(tenant) -> Legacy:
    sender = SenderIdFactory(client__tenant=tenant, name="Shop")
    with scopes_disabled():
        SenderId._base_manager.filter(pk=sender.pk).update(name="OldShopNameLong")
    url = reverse(
        "messaging:sender_update", kwargs={"number": sender.client.number, "pk": sender.pk}
    )
    return Legacy(url, sender, "name", "OldShopNameLong", ("purpose", "Receipts"), "X" * 14)


def legacy_operator(tenant) -> Legacy:
    membership = MembershipFactory(tenant=tenant, role="viewer")
    user = membership.user
    get_user_model().objects.filter(pk=user.pk).update(email="kasse at old-domain")
    url = reverse("tenancy:operator_edit", kwargs={"pk": membership.pk})
    return Legacy(url, user, "email", "kasse at old-domain", ("first_name", "Kasse"), "no@@x")


LEGACY = [legacy_router, legacy_pppoe, legacy_package, legacy_sender, legacy_operator]


def as_rendered(http, legacy: Legacy) -> tuple[str, dict]:
    html = http.get(legacy.url).content.decode()
    forms = [f for f in page_forms(html, legacy.url) if f.method == "post"]
    form = next(f for f in forms if any(x.name.endswith(legacy.field) for x in f.fields))
    return form.action, form.data()


def key_of(data: dict, field: str) -> str:
    return next(k for k in data if k == field or k.endswith(f"-{field}"))


@pytest.mark.parametrize("make", LEGACY, ids=lambda f: f.__name__)
def test_unchanged_legacy_value_saves_and_stays(client, owner, tenant, make):
    legacy = make(tenant)
    action, data = as_rendered(client, legacy)
    response = client.post(action, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert stored(legacy.obj, legacy.field) == legacy.stored


@pytest.mark.parametrize("make", LEGACY, ids=lambda f: f.__name__)
def test_another_change_saves_and_keeps_the_legacy_value(client, owner, tenant, make):
    legacy = make(tenant)
    action, data = as_rendered(client, legacy)
    name, value = legacy.other
    data[key_of(data, name)] = value
    assert client.post(action, data).status_code == 302
    assert stored(legacy.obj, legacy.field) == legacy.stored
    assert stored(legacy.obj, name) == value


@pytest.mark.parametrize("make", LEGACY, ids=lambda f: f.__name__)
def test_a_changed_value_is_validated(client, owner, tenant, make):
    legacy = make(tenant)
    action, data = as_rendered(client, legacy)
    data[key_of(data, legacy.field)] = legacy.refused
    response = client.post(action, data)
    assert response.status_code in (200, 400)
    assert response.context["form"].errors.get(legacy.field)
    assert stored(legacy.obj, legacy.field) == legacy.stored


def test_my_account_keeps_an_old_email_left_as_shown(client, owner):
    user = owner.user
    get_user_model().objects.filter(pk=user.pk).update(email="kasse at old-domain")
    url = reverse("account")
    html = client.get(url).content.decode()
    form = next(f for f in page_forms(html, url) if f.method == "post" and "email" in f.data())
    data = {**form.data(), "first_name": "Kasse"}
    assert client.post(form.action, data).status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.email) == ("Kasse", "kasse at old-domain")
