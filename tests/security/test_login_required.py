"""Every URL pattern but login answers an anonymous visitor with a redirect to the login page.
The patterns are enumerated, so that a new page is covered without anyone remembering."""

import re

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

# Login, and the operations endpoints (no tenant's data: tests/ops/ checks what they show; a
# scrape of /metrics needs its token).
# The JavaScript catalogue holds the portal's own interface strings, which the login page needs.
PUBLIC = {"login", "admin:login", "health_live", "health_ready", "metrics", "javascript_catalog"}
SAMPLE_VALUES = {
    "int": "1",
    "str": "sample",
    "slug": "sample",
    "uuid": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
    "path": "sample",
}


def route_to_url(route: str) -> str:
    def fill(match):
        converter = match.group(1) or "str"
        return SAMPLE_VALUES.get(converter, "1")

    return re.sub(r"<(?:(\w+):)?\w+>", fill, route)


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if not isinstance(entry.pattern, RoutePattern):
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            if isinstance(entry.pattern, RoutePattern):
                route = prefix + str(entry.pattern)
            elif entry.pattern.regex.groups == 0:
                route = prefix + entry.pattern.regex.pattern.lstrip("^").rstrip("$").replace(
                    "\\", ""
                )
            else:
                continue
            name = f"{namespace}{entry.name}" if entry.name else route
            yield name, "/" + route_to_url(route)


ALL_URLS = sorted(set(walk(get_resolver().url_patterns)))
# The JSON API answers an anonymous caller 401 (a problem document), not a login page; its
# schema and documentation are public, and its root names nothing.
API_URLS = [u for u in ALL_URLS if u[0].startswith("api:")]
PORTAL_URLS = [u for u in ALL_URLS if not u[0].startswith("api:")]
API_PUBLIC = {"api:openapi-json", "api:openapi-view"}


def test_enumeration_finds_the_portal_pages():
    names = {name for name, _ in ALL_URLS}
    assert {"home", "tenancy:operator_list", "clients:client_list", "admin:index"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), [u for u in PORTAL_URLS if u[0] not in PUBLIC])
def test_anonymous_is_sent_to_login(client, name, url):
    response = client.get(url)
    assert response.status_code == 302, f"{name} {url} gave {response.status_code}"
    login_pages = (resolve_url(settings.LOGIN_URL), reverse("admin:login"))  # the admin's own
    assert response["Location"].startswith(login_pages), response["Location"]


@pytest.mark.django_db
def test_login_page_is_public(client):
    assert client.get(resolve_url("login")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), API_URLS)
def test_anonymous_api_caller_is_refused(client, name, url):
    url = url.replace("/sample/", "/1/")
    answers = [
        client.get(url),
        client.post(url, data={}, content_type="application/json"),
        client.patch(url, data={}, content_type="application/json"),
    ]
    if name in API_PUBLIC:
        assert answers[0].status_code == 200
        return
    if name in ("api:api-root", "api:no_such_operation"):
        assert {a.status_code for a in answers} == {404}
        assert answers[0]["Content-Type"] == "application/problem+json"
        return
    statuses = {a.status_code for a in answers} - {405}  # the method the operation lacks
    assert statuses == {401}, f"{name} {url} gave {statuses}"
    refused = next(a for a in answers if a.status_code == 401)
    assert refused["Content-Type"] == "application/problem+json"
