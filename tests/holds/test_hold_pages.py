"""Hold and release through the client page by role, another tenant's client, bad input; the
dashboard (content, bounded queries); the client list's "expiring within N days" filter."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from clients.models import ClientStatus
from core.jobs import job_run
from core.models import JobRun, JobStatus
from core.stored_text import literal_text
from holds.models import ClientHold, HoldKind
from holds.services import FINANCIAL_HOLDS_JOB, client_place_hold
from subscriptions.models import SubscriptionStatus, tenant_today
from subscriptions.services import EXPIRY_JOB
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused, table_html
from tests.holds.conftest import refresh

pytestmark = pytest.mark.django_db


def hold_url(client):
    return reverse("holds:client_hold", kwargs={"number": client.number})


def release_url(client):
    return reverse("holds:client_release", kwargs={"number": client.number})


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_hold_and_release_through_the_page(client, tenant, login_as, funded, subscribe, role):
    login_as(tenant, role)
    customer = funded(tenant)
    sub = subscribe(customer, tenant_today(tenant) + timedelta(days=9))
    page = client.get(customer.get_absolute_url())
    assert 'data-testid="hold-place"' in page.content.decode()
    response = client.post(hold_url(customer), {"reason": "Unpaid invoice dispute"}, follow=True)
    body = response.content.decode()
    assert "put on administrative hold" in body and "Unpaid invoice dispute" in body
    assert 'data-testid="hold-release"' in body
    assert refresh(customer).status == ClientStatus.ADMINISTRATIVE_HOLD
    assert refresh(sub).status == SubscriptionStatus.SUSPENDED
    response = client.post(release_url(customer), {"reason": "Settled"}, follow=True)
    assert "released" in response.content.decode()
    assert refresh(customer).status == ClientStatus.ACTIVE
    assert refresh(sub).status == SubscriptionStatus.ACTIVE


@pytest.mark.parametrize("role", ["viewer", "accountant"])
def test_roles_without_manage_holds_get_403(client, tenant, login_as, funded, role):
    login_as(tenant, role)
    customer = funded(tenant)
    assert 'data-testid="hold-form"' not in client.get(customer.get_absolute_url()).content.decode()
    assert_role_refused(client, hold_url(customer), "post", {"reason": "x"})
    assert_role_refused(client, release_url(customer), "post", {"reason": "x"})
    assert refresh(customer).status == ClientStatus.ACTIVE


def test_other_tenants_client_is_404(client, tenant, other_tenant, login_as, funded):
    login_as(tenant, "owner")
    foreign = funded(other_tenant)
    assert_other_tenant_gives_404(client, hold_url(foreign), "post", {"reason": "x"})
    assert_other_tenant_gives_404(client, release_url(foreign), "post", {"reason": "x"})
    with scopes_disabled():
        assert not ClientHold.objects.exists()


def test_get_is_not_allowed(client, tenant, login_as, funded):
    login_as(tenant, "owner")
    assert client.get(hold_url(funded(tenant))).status_code == 405


@pytest.mark.parametrize(
    "data,message",
    [({}, "Give a reason."), ({"reason": "   "}, "Give a reason."), ({"reason": "x" * 501}, "500")],
)
def test_bad_reason_is_refused_and_changes_nothing(client, tenant, login_as, funded, data, message):
    login_as(tenant, "manager")
    customer = funded(tenant)
    response = client.post(hold_url(customer), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-field-error="hold-reason"' in body and message in body
    assert refresh(customer).status == ClientStatus.ACTIVE
    with scopes_disabled():
        assert not ClientHold.objects.exists()


def test_release_without_hold_and_double_hold_say_why(client, tenant, login_as, funded):
    login_as(tenant, "manager")
    customer = funded(tenant)
    body = client.post(release_url(customer), {"reason": "x"}, follow=True).content.decode()
    assert "not on administrative hold" in body
    client.post(hold_url(customer), {"reason": "one"})
    body = client.post(hold_url(customer), {"reason": "two"}, follow=True).content.decode()
    assert "already on administrative hold" in body


def test_financial_hold_shown_and_not_released_by_hand(client, tenant, login_as, funded):
    login_as(tenant, "manager")
    customer = funded(tenant)
    with scopes_disabled():
        client_place_hold(
            tenant=tenant, client=customer, kind=HoldKind.FINANCIAL, reason=literal_text("Debt")
        )
    body = client.get(customer.get_absolute_url()).content.decode()
    assert 'data-hold-kind="financial"' in body and "lifted by a top-up" in body
    client.post(release_url(customer), {"reason": "try"})
    assert refresh(customer).status == ClientStatus.FINANCIAL_HOLD


# -- dashboard -------------------------------------------------------------------------------
def test_dashboard_shows_statuses_expiring_holds_and_job_runs(
    client, tenant, login_as, funded, subscribe
):
    login_as(tenant, "viewer")
    today = tenant_today(tenant)
    held = funded(tenant, name="Held Ltd")
    soon = funded(tenant, name="Soon GmbH")
    subscribe(soon, today + timedelta(days=tenant.expiring_window_days))
    subscribe(funded(tenant, name="Later AG"), today + timedelta(days=30))
    with scopes_disabled():
        client_place_hold(tenant=tenant, client=held, reason=literal_text("Checking the contract"))
        job_run(tenant=tenant, job=EXPIRY_JOB)
    body = client.get(reverse("holds:dashboard")).content.decode()
    assert 'data-status-count="administrative_hold">1<' in body
    assert 'data-status-count="active">2<' in body
    assert "Soon GmbH" in body and "Later AG" not in body
    assert "Checking the contract" in body
    assert 'data-job-status="ok"' in body and "Not run yet." in body  # financial never ran


def test_dashboard_says_what_a_job_did_in_words(client, tenant, login_as):
    """The counts an operator cares about, in words and without zeros; the job's bookkeeping
    (statuses repaired, shortfalls tracked) stays in the run's result for the admin."""
    login_as(tenant, "viewer")
    result = {"held": 2, "released": 0, "newly_negative": 3, "statuses_repaired": 4}
    with scopes_disabled():
        JobRun.objects.create(
            tenant=tenant, job=FINANCIAL_HOLDS_JOB, status=JobStatus.OK, result=result
        )
        JobRun.objects.create(
            tenant=tenant, job=EXPIRY_JOB, status=JobStatus.OK, result={"renewed": 0}
        )
    body = client.get(reverse("holds:dashboard")).content.decode()
    assert "Put on financial hold: 2" in body and "Nothing to do." in body
    assert "repaired" not in body and "newly negative" not in body and "Released:" not in body


