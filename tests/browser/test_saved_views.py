"""The list toolbar in Chromium: save the client list as it is filtered and sorted under a
name, open it again from the Views drop-down, remove it; and Export .xlsx of the list as shown
(the export task runs in-process, eagerly, on the live server's commit), downloaded by itself."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from openpyxl import load_workbook
from playwright.sync_api import expect

from config.celery import app as celery_app
from tenancy.models import SavedView
from tests.factories import ClientFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#table-region tbody tr[data-href]"


@pytest.fixture
def operator_with_clients():
    membership = MembershipFactory(role="manager")
    now = timezone.now()
    for i in range(12):
        ClientFactory(
            tenant=membership.tenant,
            name=f"Person {i:02d}",
            company="Quartz Works" if i % 3 == 0 else "Other Trading",
            last_purchase_at=now - timedelta(days=i),
        )
    return membership


@pytest.fixture
def eager_tasks(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_save_a_view_open_it_from_the_dropdown_and_remove_it(page, log_in, operator_with_clients):
    log_in(operator_with_clients.user.username)
    page.goto("/clients/")
    page.get_by_test_id("client-search").fill("Quartz")
    page.get_by_test_id("client-search").press("Enter")
    expect(page.locator(ROWS)).to_have_count(4)
    expect(page).to_have_url(re.compile(r"q=Quartz"))

    page.get_by_test_id("saved-views-button").click()
    page.get_by_test_id("saved-view-name").fill("Quartz clients")
    page.get_by_label("Share with the team").check()
    page.get_by_test_id("saved-view-save").click()
    expect(page.get_by_test_id("saved-views-button")).to_have_text(re.compile("Quartz clients"))
    expect(page.locator(ROWS)).to_have_count(4)
    with scopes_disabled():
        view = SavedView.objects.get()
    assert view.shared and "q=Quartz" in view.query

    page.goto("/clients/")  # the whole list again
    expect(page.locator(ROWS)).to_have_count(10)
    page.get_by_test_id("saved-views-button").click()
    page.get_by_test_id("saved-view-link").filter(has_text="Quartz clients").click()
    expect(page).to_have_url(re.compile(rf"view={view.pk}"))
    expect(page.locator(ROWS)).to_have_count(4)
    expect(page.locator("#table-region")).not_to_contain_text("Other Trading")

    page.get_by_test_id("saved-views-button").click()
    page.get_by_test_id("saved-view-remove").click()
    expect(page.locator(".alert-success")).to_contain_text("View “Quartz clients” removed.")
    page.get_by_test_id("saved-views-button").click()
    expect(page.get_by_test_id("saved-view-link")).to_have_count(0)
    with scopes_disabled():
        assert not SavedView.objects.exists()


def test_a_bad_name_is_explained_next_to_its_field(page, log_in, operator_with_clients):
    log_in(operator_with_clients.user.username)
    page.goto("/clients/")
    page.get_by_test_id("saved-views-button").click()
    page.get_by_test_id("saved-view-name").fill("   ")
    page.get_by_test_id("saved-view-save").click()
    expect(page.locator('[data-field-error="name"]')).to_contain_text("Give the view a name.")
    with scopes_disabled():
        assert not SavedView.objects.exists()


def test_export_the_list_as_shown(page, log_in, operator_with_clients, eager_tasks, tmp_path):
    log_in(operator_with_clients.user.username)
    page.goto("/clients/")
    page.get_by_test_id("client-search").fill("Quartz")
    page.get_by_test_id("client-search").press("Enter")
    expect(page.locator(ROWS)).to_have_count(4)
    with page.expect_download() as info:
        page.get_by_test_id("list-export").click()
    expect(page.get_by_test_id("export-download")).to_be_visible()  # for another copy
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name.startswith("clients-") and path.suffix == ".xlsx"
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    headers = [cell.inner_text().strip() for cell in page.locator("#table-region thead th").all()]
    headers = [h for h in headers if h]  # not the tick boxes of the bulk actions
    assert list(rows[0]) == headers
    names = [r[headers.index("Client name")] for r in rows[1:]]
    shown = page.locator(f"{ROWS} [data-testid=client-link]").all_inner_texts()
    assert names == shown and len(names) == 4
