"""Playwright driving Debian's Chromium against pytest-django's live server.

Playwright's own browser download cannot work on a closed network, so the executable is the
system's chromium (CHROMIUM_PATH, default /usr/bin/chromium). A missing browser is an error,
never a skip.
"""

import os
import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.factories import TEST_PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop
# Generous waits: CI machines are small and may be busy; expect() retries until then.
expect.set_options(timeout=15_000)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        raise RuntimeError(f"Chromium not found at {path}; install Debian's chromium package.")
    return path


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def log_in(page):
    """log_in(username): fill the real login form."""

    def do_log_in(username: str, password: str = TEST_PASSWORD):
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    return do_log_in
