"""What billing adds to the client page and list (clients.extensions), registered in apps.py,
for every tenant: the Balance and Credit columns of the list, and the account that the page's
balance row reads (fetched with the client)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy

from clients.extensions import ImportColumn, ListColumn, PageContext
from clients.modules import WITHOUT_MODULES
from tenancy.modules import INTERNET, MESSAGING
from tenancy.roles import Capability

from .models import MONEY_PLACES
from .selectors import account_or_empty
from .services import AmountOutOfRange, accounts_create_for_clients, opening_balances_post, to_money
from .tables import ClientAccountColumn


def account_context(request, client) -> dict:
    return {"account": account_or_empty(client=client)}


BALANCE_COLUMN = ListColumn(
    name="balance",
    # sorted on its index
    column=ClientAccountColumn("balance", verbose_name=gettext_lazy("Balance")),
    related=("account",),
    after="sms_price",
    defaults={INTERNET: "last_purchase_at", MESSAGING: "sms_price", WITHOUT_MODULES: "group"},
    width_px=100,
)
CREDIT_COLUMN = ListColumn(
    name="credit",
    column=ClientAccountColumn(
        "credit_limit", verbose_name=gettext_lazy("Credit"), orderable=False
    ),
    related=("account",),
    after="balance",
    defaults={MESSAGING: "balance"},
    width_px=80,
    order=51,
)
ACCOUNT_CONTEXT = PageContext(name="account", context=account_context, select_related=("account",))


def opening_balance_clean(value):
    """A cell of the Opening balance column: money, or a row refused with the reason. An
    amount with more than cents is refused rather than rounded: an operator's amount is never
    rounded silently."""
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    amount = to_money(text)
    if amount != Decimal(text):
        raise AmountOutOfRange(
            gettext_lazy("At most %(places)s decimals: the amount is not rounded."),
            params={"places": MONEY_PLACES},
        )
    return amount


OPENING_BALANCE_COLUMN = ImportColumn(
    name="opening_balance",
    label=gettext_lazy("Opening balance"),
    clean=opening_balance_clean,
    apply=opening_balances_post,
    capability=Capability.MANAGE_CREDIT,  # an adjustment, as on the Finance tab
    headers=("balance", "opening balance", "balance carried over", "start balance"),
)


def accounts_for_imported_clients(sender, tenant, client_ids, **kwargs):
    """Every client has its account from the start, also when created in bulk."""
    accounts_create_for_clients(tenant=tenant, client_ids=client_ids)
