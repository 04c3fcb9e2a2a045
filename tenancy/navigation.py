"""The sections of the navigation bar and the tabs of the client page.

Apps register theirs in AppConfig.ready(), each with a test of the tenant and membership that
says whether it shows (a module the tenant uses, a capability of the role), so that the base
layout and the client page import no app. Both are `PageLinks`: one ordered registry, one way.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


def always(tenant, membership) -> bool:
    return True


@dataclass(frozen=True)
class PageLink:
    key: str  # what marks the link active: the URL namespace (sections) or the tab's key
    label: str
    url_name: str
    shown: Callable = always
    order: int = 50


class PageLinks:
    """An ordered set of links, one per key."""

    def __init__(self) -> None:
        self.links: list[PageLink] = []

    def register(self, link: PageLink) -> None:
        if all(existing.key != link.key for existing in self.links):
            self.links.append(link)
            self.links.sort(key=lambda item: item.order)

    def for_request(self, tenant, membership, **url_kwargs) -> list[dict]:
        if tenant is None or membership is None:
            return []
        return [
            {"key": link.key, "label": link.label, "url": reverse(link.url_name, kwargs=url_kwargs)}
            for link in self.links
            if link.shown(tenant, membership)
        ]


NAV_SECTIONS = PageLinks()


def NavSection(*, app: str, label: str, url_name: str, shown=always, order=50):  # noqa: N802
    """A section of the navigation bar; `app` is the URL namespace that marks it active."""
    return PageLink(key=app, label=label, url_name=url_name, shown=shown, order=order)


def register_nav_section(section: PageLink) -> None:
    NAV_SECTIONS.register(section)


def nav_sections_for(tenant, membership) -> list[dict]:
    return NAV_SECTIONS.for_request(tenant, membership)
