"""What routers add to the client page and list (clients.extensions), registered in apps.py,
for the internet module: the Connection column and filter, and the Connection details block."""

from clients.extensions import SIDE, ListColumn, ListFilter, PageBlock
from tenancy.modules import INTERNET

from .filters import ClientConnectionFilter
from .selectors import client_connection_provider
from .tables import ClientConnectionColumn


def connection_context(request, client) -> dict:
    """None: "no router is assigned" (no PPPoE account)."""
    return {"connection": client_connection_provider(request, client)}


CONNECTION_COLUMN = ListColumn(
    name="connection",
    column=ClientConnectionColumn(),
    modules={INTERNET},
    related=("pppoe_account", "pppoe_account__router"),
    after="external_tenant_name",
    defaults={INTERNET: "phone"},
    width_px=130,
)
CONNECTION_FILTER = ListFilter(
    name="connection", filter=ClientConnectionFilter(), modules={INTERNET}
)
CONNECTION_BLOCK = PageBlock(
    name="connection",
    template="routers/blocks/connection.html",
    context=connection_context,
    column=SIDE,
    order=30,
    modules={INTERNET},
)
