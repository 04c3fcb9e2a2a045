"""Playwright driving Debian's Chromium against pytest-django's live server: a page per test,
whose Content-Security-Policy violations fail the test (the browser and the page machinery are
in tests/browsing.py, shared with the story tests)."""

import pytest

from tests.browsing import assert_no_csp_violations, log_in_through_form, open_page
from tests.factories import TEST_PASSWORD


@pytest.fixture
def csp_violations():
    """The Content-Security-Policy violations the page reported; the page fixture fails the test
    when any is left at the end."""
    return []


@pytest.fixture
def page(browser, live_server, csp_violations):
    with open_page(browser, live_server.url, csp_violations) as page:
        yield page
    assert_no_csp_violations(csp_violations)


@pytest.fixture
def log_in(page):
    """log_in(username): fill the real login form."""

    def do_log_in(username: str, password: str = TEST_PASSWORD):
        log_in_through_form(page, username, password)

    return do_log_in
