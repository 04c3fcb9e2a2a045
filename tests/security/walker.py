"""The pieces of the bad-input walk: the URL patterns with their arguments, the forms of a page
(parsed from its HTML as a browser sees them), the bad values for each kind of field, and a
cheap snapshot of every table the portal writes."""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from tests.html_forms import Field, Form, page_forms  # noqa: F401 - the walk's forms

# -- URL patterns --------------------------------------------------------------------------
ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
# Django's own admin is for superusers only and is walked by Django's tests, not ours. The
# JSON API has no HTML forms: Schemathesis walks it from its own schema, with valid and with
# bad values (tests/api/test_api_schema.py).
NOT_WALKED_NAMESPACES = ("admin:", "api:")


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    arguments: tuple[str, ...]
    callback: object = field(compare=False, hash=False, repr=False)

    def url(self, values: dict) -> str:
        return "/" + ARGUMENT.sub(lambda m: str(values[m.group(2)]), self.route)


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if ns.startswith(NOT_WALKED_NAMESPACES):
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else prefix + str(entry.pattern)
            if not isinstance(entry.pattern, RoutePattern) and entry.pattern.regex.groups:
                # A regex with groups: the walker cannot fill it; the test on arguments fails.
                yield Route(name, prefix + str(entry.pattern), ("<regex>",), entry.callback)
                continue
            route = prefix + str(entry.pattern)
            if not isinstance(entry.pattern, RoutePattern):
                route = route.lstrip("^").rstrip("$").replace("\\", "")
            arguments = tuple(m.group(2) for m in ARGUMENT.finditer(route))
            yield Route(name, route, arguments, entry.callback)


def portal_routes() -> list[Route]:
    """Every URL pattern of the portal, in a stable order."""
    routes = {r.name: r for r in _walk(get_resolver().url_patterns)}
    return [routes[name] for name in sorted(routes) if not name.startswith(NOT_WALKED_NAMESPACES)]


def view_query_parameters(route: Route) -> set[str]:
    """The query parameters the view's module reads by name (request.GET.get("x"), GET["x"])."""
    view_class = getattr(route.callback, "view_class", None)
    module = sys.modules.get(getattr(view_class or route.callback, "__module__", ""))
    path = getattr(module, "__file__", None)
    source = Path(path).read_text() if path else ""
    found = re.findall(r"\bGET(?:\.get|\.getlist)?\(\s*[\"'](\w+)[\"']", source)
    found += re.findall(r"\bGET\[\s*[\"'](\w+)[\"']\s*\]", source)
    return set(found)


# -- forms of a page -----------------------------------------------------------------------
def get_form_fields(forms: list[Form], path: str) -> set[str]:
    """The names the page's GET forms (those that load `path` again) send as parameters."""
    return {
        f.name
        for form in forms
        if form.method == "get" and urlsplit(form.action).path == path
        for f in form.fields
    }


# -- bad values ----------------------------------------------------------------------------
MISSING = object()  # the field left out
TWICE = object()  # the field sent twice, as an array where one value is expected

HUGE_EXPONENTS = ["1e1000000", "-1e1000000", "1e-1000000"]
NOT_FINITE = ["NaN", "-inf"]
OUT_OF_RANGE = ["-1", str(10**30), "9" * 5000]
CONTROL = ["a\x00\x01\x0b\x1f\x7f\x9bb", "\x01=1+1"]
LONG = ["x" * 100_000]
BAD_DATES = ["0001-01-01", "9999-12-31", "99999-12-31", "0001-01-01T00:00", "2026-02-30"]
STRUCTURE = [MISSING, TWICE]

VALUES_BY_KIND = {
    "number": HUGE_EXPONENTS + NOT_FINITE + OUT_OF_RANGE + CONTROL[:1] + LONG + STRUCTURE,
    "date": BAD_DATES + HUGE_EXPONENTS[:1] + CONTROL[:1] + LONG + STRUCTURE,
    "text": CONTROL[:1] + LONG + STRUCTURE,
    "secret": CONTROL[:1] + LONG + STRUCTURE,
    "hidden": CONTROL[:1] + LONG + HUGE_EXPONENTS[:1] + NOT_FINITE[:1] + STRUCTURE,
    "choice": CONTROL[:1] + LONG + HUGE_EXPONENTS[:1] + OUT_OF_RANGE[:2] + STRUCTURE,
}
# The query parameters every table reads, by kind; one of unknown kind (read by a view by its
# name) gets every bad value.
QUERY_VALUES_BY_KIND = {
    "number": HUGE_EXPONENTS[:1] + NOT_FINITE[:1] + OUT_OF_RANGE + CONTROL[:1] + [TWICE],
    "text": CONTROL[:1] + LONG + [TWICE],
    "unknown": HUGE_EXPONENTS
    + NOT_FINITE
    + OUT_OF_RANGE
    + CONTROL
    + LONG
    + BAD_DATES[:1]
    + [TWICE],
}
QUERY_KINDS = {"page": "number", "per_page": "number", "sort": "text", "q": "text"}
BAD_HEADERS = [
    "HTTP_USER_AGENT",
    "HTTP_REFERER",
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_HX_REQUEST",
    "HTTP_HX_TARGET",
    "HTTP_HX_CURRENT_URL",
    "HTTP_HX_TRIGGER",
    "HTTP_X_FORWARDED_FOR",
]


def with_bad_value(data: dict, name: str, value) -> dict:
    """`data` (name -> list of values) with field `name` replaced by one bad value."""
    changed = dict(data)
    if value is MISSING:
        changed.pop(name, None)
    elif value is TWICE:
        current = (data.get(name) or ["1"])[0]
        changed[name] = [current, current + "0"]
    else:
        changed[name] = [value]
    return changed


def describe(value) -> str:
    if value is MISSING:
        return "<missing>"
    if value is TWICE:
        return "<twice>"
    return repr(value[:30]) + (f"...({len(value)} chars)" if len(value) > 30 else "")


# -- snapshot of the database --------------------------------------------------------------
# Session bookkeeping (Django's sessions and what the sessions page shows of them) and login
# throttling change on any request, refused or not.
NOT_SNAPSHOT = ("django_session", "access_operatorsession", "django_migrations", "axes_")


def snapshot_query() -> str:
    """One query: the row count and an md5 of the rows of every table the portal writes."""
    tables = sorted(
        t for t in connection.introspection.table_names() if not t.startswith(NOT_SNAPSHOT)
    )
    parts = [
        f"SELECT '{t}', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
        f'FROM "{t}" x'
        for t in tables
    ]
    return " UNION ALL ".join(parts)


WRITES_QUERY = (
    "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables"
    " WHERE relname NOT LIKE 'django_session%%' AND relname NOT LIKE 'axes_%%'"
    " AND relname <> 'access_operatorsession'"
)


def writes_so_far() -> int:
    """Rows this transaction has inserted, updated or deleted so far: while it stays the same,
    no table changed and the snapshot need not be taken again."""
    with connection.cursor() as cursor:
        cursor.execute(WRITES_QUERY)
        return cursor.fetchone()[0]


def snapshot(query: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(t for t in after if before.get(t) != after[t])
