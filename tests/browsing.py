"""Playwright driving Debian's Chromium, shared by the page tests (tests/browser/) and the
story tests (tests/stories/): one browser for the whole run, pages that report every
Content-Security-Policy violation, and the real login form.

Playwright's own browser download cannot work on a closed network, so the executable is the
system's chromium (CHROMIUM_PATH, default /usr/bin/chromium). A missing browser is an error,
never a skip.
"""

import functools
import os
import shutil
from contextlib import contextmanager

import pytest
from playwright.sync_api import Error, Locator, Page, expect, sync_playwright

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


# An operator can click a button before the page's scripts have run; the page then works
# without them (a full-page post). The tests walk the scripted path, so every action first
# waits until the element's document has loaded, when HTMX has bound its forms and links.
ELEMENT_DOCUMENT_LOADED = """
element => element.ownerDocument.readyState === "complete" || new Promise(resolve =>
  element.ownerDocument.defaultView.addEventListener("load", () => resolve(true), {once: true}))
"""
ACTIONS = (
    "click",
    "dblclick",
    "fill",
    "press",
    "press_sequentially",
    "type",
    "check",
    "uncheck",
    "set_checked",
    "select_option",
    "set_input_files",
    "tap",
)


def wait_for_its_document(locator: Locator) -> None:
    for attempt in range(3):
        try:
            locator.first.evaluate(ELEMENT_DOCUMENT_LOADED)
            return
        except Error as error:  # a navigation replaced the document while waiting: look again
            if "Execution context was destroyed" not in str(error) or attempt == 2:
                raise


def once_loaded(action, locate):
    @functools.wraps(action)
    def act(self, *args, **kwargs):
        wait_for_its_document(locate(self, *args))
        return action(self, *args, **kwargs)

    act.waits_for_its_document = True
    return act


def act_only_on_loaded_documents() -> None:
    for name in ACTIONS:
        for cls, locate in (
            (Locator, lambda locator, *args: locator),
            (Page, lambda page, selector, *args: page.locator(selector)),
        ):
            action = getattr(cls, name, None)
            if action is not None and not getattr(action, "waits_for_its_document", False):
                setattr(cls, name, once_loaded(action, locate))


act_only_on_loaded_documents()


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
# is logged to the console, where the page collects it.
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


@contextmanager
def open_page(browser, base_url: str, csp_violations: list):
    """A page in a browser context of its own; the policy violations it reports are appended
    to `csp_violations`, which the caller checks when it is done with the page."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.on("console", lambda m: csp_violations.append(m.text) if is_csp_violation(m) else None)
    try:
        yield page
    finally:
        context.close()


def assert_no_csp_violations(csp_violations: list) -> None:
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


def log_in_through_form(page, username: str, password: str) -> None:
    """Fill the real login form, as an operator does."""
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def give_second_factor(page, code: str) -> None:
    """Answer the login's second step (the page the password leads to) with `code`."""
    page.fill("input[name=code]", code)
    page.click("form:has(input[name=code]) button[type=submit]")
    page.wait_for_load_state("networkidle")
