"""Parts counting on known texts: GSM-7 (160 / 153), its extension table (two septets, never
split), UCS-2 (70 / 67) for Cyrillic, and emoji as surrogate pairs (never split); and the
quick count against the characters placed one by one, on any text."""

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from messaging.parts import (
    GSM7,
    GSM7_MULTI,
    GSM7_SINGLE,
    UCS2_MULTI,
    UCS2_SINGLE,
    _split,
    count_parts,
    gsm7_sizes,
    ucs2_sizes,
)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", "GSM-7", 0, 1),
        ("Hello", "GSM-7", 5, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà", "GSM-7", 41, 1),
        ("€" * 80, "GSM-7", 160, 1),  # each extension character takes two septets
        ("€" * 81, "GSM-7", 162, 2),  # 76 pairs (152 septets) per part: 76 + 5
        ("Price: 10€ [new] {x} ~ | \\ ^", "GSM-7", 37, 1),
        ("a" * 152 + "€" + "b", "GSM-7", 155, 1),
        ("Привет", "UCS-2", 6, 1),
        ("Я" * 70, "UCS-2", 70, 1),
        ("Я" * 71, "UCS-2", 71, 2),
        ("Я" * 134, "UCS-2", 134, 2),
        ("Я" * 135, "UCS-2", 135, 3),
        ("Hello 😀", "UCS-2", 8, 1),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),  # 33 pairs (66 units) per part of 67: 33 + 3
        ("a" * 66 + "😀", "UCS-2", 68, 1),
        ("Я" * 66 + "😀" + "Я" * 66, "UCS-2", 134, 3),  # the pair does not fit part one
        ("ç", "UCS-2", 1, 1),  # lower-case ç is not in GSM-7 (only Ç is)
        ("\ud800" * 71, "UCS-2", 71, 2),  # a lone surrogate is one unit
        ("€" * 77 + "a" * 6, "GSM-7", 160, 1),
    ],
)
def test_known_texts(text, encoding, units, parts):
    counted = count_parts(text)
    assert (counted.encoding, counted.units, counted.parts) == (encoding, units, parts)


def test_escape_pair_is_not_split_across_parts():
    # 152 plain characters then "€": 152 + 2 = 154 > 153, so the pair starts part two.
    assert count_parts("a" * 152 + "€" + "a" * 151).parts == 2
    assert count_parts("a" * 152 + "€" + "a" * 152).parts == 3


def _placed_one_by_one(text: str) -> tuple[str, int, int]:
    """The reference: every character's units placed in turn (what the quick count shortens)."""
    if all(ch in GSM7 for ch in text):
        sizes, encoding, single, multi = gsm7_sizes(text), "GSM-7", GSM7_SINGLE, GSM7_MULTI
    else:
        sizes, encoding, single, multi = ucs2_sizes(text), "UCS-2", UCS2_SINGLE, UCS2_MULTI
    return encoding, sum(sizes), _split(sizes, single, multi)


# Plain GSM-7, its extension table, Cyrillic, an emoji and a lone surrogate, in long texts.
ALPHABET = "a€[^" + "Я😀" + "\ud800"


@hypothesis_settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab€[^"), max_size=700))
def test_the_quick_count_agrees_on_gsm7_texts(text):
    counted = count_parts(text)
    assert (counted.encoding, counted.units, counted.parts) == _placed_one_by_one(text)


@hypothesis_settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=400))
def test_the_quick_count_agrees_on_any_text(text):
    counted = count_parts(text)
    assert (counted.encoding, counted.units, counted.parts) == _placed_one_by_one(text)
