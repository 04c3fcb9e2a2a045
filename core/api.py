"""Pieces of the JSON API that know nothing of tenants: RFC 9457 problem details, opaque
keyset cursors and the `?fields=` choice.

A cursor is the sort and the last row's sort values, signed (django.core.signing), so that a
client can neither forge one nor reuse one of another sort; pages never count rows (a count
costs 50 ms at 1M rows, a keyset page under 1 ms at any depth).
"""

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Q, QuerySet
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import AfterValidator, BaseModel
from pydantic_core import to_json

API_PREFIX = "/api/"
BEARER = "bearer "
PROBLEM_CONTENT_TYPE = "application/problem+json"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"  # as ninja's own answers
CURSOR_SALT = "api.cursor"
CURSOR_MAX_LENGTH = 1000


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


# A value a form or a service parses further (text or a JSON number). Infinity and NaN, which
# JSON parsers accept, are refused here with the field named, as nothing can hold them.
Scalar = Annotated[str | int | float | None, AfterValidator(_finite)]
Number = Annotated[str | int | float, AfterValidator(_finite)]


class Answer(BaseModel):
    """The base of what operations answer: a plain pydantic model (django-ninja's Schema
    reads Django objects attribute by attribute, which costs a third of a 100-row page; the
    answers are built from dicts and values)."""


def bearer_secret(request) -> str | None:
    """The secret of `Authorization: Bearer <secret>`, or None without one."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[: len(BEARER)].lower() != BEARER:
        return None
    return header[len(BEARER) :].strip()


def is_bearer_api_request(request) -> bool:
    """A program's request to the API with a token (usable or not): its token alone decides
    who it is, never a session cookie it may also carry (tenancy.middleware)."""
    return request.path.startswith(API_PREFIX) and bearer_secret(request) is not None


def browser_only(middleware: type) -> type:
    """`middleware` for every request but a bearer request to the API, which goes straight
    past it: for the middleware that serves a browser's session (language cookie,
    messages, HTMX, the session's last activity, the login redirect), which a request
    authenticated by its token never uses. A subclass, so that checks looking for the
    middleware (the admin's) still find it."""

    def __call__(self, request):
        if is_bearer_api_request(request):
            return self.get_response(request)
        return middleware.__call__(self, request)

    members = {"__call__": __call__, "async_capable": False, "__doc__": middleware.__doc__}
    if hasattr(middleware, "process_view"):

        def process_view(self, request, view, args, kwargs):
            if is_bearer_api_request(request):
                return None
            return middleware.process_view(self, request, view, args, kwargs)

        members["process_view"] = process_view
    return type(middleware.__name__, (middleware,), members)


def json_bytes(data) -> bytes:
    """JSON written by pydantic-core (Rust): a 100-client page spent a seventh of its time in
    the json module. Decimals stay strings, datetimes ISO 8601, as with Django's encoder."""
    return to_json(data)


def answered_as_built(body: dict, status: int = 200) -> HttpResponse:
    """`body` written as it is, not validated against the operation's answer schema again:
    for answers built from database values of the schema's own types (on a page of 100
    clients that second validation and its dump cost more than writing the JSON). The schema
    still documents the answer, and tests/api's schema tests check that it conforms."""
    return HttpResponse(json_bytes(body), status=status, content_type=JSON_CONTENT_TYPE)


class Problem(Exception):
    """An error the API answers as problem details (RFC 9457), with field errors when a
    request's values were refused."""

    def __init__(self, status: int, title: str, detail: str = "", errors=None, headers=None):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}

    def body(self) -> dict:
        body = {"type": "about:blank", "title": str(self.title), "status": self.status}
        if self.detail:
            body["detail"] = str(self.detail)
        if self.errors:
            body["errors"] = [
                {**error, "message": str(error["message"])} if "message" in error else error
                for error in self.errors
            ]
        return body


