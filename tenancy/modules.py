"""The modules a tenant uses, and the one test that decides whether a contribution shows.

A tenant switches modules on with its flags (internet: `uses_routers`, messaging:
`uses_messaging`, reseller: `uses_reseller`). Every contribution to a page (a client field, a
list column, a filter, a block, a tab, a navigation section, a feature such as subscriptions)
names the modules it belongs to; it shows when the tenant uses any of them, and a contribution
that names none belongs to every tenant. Pages never test a flag themselves: they ask
`uses_any(tenant, modules)` or a `for_modules(...)` test, so that adding a module or moving a
field to another one is a change of its declaration only.
"""

from collections.abc import Iterable

INTERNET = "internet"
MESSAGING = "messaging"
RESELLER = "reseller"

# Module key -> the Tenant flag that switches it on.
MODULE_FLAGS = {INTERNET: "uses_routers", MESSAGING: "uses_messaging", RESELLER: "uses_reseller"}
ALL_MODULES = tuple(MODULE_FLAGS)
EVERY_TENANT: frozenset[str] = frozenset()

# Packages, orders and subscription periods: what an internet provider and a software reseller
# sell. A messaging provider charges per message (its daily charges go through the ledger).
SUBSCRIPTIONS = frozenset({INTERNET, RESELLER})

# What templates offer beside fields, columns and blocks (the `features` context variable):
# e.g. the Order subscription and Create subscription buttons.
FEATURES: dict[str, frozenset[str]] = {"subscriptions": SUBSCRIPTIONS}


def modules_of(*keys: str) -> frozenset[str]:
    unknown = set(keys) - set(ALL_MODULES)
    if unknown:
        raise ValueError(f"Unknown module(s): {', '.join(sorted(unknown))}")
    return frozenset(keys)


def tenant_modules(tenant) -> frozenset[str]:
    """The keys of the modules `tenant` uses (none for no tenant)."""
    if tenant is None:
        return frozenset()
    return frozenset(key for key, flag in MODULE_FLAGS.items() if getattr(tenant, flag, False))


def uses_any(tenant, modules: Iterable[str]) -> bool:
    """Whether a contribution of `modules` shows for `tenant`: always when it names none,
    else when the tenant uses at least one of them."""
    modules = frozenset(modules)
    return not modules or bool(modules & tenant_modules(tenant))


class ForModules:
    """A `shown(tenant, membership)` test for page links: the tenant uses one of `modules`
    (or they are empty), and, when given, the membership allows `capability`. It keeps its
    modules, so that a test can read what a tab or a section belongs to."""

    def __init__(self, modules: Iterable[str], capability: str | None = None) -> None:
        self.modules = modules_of(*modules)
        self.capability = capability

    def __call__(self, tenant, membership) -> bool:
        if tenant is None or not uses_any(tenant, self.modules):
            return False
        return self.capability is None or bool(membership and membership.allows(self.capability))

    def __repr__(self) -> str:
        return f"for_modules({', '.join(sorted(self.modules)) or 'every tenant'})"


def for_modules(*keys: str, capability: str | None = None) -> ForModules:
    """`shown=for_modules(INTERNET)`: shown to tenants that use the internet module."""
    return ForModules(keys, capability=capability)


def adds_clients_directly(tenant) -> bool:
    """Whether the tenant's operators add clients with the New client form. A software
    reseller adds a customer only when ordering a subscription for it (Order subscription
    creates the customer); a tenant that also runs internet or messaging, or none of the
    modules, adds clients directly."""
    return tenant_modules(tenant) != {RESELLER}


def features_for(tenant) -> dict[str, bool]:
    features = {name: uses_any(tenant, modules) for name, modules in FEATURES.items()}
    features["new_client"] = adds_clients_directly(tenant)
    return features


def modules_of_test(shown) -> frozenset[str]:
    """The modules a `shown` test names (none for a test that is not `for_modules`)."""
    return getattr(shown, "modules", EVERY_TENANT)
