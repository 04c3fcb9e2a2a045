import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from core.stored_text import literal_text
from exports.models import ExportJob, ExportStatus
from exports.tasks import export_job_run
from tests.factories import ClientFactory, MembershipFactory, make_account
from tests.helpers import (
    assert_other_tenant_gives_404,
    assert_role_refused,
    ledger_export_create,
)

pytestmark = pytest.mark.django_db


def make_job(tenant, user, *, run=True):
    customer = ClientFactory(tenant=tenant)
    make_account(customer, balance="10")
    job = ledger_export_create(
        user,
        customer,
        start="2000-01-01",
        end="2100-01-01",
        # as an operator names it, in any language
        title=literal_text(f"Выписка клиента №{customer.number}"),
    )
    if run:
        export_job_run(job.pk, tenant_id=tenant.pk)
    with scopes_disabled():
        job.refresh_from_db()
    return job


def detail(job):
    return reverse("exports:export_detail", kwargs={"pk": job.pk})


def download(job):
    return reverse("exports:export_download", kwargs={"pk": job.pk})


def test_list_shows_own_jobs_with_download(client, tenant, login_as):
    me = login_as(tenant, "accountant")
    colleague = MembershipFactory(tenant=tenant, role="accountant")
    mine = make_job(tenant, me.user)
    theirs = make_job(tenant, colleague.user)
    response = client.get(reverse("exports:export_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert str(mine.title) in html and str(theirs.title) not in html
    assert download(mine) in html


def test_owner_sees_every_operators_jobs(client, tenant, owner):
    colleague = MembershipFactory(tenant=tenant, role="accountant")
    theirs = make_job(tenant, colleague.user)
    assert str(theirs.title) in client.get(reverse("exports:export_list")).content.decode()
    response = client.get(download(theirs))
    assert response.status_code == 200


def test_download_is_the_file(client, tenant, owner):
    job = make_job(tenant, owner.user)
    response = client.get(download(job))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert ".xlsx" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body[:2] == b"PK"


def test_other_operators_job_is_404(client, tenant, login_as):
    login_as(tenant, "accountant")
    colleague = MembershipFactory(tenant=tenant, role="manager")
    job = make_job(tenant, colleague.user)
    assert_other_tenant_gives_404(client, download(job))
    assert_other_tenant_gives_404(client, detail(job))


def test_other_tenants_job_is_404(client, owner, other_tenant):
    stranger = MembershipFactory(tenant=other_tenant, role="owner")
    job = make_job(other_tenant, stranger.user)
    assert_other_tenant_gives_404(client, download(job))
    assert_other_tenant_gives_404(client, detail(job))
    assert str(job.title) not in client.get(reverse("exports:export_list")).content.decode()


def test_viewer_has_no_exports(client, tenant, login_as):
    login_as(tenant, "viewer")
    assert_role_refused(client, reverse("exports:export_list"))


def test_unfinished_job_has_no_download(client, tenant, owner):
    job = make_job(tenant, owner.user, run=False)
    assert client.get(download(job)).status_code == 404


def test_progress_fragment_polls_while_running(client, tenant, owner):
    job = make_job(tenant, owner.user, run=False)
    with scopes_disabled():
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.RUNNING, progress=250, total=1000
        )
    response = client.get(detail(job), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html and "25%" in html and "250 of 1,000 rows" in html
    assert "<html" not in html
    export_job_run(job.pk, tenant_id=tenant.pk)  # running (not stale): not claimed again
    with scopes_disabled():
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.QUEUED)
    export_job_run(job.pk, tenant_id=tenant.pk)
    html = client.get(detail(job), HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in html and download(job) in html
    page = client.get(detail(job))
    assert "<html" in page.content.decode()


def test_a_finished_job_downloads_by_itself_only_for_the_operator_who_asked(
    client, tenant, owner, login_as
):
    mine = make_job(tenant, owner.user)
    colleague = MembershipFactory(tenant=tenant, role="accountant")
    theirs = make_job(tenant, colleague.user)
    polled = client.get(detail(mine), HTTP_HX_REQUEST="true").content.decode()
    assert "data-auto-download" in polled
    # The owner sees a colleague's job finish on the Exports page, but gets no file of theirs.
    assert (
        "data-auto-download"
        not in client.get(detail(theirs), HTTP_HX_REQUEST="true").content.decode()
    )
    # The job's own page, opened later, offers the button only.
    assert "data-auto-download" not in client.get(detail(mine)).content.decode()


def test_failed_job_shows_its_error(client, tenant, owner):
    job = make_job(tenant, owner.user, run=False)
    with scopes_disabled():
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error="Boom.")
    html = client.get(detail(job), HTTP_HX_REQUEST="true").content.decode()
    assert "Boom." in html and "every 1s" not in html


def test_list_filters_by_status(client, tenant, owner):
    done = make_job(tenant, owner.user)
    queued = make_job(tenant, owner.user, run=False)
    html = client.get(reverse("exports:export_list"), {"status": "queued"}).content.decode()
    assert f'data-job="{queued.pk}"' in html and f'data-job="{done.pk}"' not in html


def test_export_from_finance_tab_with_htmx_shows_progress(client, tenant, owner):
    customer = ClientFactory(tenant=tenant)
    url = reverse("billing:client_finance_export", kwargs={"number": customer.number})
    response = client.post(
        url, {"start": "2026-01-01", "end": "2026-01-31"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'data-testid="export-job"' in response.content.decode()


def test_list_and_detail_run_a_fixed_number_of_queries(client, tenant, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    colleague = MembershipFactory(tenant=tenant, role="accountant")
    first = make_job(tenant, owner.user)
    one_job = queries(reverse("exports:export_list"))
    one_detail = queries(detail(first))
    for user in (owner.user, colleague.user, colleague.user):
        make_job(tenant, user)
    assert queries(reverse("exports:export_list")) == one_job
    assert queries(detail(first)) == one_detail


def test_bad_filter_says_why_and_filters_nothing_out(client, tenant, owner):
    job = make_job(tenant, owner.user)
    for params in ({"status": "bogus"}, {"kind": "nope"}):
        response = client.get(reverse("exports:export_list"), params)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Select a valid choice" in html
        assert f'data-job="{job.pk}"' in html
