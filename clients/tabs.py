"""The tabs of the client page. Apps add theirs to CLIENT_TABS (key, label, url name, and a
test of the tenant and membership that says whether it shows), so that the client page does not
import every app."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class ClientTab:
    key: str
    label: str
    url_name: str
    shown: Callable = lambda tenant, membership: True
    order: int = 50


CLIENT_TABS: list[ClientTab] = []


def register_client_tab(tab: ClientTab) -> None:
    if all(existing.key != tab.key for existing in CLIENT_TABS):
        CLIENT_TABS.append(tab)
        CLIENT_TABS.sort(key=lambda t: t.order)


def client_tabs_for(request, client) -> list[dict]:
    return [
        {
            "key": t.key,
            "label": t.label,
            "url": reverse(t.url_name, kwargs={"number": client.number}),
        }
        for t in CLIENT_TABS
        if t.shown(request.tenant, request.membership)
    ]


def client_tab_context(request, client, active_tab: str | None = None) -> dict:
    """What the client page's header and tabs read: the client, its tabs, and the active tab
    (left out for the default tab, General info)."""
    context = {"client": client, "client_tabs": client_tabs_for(request, client)}
    if active_tab:
        context["active_tab"] = active_tab
    return context
