"""Text as the portal stores it: without the characters PostgreSQL refuses (NUL) and the other
control characters that no person types and no screen shows.

One piece for every way text comes in:

- `clean_text(text)` returns the text without those characters; `single_line=True` also turns
  tabs and line breaks into spaces (names, logins, one-line CSV cells).
- `refused_characters(text)` names the characters `clean_text` would remove, for a reader of
  files that prefers to refuse a row with a message ("line 4: control character U+0001").
- `clean_querydict(data)` cleans the names and values of a GET or POST QueryDict.
- `CleanRequestTextMiddleware` cleans every request's query parameters, form fields, cookies
  and headers before any view, form, filter or session lookup reads them.

Web input is cleaned rather than refused: the characters are invisible, so a message could not
show the operator what to fix, and once they are gone the form validates the rest with its usual
message next to the field (an idempotency token "a<NUL>b" becomes "ab", which the form refuses as
expired). A middleware rather than a form mixin, because half of what reaches the database never
passes a form: search boxes, sort and page parameters, tokens read by views, session cookies,
the headers that login throttling records. A new page is covered without anyone remembering.
Imported files and message ingestion call `clean_text` (or `refused_characters`) on each value.
"""

import re

from django.http import QueryDict

# NUL and the C0 controls but tab, line feed and carriage return; DEL and the C1 controls;
# lone surrogates (which no UTF-8 encoder writes) and the two non-characters U+FFFE/U+FFFF.
_REFUSED = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
REFUSED_PATTERN = re.compile(f"[{_REFUSED}]")
_LINE_BREAKS = re.compile("[\t\n\r]")
_REFUSED_OR_BREAKS = re.compile(f"[{_REFUSED}]|[\t\n\r]")

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refused_characters(text: str) -> list[str]:
    """The distinct characters of `text` that `clean_text` removes, in order of appearance."""
    return list(dict.fromkeys(REFUSED_PATTERN.findall(text)))


def describe_character(char: str) -> str:
    """How a message names a character nobody can see: "U+0000"."""
    return f"U+{ord(char):04X}"


def clean_text(text: str, *, single_line: bool = False) -> str:
    """`text` without the refused characters; with `single_line`, tabs and line breaks become
    spaces. Text that has none is returned as it is (the same object)."""
    if single_line:
        if not _REFUSED_OR_BREAKS.search(text):
            return text
        return _LINE_BREAKS.sub(" ", REFUSED_PATTERN.sub("", text))
    if not REFUSED_PATTERN.search(text):
        return text
    return REFUSED_PATTERN.sub("", text)


def clean_querydict(data: QueryDict) -> QueryDict:
    """`data` with clean names and values; the same object when nothing needed cleaning."""
    if not any(REFUSED_PATTERN.search(k) or _any_refused(v) for k, v in data.lists()):
        return data
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        cleaned.setlistdefault(clean_text(key), []).extend(clean_text(v) for v in values)
    cleaned._mutable = False
    return cleaned


def _any_refused(values: list[str]) -> bool:
    return any(REFUSED_PATTERN.search(value) for value in values)


class CleanRequestTextMiddleware:
    """Cleans the query parameters, form fields, cookies and headers of every request, so that
    no text a client sends can make PostgreSQL refuse a query. Placed before the session
    middleware, which looks the session cookie up in the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        self.clean_headers(request)
        # After the header: a quoted cookie value can spell NUL as the escape \000.
        request.COOKIES = {clean_text(k): clean_text(v) for k, v in request.COOKIES.items()}
        request.GET = clean_querydict(request.GET)
        if request.method not in ("GET", "HEAD") and request.content_type in FORM_CONTENT_TYPES:
            request.POST = clean_querydict(request.POST)
        return self.get_response(request)

    @staticmethod
    def clean_headers(request) -> None:
        for key, value in request.META.items():
            if key.startswith("HTTP_") and isinstance(value, str):
                cleaned = clean_text(value, single_line=True)
                if cleaned is not value:
                    request.META[key] = cleaned
