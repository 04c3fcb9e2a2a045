from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.models import Account, CreditLimitChange, LedgerEntry
from billing.services import account_charge, account_top_up
from core.stored_text import literal_text
from events.models import Event
from exports.models import ExportJob
from tests.factories import ClientFactory, make_account
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused, field_errors

pytestmark = pytest.mark.django_db


def finance_url(client, **query):
    url = reverse("billing:client_finance", kwargs={"number": client.number})
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def top_up_url(client):
    return reverse("billing:client_top_up", kwargs={"number": client.number})


def credit_url(client):
    return reverse("billing:client_set_credit", kwargs={"number": client.number})


def top_up_data(amount="100.00", comment="", token=None):
    return {"topup-amount": amount, "topup-comment": comment, "topup-token": token or uuid4()}


def state(client):
    with scopes_disabled():
        account = Account.objects.get(client=client)
        return (
            account.balance,
            account.credit_limit,
            LedgerEntry.objects.filter(account=account).count(),
            CreditLimitChange.objects.filter(account=account).count(),
        )


@pytest.fixture
def customer(tenant):
    return ClientFactory(tenant=tenant, name="Acme Customer")


# -- the tab ---------------------------------------------------------------------------------
def test_tab_shows_balance_credit_and_entries(client, owner, customer):
    account = make_account(customer, balance="120", credit_limit="50")
    account_charge(account=account, amount="20.5", purpose=literal_text("SMS sending 2026-01-01"))
    response = client.get(finance_url(customer))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="balance">99.50 EUR' in html
    assert 'data-testid="credit-limit">50.00 EUR' in html
    assert "SMS sending 2026-01-01" in html and "Opening balance" in html
    assert response.context["balances"].closing == Decimal("99.50")
    assert response.context["active_tab"] == "finance"
    assert any(t["key"] == "finance" for t in response.context["client_tabs"])
    assert 'data-testid="top-up-form"' in html and 'data-testid="credit-form"' in html


def test_tab_for_client_without_account(client, owner, customer):
    with scopes_disabled():
        Account.objects.filter(client=customer).delete()
    response = client.get(finance_url(customer))
    assert response.status_code == 200
    with scopes_disabled():
        assert not Account.objects.filter(client=customer).exists()  # a GET creates nothing


def test_table_columns_credit_debit_and_sorting(client, owner, customer):
    account = make_account(customer, balance="10")
    account_charge(account=account, amount="4", purpose=literal_text("Charge"))
    response = client.get(finance_url(customer))
    table = response.context["table"]
    assert [c.header for c in table.columns] == ["Date", "Credit", "Debit", "Purpose", "Balance"]
    rows = list(table.page.object_list)
    assert rows[0].get_cell("credit") == "4.00" and rows[0].get_cell("debit") == ""
    assert rows[1].get_cell("debit") == "10.00"
    ascending = client.get(finance_url(customer, sort="created_at")).context["table"]
    assert [str(r.record.purpose) for r in ascending.page.object_list] == [
        "Account top-up",
        "Charge",
    ]


def test_period_defaults_to_last_30_days_in_tenant_time_zone(client, owner, customer):
    response = client.get(finance_url(customer))
    period = response.context["period"]
    today = timezone.localtime(timezone.now(), ZoneInfo("Europe/Berlin")).date()
    assert (period.start, period.end) == (today - timedelta(days=29), today)


def test_period_selects_entries_and_opening_balance(client, owner, customer, tenant):
    zone = tenant.zone
    account = make_account(customer)
    account_top_up(account=account, amount="100", at=datetime(2026, 1, 10, 12, tzinfo=zone))
    account_charge(
        account=account,
        amount="30",
        purpose=literal_text("Feb"),
        at=datetime(2026, 2, 1, 0, 30, tzinfo=zone),
    )
    account_charge(
        account=account,
        amount="20",
        purpose=literal_text("Mar"),
        at=datetime(2026, 3, 5, tzinfo=zone),
    )
    response = client.get(finance_url(customer, start="2026-02-01", end="2026-02-28"))
    assert [str(r.record.purpose) for r in response.context["table"].page.object_list] == ["Feb"]
    balances = response.context["balances"]
    assert (balances.opening, balances.closing) == (Decimal("100.00"), Decimal("70.00"))
    assert "2026-02-01 00:30" in response.content.decode()  # the tenant's wall clock
    tenant.date_format = "d.m.Y"
    tenant.save(update_fields=["date_format"])
    manual = client.get(finance_url(customer, start="01.02.2026", end="28.02.2026"))
    assert manual.context["period"] == response.context["period"]
    assert "01.02.2026 00:30" in manual.content.decode()


