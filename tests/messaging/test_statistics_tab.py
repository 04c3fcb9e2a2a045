"""The Statistics tab: every grouping renders the rollup figures with a totals row, sorting,
the period (default the last 30 days in the tenant's zone; end before start is an error next
to the field), tenants (404), tenants without messaging (404), roles, and a fixed number of
queries whatever the traffic."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.services import messages_ingest, rollups_refresh
from tests.factories import ClientFactory, SenderIdFactory, message_record
from tests.helpers import assert_other_tenant_gives_404

pytestmark = pytest.mark.django_db


def url(client, **query):
    base = reverse("messaging:client_statistics", kwargs={"number": client.number})
    if query:
        from urllib.parse import urlencode

        return f"{base}?{urlencode(query)}"
    return base


@pytest.fixture
def traffic(tenant):
    customer = ClientFactory(tenant=tenant, sms_price=Decimal("0.05"))
    SenderIdFactory(client=customer, name="Shop", status="approved")
    SenderIdFactory(client=customer, name="Bank", status="pending")
    records = [
        message_record(customer, key="1", sender="Shop", sent_at="2026-03-10T10:00:00Z"),
        message_record(
            customer, key="2", sender="Shop", status="sent", sent_at="2026-03-10T10:00:00Z"
        ),
        message_record(
            customer,
            key="3",
            sender="Bank",
            recipient="+4915112345678",
            sent_at="2026-03-11T10:00:00Z",
        ),
        message_record(
            customer, key="4", sender="Bank", status="failed", sent_at="2026-03-11T10:00:00Z"
        ),
        message_record(
            customer, key="5", channel="viber", sender="ShopV", sent_at="2026-03-12T10:00:00Z"
        ),
    ]
    with scopes_disabled():
        messages_ingest(tenant=tenant, records=records)
        rollups_refresh(tenant=tenant)
    return customer


PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}


def test_grouping_by_day(client, owner, traffic):
    response = client.get(url(traffic, report="day", **PERIOD))
    assert response.status_code == 200
    report = response.context["report"]
    assert [(r.label, r.sent, r.delivered, r.pending) for r in report.rows] == [
        ("2026-03-10", 2, 1, 1),
        ("2026-03-11", 2, 1, 0),
        ("2026-03-12", 1, 1, 0),
    ]
    body = response.content.decode()
    assert "Send SMS (parts)" in body and "SMS (Parts) Delivered" in body
    assert 'data-testid="statistics-totals"' in body
    chart = json.loads(response.context["chart"] and json.dumps(response.context["chart"]))
    assert chart["type"] == "line" and len(chart["labels"]) == 31
    assert 'id="statistics-chart-data"' in body and "chart.umd.min.js" in body


@pytest.mark.parametrize(
    ("report", "labels"),
    [
        ("operator", ["Germany - T-Mobile", "Latvia - LMT"]),
        ("sender", ["Bank", "Shop"]),
        ("viber_sender", ["ShopV"]),
        ("country", ["Germany", "Latvia"]),
    ],
)
def test_other_groupings(client, owner, traffic, report, labels):
    response = client.get(url(traffic, report=report, **PERIOD))
    assert response.status_code == 200
    assert [r.label for r in response.context["report"].rows] == labels
    assert response.context["chart"]["type"] == "bar"


def test_unapproved_sender_is_flagged_on_the_page(client, owner, traffic):
    body = client.get(url(traffic, report="sender", **PERIOD)).content.decode()
    assert body.count('data-testid="sender-flag"') == 1 and "Not approved (pending)" in body


def test_sorting_and_totals(client, owner, traffic):
    response = client.get(url(traffic, report="sender", sort="-sent", **PERIOD))
    table = response.context["table"]
    assert [row.record.label for row in table.rows] == ["Bank", "Shop"]
    response = client.get(url(traffic, report="sender", sort="efficiency", **PERIOD))
    assert [row.record.label for row in response.context["table"].rows] == ["Bank", "Shop"]
    totals = response.context["report"].totals
    assert (totals.sent, totals.delivered, totals.pending, totals.price) == (
        4,
        2,
        1,
        Decimal("0.2000"),
    )


def test_channel_choice(client, owner, traffic):
    response = client.get(url(traffic, report="day", channel="viber", **PERIOD))
    assert [r.label for r in response.context["report"].rows] == ["2026-03-12"]


def test_default_period_is_the_last_30_days_in_the_tenants_zone(client, owner, traffic, tenant):
    response = client.get(url(traffic))
    today = timezone.localtime(timezone.now(), tenant.zone).date()
    period = response.context["period"]
    assert (period.start, period.end) == (today - timedelta(days=29), today)
    assert response.context["report"].kind.key == "day"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end", "must not be before the start"),
        ({"start": "31/02/2026", "end": "2026-03-01"}, "start", "Enter a date as YYYY-MM-DD"),
        ({"start": "2020-01-01", "end": "2026-03-01"}, "start", "at most two years"),
        ({"start": "2026-03-01", "end": "2026-03-02", "channel": "fax"}, "channel", "valid choice"),
    ],
)
def test_bad_period_shows_an_error_next_to_the_field(client, owner, traffic, query, field, message):
    response = client.get(url(traffic, **query))
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors)
    assert f'data-field-error="{field}"' in response.content.decode()
    # The default period is shown meanwhile.
    assert (
        response.context["period"].end
        == timezone.localtime(timezone.now(), traffic.tenant.zone).date()
    )


def test_unknown_report_falls_back_to_day(client, owner, traffic):
    response = client.get(url(traffic, report="nope", **PERIOD))
    assert response.context["report"].kind.key == "day"


def test_tabs_appear_for_messaging_tenants_only(client, owner, traffic, tenant):
    detail = reverse("clients:client_detail", kwargs={"number": traffic.number})
    body = client.get(detail).content.decode()
    assert url(traffic) in body and "Names" in body
    tenant.uses_messaging = False
    tenant.save()
    body = client.get(detail).content.decode()
    assert url(traffic) not in body
    assert client.get(url(traffic)).status_code == 404
    names = reverse("messaging:client_names", kwargs={"number": traffic.number})
    assert client.get(names).status_code == 404


def test_another_tenants_client_is_404(client, login_as, other_tenant, traffic):
    login_as(other_tenant, "owner")
    assert_other_tenant_gives_404(client, url(traffic))
    export = reverse("messaging:client_statistics_export", kwargs={"number": traffic.number})
    assert_other_tenant_gives_404(client, export, "post", {"start": "2026-03-01"})


@pytest.mark.parametrize("role", ["owner", "manager", "accountant", "viewer"])
def test_every_role_sees_the_tab_only_exporters_see_export(client, login_as, tenant, traffic, role):
    login_as(tenant, role)
    response = client.get(url(traffic, **PERIOD))
    assert response.status_code == 200
    assert response.context["can_export"] is (role != "viewer")
    assert ('data-testid="export-button"' in response.content.decode()) is (role != "viewer")


def test_a_fixed_number_of_queries(client, owner, traffic, tenant):
    def count(report):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(traffic, report=report, **PERIOD)).status_code == 200
        return len(queries)

    small = {r: count(r) for r in ("day", "operator", "sender", "viber_sender", "country")}
    # Much more traffic, senders and operators: the same number of queries.
    more = [
        message_record(
            traffic,
            key=f"more-{i}",
            sender=f"S{i % 9}",
            recipient=["+37126123456", "+79161234567", "+4917212345678"][i % 3],
            sent_at=f"2026-03-{1 + i % 28:02d}T10:00:00Z",
        )
        for i in range(300)
    ]
    with scopes_disabled():
        messages_ingest(tenant=tenant, records=more)
        rollups_refresh(tenant=tenant)
    large = {r: count(r) for r in small}
    assert large == small
    assert max(large.values()) <= 10, large


def test_reports_never_read_the_message_records(client, owner, traffic):
    for report in ("day", "operator", "sender", "viber_sender", "country"):
        with CaptureQueriesContext(connection) as queries:
            client.get(url(traffic, report=report, **PERIOD))
        assert not [q for q in queries if "messaging_message" in q["sql"]], report


def test_amounts_round_as_the_ledger_and_the_file_do_and_totals_align(client, owner, tenant):
    """0.665 is 0.67 on the page, as in the .xlsx (0.00 rounds half away from zero) and the
    ledger (half up); Python's own formatting would have shown 0.66."""
    customer = ClientFactory(tenant=tenant, sms_price=Decimal("0.3325"))
    records = [
        message_record(customer, key=f"r{i}", sent_at="2026-03-10T10:00:00Z") for i in range(2)
    ]
    with scopes_disabled():
        messages_ingest(tenant=tenant, records=records)
        rollups_refresh(tenant=tenant)
    body = client.get(url(customer, **PERIOD)).content.decode()
    totals = body[body.index('data-testid="statistics-totals"') :].split("</tfoot>")[0]
    assert '<td class="font-monospace text-end">0.67</td>' in totals
    assert totals.count('class="font-monospace text-end"') == 5  # every figure, aligned
    assert ">0.67</td>" in body.split('data-testid="statistics-totals"')[0]  # the day's row
