"""Fixtures of the packages, subscriptions and client page tests."""

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.utils import timezone
from django_scopes import scope

from tests.factories import ClientFactory, PackageFactory, make_account


@pytest.fixture
def customer(tenant):
    return ClientFactory(tenant=tenant, name="Acme Customer")


@pytest.fixture
def package(tenant):
    return PackageFactory(tenant=tenant, name="Home 100", price=Decimal("30.00"))


@pytest.fixture
def funded(customer):
    """The customer with 100.00 on the balance."""
    return make_account(customer, balance="100")


@pytest.fixture
def scoped(tenant):
    """Service calls outside a request run inside the tenant's scope, as views do."""
    with scope(tenant=tenant):
        yield


@pytest.fixture
def today(tenant):
    return timezone.localtime(timezone.now(), tenant.zone).date()


def token():
    return uuid4()


def at_local(tenant, *args) -> datetime:
    return datetime(*args, tzinfo=tenant.zone)


def days(n: int) -> timedelta:
    return timedelta(days=n)
