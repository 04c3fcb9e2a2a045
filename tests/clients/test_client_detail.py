"""The client page: every block with and without data, Expiring at the window's edges in the
tenant's time zone, a fixed number of queries however long the history, and the SMS checkbox."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from core.stored_text import literal_text
from events.models import Event
from tests.factories import ClientFactory, PackageFactory, SubscriptionFactory, make_account

pytestmark = pytest.mark.django_db


def page_url(client):
    return reverse("clients:client_detail", kwargs={"number": client.number})


@pytest.fixture
def customer(tenant):
    return ClientFactory(
        tenant=tenant,
        name="Acme Customer",
        phone="+49 30 1234567",
        address="1 Linden Street",
        site="https://acme.example.com",
        region="Berlin",
        activity_type="Retail",
        property_type="legal_entity",
        postal_address="PO Box 1",
        accounting_email="books@acme.example.com",
        referer="partner-17",
        failed_login_attempts=3,
        activation_required=True,
        sms_price=Decimal("0.0350"),
    )


def tenant_today(tenant):
    return timezone.localtime(timezone.now(), tenant.zone).date()


def test_empty_client_page_shows_every_block(client, owner, customer):
    response = client.get(page_url(customer))
    assert response.status_code == 200
    html = response.content.decode()
    for testid in (
        "basic-info",
        "general-info",
        "connection-details",
        "current-subscription",
        "subscription-history",
        "quick-stats",
        "activity",
        "client-actions",
    ):
        assert f'data-testid="{testid}"' in html, testid
    assert 'data-testid="no-subscription"' in html
    assert 'data-testid="no-history"' in html
    assert 'data-testid="no-router"' in html and "No router is assigned" in html
    stats = response.context["stats"]
    assert stats.total_subscriptions == 0 and stats.total_revenue == 0
    assert stats.customer_for is None


def test_basic_and_general_info_fields(client, owner, customer):
    html = client.get(page_url(customer)).content.decode()
    for text in (
        str(customer.number),
        "Acme Customer",
        "+49 30 1234567",
        "1 Linden Street",
        "https://acme.example.com",
        "Berlin",
        "Retail",
        "Legal entity",
        "PO Box 1",
        "books@acme.example.com",
        "partner-17",
        "0.0350",
        customer.email,
    ):
        assert text in html, text
    assert 'data-testid="sms-subscription-form"' in html


def test_blocks_with_data(client, owner, customer, tenant):
    make_account(customer, balance="80")
    today = tenant_today(tenant)
    package = PackageFactory(tenant=tenant, name="Fiber 500", price=Decimal("40"))
    old = PackageFactory(tenant=tenant, name="Old DSL", price=Decimal("15"))
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        package=old,
        status="expired",
        start_date=today - timedelta(days=400),
        end_date=today - timedelta(days=370),
    )
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        package=package,
        start_date=today - timedelta(days=2),
        end_date=today + timedelta(days=28),
        auto_renew=True,
    )
    response = client.get(page_url(customer))
    html = response.content.decode()
    current = response.context["current_subscriptions"]
    assert [s.package.name for s in current] == ["Fiber 500"]
    assert 'data-subscription-status="active"' in html
    history = [r.record.package.name for r in response.context["history"].page.object_list]
    assert history == ["Fiber 500", "Old DSL"]  # newest first
    stats = response.context["stats"]
    assert stats.total_subscriptions == 2 and stats.total_revenue == Decimal("55.00")
    assert stats.first_start == today - timedelta(days=400)
    assert "1\xa0year" in html or "1 year" in html
    assert 'data-testid="client-balance"' in html and "80.00 EUR" in html
    assert 'data-testid="activity"' in html and "Top-up 80.00 EUR" in html


def test_latest_period_is_current_when_none_is_live(client, owner, customer, tenant):
    today = tenant_today(tenant)
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        status="expired",
        start_date=today - timedelta(days=40),
        end_date=today - timedelta(days=10),
    )
    response = client.get(page_url(customer))
    assert 'data-subscription-status="expired"' in response.content.decode()
    assert not response.context["has_live_subscription"]


def test_history_is_paged_newest_first(client, owner, customer, tenant):
    today = tenant_today(tenant)
    package = PackageFactory(tenant=tenant)
    for i in range(12):
        SubscriptionFactory(
            tenant=tenant,
            client=customer,
            package=package,
            status="expired",
            start_date=today - timedelta(days=31 * (i + 1)),
            end_date=today - timedelta(days=31 * i + 1),
        )
    first = client.get(page_url(customer)).context["history"]
    assert first.paginator.count == 12 and len(first.page.object_list) == 10
    starts = [r.record.start_date for r in first.page.object_list]
    assert starts == sorted(starts, reverse=True)
    second = client.get(page_url(customer) + "?page=2").context["history"]
    assert len(second.page.object_list) == 2
    fragment = client.get(
        page_url(customer) + "?page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region"
    )
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="table-region"') and "<nav" not in body[:200]


@pytest.mark.parametrize("history_length", [1, 40])
def test_query_count_does_not_grow_with_history(
    client, owner, customer, tenant, django_assert_max_num_queries, history_length
):
    make_account(customer, balance="10")
    today = tenant_today(tenant)
    for i in range(history_length):
        SubscriptionFactory(
            tenant=tenant,
            client=customer,
            status="expired",
            start_date=today - timedelta(days=31 * (i + 1)),
            end_date=today - timedelta(days=31 * i + 1),
        )
    with scopes_disabled():
        for i in range(history_length):
            Event.objects.create(
                tenant=tenant,
                client_id=customer.pk,
                type="client.updated",
                description=literal_text(f"Edit {i}"),
            )
    with django_assert_max_num_queries(11):
        response = client.get(page_url(customer))
    assert response.status_code == 200


# -- Expiring: the window's edges in the tenant's time zone ------------------------------------
@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(8, "active"), (7, "expiring"), (1, "expiring"), (0, "expired"), (-1, "expired")],
)
def test_expiring_at_window_edges(client, owner, customer, tenant, days_left, expected):
    tenant.expiring_window_days = 7
    tenant.save()
    today = tenant_today(tenant)
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        start_date=today - timedelta(days=20),
        end_date=today + timedelta(days=days_left),
    )
    html = client.get(page_url(customer)).content.decode()
    assert f'data-subscription-status="{expected}"' in html


def test_expiring_uses_tenant_date_not_utc(tenant):
    """At 23:30 UTC on 31 Dec it is already 1 Jan in Berlin: the tenant's day decides."""
    from subscriptions.models import Subscription

    tenant.expiring_window_days = 7
    now = datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC"))  # 1 Jan 00:30 in Berlin
    sub = Subscription(
        start_date=datetime(2026, 12, 1).date(),
        end_date=datetime(2027, 1, 8).date(),
        status="active",
    )
    # Berlin: 1 Jan -> 7 days left -> Expiring. UTC: 31 Dec -> 8 days left -> Active.
    assert sub.display_status_for(tenant, now) == "expiring"
    tenant.time_zone = "UTC"
    assert sub.display_status_for(tenant, now) == "active"
    tenant.time_zone = "America/New_York"
    assert sub.display_status_for(tenant, now) == "active"


