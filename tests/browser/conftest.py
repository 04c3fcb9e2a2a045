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


# Runs before any page script (and outside the page's Content-Security-Policy): every violation
# is logged to the console, where the page fixture collects it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
                (event.blockedURI || "inline") + " at " + event.sourceFile + ":" +
                event.lineNumber);
});
"""


def is_csp_violation(message) -> bool:
    text = message.text
    return message.type == "error" and (
        text.startswith(("CSP violation", "htmx:evalDisallowedError"))  # htmx obeys the policy
        or "Content Security Policy" in text
    )


@pytest.fixture
def csp_violations():
    """The Content-Security-Policy violations the page reported; the page fixture fails the test
    when any is left at the end."""
    return []


@pytest.fixture
def page(browser, live_server, csp_violations):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.on("console", lambda m: csp_violations.append(m.text) if is_csp_violation(m) else None)
    yield page
    context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


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
