"""How many parts (segments) a message text takes, as an SMS gateway bills it.

GSM 03.38: a text made only of the GSM-7 default alphabet and its extension table is sent in
7-bit septets; each extension character (``^ { } [ ] ~ | € \\`` and form feed) takes two septets
(an escape and the character). One part holds 160 septets; a longer text is split into parts of
153 septets (7 go to the concatenation header), and an escape pair is never split across parts.

Any other character makes the whole text UCS-2 (UTF-16): one part holds 70 code units, a longer
text is split into parts of 67, and a character outside the Basic Multilingual Plane (most
emoji) takes two code units (a surrogate pair) that are never split across parts.

An empty text is still one part: the gateway sends (and bills) it. Viber messages are not
segmented: one message is one part.
"""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7 = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class PartsCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int


def _split(unit_sizes: list[int], single: int, multi: int) -> int:
    """Parts of a text of these unit sizes, placed one by one: the rule as a gateway applies
    it, and the reference that the quick count of `_parts` agrees with."""
    total = sum(unit_sizes)
    if total <= single:
        return 1
    parts, used = 1, 0
    for size in unit_sizes:
        if used + size > multi:  # an escape pair or surrogate pair never straddles two parts
            parts += 1
            used = 0
        used += size
    return parts


def gsm7_sizes(text: str) -> list[int]:
    return [2 if ch in GSM7_EXTENSION else 1 for ch in text]


def ucs2_sizes(text: str) -> list[int]:
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _parts(text: str, units: int, doubles: int, single: int, multi: int, sizes) -> int:
    """Parts of a text of `units` units, `doubles` of its characters taking two: a text that
    fits one part, or has no pair to keep whole, is counted by division; only a long text
    with escape or surrogate pairs is placed character by character."""
    if units <= single:
        return 1
    if not doubles:
        return -(-units // multi)
    return _split(sizes(text), single, multi)


def is_gsm7(text: str) -> bool:
    return GSM7.issuperset(text)


def count_parts(text: str) -> PartsCount:
    """The encoding, units and parts of `text` (see the module docstring), counted with
    string methods (a set test, `str.count`, a UTF-16 encoding) rather than a step per
    character, since ingestion counts every message's text."""
    text = text or ""
    if is_gsm7(text):
        escapes = sum(map(text.count, GSM7_EXTENSION))
        units = len(text) + escapes
        parts = _parts(text, units, escapes, GSM7_SINGLE, GSM7_MULTI, gsm7_sizes)
        return PartsCount("GSM-7", units, parts)
    # A lone surrogate (JSON can carry one) is one code unit, as a character by itself.
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    pairs = units - len(text)
    return PartsCount(
        "UCS-2", units, _parts(text, units, pairs, UCS2_SINGLE, UCS2_MULTI, ucs2_sizes)
    )
