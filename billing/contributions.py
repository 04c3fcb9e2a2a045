"""What billing adds to the client page and list (clients.extensions), registered in apps.py,
for every tenant: the Balance and Credit columns of the list, and the account that the page's
balance row reads (fetched with the client)."""

from clients.extensions import ListColumn, PageContext
from clients.modules import WITHOUT_MODULES
from tenancy.modules import INTERNET, MESSAGING

from .selectors import account_or_empty
from .tables import ClientAccountColumn


def account_context(request, client) -> dict:
    return {"account": account_or_empty(client=client)}


BALANCE_COLUMN = ListColumn(
    name="balance",
    column=ClientAccountColumn("balance", verbose_name="Balance"),  # sorted on its index
    related=("account",),
    after="sms_price",
    defaults={INTERNET: "last_purchase_at", MESSAGING: "sms_price", WITHOUT_MODULES: "group"},
    width_px=100,
)
CREDIT_COLUMN = ListColumn(
    name="credit",
    column=ClientAccountColumn("credit_limit", verbose_name="Credit", orderable=False),
    related=("account",),
    after="balance",
    defaults={MESSAGING: "balance"},
    width_px=80,
    order=51,
)
ACCOUNT_CONTEXT = PageContext(name="account", context=account_context, select_related=("account",))
