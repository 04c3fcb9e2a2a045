"""Properties of core.text's cleaning, over arbitrary text (hypothesis), and the middleware
that applies it to every request."""

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.text import (
    CleanRequestTextMiddleware,
    clean_querydict,
    clean_text,
    describe_character,
    refused_characters,
)

# Every code point, surrogates included, with the refused ones made frequent.
any_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0x10FFFF),
        st.sampled_from("\x00\x01\x08\x0b\x0c\x1f\x7f\x85\x9f\ud800\udfff\ufffe\uffff\t\n\r"),
    )
)
REFUSED = set("\x00\x01\x08\x0b\x0c\x1f\x7f\x85\x9f\ud800\udfff\ufffe\uffff")


@given(any_text)
def test_cleaned_text_has_no_refused_character(text):
    cleaned = clean_text(text)
    assert refused_characters(cleaned) == []
    assert not REFUSED & set(cleaned)


@given(any_text)
def test_cleaning_only_removes_refused_characters(text):
    assert clean_text(text) == "".join(c for c in text if not refused_characters(c))


@given(any_text)
def test_cleaning_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once
    single = clean_text(text, single_line=True)
    assert clean_text(single, single_line=True) == single


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_ordinary_text_is_left_as_it_is(text):
    text = text.replace("\ufffe", "").replace("\uffff", "")
    assert clean_text(text) is text
    assert clean_text(text, single_line=True) is text


@given(any_text)
def test_single_line_text_has_no_line_break_or_tab_and_keeps_its_length_in_words(text):
    cleaned = clean_text(text, single_line=True)
    assert not set("\t\n\r") & set(cleaned)
    assert cleaned.split() == clean_text(text).split()


@given(any_text)
def test_refused_characters_names_each_one_once(text):
    found = refused_characters(text)
    assert len(found) == len(set(found))
    assert set(found) == {c for c in text if c not in clean_text(c)}
    assert all(describe_character(c).startswith("U+") for c in found)


@pytest.mark.django_db
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(any_text)
def test_postgresql_stores_any_cleaned_text(text):
    cleaned = clean_text(text)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text", [cleaned])
        assert cursor.fetchone()[0] == cleaned


@given(st.lists(st.tuples(any_text, any_text), max_size=6))
def test_a_cleaned_querydict_keeps_every_value(pairs):
    data = QueryDict(mutable=True)
    for key, value in pairs:
        data.appendlist(key, value)
    data._mutable = False  # as request.GET and request.POST are
    cleaned = clean_querydict(data)
    expected: dict[str, list[str]] = {}
    for key, values in data.lists():  # names that clean to the same one are merged
        expected.setdefault(clean_text(key), []).extend(clean_text(v) for v in values)
    assert {k: cleaned.getlist(k) for k in cleaned} == expected
    assert not cleaned._mutable


def test_the_middleware_cleans_parameters_form_fields_cookies_and_headers():
    seen = {}

    def view(request):
        seen.update(
            q=request.GET["q"],
            token=request.POST["token"],
            agent=request.META["HTTP_USER_AGENT"],
            cookie=request.COOKIES["sessionid"],
        )

    request = RequestFactory().post(
        "/billing/clients/1/export/?q=a%00b",
        {"token": "a\x00b\x01"},
        HTTP_USER_AGENT="agent\x00\x1b[31m",
        HTTP_COOKIE='sessionid="abc\\000def"',
    )
    CleanRequestTextMiddleware(view)(request)
    assert seen == {"q": "ab", "token": "ab", "agent": "agent[31m", "cookie": "abcdef"}


def test_the_middleware_leaves_a_json_body_alone():
    def view(request):
        return request.body

    request = RequestFactory().post(
        "/x/", data=b'{"text": "a\\u0000b"}', content_type="application/json"
    )
    assert CleanRequestTextMiddleware(view)(request) == b'{"text": "a\\u0000b"}'
