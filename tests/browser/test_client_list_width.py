"""The client list of each kind of provider, at 1440 x 900: its default columns fit without
scrolling sideways, and each row shows its status badge once (in the Client name column)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import ClientStatus
from tests.factories import ClientFactory, ClientGroupFactory, MembershipFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#table-region tbody tr[data-href]"
DEMO_LIKE = {
    "internet": {"uses_routers": True, "uses_messaging": False, "uses_reseller": False},
    "reseller": {"uses_routers": False, "uses_messaging": False, "uses_reseller": True},
    "messaging": {"uses_routers": False, "uses_messaging": True, "uses_reseller": False},
    "every module": {"uses_routers": True, "uses_messaging": True, "uses_reseller": True},
}
STATUSES = list(ClientStatus.values)


def fill_list(tenant) -> None:
    """Rows as long as a provider's real ones: long names and companies, the longest badge."""
    group = ClientGroupFactory(tenant=tenant, name="Government and public sector")
    now = timezone.now()
    for i in range(12):
        ClientFactory(
            tenant=tenant,
            name=f"Anastasia Konstantinovna Quartzova-Smirnova {i:02d}",
            company=f"Zephyrine International Holdings and Logistics {i:02d} LLC",
            phone="+49 30 12345678",
            contact_name="Maximilian Alexander Oberhauser",
            contact_email="maximilian.oberhauser@zephyrine-holdings.example",
            itn="770708389312",
            group=group,
            status=ClientStatus.ADMINISTRATIVE_HOLD if i % 2 else STATUSES[i % 3],
            sms_price=Decimal("0.0420"),
            channel="partner",
            last_purchase_at=now - timedelta(days=i),
        )


@pytest.mark.parametrize("kind", list(DEMO_LIKE))
def test_default_columns_fit_1440_and_show_the_status_once(page, log_in, kind):
    tenant = TenantFactory(**DEMO_LIKE[kind])
    membership = MembershipFactory(tenant=tenant, role="owner")
    fill_list(tenant)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(membership.user.username)
    page.goto("/clients/")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(10)

    widths = page.eval_on_selector(
        "#table-region table",
        "t => ({table: t.scrollWidth, container: t.parentElement.clientWidth,"
        " page: document.documentElement.scrollWidth, viewport: window.innerWidth})",
    )
    assert widths["table"] <= widths["container"], (kind, widths)
    assert widths["page"] <= widths["viewport"], (kind, widths)

    badges = page.eval_on_selector_all(
        ROWS, "rows => rows.map(r => r.querySelectorAll('[data-status]').length)"
    )
    assert badges == [1] * 10, kind