def test_end_before_start_shows_error_and_keeps_default(client, owner, customer):
    response = client.get(finance_url(customer, start="2026-03-01", end="2026-02-01"))
    assert response.status_code == 200
    form = response.context["period_form"]
    assert form.errors["end"] == ["The end date must not be before the start date."]
    assert 'data-field-error="end"' in response.content.decode()
    assert response.context["period"] == form.default


def test_bad_date_shows_error(client, owner, customer):
    response = client.get(finance_url(customer, start="yesterday"))
    assert response.context["period_form"].errors["start"] == [
        "Enter a date as YYYY-MM-DD, e.g. 2026-01-31."
    ]


def test_htmx_paging_returns_table_fragment(client, owner, customer):
    make_account(customer, balance="1")
    response = client.get(
        finance_url(customer), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region"
    )
    html = response.content.decode()
    assert 'id="table-region"' in html and "finance-summary" not in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("entries", [10, 100])
def test_tab_runs_a_fixed_number_of_queries(
    client, owner, customer, entries, django_assert_max_num_queries
):
    account = make_account(customer)
    for i in range(entries):
        account_top_up(account=account, amount="1", comment=f"c{i}")
    client.get(finance_url(customer))  # warm up session and caches
    with django_assert_max_num_queries(9):
        response = client.get(finance_url(customer, per_page=100))
    assert len(response.context["table"].page.object_list) == entries


# -- tenants and roles -----------------------------------------------------------------------
def test_other_tenants_client_is_404(client, owner, other_tenant):
    foreign = ClientFactory(tenant=other_tenant)
    make_account(foreign, balance="5")
    assert_other_tenant_gives_404(client, finance_url(foreign))
    assert_other_tenant_gives_404(client, top_up_url(foreign), "post", top_up_data())
    assert_other_tenant_gives_404(
        client, credit_url(foreign), "post", {"credit-amount": "5", "credit-token": uuid4()}
    )
    export = reverse("billing:client_finance_export", kwargs={"number": foreign.number})
    assert_other_tenant_gives_404(client, export, "post", {})
    assert state(foreign)[:3] == (Decimal("5.00"), Decimal("0.00"), 1)


def test_viewer_sees_tab_but_cannot_top_up_or_set_credit(client, tenant, login_as, customer):
    login_as(tenant, "viewer")
    make_account(customer)
    response = client.get(finance_url(customer))
    assert response.status_code == 200
    html = response.content.decode()
    assert "top-up-form" not in html and "credit-form" not in html and "export-button" not in html
    assert_role_refused(client, top_up_url(customer), "post", top_up_data())
    assert_role_refused(
        client, credit_url(customer), "post", {"credit-amount": "5", "credit-token": uuid4()}
    )
    assert state(customer) == (0, 0, 0, 0)


def test_manager_cannot_top_up_but_can_export(client, tenant, login_as, customer):
    login_as(tenant, "manager")
    response = client.get(finance_url(customer))
    assert "top-up-form" not in response.content.decode()
    assert "export-button" in response.content.decode()
    assert_role_refused(client, top_up_url(customer), "post", top_up_data())


def test_accountant_tops_up(client, tenant, login_as, customer):
    membership = login_as(tenant, "accountant")
    response = client.post(
        top_up_url(customer) + "?start=2026-01-01", top_up_data("250.75", "Wire")
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?start=2026-01-01")
    assert state(customer) == (Decimal("250.75"), 0, 1, 0)
    with scopes_disabled():
        entry = LedgerEntry.objects.get(account__client=customer)
    assert (entry.comment, entry.operator_id) == ("Wire", membership.user_id)
    page = client.get(response["Location"]).content.decode()
    assert "Account topped up by 250.75 EUR" in page


def test_double_submit_posts_once(client, owner, customer):
    data = top_up_data("10")
    assert client.post(top_up_url(customer), data).status_code == 302
    assert client.post(top_up_url(customer), data).status_code == 302
    assert state(customer)[::2] == (Decimal("10.00"), 1)
    page = client.get(finance_url(customer)).content.decode()
    assert "already recorded" in page


def test_set_credit_with_notice(
    client, owner, customer, mailoutbox, django_capture_on_commit_callbacks
):
    customer.email = "client@example.com"
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            credit_url(customer),
            {"credit-amount": "300", "credit-notify": "on", "credit-token": uuid4()},
        )
    assert response.status_code == 302
    assert state(customer) == (0, Decimal("300.00"), 0, 1)
    assert [m.to for m in mailoutbox] == [["client@example.com"]]
    history = client.get(finance_url(customer)).content.decode()
    assert 'data-testid="credit-history"' in history and "0.00 → 300.00" in history
    assert owner.user.username in history