def problem_response(problem: Problem) -> JsonResponse:
    response = JsonResponse(
        problem.body(), status=problem.status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in problem.headers.items():
        response[name] = value
    return response


def field_errors(error: ValidationError) -> list[dict]:
    """A Django ValidationError as [{"field": ..., "message": ...}] ("" for the whole
    request)."""
    if hasattr(error, "error_dict"):
        return [
            {"field": "" if name == "__all__" else name, "message": message}
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in error.messages]


def form_problem(form, renamed: dict | None = None) -> Problem:
    """The errors of a refused form (or FilterSet form) as one 422 problem; `renamed` maps a
    form field to the name the request gave it."""
    renamed = {"__all__": "", **(renamed or {})}
    errors = [
        {"field": renamed.get(name, name), "message": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]
    return Problem(422, _("Invalid request"), _("Some values were refused."), errors)


# The parameters of a list's page, never of its FilterSet.
PAGE_PARAMETERS = frozenset({"cursor", "limit", "fields"})


def names_filters(data) -> bool:
    """Whether a list's query (a QueryDict) names any parameter of its FilterSet, i.e. any but
    the page's `cursor`, `limit` and `fields`."""
    return not PAGE_PARAMETERS.issuperset(data)


def valid_filters(filterset):
    """The FilterSet of a list, its values checked: a bad value is a 422 naming the parameter
    (the portal's page ignores it with a message; an integration is told). A request that
    names no filter is read as an unbound FilterSet, which selects what a bound one without
    values does, without building and cleaning a form (0.7 of the 4.4 ms of CPU a page of 100
    clients cost the server)."""
    if filterset.is_bound and not names_filters(filterset.data):
        filterset.is_bound = False
    if filterset.is_bound and not filterset.form.is_valid():
        raise form_problem(filterset.form)
    return filterset


def check_sort(sort: str | None, offered: Sequence[str]) -> None:
    """An unknown sort is a 422 naming `sort`: an integration would otherwise page through an
    order it did not ask for."""
    if sort and sort not in offered:
        raise Problem(
            422,
            _("Invalid request"),
            _("Some values were refused."),
            [
                {
                    "field": "sort",
                    "message": _("Not one of %(names)s.") % {"names": ", ".join(offered)},
                }
            ],
        )


# -- FilterSet filters as query parameters -----------------------------------------------------
def filter_parameters(name: str, filter_, *, modules=()) -> list[dict]:
    """The OpenAPI query parameters of a django-filter filter, read from the form field it
    validates with (so the schema says what the list refuses): a range filter is one parameter
    per suffix (`created_after`, `created_before`). `modules` is written as `x-modules`."""
    field = _filter_field(filter_)
    suffixes = getattr(field.widget, "suffixes", None)
    if suffixes and hasattr(field, "fields"):
        named = [
            (f"{name}_{suffix}", sub) for suffix, sub in zip(suffixes, field.fields, strict=True)
        ]
    else:
        named = [(name, field)]
    parameters = []
    for parameter_name, sub in named:
        parameter = {
            "in": "query",
            "name": parameter_name,
            "required": False,
            "schema": field_schema(sub),
            "description": str(field.label or parameter_name),
        }
        if isinstance(sub, forms.MultipleChoiceField):
            parameter.update(style="form", explode=True)
        if modules:
            parameter["x-modules"] = sorted(modules)
        parameters.append(parameter)
    return parameters


def _filter_field(filter_):
    """The filter's form field, built on a copy (a filter caches its field). A choice of
    model rows is a row's id: it is not built, as its rows need a request."""
    if issubclass(filter_.field_class, forms.ModelChoiceField):
        multiple = issubclass(filter_.field_class, forms.ModelMultipleChoiceField)
        field = forms.TypedMultipleChoiceField() if multiple else forms.IntegerField(min_value=1)
        field.label = filter_.label
        return field
    return copy.deepcopy(filter_).field


def field_schema(field) -> dict:
    """The JSON schema of the values a form field accepts."""
    if isinstance(field, forms.TypedMultipleChoiceField) and not field.choices:
        return {"type": "array", "items": {"type": "integer", "minimum": 1}}
    if isinstance(field, forms.MultipleChoiceField):
        return {"type": "array", "items": _choice_schema(field)}
    if isinstance(field, forms.ChoiceField):
        return _choice_schema(field)
    if isinstance(field, forms.IntegerField):
        schema: dict = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, forms.DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, forms.DateField):
        return {"type": "string", "format": "date"}
    if isinstance(field, forms.NullBooleanField | forms.BooleanField):
        return {"type": "boolean"}
    schema = {"type": "string"}
    if getattr(field, "max_length", None):
        schema["maxLength"] = field.max_length
    return schema


def _choice_schema(field) -> dict:
    values = [str(value) for value, _label in field.choices if value not in ("", None)]
    return {"type": "string", "enum": values}


# -- ?fields= --------------------------------------------------------------------------------
def chosen_fields(value: str | None, offered: Sequence[str]) -> list[str]:
    """The fields `?fields=a,b` asks for, in the order offered; all of them without it. An
    unknown name is refused, so that a typo does not silently return less."""
    if not value:
        return list(offered)
    wanted = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in offered]
    if unknown:
        raise Problem(
            422,
            _("Invalid request"),
            ngettext("Unknown field: %(names)s.", "Unknown fields: %(names)s.", len(unknown))
            % {"names": ", ".join(unknown[:5])[:200]},
            [
                {
                    "field": "fields",
                    "message": _("Choose among: %(names)s.") % {"names": ", ".join(offered)},
                }
            ],
        )
    return [name for name in offered if name in wanted]


