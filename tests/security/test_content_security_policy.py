"""Every response carries a Content-Security-Policy that refuses inline scripts and styles, and
no template holds what that policy would block (inline scripts, on...= handlers, hx-on,
style= attributes): behaviour lives in static files and data in data- attributes or
json_script. The browser tests check the pages themselves in Chromium."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loaders.app_directories import get_app_template_dirs
from django.urls import reverse

from tests.security.test_login_required import ALL_URLS

INLINE_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:"}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def assert_strict(response) -> None:
    directives = policy(response)
    for name in ("script-src", "style-src", "default-src"):
        assert directives[name] == ["'self'"], (name, directives[name])
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert not INLINE_SOURCES & set(directives["script-src"])


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), ALL_URLS)
def test_every_url_answers_an_anonymous_visitor_with_the_policy(client, name, url):
    assert_strict(client.get(url))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "home",
        "login",
        "account",
        "clients:client_list",
        "tenancy:operator_list",
        "exports:export_list",
        "holds:dashboard",
        "password_change",
        "admin:index",
    ],
)
def test_the_pages_of_a_signed_in_owner_carry_the_policy(client, owner, name):
    response = client.get(reverse(name))
    assert response.status_code in (200, 302)
    assert_strict(response)


def test_a_page_that_is_not_found_carries_the_policy_too(client, db):
    assert_strict(client.get("/no-such-page/"))


# -- the templates ----------------------------------------------------------------------------
def project_templates() -> list[Path]:
    """The templates of the project (its own apps and templates/), not of installed packages."""
    base = Path(settings.BASE_DIR).resolve()
    dirs = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]] + list(
        get_app_template_dirs("templates")
    )
    own = [d.resolve() for d in dirs if d.resolve().is_relative_to(base) and ".venv" not in d.parts]
    return sorted({path for d in own for path in d.rglob("*.html")})


BLOCKED = {
    "an inline script": re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
    ),
    "an inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "hx-on": re.compile(r"\bhx-on", re.I),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def test_the_template_scan_finds_the_templates():
    names = {p.name for p in project_templates()}
    assert {"base.html", "client_finance.html", "order_form.html", "client_list.html"} <= names


@pytest.mark.parametrize("path", project_templates(), ids=lambda p: p.name)
def test_no_template_holds_what_the_policy_blocks(path):
    text = path.read_text()
    found = [what for what, pattern in BLOCKED.items() if pattern.search(text)]
    assert not found, f"{path}: {', '.join(found)}"