@pytest.mark.parametrize("typed", ["50.00", "50", " 50.0 "])
def test_credit_saved_unchanged_records_nothing_and_says_so(
    client, owner, customer, typed, mailoutbox, django_capture_on_commit_callbacks
):
    make_account(customer, credit_limit="50")
    before = state(customer)
    with scopes_disabled():
        activities = Event.objects.filter(client_id=customer.pk).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            credit_url(customer),
            {"credit-amount": typed, "credit-notify": "on", "credit-token": uuid4()},
            follow=True,
        )
    assert response.status_code == 200
    assert state(customer) == before
    with scopes_disabled():
        assert Event.objects.filter(client_id=customer.pk).count() == activities
    assert mailoutbox == []
    page = response.content.decode()
    assert "Nothing changed" in page and "Credit limit set" not in page


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "amount, message",
    [
        ("", "Enter an amount."),
        ("0", "The amount must be greater than zero."),
        ("0.00", "The amount must be greater than zero."),
        ("-5", "The amount cannot be negative."),
        ("abc", "Enter a number, e.g. 150.00."),
        ("1e3x", "Enter a number, e.g. 150.00."),
        ("Infinity", "Enter a number, e.g. 150.00."),
        ("10.555", "Use at most 2 decimal places (cents)."),
        ("1000000000000", "The amount must be at most 999,999,999,999.99."),
        ("9" * 41, "The amount must be at most 999,999,999,999.99."),
    ],
)
def test_top_up_bad_amounts(client, owner, customer, amount, message):
    make_account(customer, balance="5")
    before = state(customer)
    response = client.post(top_up_url(customer), top_up_data(amount))
    assert response.status_code == 400
    assert field_errors(response, "amount") == [message]
    assert 'data-field-error="topup-amount"' in response.content.decode()
    assert state(customer) == before


def test_top_up_beyond_the_balance_column(client, owner, customer):
    make_account(customer, balance="999999999999")
    response = client.post(top_up_url(customer), top_up_data("1"))
    assert response.status_code == 400
    assert "The balance would exceed" in field_errors(response, "amount")[0]
    assert state(customer)[2] == 1


def test_top_up_without_token_is_refused(client, owner, customer):
    response = client.post(top_up_url(customer), {"topup-amount": "5"})
    assert response.status_code == 400
    assert "reload the page" in response.content.decode()
    assert state(customer)[2] == 0


@pytest.mark.parametrize(
    "amount, message",
    [
        ("-1", "The amount cannot be negative."),
        ("x", "Enter a number, e.g. 150.00."),
        ("1.234", "Use at most 2 decimal places (cents)."),
    ],
)
def test_credit_bad_amounts(client, owner, customer, amount, message):
    response = client.post(credit_url(customer), {"credit-amount": amount, "credit-token": uuid4()})
    assert response.status_code == 400
    assert field_errors(response, "amount") == [message]
    assert state(customer) == (0, 0, 0, 0)


def test_credit_zero_is_allowed(client, owner, customer):
    make_account(customer, credit_limit="10")
    response = client.post(credit_url(customer), {"credit-amount": "0", "credit-token": uuid4()})
    assert response.status_code == 302
    assert state(customer)[1] == 0


# -- export button ---------------------------------------------------------------------------
def test_export_queues_job_for_the_period(client, owner, customer):
    token = uuid4()
    data = {"start": "2026-01-01", "end": "2026-01-31", "sort": "created_at", "token": token}
    response = client.post(
        reverse("billing:client_finance_export", kwargs={"number": customer.number}), data
    )
    assert response.status_code == 302 and response["Location"] == reverse("exports:export_list")
    client.post(reverse("billing:client_finance_export", kwargs={"number": customer.number}), data)
    with scopes_disabled():
        job = ExportJob.objects.get()
    assert job.parameters == {
        "client_number": customer.number,
        "start": "2026-01-01",
        "end": "2026-01-31",
        "sort": "created_at",
    }
    assert job.created_by == owner.user


def test_export_with_bad_period_changes_nothing(client, owner, customer):
    url = reverse("billing:client_finance_export", kwargs={"number": customer.number})
    response = client.post(url, {"start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400
    with scopes_disabled():
        assert not ExportJob.objects.exists()


def test_viewer_cannot_export(client, tenant, login_as, customer):
    login_as(tenant, "viewer")
    url = reverse("billing:client_finance_export", kwargs={"number": customer.number})
    assert_role_refused(client, url, "post", {})
