"""What an operator reads on a page, and the English words left in it.

The text of a page is its text nodes (scripts and styles aside) and the attributes a browser
shows or reads aloud: placeholder, title, aria-label, alt, and the value of a button; what it
shows as code (<code>, <kbd>, <samp>, <pre>) or marks as another language (lang="en": the
language switcher's "English") is not text to translate. A word is
English when it is written in Latin letters and is neither data the page shows (names, logins,
codes: given by the caller) nor on the short list of words that stay as they are in Russian.
"""

import re
from html.parser import HTMLParser

# Names of products, protocols and formats that a Russian page writes as they are (a QR-код,
# an IP-адрес, RouterOS). Keep it short: a word here is never caught anywhere. Data (names,
# logins, codes) is allowed by the caller from the database, and what a page shows as code
# (<code>, <kbd>, <samp>, <pre>: a header to send, a secret) is read as it is.
KEPT_AS_THEY_ARE = {
    "api",
    "clientdesk",
    "iso",
    "microsoft",  # the reseller's "Microsoft tenant name", the seeds' own words
    "ssl",
    "tls",
    "utf",
    "csv",
    "id",
    "ip",
    "json",
    "mikrotik",
    "pppoe",
    "qr",
    "routeros",
    "sms",
    "url",
    "viber",
    "xlsx",
}
SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
HIDDEN_ELEMENTS = {"script", "style"}
CODE_ELEMENTS = {"code", "kbd", "samp", "pre"}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"}
VOID_ELEMENTS |= {"source", "track", "wbr"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
# Written as they are in any language: addresses (https://…, name@host), the protocol's header
# names (X-Clientdesk-Signature), ids (a delivery's UUID) and two-letter country codes (RU, DE).
CODES = re.compile(
    r"[a-z][a-z0-9+.-]*://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\bX-[A-Za-z0-9-]+"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[A-Z]{2}\b"
)
CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]{2,}")


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.code: list[str] = []
        self._hidden = 0
        self._code = 0
        self._other: list[list] = []  # [tag, depth] of an element in another language

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN_ELEMENTS:
            self._hidden += 1
        if tag in CODE_ELEMENTS:
            self._code += 1
        values = dict(attrs)
        if self._other and self._other[-1][0] == tag:
            self._other[-1][1] += 1
        elif tag not in {"html", "body", *VOID_ELEMENTS} and not (
            values.get("lang") or "ru"
        ).startswith("ru"):
            self._other.append([tag, 1])  # e.g. the switcher's "English", in its own language
        if self._other:
            return
        for name in SHOWN_ATTRIBUTES & values.keys():
            self.parts.append(values[name] or "")
        if tag == "input" and values.get("type") in {"submit", "button", "reset"}:
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag):
        if tag in HIDDEN_ELEMENTS and self._hidden:
            self._hidden -= 1
        if tag in CODE_ELEMENTS and self._code:
            self._code -= 1
        if self._other and self._other[-1][0] == tag:
            self._other[-1][1] -= 1
            if not self._other[-1][1]:
                self._other.pop()

    def handle_data(self, data):
        if not self._hidden:
            (self.code if self._code or self._other else self.parts).append(data)


def visible_text(html: str) -> str:
    """The text an operator reads (code aside), its whitespace collapsed."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def data_words(*texts: str) -> set[str]:
    """The Latin words of data values (names, logins, e-mails, codes), lower-cased."""
    return {word.lower() for text in texts for word in LATIN_WORD.findall(text or "")}


def english_words(html: str, allowed: set[str] = frozenset()) -> list[str]:
    """The Latin words of the page's visible text that are neither in `allowed` (lower-cased
    data words) nor kept as they are, in the order they appear, each once."""
    found = []
    for word in LATIN_WORD.findall(CODES.sub(" ", visible_text(html))):
        key = word.lower()
        if key in KEPT_AS_THEY_ARE or key in allowed or len(key) == 1:
            continue
        if word not in found:
            found.append(word)
    return found


def russian_words(html: str) -> list[str]:
    """The Cyrillic words of the page's visible text: a page in Russian has some."""
    return CYRILLIC_WORD.findall(visible_text(html))
