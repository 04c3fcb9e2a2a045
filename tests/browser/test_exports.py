"""The Exports page in Chromium: an operator sees only their own exports; a running one shows
its progress and turns into a Download link by itself when it finishes; a failed one says why;
the status filter and the job's own page work."""

import re

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from exports.models import ExportJob
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#table-region tbody tr"


def make_job(membership, **fields):
    with scopes_disabled():
        return ExportJob.objects.create(
            tenant=membership.tenant, created_by=membership.user, kind="client_finance", **fields
        )


def test_exports_progress_failure_filter_and_detail(page, log_in, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    me = MembershipFactory(role="accountant")
    colleague = MembershipFactory(tenant=me.tenant, role="accountant")
    running = make_job(me, title="Ledger of Alpha", status="running", progress=40, total=100)
    make_job(me, title="Ledger of Beta", status="failed", error="The database went away.")
    make_job(colleague, title="Someone else's ledger", status="done")

    log_in(me.user.username)
    page.goto("/exports/")
    expect(page.get_by_role("heading", name="Exports")).to_be_visible()
    expect(page.locator(ROWS)).to_have_count(2)
    expect(page.locator("#table-region")).not_to_contain_text("Someone else's ledger")
    alpha = page.locator(ROWS, has_text="Ledger of Alpha")
    expect(alpha.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "40")
    beta = page.locator(ROWS, has_text="Ledger of Beta")
    expect(beta.get_by_test_id("export-error")).to_contain_text("The database went away.")

    download = page.locator(ROWS, has_text="Ledger of Alpha").get_by_test_id("export-download")
    with page.expect_download() as downloaded_by_itself:
        with scopes_disabled():  # the worker finishes while the page is open
            running.file.save("ledger.xlsx", ContentFile(b"not really a workbook"), save=False)
            running.status, running.progress, running.finished_at = "done", 100, timezone.now()
            running.save()
        expect(download).to_be_visible()  # the progress cell polls and swaps itself...
    assert downloaded_by_itself.value.suggested_filename.endswith(".xlsx")
    expect(page.locator(ROWS)).to_have_count(2)  # ...and only itself: the table stays
    expect(page).to_have_url(re.compile(r"/exports/$"))
    with page.expect_download() as info:  # the button stays, for another copy
        download.click()
    assert info.value.suggested_filename.endswith(".xlsx")

    page.get_by_test_id("filter-form").get_by_label("Status").select_option("failed")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS)).to_contain_text("Ledger of Beta")

    page.goto(running.get_absolute_url())
    expect(page.get_by_role("heading", name="Ledger of Alpha")).to_be_visible()
    expect(page.get_by_test_id("export-download")).to_be_visible()
