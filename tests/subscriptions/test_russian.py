"""Subscriptions in Russian: statuses in the feminine (a subscription), days and months in
their three plural forms, the refund's purpose and the cancel page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from clients.models import ClientStatus
from subscriptions.models import DisplayStatus, Package, PeriodUnit, SubscriptionStatus
from subscriptions.services import refund_purpose, subscription_create
from subscriptions.tables import subscription_badge
from tests.helpers import russian_plurals
from tests.subscriptions.conftest import token

pytestmark = pytest.mark.django_db
RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


@pytest.mark.parametrize(
    ("count", "days", "months"),
    russian_plurals(
        ("{n} день", "{n} дня", "{n} дней"), ("{n} месяц", "{n} месяца", "{n} месяцев")
    ),
)
def test_period_label_plural_forms_in_russian(count, days, months):
    with translation.override("ru"):
        assert Package(period_count=count, period_unit=PeriodUnit.DAYS).period_label == days
        assert Package(period_count=count, period_unit=PeriodUnit.MONTHS).period_label == months


@pytest.mark.parametrize(("count", "english"), [(1, "1 month"), (2, "2 months"), (11, "11 months")])
def test_period_label_in_english(count, english):
    with translation.override("en"):
        assert Package(period_count=count, period_unit=PeriodUnit.MONTHS).period_label == english


def test_subscription_statuses_are_feminine_in_russian():
    with translation.override("ru"):
        assert str(SubscriptionStatus.ACTIVE.label) == "Активна"
        assert str(SubscriptionStatus.EXPIRED.label) == "Истекла"
        assert str(DisplayStatus.EXPIRING.label) == "Истекает"
        assert "Приостановлена" in subscription_badge("suspended")
    with translation.override("en"):
        assert str(SubscriptionStatus.ACTIVE.label) == "Active"


@pytest.mark.parametrize(
    ("unused", "words"),
    russian_plurals(
        ("{n} неиспользованный день", "{n} неиспользованных дня", "{n} неиспользованных дней")
    ),
)
def test_refund_purpose_plural_forms(
    tenant, customer, package, funded, scoped, today, unused, words
):
    package.period_unit, package.period_count = PeriodUnit.DAYS, 40
    package.save()
    sub = subscription_create(
        tenant=tenant, client=customer, package=package, start_date=today, idempotency_key=None
    )
    # The unused days are those after today: a period that ends `unused + 1` days from now.
    sub.end_date = today + timedelta(days=unused + 1)
    with translation.override("ru"):
        assert words in str(refund_purpose(sub, today))
    with translation.override("en"):
        assert str(refund_purpose(sub, today)).startswith(
            f"Refund of {unused} unused day{'s' if unused != 1 else ''} of Home 100"
        )


def test_cancel_page_in_russian(client, owner, tenant, customer, package, funded, scoped, today):
    tenant.currency = "RUB"
    tenant.save()
    sub = subscription_create(
        tenant=tenant, client=customer, package=package, start_date=today, idempotency_key=None
    )
    url = reverse("subscriptions:subscription_cancel", kwargs={"pk": sub.pk})
    page = client.get(url, **RU).content.decode()
    assert "Отменить подписку" in page
    assert "неиспользован" in page.lower() or "Не использован" in page
    assert "30,00\N{NO-BREAK SPACE}₽" in page


def test_purchase_refused_for_deleted_client_in_russian(tenant, customer, package, scoped, today):
    customer.status = ClientStatus.DELETED
    customer.save()
    with translation.override("ru"), pytest.raises(Exception) as caught:
        subscription_create(
            tenant=tenant, client=customer, package=package, start_date=today, idempotency_key=None
        )
    assert "Удалённый клиент не может купить подписку." in str(caught.value)
    assert package.price == Decimal("30.00") and token()
