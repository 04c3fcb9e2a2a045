"""Reads of clients that more than one view needs: the search of the list and its suggestions.

How a term is searched, and which PostgreSQL index serves each branch (migration 0002):

- digits (an optional leading "+", spaces and dashes allowed: "+49 151-23") are an ID, a login
  or an ITN: ``number = N`` (unique index ``(tenant_id, number)``), ``login LIKE '+digits%'``
  and ``itn LIKE 'digits%'`` (btree ``varchar_pattern_ops`` prefix indexes), OR-ed, so that
  PostgreSQL combines the indexes in a BitmapOr;
- any term of 3 characters or more is also looked for anywhere in ``search_text`` (the
  lower-cased name, company, login, ITN, e-mails and contact person): ``LIKE '%term%'`` on the
  pg_trgm GIN index; several words must each be found (in any order);
- a 1-2 character term that is not digits cannot use trigrams, so it matches the start of
  ``search_text`` (the client's name) through the btree prefix index.

The term is lower-cased (``search_text`` is stored lower-cased, so a plain ``LIKE`` matches and
the indexes apply) and Django's ``contains``/``startswith`` lookups escape ``%``, ``_`` and
``\\`` in it, so a term is never a pattern.
"""

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .models import Client, ClientStatus

SEARCH_MAX_LENGTH = 100  # longer input is cut here (the box has maxlength too)
TRIGRAM_MIN_LENGTH = 3  # pg_trgm needs three characters to use its index
SUGGEST_MIN_TEXT_LENGTH = 3  # suggestions start at 3 characters for text ...
SUGGEST_MIN_DIGITS_LENGTH = 1  # ... and at the first digit for an ID, login or ITN
SUGGEST_LIMIT = 8
MAX_WORDS = 5
NUMBER_MAX_DIGITS = 18  # a PositiveBigIntegerField holds 18 digits safely

_NUMERIC = re.compile(r"^\+?[\d\s\-]+$")


def normalize_term(value: str | None) -> str:
    """Lower-case, collapse white space and cut to SEARCH_MAX_LENGTH characters."""
    if not value:
        return ""
    return " ".join(str(value).split())[:SEARCH_MAX_LENGTH].strip().lower()


def numeric_part(term: str) -> str | None:
    """The digits of a term that is an ID, a login or an ITN ("+49 151-2" -> "491512")."""
    if not _NUMERIC.match(term):
        return None
    digits = re.sub(r"\D", "", term)
    return digits or None


def search_condition(term: str) -> Q | None:
    """The WHERE condition of a (normalized) search term; None when there is nothing to find."""
    if not term:
        return None
    condition = Q(pk__in=[])  # an empty OR to add branches to
    branches = 0
    digits = numeric_part(term)
    if digits:
        if not term.startswith("+") and len(digits) <= NUMBER_MAX_DIGITS:
            condition |= Q(number=int(digits))
        condition |= Q(login__startswith=f"+{digits}") | Q(itn__startswith=digits)
        branches += 1
    words = term.split()[:MAX_WORDS]
    if len(term) >= TRIGRAM_MIN_LENGTH and any(len(w) >= TRIGRAM_MIN_LENGTH for w in words):
        every_word = Q()
        for word in words:
            every_word &= Q(search_text__contains=word)
        condition |= every_word
        branches += 1
    elif not digits:
        condition |= Q(search_text__startswith=term)
        branches += 1
    return condition if branches else None


def client_search(queryset: QuerySet, value: str | None) -> QuerySet:
    """Clients of `queryset` that match the search box's value."""
    condition = search_condition(normalize_term(value))
    return queryset if condition is None else queryset.filter(condition)


@dataclass(frozen=True)
class Suggestion:
    number: int
    name: str
    company: str
    login: str
    itn: str
    status: str
    matched: str  # what matched: "ID", "Login", "ITN", "Name", ""

    @property
    def status_label(self) -> str:
        return ClientStatus(self.status).label


def suggestions_wanted(term: str) -> bool:
    digits = numeric_part(term)
    if digits:
        return len(digits) >= SUGGEST_MIN_DIGITS_LENGTH
    return len(term) >= SUGGEST_MIN_TEXT_LENGTH


def client_suggestions(*, tenant, value: str | None, limit: int = SUGGEST_LIMIT) -> list:
    """The best few clients for what is typed so far, best first:

    1. the client whose ID is the digits typed; 2. logins, then ITNs, starting with them;
    3. names starting with the text; 4. clients containing every word anywhere (the most
    recent purchases among the first ANYWHERE_CANDIDATES found). Within ranks 2 and 3 the
    rows come alphabetically.

    Each rank is its own small LIMITed query on the index that serves it, so that a common
    term ("ann" in a million clients) costs a few milliseconds: nothing ranks or sorts the
    whole set of matches.
    """
    term = normalize_term(value)
    if not suggestions_wanted(term):
        return []
    base = Client.objects.for_tenant(tenant)
    fields = ("pk", "number", "name", "company", "login", "itn", "status")
    digits = numeric_part(term)
    ranks: list[tuple[str, QuerySet]] = []
    if digits:
        if not term.startswith("+") and len(digits) <= NUMBER_MAX_DIGITS:
            ranks.append(("ID", base.filter(number=int(digits))))
        # No ORDER BY on the prefix ranks: the pattern_ops index cannot give the collation's
        # order, and sorting every prefix match would cost more than the suggestions
        # themselves; the index returns them in byte order, sorted again below.
        ranks.append(("Login", base.filter(login__startswith=f"+{digits}")))
        ranks.append(("ITN", base.filter(itn__startswith=digits)))
    if len(term) >= TRIGRAM_MIN_LENGTH:
        if not digits:  # a name seldom starts with digits; skip a query that finds nothing
            ranks.append(("Name", base.filter(search_text__startswith=term)))
        words = term.split()[:MAX_WORDS]
        if any(len(w) >= TRIGRAM_MIN_LENGTH for w in words):
            anywhere = Q()
            for word in words:
                anywhere &= Q(search_text__contains=word)
            ranks.append(("", base.filter(anywhere)))
    found: dict[int, Suggestion] = {}
    for matched, queryset in ranks:
        if len(found) >= limit:
            break
        exclude = list(found)
        if exclude:
            queryset = queryset.exclude(pk__in=exclude)
        wanted = limit - len(found)
        if matched:
            rows = list(queryset.values(*fields)[:wanted])
            rows.sort(key=SORTED_RANKS[matched])
        else:
            # Matches anywhere: a few candidates straight from the trigram index (no ORDER
            # BY: with one, PostgreSQL may walk the purchase-date index hoping to meet matches
            # early, 0.5-12 s for a rare term), the most recent purchases first among them.
            rows = list(queryset.values(*fields, "last_purchase_at")[:ANYWHERE_CANDIDATES])
            rows.sort(key=_recent_first)
            rows = rows[:wanted]
            for row in rows:
                del row["last_purchase_at"]
        for row in rows:
            pk = row.pop("pk")
            found[pk] = Suggestion(matched=matched, **row)
    return list(found.values())


ANYWHERE_CANDIDATES = 40


def _recent_first(row) -> tuple:
    bought = row["last_purchase_at"]
    return (bought is None, -(bought.timestamp() if bought else 0), -row["number"])


SORTED_RANKS = {
    "ID": lambda row: row["number"],
    "Login": lambda row: row["login"],
    "ITN": lambda row: row["itn"],
    "Name": lambda row: (row["name"].lower(), row["number"]),
}
