"""The Statistics tab in Chromium: open it, see the chart drawn (a canvas and a Chart.js
instance with sent and delivered), switch groupings (bars), change the period (and see a bad
one refused next to the field), then export two groupings from the pop-up and open the file."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from openpyxl import load_workbook
from playwright.sync_api import expect

from config.celery import app as celery_app
from messaging.services import messages_ingest, rollups_refresh
from tests.factories import ClientFactory, MembershipFactory, SenderIdFactory, message_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_tasks(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def chart_state(page):
    return page.evaluate(
        """() => {
            const chart = window.statisticsChart;
            if (!chart) return null;
            return {
                type: chart.config.type,
                labels: chart.data.labels.length,
                sets: chart.data.datasets.map(
                    d => [d.label, d.borderColor, d.data.reduce((a, b) => a + b, 0)]
                ),
                drawn: chart.canvas.width > 0 && chart.canvas.height > 0,
            };
        }"""
    )


def test_statistics_groupings_period_chart_and_export(page, log_in, eager_tasks, tmp_path):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    customer = ClientFactory(tenant=tenant, name="Chart Customer", sms_price=Decimal("0.05"))
    SenderIdFactory(client=customer, name="Shop", status="approved")
    today = timezone.localtime(timezone.now(), tenant.zone).date()
    noon = timezone.now().replace(hour=11, minute=0, second=0, microsecond=0)
    records = []
    for days_ago, recipient, status in [
        (2, "+37129123456", "delivered"),
        (2, "+37129123456", "failed"),
        (5, "+4915112345678", "delivered"),
        (40, "+37129123456", "delivered"),  # outside the default 30 days
    ]:
        records.append(
            message_record(
                customer,
                sender="Shop",
                recipient=recipient,
                status=status,
                sent_at=(noon - timedelta(days=days_ago)).isoformat(),
            )
        )
    with scopes_disabled():
        messages_ingest(tenant=tenant, records=records)
        rollups_refresh(tenant=tenant)

    log_in(membership.user.username)
    page.goto(reverse("clients:client_detail", kwargs={"number": customer.number}))
    page.get_by_test_id("client-tabs").get_by_role("link", name="Statistics").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("canvas#statistics-chart")).to_have_count(1)
    page.wait_for_function("() => window.statisticsChart !== undefined")
    state = chart_state(page)
    assert state["type"] == "line" and state["labels"] == 30 and state["drawn"]
    assert state["sets"] == [
        ["Sent (parts)", "#0d6efd", 3],
        ["Delivered (parts)", "#6f42c1", 2],
    ]
    totals = page.get_by_test_id("statistics-totals").inner_text()
    assert "3" in totals and "66.67 %" in totals

    page.get_by_test_id("report-tabs").get_by_role("link", name="Grouping by country").click()
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => window.statisticsChart !== undefined")
    state = chart_state(page)
    assert state["type"] == "bar" and state["labels"] == 2
    rows = page.locator("[data-testid=statistics-table] tbody tr").all_inner_texts()
    assert [r.split("\t")[0].strip() for r in rows] == ["Germany", "Latvia"]

    # A bad period: the error shows next to the end date.
    form = page.get_by_test_id("period-form")
    form.get_by_label("Start date").fill((today - timedelta(days=3)).isoformat())
    form.get_by_label("End date").fill((today - timedelta(days=10)).isoformat())
    form.get_by_role("button", name="Search").click()
    page.wait_for_load_state("networkidle")
    assert "must not be before the start" in page.locator('[data-field-error="end"]').inner_text()

    # A period of 60 days takes in the older message.
    form = page.get_by_test_id("period-form")
    form.get_by_label("Start date").fill((today - timedelta(days=59)).isoformat())
    form.get_by_label("End date").fill(today.isoformat())
    form.get_by_role("button", name="Search").click()
    page.wait_for_load_state("networkidle")
    assert "report=country" in page.url
    page.wait_for_function("() => window.statisticsChart !== undefined")
    latvia = page.locator("[data-testid=statistics-table] tbody tr", has_text="Latvia")
    assert latvia.locator("td").nth(1).inner_text().strip() == "3"
    page.get_by_test_id("report-tabs").get_by_role("link", name="Grouping by day").click()
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => window.statisticsChart !== undefined")
    assert chart_state(page)["labels"] == 60  # the period is kept when switching groupings

    # Export: the pop-up, two groupings, a column fewer.
    page.get_by_test_id("export-button").click()
    modal = page.get_by_test_id("export-modal")
    modal.wait_for(state="visible")
    modal.get_by_label("Grouping by operator").check()
    modal.get_by_label("Awaiting report (parts)").uncheck()
    with page.expect_download() as info:  # by itself once the job is done
        modal.get_by_test_id("export-submit").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    book = load_workbook(path)
    assert book.sheetnames == ["By day", "By operator"]
    day = list(book["By day"].iter_rows(values_only=True))
    assert day[0] == (
        "Date",
        "Send SMS (parts)",
        "SMS (Parts) Delivered",
        "Efficiency",
        "SMS Price (EUR)",
    )
    assert day[-1][:3] == ("Total", 4, 3)
    operator = list(book["By operator"].iter_rows(values_only=True))
    assert [r[:2] for r in operator[1:-1]] == [("Germany", "T-Mobile"), ("Latvia", "LMT")]
