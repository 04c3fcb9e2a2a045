"""The tabs of the client page. Apps add theirs with `register_client_tab` (key, label, url
name taking the client's number, and a test of the tenant and membership that says whether it
shows), so that the client page does not import every app."""

from tenancy.navigation import PageLink, PageLinks, always

CLIENT_TABS = PageLinks()


def ClientTab(*, key: str, label: str, url_name: str, shown=always, order: int = 50):  # noqa: N802
    """A tab of the client page; its URL takes the client's number."""
    return PageLink(key=key, label=label, url_name=url_name, shown=shown, order=order)


def register_client_tab(tab: PageLink) -> None:
    CLIENT_TABS.register(tab)


def client_tabs_for(request, client) -> list[dict]:
    return CLIENT_TABS.for_request(request.tenant, request.membership, number=client.number)


def client_tab_context(request, client, active_tab: str | None = None) -> dict:
    """What the client page's header and tabs read: the client, its tabs, and the active tab
    (left out for the default tab, General info)."""
    context = {"client": client, "client_tabs": client_tabs_for(request, client)}
    if active_tab:
        context["active_tab"] = active_tab
    return context