def test_dashboard_query_count_is_fixed(client, tenant, login_as, funded, subscribe):
    login_as(tenant, "viewer")
    url = reverse("holds:dashboard")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    today = tenant_today(tenant)
    for i in range(2):
        c = funded(tenant)
        subscribe(c, today + timedelta(days=2))
        with scopes_disabled():
            client_place_hold(tenant=tenant, client=c, reason=literal_text(f"r{i}"))
    few = count()
    for i in range(25):
        c = funded(tenant)
        subscribe(c, today + timedelta(days=2))
        with scopes_disabled():
            client_place_hold(tenant=tenant, client=c, reason=literal_text(f"s{i}"))
    many = count()
    assert many <= few + 2, (few, many)  # past 20 rows: one count each for the two lists
    assert many <= 20


def test_dashboard_other_tenant_data_not_shown(client, tenant, other_tenant, login_as, funded):
    login_as(tenant, "viewer")
    foreign = funded(other_tenant, name="Foreign Corp")
    with scopes_disabled():
        client_place_hold(tenant=other_tenant, client=foreign, reason=literal_text("Secret reason"))
    body = client.get(reverse("holds:dashboard")).content.decode()
    assert "Foreign Corp" not in body and "Secret reason" not in body


# -- client list filter ------------------------------------------------------------------------
def test_client_list_expiring_within_n_days(client, tenant, login_as, funded, subscribe):
    login_as(tenant, "viewer")
    today = tenant_today(tenant)
    subscribe(funded(tenant, name="Ends today"), today)  # due, not expiring
    subscribe(funded(tenant, name="Ends in three"), today + timedelta(days=3))
    subscribe(funded(tenant, name="Ends in four"), today + timedelta(days=4))
    funded(tenant, name="No subscription")
    url = reverse("clients:client_list")
    html = table_html(client.get(url, {"expiring": "3"}))
    assert "Ends in three" in html
    assert "Ends in four" not in html and "Ends today" not in html and "No subscription" not in html
    for bad in ("0", "-1", "abc", "367"):
        response = client.get(url, {"expiring": bad})
        assert response.status_code == 200
        assert "No subscription" in table_html(response)  # the bad filter is ignored


def test_top_up_on_the_finance_tab_lifts_the_financial_hold_at_once(
    client, tenant, login_as, funded, subscribe, django_capture_on_commit_callbacks
):
    from uuid import uuid4

    from holds.services import financial_holds_run

    tenant.financial_hold_grace_days = 0
    tenant.save()
    login_as(tenant, "accountant")
    customer = funded(tenant)
    sub = subscribe(customer, tenant_today(tenant) + timedelta(days=9))
    with scopes_disabled():
        from billing.models import Account
        from billing.services import account_charge

        account = Account.objects.select_related("tenant").get(client=customer)
        account_charge(
            account=account, amount="12.50", purpose=literal_text("Usage"), allow_overdraft=True
        )
        financial_holds_run(tenant=tenant)
    assert refresh(customer).status == ClientStatus.FINANCIAL_HOLD
    url = reverse("billing:client_top_up", kwargs={"number": customer.number})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"topup-amount": "12.50", "topup-comment": "", "topup-token": uuid4()})
    assert refresh(customer).status == ClientStatus.ACTIVE
    assert refresh(sub).status == SubscriptionStatus.ACTIVE
