"""Holds and the dashboard in Russian: hold kinds, the flash message, the e-mail's default
wording, and the expiring window's days in their plural forms."""

import pytest
from django.urls import reverse
from django.utils import translation

from holds.models import HoldKind, NotificationKind
from holds.notifications import notification_templates
from holds.services import already_on_hold

pytestmark = pytest.mark.django_db
RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


@pytest.fixture(autouse=True)
def _language_restored():
    """A Russian request leaves Russian active in the thread (LocaleMiddleware does not reset
    it): the next tests of this worker must not inherit it."""
    yield
    translation.deactivate()


def test_hold_kinds_and_refusals_in_russian():
    with translation.override("ru"):
        assert str(HoldKind.ADMINISTRATIVE.label) == "Административная блокировка"
        assert str(HoldKind.FINANCIAL.label) == "Финансовая блокировка"
        assert already_on_hold(HoldKind.FINANCIAL) == "На клиенте уже стоит финансовая блокировка."
    with translation.override("en"):
        assert already_on_hold(HoldKind.FINANCIAL) == "The client is already on financial hold."


def test_default_e_mails_follow_the_active_language(tenant):
    with translation.override("ru"):
        subject, body = notification_templates(tenant)[NotificationKind.HOLD_SET]
    assert subject == "{{ tenant.name }}: ваша услуга заблокирована"
    assert "Здравствуйте" in body
    with translation.override("en"):
        subject, _ = notification_templates(tenant)[NotificationKind.HOLD_SET]
    assert subject == "{{ tenant.name }}: your service is on hold"


def test_hold_flash_message_in_russian(client, tenant, login_as, funded):
    login_as(tenant, "owner")
    customer = funded(tenant)
    url = reverse("holds:client_hold", kwargs={"number": customer.number})
    page = client.post(url, {"reason": "Спор по счёту"}, follow=True, **RU).content.decode()
    assert f"Клиенту №{customer.number} поставлена административная блокировка." in page


@pytest.mark.parametrize(
    ("window", "words"),
    [(1, "1 дня"), (2, "2 дней"), (5, "5 дней"), (11, "11 дней"), (21, "21 дня")],
)
def test_dashboard_expiring_window_plural_forms(client, tenant, login_as, window, words):
    tenant.expiring_window_days = window
    tenant.save()
    login_as(tenant, "owner")
    page = client.get(reverse("holds:dashboard"), **RU).content.decode()
    assert f"Подписки, истекающие в течение {words}" in page
    assert "Сводка" in page


def test_dashboard_expiring_window_in_english(client, tenant, login_as):
    tenant.expiring_window_days = 1
    tenant.save()
    login_as(tenant, "owner")
    page = client.get(reverse("holds:dashboard")).content.decode()
    assert "Subscriptions expiring within 1 day<" in page