def test_suspended_and_scheduled_statuses(client, owner, customer, tenant):
    today = tenant_today(tenant)
    SubscriptionFactory(tenant=tenant, client=customer, status="suspended")
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        start_date=today + timedelta(days=3),
        end_date=today + timedelta(days=33),
    )
    html = client.get(page_url(customer)).content.decode()
    assert 'data-subscription-status="suspended"' in html
    assert 'data-subscription-status="scheduled"' in html


# -- SMS subscription checkbox -----------------------------------------------------------------
def sms_url(client):
    return reverse("clients:client_sms_subscription", kwargs={"number": client.number})


def test_sms_subscription_save(client, owner, customer):
    response = client.post(sms_url(customer), {"sms_subscription": "on"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.sms_subscription
    client.post(sms_url(customer), {})
    customer.refresh_from_db()
    assert not customer.sms_subscription
    with scopes_disabled():
        lines = list(Event.objects.filter(client_id=customer.pk, type="client.updated"))
    assert len(lines) == 2 and "SMS subscription" in str(lines[0].description)


def test_viewer_sees_no_write_controls(client, tenant, login_as, customer):
    login_as(tenant, "viewer")
    html = client.get(page_url(customer)).content.decode()
    assert 'data-testid="sms-subscription-form"' not in html
    assert 'data-testid="client-edit"' not in html
    assert 'data-testid="subscription-create"' not in html
    assert 'data-testid="client-delete"' not in html


def test_activity_page_lists_everything_newest_first(client, owner, customer, tenant):
    with scopes_disabled():
        for i in range(25):
            Event.objects.create(
                tenant=tenant,
                client_id=customer.pk,
                type="client.updated",
                description=f"Edit {i}",
                created_at=timezone.now() - timedelta(minutes=100 - i),
            )
    page = client.get(page_url(customer))
    assert len(page.context["activity"]) == 15
    assert str(page.context["activity"][0].description) == "Edit 24"
    url = reverse("clients:client_activity", kwargs={"number": customer.number})
    table = client.get(url, {"per_page": 20}).context["table"]
    assert table.paginator.count == 25
    assert [str(r.record.description) for r in table.page.object_list][:2] == ["Edit 24", "Edit 23"]
    assert "Edit 0" in client.get(url, {"per_page": 20, "page": 2}).content.decode()


def test_activity_page_of_other_tenant_is_404(client, owner, tenant, other_tenant):
    mine = ClientFactory(tenant=tenant)
    foreign = ClientFactory(tenant=other_tenant)
    while foreign.number <= mine.number:
        foreign = ClientFactory(tenant=other_tenant)
    url = reverse("clients:client_activity", kwargs={"number": foreign.number})
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("rows", [1, 30])
def test_activity_page_query_count_does_not_grow(
    client, owner, tenant, customer, rows, django_assert_max_num_queries
):
    with scopes_disabled():
        for i in range(rows):
            Event.objects.create(
                tenant=tenant,
                client_id=customer.pk,
                actor=owner.user,
                type="client.updated",
                description=f"Edit {i}",
            )
    url = reverse("clients:client_activity", kwargs={"number": customer.number})
    with django_assert_max_num_queries(6):
        response = client.get(url, {"per_page": 50})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == rows
