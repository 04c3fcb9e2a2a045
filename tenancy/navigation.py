"""The sections of the navigation bar. Apps register theirs in AppConfig.ready(), with a test of
the tenant and membership that says whether the section shows (a module the tenant uses, a
capability of the role)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavSection:
    app: str  # the URL namespace that marks the section active
    label: str
    url_name: str
    shown: Callable = lambda tenant, membership: True
    order: int = 50


NAV_SECTIONS: list[NavSection] = []


def register_nav_section(section: NavSection) -> None:
    if all(existing.url_name != section.url_name for existing in NAV_SECTIONS):
        NAV_SECTIONS.append(section)
        NAV_SECTIONS.sort(key=lambda s: s.order)


def nav_sections_for(tenant, membership) -> list[dict]:
    if tenant is None or membership is None:
        return []
    sections = []
    for section in NAV_SECTIONS:
        if not section.shown(tenant, membership):
            continue
        try:
            url = reverse(section.url_name)
        except NoReverseMatch:
            continue
        sections.append({"app": section.app, "label": section.label, "url": url})
    return sections
