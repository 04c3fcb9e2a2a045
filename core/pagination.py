"""A paginator that never counts more rows than it must.

Up to `exact_limit` matching rows the count is exact (a COUNT over a LIMITed subquery, cheap
with an index); past it, PostgreSQL's planner estimate for the filtered query is used and the
page says "about". COUNT(*) over millions of rows would cost more than the page itself.
"""

import json
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections


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
