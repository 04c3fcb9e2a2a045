"""The extension points through which the apps above `clients` add to the client page and list.

`clients` imports none of them: each app registers what it contributes in its
`AppConfig.ready()`, and every contribution names the modules it belongs to (tenancy.modules;
none: every tenant), so that a tenant sees only its modules' parts:

- page blocks: a template of the client page (General info) with the function that gives its
  context, `context(request, client) -> dict`, run only when the block shows; where it goes
  (the wide "main" column or the narrow "side" one) and its order there; the related rows of
  the client it reads (`select_related`, fetched with the client: no query of its own);
- page contexts: what a block of another app reads without a template of its own (billing's
  account, shown in Basic information's balance row);
- list columns: a django-tables2 column of the client list, the related rows it needs, the
  column it follows in the chooser, where it goes in each module's default columns, and the
  width it takes at least;
- list filters: a django-filter filter of the client list, with the template of its part of
  the filter bar (a ChoiceFilter without one is a drop-down);
- delete guards: `blockers(client) -> list of reasons`, each with `.message`, `.code` (of the
  ValidationError that refuses the deletion) and `.url` (what blocks it), consulted before a
  client is deleted and on the confirmation page.

Registering again under the same name replaces the entry (each app's ready() may run more than
once in tests).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.translation import pgettext_lazy

from tenancy.modules import EVERY_TENANT, modules_of, uses_any

MAIN, SIDE = "main", "side"


class Registry:
    """Entries by name, in the order of their `order` then of registration."""

    def __init__(self) -> None:
        self._entries: dict[str, object] = {}
        self.version = 0  # bumped on each change, for whoever caches what it read

    def register(self, entry) -> None:
        self._entries[entry.name] = entry
        self.version += 1

    def unregister(self, name: str) -> None:
        if self._entries.pop(name, None) is not None:
            self.version += 1

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __getitem__(self, name: str):
        return self._entries[name]

    def get(self, name: str, default=None):
        return self._entries.get(name, default)

    def all(self) -> list:
        entries = list(self._entries.values())
        return sorted(entries, key=lambda entry: getattr(entry, "order", 0))

    def for_tenant(self, tenant) -> list:
        return [entry for entry in self.all() if uses_any(tenant, entry.modules)]

    def names(self) -> list[str]:
        return [entry.name for entry in self.all()]

    def modules(self) -> dict[str, frozenset[str]]:
        """Name -> modules of every entry (what a test walks)."""
        return {entry.name: entry.modules for entry in self.all()}


def _modules(keys: Iterable[str]) -> frozenset[str]:
    return modules_of(*keys) if keys else EVERY_TENANT


# -- the client page ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PageBlock:
    name: str
    template: str
    context: Callable[..., dict] | None = None
    column: str = MAIN
    order: int = 50
    modules: frozenset[str] = EVERY_TENANT
    select_related: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "modules", _modules(self.modules))


@dataclass(frozen=True)
class PageContext:
    name: str
    context: Callable[..., dict]
    modules: frozenset[str] = EVERY_TENANT
    select_related: tuple[str, ...] = ()
    order: int = 50

    def __post_init__(self):
        object.__setattr__(self, "modules", _modules(self.modules))


PAGE_BLOCKS = Registry()
PAGE_CONTEXTS = Registry()


def register_page_block(block: PageBlock) -> None:
    PAGE_BLOCKS.register(block)


def register_page_context(context: PageContext) -> None:
    PAGE_CONTEXTS.register(context)


def page_blocks_for(tenant) -> dict[str, list[PageBlock]]:
    """The client page's blocks the tenant sees, by column: {"main": [...], "side": [...]}."""
    shown = PAGE_BLOCKS.for_tenant(tenant)
    return {column: [b for b in shown if b.column == column] for column in (MAIN, SIDE)}


def page_select_related(tenant) -> tuple[str, ...]:
    """The client's related rows that the tenant's blocks and contexts read."""
    paths: list[str] = []
    for entry in (*PAGE_CONTEXTS.for_tenant(tenant), *PAGE_BLOCKS.for_tenant(tenant)):
        paths.extend(path for path in entry.select_related if path not in paths)
    return tuple(paths)


def page_context(request, client) -> dict:
    """The blocks the tenant sees (`page_blocks`) and their context, gathered only for them.
    Contexts share one namespace (the history's `table` is what HTMX refreshes), so a block
    names its keys after itself where they could clash."""
    tenant = request.tenant
    blocks = page_blocks_for(tenant)
    context: dict = {"page_blocks": blocks}
    for entry in PAGE_CONTEXTS.for_tenant(tenant):
        context.update(entry.context(request, client))
    for column in (MAIN, SIDE):
        for block in blocks[column]:
            if block.context is not None:
                context.update(block.context(request, client))
    return context


# -- the client list ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ListColumn:
    """`defaults` maps a module to the column this one follows in that module's default
    columns (None: first); `after` is the column it follows in the chooser."""

    name: str
    column: object  # a django_tables2.Column
    modules: frozenset[str] = EVERY_TENANT
    related: tuple[str, ...] = ()
    after: str | None = None
    defaults: dict[str, str | None] = field(default_factory=dict)
    width_px: int = 120
    order: int = 50

    def __post_init__(self):
        object.__setattr__(self, "modules", _modules(self.modules))


