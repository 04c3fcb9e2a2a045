"""Paginators that never count more rows than they must.

`CappedCountPaginator` (numbered pages): up to `exact_limit` matching rows the count is exact
(a COUNT over a LIMITed subquery, cheap with an index); past it, PostgreSQL's planner estimate
for the filtered query is used and the page says "about". COUNT(*) over millions of rows would
cost more than the page itself.

`keyset_paginate` (newer / older pages, for the longest lists): no count at all; a page is
the rows after (or before) a signed cursor of the last row seen, read from the index that
matches the order (the cursors are core/api.py's, so the API and the pages share them).
"""

import json
from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections

from .api import Problem, SortKey, cursor_decode, cursor_encode, keyset_after, keyset_order


def planner_row_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of the rows a queryset returns (EXPLAIN, no execution)."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedCountPaginator(Paginator):
    exact_limit = 10_000

    def __init__(self, *args, count_queryset=None, exact_limit: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_queryset = count_queryset if count_queryset is not None else self.object_list
        if exact_limit is not None:
            self.exact_limit = exact_limit
        self.count_is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset = self.count_queryset.order_by()
        capped = queryset[: self.exact_limit + 1].count()
        if capped <= self.exact_limit:
            return capped
        estimate = planner_row_estimate(queryset)
        if estimate is None:
            return queryset.count()
        self.count_is_estimate = True
        return max(estimate, capped)


# -- keyset pages ------------------------------------------------------------------------------
@dataclass
class KeysetPage:
    """One page of a keyset-paged list: its rows and the cursors of its neighbours (None
    where there is none). No count: a list of hundreds of millions of rows pages in the time
    of one page."""

    object_list: list
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def _cursor_values(cursor: str | None, *, sort: str, length: int) -> list | None:
    """A cursor's values, or None for none or one of another list or sort (which starts
    the page again from the top rather than refuse it: an old link still opens)."""
    if not cursor:
        return None
    try:
        return cursor_decode(cursor, sort=sort, length=length)
    except Problem:
        return None


def keyset_paginate(
    queryset, *, keys, sort: str, after: str | None, before: str | None, limit: int
) -> KeysetPage:
    """The page of `queryset` after the cursor `after` (or before `before`) in the order of
    `keys` (SortKeys that cannot be NULL, the last the primary key); one query of `limit + 1`
    rows. `sort` names the order in the cursors, so a cursor of another order is not used."""

    def cursor(row) -> str:
        return cursor_encode(sort, [getattr(row, key.name) for key in keys])

    backwards = _cursor_values(before, sort=sort, length=len(keys))
    if backwards is not None:
        reverse = [SortKey(k.name, not k.descending) for k in keys]
        rows = list(
            queryset.filter(keyset_after(reverse, backwards)).order_by(*keyset_order(reverse))[
                : limit + 1
            ]
        )
        more = len(rows) > limit
        rows = rows[:limit][::-1]
        if rows:
            return KeysetPage(rows, cursor(rows[-1]), cursor(rows[0]) if more else None)
    forwards = _cursor_values(after, sort=sort, length=len(keys)) if backwards is None else None
    if forwards is not None:
        queryset = queryset.filter(keyset_after(keys, forwards))
    rows = list(queryset.order_by(*keyset_order(keys))[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursor(rows[-1]) if more else None
    previous_cursor = cursor(rows[0]) if rows and forwards is not None else None
    return KeysetPage(rows, next_cursor, previous_cursor)
