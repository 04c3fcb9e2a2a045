"""The pieces of the bad-input walk: the URL patterns with their arguments, the forms of a page
(parsed from its HTML as a browser sees them), the bad values for each kind of field, and a
cheap snapshot of every table the portal writes."""

import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.db import connection
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

# -- URL patterns --------------------------------------------------------------------------
ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
# Django's own admin is for superusers only and is walked by Django's tests, not ours.
NOT_WALKED_NAMESPACES = ("admin:",)


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
@dataclass
class Field:
    name: str
    kind: str  # number, date, text, choice, hidden, secret
    value: str | list[str] | None


@dataclass
class Form:
    method: str
    action: str
    fields: list[Field] = field(default_factory=list)

    def signature(self) -> tuple:
        """The same form on another page (or for another object) has the same signature."""
        try:
            target = resolve(urlsplit(self.action).path).view_name
        except Resolver404:
            target = self.action
        return (self.method, target, tuple(sorted(f.name for f in self.fields)))

    def data(self) -> dict:
        """What a browser submits when nothing is changed."""
        data: dict[str, list[str]] = {}
        for f in self.fields:
            if f.value is None:
                continue
            values = f.value if isinstance(f.value, list) else [f.value]
            data.setdefault(f.name, []).extend(values)
        return data


NUMBER_INPUTMODES = {"decimal", "numeric"}


class FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None
        self.select_multiple = False
        self.first_option: str | None = None
        self.textarea: Field | None = None
        self.submit_seen = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            method = "post" if a.get("hx-post") or a.get("method", "").lower() == "post" else "get"
            action = a.get("hx-post") or a.get("action") or a.get("hx-get") or self.page_url
            self.form = Form(method, urljoin(self.page_url, action))
            self.submit_seen = False
            return
        if self.form is None or "name" not in a or "disabled" in a:
            return
        name = a["name"]
        if tag == "input":
            self._input(name, a)
        elif tag == "button":
            if a.get("type", "submit") == "submit" and not self.submit_seen:
                self.submit_seen = True
                self.form.fields.append(Field(name, "choice", a.get("value", "")))
        elif tag == "select":
            self.select = Field(name, "choice", None)
            self.select_multiple = "multiple" in a
            self.first_option = None
            self.form.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.first_option is None:
                self.first_option = value
            if "selected" in a:
                if self.select_multiple:
                    self.select.value = [*(self.select.value or []), value]
                else:
                    self.select.value = value
        elif tag == "textarea":
            self.textarea = Field(name, "text", "")
            self.form.fields.append(self.textarea)

    def _input(self, name, a):
        kind = a.get("type", "text").lower()
        if kind in ("submit", "image"):
            if not self.submit_seen:
                self.submit_seen = True
                self.form.fields.append(Field(name, "choice", a.get("value", "")))
            return
        if kind in ("button", "reset", "file"):
            return
        value = a.get("value", "")
        existing = next((f for f in self.form.fields if f.name == name), None)
        if kind in ("checkbox", "radio"):
            checked = value or "on" if "checked" in a else None
            if existing is None:
                self.form.fields.append(
                    Field(
                        name,
                        "choice",
                        ([checked] if checked else []) if kind == "checkbox" else checked,
                    )
                )
            elif checked:
                if isinstance(existing.value, list):
                    existing.value.append(checked)
                else:
                    existing.value = checked
            return
        if kind == "number" or a.get("inputmode") in NUMBER_INPUTMODES:
            field_kind = "number"
        elif kind in ("date", "datetime-local", "month", "time"):
            field_kind = "date"
        elif kind == "hidden":
            field_kind = "hidden"
        elif kind == "password":
            field_kind = "secret"
        else:
            field_kind = "text"
        self.form.fields.append(Field(name, field_kind, value))

    def handle_endtag(self, tag):
        if tag == "form" and self.form is not None:
            self.forms.append(self.form)
            self.form = None
        elif tag == "select" and self.select is not None:
            if self.select.value is None and not self.select_multiple:
                self.select.value = self.first_option
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data


def get_form_fields(forms: list[Form], path: str) -> set[str]:
    """The names the page's GET forms (those that load `path` again) send as parameters."""
    return {
        f.name
        for form in forms
        if form.method == "get" and urlsplit(form.action).path == path
        for f in form.fields
    }


def page_forms(html: str, page_url: str) -> list[Form]:
    parser = FormParser(page_url)
    parser.feed(html)
    return parser.forms


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
NOT_SNAPSHOT = ("django_session", "django_migrations", "axes_")


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
