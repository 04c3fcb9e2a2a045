"""Fixtures of the holds tests: Celery tasks queued on commit run in-process, e-mails go to
Django's outbox, and clients with accounts and subscriptions are made through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from config.celery import app as celery_app
from tests.factories import ClientFactory, PackageFactory, SubscriptionFactory, make_account


@pytest.fixture(autouse=True)
def celery_eager():
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


@pytest.fixture
def funded(db):
    """funded(tenant, balance="0", credit="0", **client fields) -> client with its account."""

    def make(tenant, balance="0", credit=None, **kwargs):
        kwargs.setdefault("email", "client@example.com")
        client = ClientFactory(tenant=tenant, **kwargs)
        make_account(client, balance=balance, credit_limit=credit)
        return client

    return make


@pytest.fixture
def subscribe(db):
    """subscribe(client, end_date, price="30.00", auto_renew=False, **kw) -> a subscription
    (written directly, as if bought earlier)."""

    def make(client, end_date, price="30.00", auto_renew=False, days=30, **kwargs):
        package = kwargs.pop("package", None) or PackageFactory(
            tenant=client.tenant, price=Decimal(price), period_count=days, period_unit="days"
        )
        return SubscriptionFactory(
            tenant=client.tenant,
            client=client,
            package=package,
            start_date=end_date - timedelta(days=days),
            end_date=end_date,
            auto_renew=auto_renew,
            amount_paid=package.price,
            **kwargs,
        )

    return make


def refresh(obj):
    with scopes_disabled():
        obj.refresh_from_db()
    return obj
