"""Export .xlsx of a list page: the file holds the page's rows, in its order, with its columns.

The walk finds every list page (every URL served by a FilteredTableView) and, on the seeded
demo, as each demo tenant's owner, sorts it by its first sortable column descending, exports
it through the toolbar's form and the export job, and compares the file with the page: the
same headers, the same number of rows, and on every row of the page the same values in the
text and number columns, in the same order."""

import re
from decimal import Decimal
from html.parser import HTMLParser
from io import BytesIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from core.tables import BOOLEAN_TEXT
from exports.lists import LIST_EXPORT_KIND
from exports.models import ExportJob, ExportStatus
from exports.tasks import export_job_run
from tenancy.demo import DEMO_TENANTS
from tenancy.mixins import FilteredTableView
from tests.helpers import assert_role_refused
from tests.seeded_demo import seeded_demo  # noqa: F401 - one seeding for all the demo's tests

pytestmark = pytest.mark.django_db
EMPTY_TEXTS = ("", "—", "never")


def boolean_shown() -> dict[str, str]:
    """django-tables2's BooleanColumn shows a mark; the file writes Yes/No in the starter's
    language (the demo has a Russian tenant)."""
    shown = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            shown.update({str(BOOLEAN_TEXT[True]): "✔", str(BOOLEAN_TEXT[False]): "✘"})
    return shown


BOOLEAN_SHOWN = boolean_shown()
# The list of exports holds the export of itself, running while it is written and done when
# the page is read again: only its headers and row count are compared.
CHANGED_BY_ITS_EXPORT = "exports:export_list"


def list_page_names() -> list[str]:
    """The URL names of every list page without URL arguments (FilteredTableView)."""
    found = []

    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                view_class = getattr(entry.callback, "view_class", None)
                is_list = view_class and issubclass(view_class, FilteredTableView)
                if is_list and not entry.pattern.converters:
                    found.append(f"{namespace}{entry.name}")

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


class TableParser(HTMLParser):
    """The header texts, sort links and cell texts of the page's table region."""

    def __init__(self):
        super().__init__()
        self.headers, self.sorts, self.rows = [], [], []
        self.in_region = self.in_head = self.in_body = False
        self.cell = None
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id") == "table-region":
            self.in_region = True
        if not self.in_region:
            return
        if tag == "thead":
            self.in_head = True
        elif tag == "tbody":
            self.in_body = True
        elif tag == "th" and self.in_head:
            self.cell = []
            self.headers.append(self.cell)
        elif tag == "a" and self.in_head and attrs.get("data-sort"):
            self.sorts.append(attrs["data-sort"])
        elif tag == "tr" and self.in_body:
            self.rows.append([])
        elif tag == "td" and self.in_body and self.rows:
            self.cell = []
            self.rows[-1].append(self.cell)

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self.cell = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "tbody":
            self.in_body = self.in_region = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def text(parts) -> str:
    return " ".join("".join(parts).split())


def read_page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    parser = TableParser()
    parser.feed(response.content.decode())
    headers = [text(h) for h in parser.headers]
    rows = [[text(c) for c in row] for row in parser.rows]
    rows = [row for row in rows if len(row) == len(headers)]  # not the "No rows" line
    return response, headers, rows, parser.sorts


def export_file(client, path, query):
    before = set(ExportJob.objects.values_list("pk", flat=True))
    response = client.post(reverse("exports:list_export"), {"list_path": path, "list_query": query})
    assert response.status_code in (200, 302), response.content[:300]
    job = ExportJob.objects.exclude(pk__in=before).get()
    assert job.kind == LIST_EXPORT_KIND
    export_job_run(job.pk, tenant_id=job.tenant_id)  # queued on commit: the test's never comes
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    download = client.get(reverse("exports:export_download", kwargs={"pk": job.pk}))
    sheet = load_workbook(BytesIO(b"".join(download.streaming_content))).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    return job, values[0], values[1:]


def digits(value) -> str:
    return re.sub(r"\D", "", str(value))


def same_value(exported, shown: str) -> bool | None:
    """Whether a cell of the file shows as the page's cell; None where only the formats
    differ (dates and times are compared by their order through the other columns)."""
    if exported is None or exported == "":
        return shown in EMPTY_TEXTS or None
    if isinstance(exported, bool):
        return None
    if isinstance(exported, int):
        return str(abs(exported)) in digits(shown)
    if isinstance(exported, float | Decimal):
        return None
    if isinstance(exported, str):
        value = exported[1:] if exported.startswith("'") else exported
        if value in BOOLEAN_SHOWN and shown in BOOLEAN_SHOWN.values():
            return BOOLEAN_SHOWN[value] == shown
        return "".join(value.split()) in "".join(shown.split())
    return None


