"""A session's browser and system in words ("Chrome on Windows"), read from its User-Agent.

A few patterns rather than a parsing library: the page only helps a person recognise their own
sessions, and shows the whole User-Agent beside it."""

import re

from django.utils.translation import gettext as _

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari".
BROWSERS = [
    ("Edge", r"\bEdg(e|A|iOS)?/"),
    ("Opera", r"\bOPR/"),
    ("Firefox", r"\b(Firefox|FxiOS)/"),
    ("Chrome", r"\b(HeadlessChrome|Chrome|Chromium|CriOS)/"),
    ("Safari", r"\bSafari/"),
]
SYSTEMS = [
    ("Android", r"\bAndroid\b"),
    ("iPhone", r"\biPhone\b"),
    ("iPad", r"\biPad\b"),
    ("Windows", r"\bWindows\b"),
    ("macOS", r"\bMac OS X\b"),
    ("Linux", r"\bLinux\b"),
]


def _first(patterns, text: str) -> str | None:
    return next((name for name, pattern in patterns if re.search(pattern, text)), None)


def describe_user_agent(user_agent: str) -> str:
    browser, system = _first(BROWSERS, user_agent), _first(SYSTEMS, user_agent)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Unknown browser")
