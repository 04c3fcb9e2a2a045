"""Which module each part of the Clients section belongs to (tenancy.modules decides).

One declaration per part of the client's own: a client field (its form field and its
General-info row), a list column (offered by the column chooser, and shown by default), a list
filter and a sort choice. A part that names no module shows for every tenant. What the other
apps contribute (blocks of the client page, list columns and filters) declares its modules
where it is registered (clients.extensions), as tabs and navigation sections do
(`shown=for_modules(...)`); the functions here read both.

Ownership, following the three providers' documents:
- every tenant: name, company, e-mail, phone, address, country, region, client type, ID,
  status, creation date, and the account (billing's balance and credit, for every tenant);
- messaging: the cabinet's fields (login, site, type of activity, property type, postal
  address, accounting e-mail, registration and last login dates, SMS price, login attempts,
  activation, referer, SMS subscription, channel);
- reseller: contact person, ITN, external tenant name ("Microsoft Tenant Name");
- internet: the connection (routers' column, filter and Connection details);
- subscriptions (internet or reseller): last purchase date (column, sort, filter); the
  subscriptions app's Expiring filter, current subscription, history and quick stats blocks.

A field hidden by the modules is left out of the form entirely: its stored value is kept on
save, and it is never required nor refused.
"""

from tenancy.modules import (
    EVERY_TENANT,
    INTERNET,
    MESSAGING,
    RESELLER,
    SUBSCRIPTIONS,
    modules_of,
    tenant_modules,
    uses_any,
)

from .extensions import LIST_COLUMNS, LIST_FILTERS, PAGE_BLOCKS

_MESSAGING = modules_of(MESSAGING)
_RESELLER = modules_of(RESELLER)
_INTERNET = modules_of(INTERNET)

# Client fields: the form field and the General-info row of the same name.
CLIENT_FIELDS: dict[str, frozenset[str]] = {
    "number": EVERY_TENANT,
    "name": EVERY_TENANT,
    "company": EVERY_TENANT,
    "email": EVERY_TENANT,
    "phone": EVERY_TENANT,
    "address": EVERY_TENANT,
    "country": EVERY_TENANT,
    "region": EVERY_TENANT,
    "group": EVERY_TENANT,
    "status": EVERY_TENANT,
    "created_at": EVERY_TENANT,
    "balance": EVERY_TENANT,
    "login": _MESSAGING,
    "site": _MESSAGING,
    "activity_type": _MESSAGING,
    "property_type": _MESSAGING,
    "postal_address": _MESSAGING,
    "accounting_email": _MESSAGING,
    "registered_on": _MESSAGING,
    "last_login_at": _MESSAGING,
    "sms_price": _MESSAGING,
    "failed_login_attempts": _MESSAGING,
    "activation_required": _MESSAGING,
    "referer": _MESSAGING,
    "sms_subscription": _MESSAGING,
    "channel": _MESSAGING,
    "contact_name": _RESELLER,
    "contact_email": _RESELLER,
    "itn": _RESELLER,
    "external_tenant_name": _RESELLER,
    "last_purchase_at": SUBSCRIPTIONS,
}

# The client's own columns of the list (clients.tables.ClientTable); the apps above add theirs
# through clients.extensions (billing: balance, credit; routers: connection).
CLIENT_COLUMNS: dict[str, frozenset[str]] = {
    "name": EVERY_TENANT,
    "number": EVERY_TENANT,
    "company": EVERY_TENANT,
    "email": EVERY_TENANT,
    "phone": EVERY_TENANT,
    "created_at": EVERY_TENANT,
    "group": EVERY_TENANT,
    "status": EVERY_TENANT,
    "login": _MESSAGING,
    "sms_price": _MESSAGING,
    "channel": _MESSAGING,
    "contact": _RESELLER,
    "itn": _RESELLER,
    "external_tenant_name": _RESELLER,
    "last_purchase_at": SUBSCRIPTIONS,
}

# The client's own columns each module shows by default, as its provider's document lists
# them; a contributed column says where it goes among them (ListColumn.defaults). With the
# contributions, every default set fits a 1,440 px screen. The Client name column carries the
# status badge, so Status is offered but not shown by default.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    RESELLER: ("name", "contact", "itn", "created_at", "last_purchase_at", "group"),
    INTERNET: ("name", "phone", "last_purchase_at"),
    MESSAGING: ("number", "login", "company", "name", "sms_price", "channel"),
}
# What a column takes at least, in pixels, with long values (long words and e-mails do not
# break, the Client name wraps from 16rem beside its number and badge); the defaults of a
# tenant fill at most DEFAULT_WIDTH_PX, the table's width on a 1,440 px screen. A contributed
# column declares its own (ListColumn.width_px).
COLUMN_WIDTH_PX = {
    "name": 300,
    "number": 50,
    "login": 160,
    "company": 200,
    "email": 240,
    "phone": 180,
    "contact": 320,
    "itn": 130,
    "created_at": 130,
    "last_purchase_at": 200,
    "group": 160,
    "status": 150,
    "sms_price": 90,
    "channel": 100,
    "external_tenant_name": 220,
}
DEFAULT_WIDTH_PX = 1400
# A tenant without modules: who the clients are and what they owe (billing adds the balance).
DEFAULT_COLUMNS_WITHOUT_MODULES = ("name", "company", "phone", "created_at", "group")
WITHOUT_MODULES = ""  # the key a contributed column uses for that default set