def header_of(exported: str, currency: str) -> str:
    return exported.removesuffix(f" ({currency})")


@pytest.fixture(scope="module")
def demo(seeded_demo, django_db_blocker):  # noqa: F811 - the seeding fixture
    from django.core.management import call_command

    with django_db_blocker.unblock():
        tenants = seeded_demo.restore()
        yield {key: tenants[key] for key in DEMO_TENANTS}
        call_command("flush", interactive=False, verbosity=0)


def test_the_walk_finds_the_list_pages():
    names = list_page_names()
    for expected in ("clients:client_list", "routers:router_list", "tenancy:operator_list"):
        assert expected in names
    assert len(names) >= 6


@pytest.mark.parametrize("key", list(DEMO_TENANTS))
def test_every_list_exports_its_rows_order_and_columns(client, demo, key):
    tenant = demo[key]
    client.force_login(get_user_model().objects.get(username=f"{key}-owner"))
    compared_lists = 0
    for name in list_page_names():
        path = reverse(name)
        if client.get(path).status_code != 200:
            continue  # a module this tenant does not use
        _, _, _, sorts = read_page(client, path)
        query = "per_page=100" + (f"&sort=-{sorts[0]}" if sorts else "")
        with scopes_disabled():
            job, file_headers, file_rows = export_file(client, path, query)
        # The page after the export: the Exports list shows the export's own job too.
        response, headers, rows, _ = read_page(client, f"{path}?{query}")
        shown = [h for h in headers if h]
        assert [header_of(h, tenant.currency) for h in file_headers] == shown, name
        table = response.context["table"]
        assert len(file_rows) == table.data.data.count(), name
        if name == CHANGED_BY_ITS_EXPORT:
            continue
        compared = 0
        header_index = [i for i, h in enumerate(headers) if h]
        for line, (page_row, file_row) in enumerate(zip(rows, file_rows, strict=False)):
            for column, (i, exported) in enumerate(zip(header_index, file_row, strict=True)):
                verdict = same_value(exported, page_row[i])
                assert verdict is not False, (name, line, shown[column], exported, page_row[i])
                compared += verdict is True
        if rows:
            assert compared >= len(rows), f"{name}: no column of the page could be compared"
            compared_lists += 1
    assert compared_lists >= 3


def test_client_list_export_follows_filter_sort_and_chosen_columns(client, demo):
    tenant = demo["sms"]
    client.force_login(get_user_model().objects.get(username="sms-owner"))
    path = reverse("clients:client_list")
    client.post(
        reverse("tenancy:table_preferences", kwargs={"table_name": "ClientTable"}),
        {"columns": ["number", "login", "balance"], "save_columns": "1"},
    )
    query = "q=a&sort=number&per_page=100"
    response, headers, rows, _ = read_page(client, f"{path}?{query}")
    shown = [h for h in headers if h]  # not the tick boxes of the bulk actions
    assert sorted(shown) == ["Balance", "Client name", "ID", "Login"]
    with scopes_disabled():
        _, file_headers, file_rows = export_file(client, path, query)
    assert [header_of(h, tenant.currency) for h in file_headers] == shown
    assert f"Balance ({tenant.currency})" in file_headers
    number, balance = shown.index("ID"), shown.index("Balance")
    page_number = headers.index("ID")
    assert len(file_rows) == response.context["table"].paginator.count > 1
    assert [r[number] for r in file_rows] == sorted(r[number] for r in file_rows)
    page_numbers = [int(digits(r[page_number])) for r in rows]
    assert [r[number] for r in file_rows[: len(rows)]] == page_numbers
    assert all(isinstance(r[balance], float | int) or r[balance] is None for r in file_rows)
    assert any(isinstance(r[balance], float | int) for r in file_rows)


def test_export_needs_the_export_right_and_the_pages_own_right(client, tenant, login_as):
    login_as(tenant, "viewer")
    assert_role_refused(
        client,
        reverse("exports:list_export"),
        "post",
        {"list_path": reverse("clients:client_list"), "list_query": ""},
    )
    login_as(tenant, "accountant")  # may export, but not see the operators
    path = reverse("tenancy:operator_list")
    assert client.get(path).status_code == 403
    assert_role_refused(
        client, reverse("exports:list_export"), "post", {"list_path": path, "list_query": ""}
    )
    with scopes_disabled():
        assert not ExportJob.objects.exists()


def test_export_of_a_path_that_is_no_list_is_404(client, tenant, owner):
    for path in ("", "/nowhere/", "/clients/1/", "http://example.com/clients/", "/login/"):
        response = client.post(
            reverse("exports:list_export"), {"list_path": path, "list_query": ""}
        )
        assert response.status_code == 404, path
    with scopes_disabled():
        assert not ExportJob.objects.exists()