@dataclass(frozen=True)
class ListFilter:
    """`template` renders the filter's part of the filter bar (it gets `field`, the bound form
    field); without one, a ChoiceFilter is a drop-down of its choices."""

    name: str
    filter: object  # a django_filters.Filter
    modules: frozenset[str] = EVERY_TENANT
    template: str | None = None
    order: int = 50

    def __post_init__(self):
        object.__setattr__(self, "modules", _modules(self.modules))


LIST_COLUMNS = Registry()
LIST_FILTERS = Registry()


def register_list_column(column: ListColumn) -> None:
    LIST_COLUMNS.register(column)


def register_list_filter(list_filter: ListFilter) -> None:
    LIST_FILTERS.register(list_filter)


# -- deleting a client ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DeleteGuard:
    """`blockers_many(tenant, client_ids) -> {client id: reasons}` answers for many clients in
    a fixed number of queries (a bulk deletion); without it `blockers` is asked per client."""

    name: str
    blockers: Callable[..., list]  # (client) -> reasons, each with .message, .code and .url
    blockers_many: Callable[..., dict] | None = None
    order: int = 50


DELETE_GUARDS = Registry()


def register_delete_guard(guard: DeleteGuard) -> None:
    DELETE_GUARDS.register(guard)


def deletion_blockers(client) -> list:
    """Why `client` cannot be deleted now, from every guard (empty: it can be). Guards run
    whatever the tenant's modules: a subscription sold before a module was switched off still
    blocks."""
    return [reason for guard in DELETE_GUARDS.all() for reason in guard.blockers(client)]


def deletion_blockers_many(tenant, clients) -> dict[int, list]:
    """`deletion_blockers` of many clients: client id -> reasons (absent: it can be)."""
    found: dict[int, list] = {}
    ids = [client.pk for client in clients]
    for guard in DELETE_GUARDS.all():
        if guard.blockers_many is not None:
            answers = guard.blockers_many(tenant, ids)
        else:
            answers = {client.pk: guard.blockers(client) for client in clients}
        for pk, reasons in answers.items():
            if reasons:
                found.setdefault(pk, []).extend(reasons)
    return found


# -- importing clients ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportColumn:
    """A column of the client import that another app owns (billing: the opening balance).

    `clean(value) -> value` refuses a cell with a ValidationError (the row is refused, the field
    named by `label`); `apply(tenant=, actor=, file_name=, file_hash=, values=)` runs in the
    chunk's transaction with `values` as [(client_id, cleaned value)] of the clients the chunk
    created, so that what it writes commits or rolls back with them, and returns one result per
    value written, whose `error` is set when it was refused. `capability` is the right the
    importing operator needs beyond creating clients (money posted to a balance): without it
    the column is not offered, and a mapping that names it is refused."""

    name: str
    label: str
    clean: Callable
    apply: Callable
    headers: tuple[str, ...] = ()
    capability: str = ""
    modules: frozenset[str] = field(default=EVERY_TENANT)
    order: int = 50


IMPORT_COLUMNS = Registry()


def register_import_column(column: ImportColumn) -> None:
    IMPORT_COLUMNS.register(column)


# -- bulk actions on the client list -------------------------------------------------------------
@dataclass
class BulkOutcome:
    """What a bulk action did to a chunk of clients: those it changed, those it left as they
    were (already so), and why each refused one was refused (client id -> reason)."""

    done: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    # Client id -> reason: a lazy label or a StoredText, so that the job's page reads it in
    # its reader's language (clients.bulk stores it as a stored message).
    refused: dict[int, object] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkAction:
    """An action of the client list's selection, run by the service of the single action.

    `parameters` names what the operator gives on the confirmation step ("reason", "group",
    "comment"); `clean(data, tenant) -> dict` checks them with the single action's rules
    (ValidationError by field) and returns them as JSON is kept. Either
    `run(tenant=, actor=, client_ids=, parameters=) -> BulkOutcome` works a chunk of clients
    (in the chunk's transaction; clients.bulk runs the chunks inline or as a job), or
    `hand_off(tenant=, actor=, membership=, selection=, list_query=, title=) -> url` gives the
    whole selection (and the list's query string it was made on) to a job of its own (exports:
    the list's export) and names the page that shows it. `capability` is the single action's
    right."""

    name: str
    label: str
    capability: str
    run: Callable | None = None
    hand_off: Callable | None = None
    clean: Callable = lambda data, tenant: {}
    parameters: tuple[str, ...] = ()
    done_label: str = pgettext_lazy("bulk action result", "Done")
    modules: frozenset[str] = field(default=EVERY_TENANT)
    order: int = 50

    def __post_init__(self):
        object.__setattr__(self, "modules", _modules(self.modules))


BULK_ACTIONS = Registry()


def register_bulk_action(action: BulkAction) -> None:
    BULK_ACTIONS.register(action)


def bulk_actions_for(membership) -> list[BulkAction]:
    """The actions this operator may run on a selection (the tenant's, by the role's rights)."""
    if membership is None:
        return []
    return [
        a for a in BULK_ACTIONS.for_tenant(membership.tenant) if membership.allows(a.capability)
    ]
