"""What the story tests share: the real demo (tests/seeded_demo.py), the live server and
one Chromium page per story, and the few ways of looking at a page that every story uses.

A story's steps are tests that run in order on one database state, as an operator's path
does: step two finds what step one left. pytest-django gives every test that uses the live
server a flush of the database afterwards (its `transactional_db`); here the demo fixture
opens the database for the stories instead, and empties it once they are over.
"""

import re
from contextlib import ExitStack, contextmanager
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from openpyxl import load_workbook
from playwright.sync_api import expect

from config.celery import app as celery_app
from core.formatting import DATE_FORMATS
from tenancy.demo import DEMO_PASSWORD
from tenancy.models import OperatorProfile
from tests.browsing import assert_no_csp_violations, log_in_through_form, open_page
from tests.seeded_demo import move_simulated_routers_to_free_ports


@pytest.fixture(autouse=True)
def _live_server_helper(request):
    """pytest-django's own helper, but without the flush after every step: the live server's
    settings for the step, on the database the demo fixture keeps open for the story."""
    if "live_server" not in request.fixturenames:
        yield
        return
    live_server = request.getfixturevalue("live_server")
    live_server._live_server_modified_settings.enable()
    yield
    live_server._live_server_modified_settings.disable()


@pytest.fixture(scope="package")
def demo(seeded_demo, django_db_blocker, tmp_path_factory):
    """The demo's three tenants, as `make demo` seeds them, once for the stories (each story
    works in a tenant of its own). Afterwards tasks run at once, as the demo's worker would run
    them: exports into a media folder of the stories' own."""
    media = tmp_path_factory.mktemp("media")
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        stack.enter_context(override_settings(MEDIA_ROOT=str(media)))
        tenants = seeded_demo.restore()
        operators_read_english()
        move_simulated_routers_to_free_ports(tenants["isp"])
        stack.callback(
            setattr, celery_app.conf, "task_always_eager", celery_app.conf.task_always_eager
        )
        celery_app.conf.task_always_eager = True
        try:
            yield tenants
        finally:
            call_command("flush", interactive=False, verbosity=0)


def operators_read_english() -> None:
    """The stories are written in English: their operators chose English in their profile, so
    that the reseller's Russian-speaking demo tenant shows them English too."""
    for user in get_user_model().objects.all():
        OperatorProfile.objects.update_or_create(user=user, defaults={"language": "en"})


@pytest.fixture(scope="module")
def page(browser, live_server, demo):
    """One browser context for the whole story; a Content-Security-Policy violation anywhere
    on the way fails the story (at its last step's teardown)."""
    violations: list[str] = []
    with open_page(browser, live_server.url, violations) as page:
        yield page
    assert_no_csp_violations(violations)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


def log_in(page, username: str) -> None:
    """Log in through the login page as one of the demo's operators."""
    log_in_through_form(page, username, DEMO_PASSWORD)
    expect(page.get_by_role("link", name="Clients", exact=True).first).to_be_visible()


def go_to_clients(page) -> None:
    """Select Clients in the navigation menu."""
    page.get_by_role("navigation").get_by_role("link", name="Clients", exact=True).first.click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Clients", exact=True)).to_be_visible()


# -- dates -------------------------------------------------------------------------------
def tenant_date(tenant, day: date) -> str:
    """A date as the tenant's operators read and type it."""
    return day.strftime(DATE_FORMATS[tenant.date_format]["strftime"])


def fill_date(scope, label: str, day: date, tenant) -> None:
    """Enter a date in the field labelled `label` by typing it in the tenant's format (a
    browser's native date input takes the ISO date instead, whatever it shows)."""
    field = scope.get_by_label(label, exact=True)
    if field.get_attribute("type") == "date":
        field.fill(day.isoformat())
    else:
        field.fill("")
        field.press_sequentially(tenant_date(tenant, day))


# -- what a page shows -----------------------------------------------------------------------
def words(text: str) -> set[str]:
    text = text.lower().replace("e-mail", "email").replace("№", "")
    return set(re.findall(r"[a-z0-9]+", text))


def names_the_same(seed_term: str, shown: str) -> bool:
    """Whether a label on the page is the seed's term, word order and extra words aside
    ("Address, postal" is "Postal address"; "Start Date" is "Start")."""
    seed_words, shown_words = words(seed_term), words(shown)
    return bool(shown_words) and (seed_words <= shown_words or shown_words <= seed_words)


def find_shown(seed_term: str, shown: list[str]) -> str | None:
    """The label on the page that is the seed's term: the exact one first, then the closest."""
    for text in shown:
        if words(text) == words(seed_term):
            return text
    return next((text for text in shown if names_the_same(seed_term, text)), None)


def assert_shows_terms(shown: list[str], seed_terms: list[str]) -> None:
    missing = [term for term in seed_terms if find_shown(term, shown) is None]
    assert not missing, f"{missing} not among {shown}"


def card(page, title: str):
    """A block of the page by its title."""
    return page.locator(".card").filter(
        has=page.locator(".card-header", has_text=re.compile(rf"^\s*{re.escape(title)}\s*$", re.I))
    )


def definition(scope, seed_term: str):
    """The value beside a term of a definition list (Client ID, Name, ...)."""
    terms = [t.strip() for t in scope.locator("dt").all_inner_texts()]
    term = find_shown(seed_term, terms)
    assert term is not None, f"{seed_term!r} not among {terms}"
    return scope.locator("dt", has_text=re.compile(rf"^\s*{re.escape(term)}\s*$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def column_headers(table) -> list[str]:
    return [" ".join(text.split()) for text in table.locator("thead th").all_inner_texts()]


def column_index(table, seed_term: str) -> int:
    headers = column_headers(table)
    header = find_shown(seed_term, headers)
    assert header is not None, f"{seed_term!r} not among {headers}"
    return headers.index(header)


def cells(table, seed_term: str) -> list[str]:
    """The texts of one column, found by its header."""
    index = column_index(table, seed_term)
    return [
        t.strip() for t in table.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()
    ]


def list_table(page):
    return page.locator("#table-region table")


def row_count(page) -> int:
    """The number of rows the list says it has ("77 rows")."""
    text = page.get_by_text(re.compile(r"^\s*[\d,]+ rows?\s*$")).first.inner_text()
    return int(re.sub(r"\D", "", text))


@contextmanager
def refreshed(page):
    """Wait until what the steps inside set off is on the page: the table or fragment htmx
    swaps in, or the page a link or a form loads. (A load state alone does not wait for an htmx
    request: the page reached it long before.)"""
    page.evaluate(
        """() => {
            window.storyRefreshed = false;
            document.body.addEventListener(
                "htmx:afterSettle", () => { window.storyRefreshed = true; }, {once: true}
            );
        }"""
    )
    yield
    page.wait_for_function("() => window.storyRefreshed !== false")  # undefined on a new page
    page.wait_for_load_state("networkidle")


def named(text: str):
    """An accessible name as a button or link with an icon has it (the icon's glyph first)."""
    return re.compile(rf"^\W*{re.escape(text)}\W*$")


def download_headers(page, click, folder) -> dict[str, list]:
    """Do what starts an export, wait for the .xlsx that downloads by itself when its job is
    done, and give each sheet's header row."""
    with page.expect_download(timeout=60_000) as info:
        click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    path = folder / download.suggested_filename
    download.save_as(path)
    book = load_workbook(path, read_only=True)
    headers = {}
    for sheet in book.worksheets:
        first = next(sheet.iter_rows(values_only=True), ())
        headers[sheet.title] = [str(v) for v in first if v is not None]
    book.close()
    return headers
