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

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class PartsCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int


def _split(unit_sizes: list[int], single: int, multi: int) -> int:
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


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def count_parts(text: str) -> PartsCount:
    """The encoding, units and parts of `text` (see the module docstring)."""
    text = text or ""
    if is_gsm7(text):
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return PartsCount("GSM-7", sum(sizes), _split(sizes, GSM7_SINGLE, GSM7_MULTI))
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return PartsCount("UCS-2", sum(sizes), _split(sizes, UCS2_SINGLE, UCS2_MULTI))
