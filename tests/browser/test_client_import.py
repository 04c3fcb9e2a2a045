"""The client import in Chromium: upload, map a column, preview, commit with the progress bar
turning into the counts by itself, and download the refused rows."""

import pytest
from django_scopes import scopes_disabled
from openpyxl import load_workbook
from playwright.sync_api import expect

from clients.models import Client, ClientImport
from clients.tasks import client_import_run
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = "Ref,Name,E-mail\nR1,Ann,ann@example.com\nR2,Bob,not-an-email\nR3,Cid,cid@example.com\n"


def test_map_preview_commit_and_download_refused_rows(page, log_in, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    me = MembershipFactory(role="manager")
    path = tmp_path / "clients.csv"
    path.write_text(CSV)
    log_in(me.user.username)
    page.goto("/clients/")
    page.get_by_test_id("client-import").click()
    page.get_by_label("File (.xlsx or .csv)").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_test_id("import-preview")).to_contain_text("Preview of 3 rows")
    page.get_by_label("Ref").select_option("external_ref")
    page.get_by_role("button", name="Preview again").click()
    expect(page.get_by_test_id("preview-created")).to_have_text("2")
    expect(page.get_by_test_id("preview-refused")).to_have_text("1")
    expect(page.get_by_test_id("import-refused")).to_contain_text("E-mail")
    page.get_by_test_id("import-commit").click()
    expect(page.get_by_test_id("import-progress")).to_have_attribute("data-status", "queued")
    with scopes_disabled():
        job = ClientImport.objects.get()
    client_import_run(job.pk, tenant_id=me.tenant_id)  # the worker, while the page polls
    expect(page.get_by_test_id("import-done")).to_contain_text(
        "created 2, updated 0, unchanged 0, refused 1"
    )
    with page.expect_download() as info:
        page.get_by_test_id("import-refused-download").click()
    with open(info.value.path(), "rb") as handle:
        sheet = load_workbook(handle).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("R2", "Bob", "not-an-email") and "E-mail" in rows[1][4]
    with scopes_disabled():
        assert Client.objects.filter(tenant=me.tenant).count() == 2