# The client's own filters of the list (clients.filters.ClientFilterSet), by their parameter
# names; the apps above add theirs through clients.extensions (subscriptions: expiring;
# routers: connection).
CLIENT_FILTERS: dict[str, frozenset[str]] = {
    "q": EVERY_TENANT,
    "status": EVERY_TENANT,
    "group": EVERY_TENANT,
    "created": EVERY_TENANT,
    "sort": EVERY_TENANT,
    "property_type": _MESSAGING,
    "purchased": SUBSCRIPTIONS,
}


def list_column_modules() -> dict[str, frozenset[str]]:
    """Every column of the client list, the client's own and the contributed: name -> modules."""
    return {**CLIENT_COLUMNS, **LIST_COLUMNS.modules()}


def list_filter_modules() -> dict[str, frozenset[str]]:
    """Every filter of the client list, the client's own and the contributed."""
    return {**CLIENT_FILTERS, **LIST_FILTERS.modules()}


def page_block_modules() -> dict[str, frozenset[str]]:
    """Every block of the client page (clients.extensions.PAGE_BLOCKS): name -> modules."""
    return PAGE_BLOCKS.modules()


def shown_names(registry: dict[str, frozenset[str]], tenant) -> list[str]:
    """The names of `registry` that `tenant` sees, in the registry's order."""
    return [name for name, modules in registry.items() if uses_any(tenant, modules)]


def hidden_names(registry: dict[str, frozenset[str]], tenant) -> set[str]:
    return {name for name, modules in registry.items() if not uses_any(tenant, modules)}


def shows(registry: dict[str, frozenset[str]], name: str, tenant) -> bool:
    """Whether `tenant` sees `name`; a name the registry does not know shows everywhere."""
    return uses_any(tenant, registry.get(name, EVERY_TENANT))


def default_columns_for(tenant) -> tuple[str, ...]:
    """The default columns of the tenant's modules, in the order of the first module that
    names them; the list shows its columns in this order (a messaging provider's ID, Login
    and Company before the Client name, as its document has them).

    One module's defaults fit the width; with several modules, their columns are taken in
    turn (each module's first, then each one's second, ...) while they fit DEFAULT_WIDTH_PX,
    so that every module keeps its leading columns and the list still needs no scrolling."""
    lists = [
        module_default_columns(module)
        for module in DEFAULT_COLUMNS
        if module in tenant_modules(tenant)
    ]
    if not lists:
        return module_default_columns(WITHOUT_MODULES)
    union: list[str] = []
    for columns in lists:
        union.extend(name for name in columns if name not in union)
    chosen: set[str] = set()
    width = 0
    for rank in range(max(len(columns) for columns in lists)):
        for columns in lists:
            name = columns[rank] if rank < len(columns) else None
            if name is None or name in chosen:
                continue
            if width + column_width(name) > DEFAULT_WIDTH_PX:
                continue
            chosen.add(name)
            width += column_width(name)
    return tuple(name for name in union if name in chosen)


def module_default_columns(module: str) -> tuple[str, ...]:
    """A module's default columns: the client's own, with each contributed column placed
    after the one it names for this module (first when it names none)."""
    own = DEFAULT_COLUMNS.get(module, DEFAULT_COLUMNS_WITHOUT_MODULES)
    columns = list(own)
    for contributed in LIST_COLUMNS.all():
        if module not in contributed.defaults:
            continue
        anchor = contributed.defaults[module]
        position = (
            columns.index(anchor) + 1
            if anchor in columns
            else 0
            if anchor is None
            else len(columns)
        )
        columns.insert(position, contributed.name)
    return tuple(columns)


def column_width(name: str) -> int:
    if name in LIST_COLUMNS:
        return LIST_COLUMNS[name].width_px
    return COLUMN_WIDTH_PX.get(name, 120)


def sort_offered(sort: str, tenant) -> bool:
    """A sort (`-last_purchase_at`) is offered when its column is."""
    return shows(list_column_modules(), sort.removeprefix("-"), tenant)


def default_sort_for(tenant) -> str:
    """The most recent purchase on top where clients buy subscriptions, else the newest."""
    return "-last_purchase_at" if sort_offered("last_purchase_at", tenant) else "-created_at"