# -- keyset cursors --------------------------------------------------------------------------
@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order: its name in the queryset (a field or an annotation),
    its direction, and whether it may be NULL (NULLs come last in both directions)."""

    name: str
    descending: bool = False
    nullable: bool = False

    def order_by(self):
        expression = F(self.name)
        # NULLS LAST only where NULLs may be: a plain column's index serves the plain order.
        nulls_last = True if self.nullable else None
        if self.descending:
            return expression.desc(nulls_last=nulls_last)
        return expression.asc(nulls_last=nulls_last)

    def after(self, value) -> Q:
        """Rows that come after `value` in this column alone."""
        if value is None:
            return Q(pk__in=[])  # NULLs are last: nothing comes after them
        beyond = Q(**{f"{self.name}__{'lt' if self.descending else 'gt'}": value})
        if self.nullable:
            beyond |= Q(**{f"{self.name}__isnull": True})
        return beyond

    def equal(self, value) -> Q:
        if value is None:
            return Q(**{f"{self.name}__isnull": True})
        return Q(**{self.name: value})


def keyset_order(keys: Sequence[SortKey]) -> list:
    return [key.order_by() for key in keys]


def _exact(value):
    # Every microsecond of a moment (DjangoJSONEncoder keeps milliseconds only): a cursor
    # must name its row exactly, or rows of the same millisecond are skipped.
    return value.isoformat() if isinstance(value, datetime) else value


def cursor_encode(sort: str, values: Sequence) -> str:
    exact = [_exact(value) for value in values]
    plain = json.loads(json.dumps(exact, cls=DjangoJSONEncoder))  # dates as ISO text
    return signing.dumps([sort, plain], salt=CURSOR_SALT)


def cursor_decode(cursor: str, *, sort: str, length: int) -> list:
    """The sort values of a cursor of this list and sort; a 422 problem otherwise."""
    refused = Problem(
        422,
        _("Invalid request"),
        _("The cursor is not one of this list; start again without it."),
        [{"field": "cursor", "message": _("Use the next cursor of a previous page.")}],
    )
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise refused
    try:
        cursor_sort, values = signing.loads(cursor, salt=CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise refused from None
    if cursor_sort != sort or not isinstance(values, list) or len(values) != length:
        raise refused
    return values


def keyset_after(keys, values) -> Q:
    """Rows that come after `values` in the order of `keys` (SortKeys, the last the primary
    key). The OR of the steps alone is a filter PostgreSQL applies to every row before the
    cursor; the first key's own bound (`<=` or `>=`, when it cannot be NULL) lets it start
    reading the index at the cursor, so that a page deep in a large table costs what the
    first page does."""
    condition = Q(pk__in=[])
    for position, key in enumerate(keys):
        step = key.after(values[position])
        for earlier, value in zip(keys[:position], values[:position], strict=True):
            step &= earlier.equal(value)
        condition |= step
    first, value = keys[0], values[0]
    if not first.nullable and value is not None:
        bound = "lte" if first.descending else "gte"
        condition &= Q(**{f"{first.name}__{bound}": value})
    return condition


def keyset_page(
    queryset: QuerySet, *, keys: Sequence[SortKey], sort: str, cursor: str | None, limit: int
) -> tuple[list, str | None]:
    """One page of `queryset` (already filtered, unordered) in the order of `keys` (the last
    being the primary key) after `cursor`; and the cursor of the next page, None at the end.
    Rows are model instances or dicts (`.values()`); one query of `limit + 1` rows, no count."""
    queryset = queryset.order_by(*keyset_order(keys))
    if cursor:
        values = cursor_decode(cursor, sort=sort, length=len(keys))
        queryset = queryset.filter(keyset_after(keys, values))
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    if isinstance(last, dict):
        values = [last[key.name] for key in keys]
    else:
        values = [getattr(last, key.name) for key in keys]
    return rows, cursor_encode(sort, values)


def page_body(queryset: QuerySet, query, *, keys: Sequence[SortKey], sort: str, row) -> dict:
    """A list operation's answer: the page of `queryset` after the query's cursor, each row
    through `row`, and the next page's cursor."""
    rows, cursor = keyset_page(
        queryset, keys=keys, sort=sort, cursor=query.cursor, limit=query.limit
    )
    return {"items": [row(item) for item in rows], "next": cursor}


def sorted_page(
    queryset: QuerySet, query, *, sorts: Mapping[str, Sequence[SortKey]], row, default: str = ""
) -> dict:
    """`page_body` in the sort the query names, one of `sorts` (an unknown one is a 422), else
    `default`."""
    check_sort(query.sort, list(sorts))
    sort = query.sort or default
    return page_body(queryset, query, keys=sorts[sort], sort=sort, row=row)


def sort_pair(name: str) -> dict[str, tuple[SortKey, SortKey]]:
    """A column's two keyset orders (`name`, `-name`), each with the primary key last."""
    return {
        name: (SortKey(name), SortKey("id")),
        f"-{name}": (SortKey(name, True), SortKey("id", True)),
    }
