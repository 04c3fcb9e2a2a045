"""The demo data passes the portal's own forms: every edit form, opened on the seeded objects and
submitted unchanged with the values it rendered, saves (a redirect, no field error), changes
no stored field and writes no row (no activity line, ledger entry, credit change or any other
row: the tenant's rows of every model are counted before and after), and is built on the
shared piece that keeps untouched values (core.forms.UnchangedValuesKeptMixin).

The edit forms are found, not listed: every URL pattern that names an object (`number` for a
client, `pk` for another row; OWN_DATA_URLS for the signed-in person's own) is opened on
seeded objects, and each form in the page's context that is bound to a stored object (a
ModelForm's instance) or filled from one (initial values) is matched to the POST form the page
rendered. A new edit page is covered without anyone
remembering; a new object URL whose rows the walk cannot find fails
`test_every_object_url_has_seeded_objects` until its model is named below.

The tests after the walk check that the demo is coherent where operators look (purchases,
ledger order, regions, sender IDs, holds) while it still looks imported."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Min
from django.forms import BaseForm, BaseModelForm
from django.urls import reverse
from django_scopes import scopes_disabled

from billing.models import Account, LedgerEntry
from clients.demo import REGIONS
from clients.models import Client, ClientBulkAction, ClientImport, ClientStatus
from core.forms import UnchangedValuesKeptMixin
from exports.models import ExportJob
from holds.models import ClientHold, FundsShortfall, HoldKind
from messaging.models import Message, SenderId
from subscriptions.models import Package, Subscription
from tenancy.demo import DEMO_TENANTS
from tenancy.models import SavedView
from tests.html_forms import Form, page_forms
from tests.security.walker import portal_routes

OBJECT_KWARGS = {"number", "pk"}
# Object URLs whose view does not say its model (`model = ...`): the model of their `pk`.
PK_MODELS = {
    "subscriptions:package_edit": Package,
    "messaging:sender_update": SenderId,
    "messaging:sender_decide": SenderId,
    "exports:export_detail": ExportJob,
    "exports:export_download": ExportJob,
    "clients:client_import_detail": ClientImport,
    "clients:client_bulk_action_detail": ClientBulkAction,
    "exports:client_import_refused": ClientImport,
    "tenancy:saved_view_open": SavedView,
    "tenancy:saved_view_delete": SavedView,
}
# Pages that edit the signed-in person's own data, with no object in the URL: the person.
OWN_DATA_URLS = {"account"}
SAMPLE = 40  # objects per tenant for every edit form but the client's (all clients)
FULL_COVERAGE = {"clients:client_edit"}
# The edit forms the walk must find on the demo (it may find more).
KNOWN_EDIT_FORMS = {
    ("clients:client_edit", "ClientForm"),
    ("billing:client_finance", "CreditLimitForm"),
    ("routers:router_edit", "RouterForm"),
    ("routers:client_connection", "PppoeAccountForm"),
    ("subscriptions:package_edit", "PackageForm"),
    ("messaging:sender_update", "SenderIdForm"),
    ("tenancy:operator_edit", "OperatorUpdateForm"),
    ("account", "AccountForm"),
}


# -- the URL patterns that name an object --------------------------------------------------
@dataclass
class ObjectUrl:
    name: str
    route: str
    view_class: type
    kwargs: set[str]

    @property
    def model(self):
        if self.name in OWN_DATA_URLS:
            return get_user_model()
        if self.kwargs == {"number"}:
            return Client
        return PK_MODELS.get(self.name) or getattr(self.view_class, "model", None)

    def url_for(self, obj) -> str:
        kwargs = {"pk": obj.pk} if "pk" in self.kwargs else {}
        if "number" in self.kwargs:
            kwargs["number"] = obj.number if isinstance(obj, Client) else obj.client.number
        return reverse(self.name, kwargs=kwargs)


def object_urls() -> list[ObjectUrl]:
    found = []
    for route in portal_routes():
        kwargs = set(route.arguments)
        view_class = getattr(route.callback, "view_class", None)
        if route.name in OWN_DATA_URLS and not kwargs:
            found.append(ObjectUrl(route.name, route.route, view_class, kwargs))
        if view_class is None or not kwargs or not kwargs <= OBJECT_KWARGS:
            continue
        found.append(ObjectUrl(route.name, route.route, view_class, kwargs))
    return found


# -- the forms a page rendered, as a browser would submit them -----------------------------
def context_forms(response) -> list[BaseForm]:
    forms, seen = [], set()
    for context in response.context or []:
        for value in context.flatten().values():
            if isinstance(value, BaseForm) and id(value) not in seen:
                seen.add(id(value))
                forms.append(value)
    return forms


def is_edit_form(form: BaseForm, stored: list[dict]) -> bool:
    """A form for a stored object: bound to it (a ModelForm's instance), or filled from it:
    every initial value (but the idempotency token of the finance tab's forms) is a stored
    value of the page's object or its rows. A period or filter form is filled from defaults."""
    if isinstance(form, BaseModelForm):
        return form.instance.pk is not None
    values = [v for v in form.initial.items() if v[0] != "token"]
    known = [value for row in stored for value in row.values()]
    return bool(values) and all(value in known for _, value in values)


def html_form_for(form: BaseForm, page: str, url: str) -> Form | None:
    """The smallest POST form of the page that has every field of `form`."""
    names = {form.add_prefix(name) for name, f in form.fields.items() if not f.disabled}
    matches = [
        f
        for f in page_forms(page, url)
        if f.method == "post" and names <= {field.name for field in f.fields}
    ]
    return min(matches, key=lambda f: len(f.fields), default=None)


# -- what "changes nothing" compares --------------------------------------------------------
# The provisioning state of a PPPoE account: saving the account queues its provisioning on
# the router again, changed or not (provisioning is idempotent); not a value of the form.
BOOKKEEPING = {"sync_state", "sync_version", "sync_error", "synced_at"}


def stored_values(obj, fields=None) -> dict:
    """The object's stored fields (or `fields` of them), except the time it was last saved and
    the provisioning bookkeeping."""
    fresh = type(obj)._base_manager.get(pk=obj.pk)
    return {
        f.attname: getattr(fresh, f.attname)
        for f in fresh._meta.concrete_fields
        if not getattr(f, "auto_now", False)
        and f.name not in BOOKKEEPING
        and (fields is None or f.name in fields)
    }


def values_behind(obj, form: BaseForm) -> list[dict]:
    """Every stored field of the URL's object, what it links to (a membership's user) and its
    one-to-one rows (a client's account, its PPPoE account); of another instance the form
    edits, the fields it shows."""
    instance = form.instance if isinstance(form, BaseModelForm) else None
    edited = None if instance is None or instance.pk is None else (type(instance), instance.pk)
    values = [stored_values(row) for row in rows_behind(obj) if (type(row), row.pk) != edited]
    if edited is not None:
        fields = set(form.fields) if edited != (type(obj), obj.pk) else None
        values.append(stored_values(instance, fields=fields))
    return values


def rows_behind(obj) -> list:
    rows = [obj]
    for f in obj._meta.concrete_fields:
        if f.is_relation and f.name != "tenant":
            target = getattr(obj, f.name)
            if target is not None:
                rows.append(target)
    for relation in obj._meta.related_objects:
        if relation.one_to_one:
            target = getattr(obj, relation.get_accessor_name(), None)
            if target is not None:
                rows.append(target)
    return rows


# Rows a request writes whatever it does: the session (a message for the next page) and the
# login throttle's records.
NOT_COUNTED_APPS = {"sessions", "axes"}


def row_count_query() -> str:
    """One query: the number of rows of every model (its tenant's rows when it has a tenant),
    found by walking the apps, so that a new model is counted without anyone naming it."""
    parts = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label in NOT_COUNTED_APPS or meta.proxy or not meta.managed:
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        where = ""
        if any(f.name == "tenant" and f.is_relation for f in model._meta.concrete_fields):
            column = connection.ops.quote_name(model._meta.get_field("tenant").column)
            where = f" WHERE {column} = %(tenant)s"
        parts.append(f"SELECT '{model._meta.label}', count(*) FROM {table}{where}")
    return " UNION ALL ".join(parts)


def row_counts(query: str, tenant) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(query, {"tenant": tenant.pk})
        return dict(cursor.fetchall())


def rows_written(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {label: after[label] - before[label] for label in after if after[label] != before[label]}


# -- the demo database ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(seeded_demo, django_db_blocker):
    """The demo data, as seeded, once for the module (each test runs in a transaction that is
    rolled back), and the database emptied afterwards for the tests that follow."""
    with django_db_blocker.unblock():
        tenants = seeded_demo.restore()
        yield {key: tenants[key] for key in DEMO_TENANTS}
        call_command("flush", interactive=False, verbosity=0)


def samples(object_url: ObjectUrl, tenant) -> list:
    if object_url.name in OWN_DATA_URLS:
        return [owner_of(tenant.slug.removeprefix("demo-"))]  # the one the walk signs in as
    model = object_url.model
    rows = model.objects.for_tenant(tenant).order_by("pk")
    if model is Client:
        rows = rows.exclude(status="deleted")
    rows = list(rows)
    if object_url.name in FULL_COVERAGE or len(rows) <= SAMPLE:
        return rows
    step = len(rows) / SAMPLE
    return [rows[int(i * step)] for i in range(SAMPLE)]


def owner_of(key: str):
    return get_user_model().objects.get(username=f"{key}-owner")


def edit_forms_on(client, url: str, obj) -> tuple[list, str]:
    response = client.get(url)
    if response.status_code != 200:
        return [], ""
    forms = []
    for form in context_forms(response):
        with scopes_disabled():
            stored = [stored_values(row) for row in rows_behind(obj)]
        if is_edit_form(form, stored):
            forms.append(form)
    return forms, response.content.decode()


def submit_unchanged(client, url: str, form: BaseForm, page: str):
    html_form = html_form_for(form, page, url)
    assert html_form is not None, f"{url}: no POST form renders {type(form).__name__}"
    return html_form.action, client.post(html_form.action, html_form.data())


def field_errors_of(response) -> dict:
    errors = {}
    for form in context_forms(response) if response.context else []:
        if form.is_bound and form.errors:
            errors.update({k: list(v) for k, v in form.errors.items()})
    return errors


def test_every_object_url_has_seeded_objects():
    unknown = [u.name for u in object_urls() if u.model is None]
    assert not unknown, f"name the model of these object URLs in PK_MODELS: {unknown}"


@pytest.mark.django_db
@pytest.mark.timeout(900)  # some 500 submissions, on a machine that may be busy
def test_every_edit_form_saves_the_demo_data_unchanged(client, demo, capsys):
    walked: dict[tuple[str, str], int] = {}
    failures: dict[tuple[str, str], list[str]] = {}
    count_query = row_count_query()
    for key, tenant in demo.items():
        client.force_login(owner_of(key))
        with scopes_disabled():
            candidates = {u.name: (u, samples(u, tenant)) for u in object_urls()}
        for name, (object_url, objects) in candidates.items():
            found = False
            for index, obj in enumerate(objects):
                if index >= 3 and not found:
                    break  # a page without an edit form
                url = object_url.url_for(obj)
                forms, page = edit_forms_on(client, url, obj)
                found = found or bool(forms)
                for form in forms:
                    with scopes_disabled():
                        before = values_behind(obj, form)
                    counts_before = row_counts(count_query, tenant)
                    target, response = submit_unchanged(client, url, form, page)
                    with scopes_disabled():
                        after = values_behind(obj, form)
                    written = rows_written(counts_before, row_counts(count_query, tenant))
                    label = (name, type(form).__name__)
                    walked[label] = walked.get(label, 0) + 1
                    if not isinstance(form, UnchangedValuesKeptMixin):
                        failures.setdefault(label, []).append(
                            f"{type(form).__name__} does not keep untouched values: "
                            "derive it from core.forms.UnchangedValuesKeptMixin"
                        )
                    if response.status_code != 302:
                        errors = field_errors_of(response)
                        failures.setdefault(label, []).append(
                            f"{url} → {target}: {response.status_code} {errors}"
                        )
                    elif before != after:
                        changed = [
                            (k, b[k], a[k])
                            for b, a in zip(before, after, strict=True)
                            for k in b
                            if b[k] != a[k]
                        ]
                        failures.setdefault(label, []).append(f"{url}: changed {changed}")
                    if written:
                        failures.setdefault(label, []).append(f"{url}: rows written {written}")
    with capsys.disabled():
        print("\nEdit forms walked (form: submissions):")
        for (name, form_name), count in sorted(walked.items()):
            print(f"  {name} {form_name}: {count}")
    assert set(walked) >= KNOWN_EDIT_FORMS, f"not found: {KNOWN_EDIT_FORMS - set(walked)}"
    with scopes_disabled():
        clients = Client.objects.exclude(status="deleted").count()
    assert walked[("clients:client_edit", "ClientForm")] == clients
    report = [
        f"{name} {form_name}: {len(items)} of {walked[name, form_name]}, e.g.\n    "
        + "\n    ".join(items[:5])
        for (name, form_name), items in sorted(failures.items())
    ]
    assert not failures, "refused or changed:\n" + "\n".join(report)


# -- the demo data is coherent -----------------------------------------------------------------
def demo_clients(demo) -> list[Client]:
    with scopes_disabled():
        return list(Client.objects.filter(tenant__in=demo.values()).order_by("pk"))


@pytest.mark.django_db
def test_last_purchase_date_is_the_newest_purchase(demo):
    """Only a client with a subscription has a last purchase date: the time of its newest
    purchase (the charge's time, or the subscription's when it was free)."""
    newest: dict[int, object] = {}
    with scopes_disabled():
        subscriptions = Subscription.objects.filter(tenant__in=demo.values())
        for sub in subscriptions.select_related("charge_entry"):
            bought = sub.charge_entry.created_at if sub.charge_entry else sub.created_at
            newest[sub.client_id] = max(newest.get(sub.client_id, bought), bought)
    clients = demo_clients(demo)
    wrong = [
        (c.tenant_id, c.number, c.last_purchase_at, newest.get(c.pk))
        for c in clients
        if c.last_purchase_at != newest.get(c.pk)
    ]
    assert not wrong, f"last purchase date is not the newest purchase: {wrong[:5]}"
    assert any(c.last_purchase_at is None for c in clients)  # some never bought


@pytest.mark.django_db
def test_ledger_entries_are_in_date_order_and_chain_the_balance(demo):
    with scopes_disabled():
        entries = (
            LedgerEntry.objects.filter(tenant__in=demo.values())
            .order_by("account_id", "pk")
            .values_list("account_id", "pk", "created_at", "amount", "balance_after")
        )
        balances = dict(
            Account.objects.filter(tenant__in=demo.values()).values_list("pk", "balance")
        )
    running: dict[int, Decimal] = {}
    last_at: dict[int, object] = {}
    wrong = []
    for account_id, pk, created_at, amount, balance_after in entries:
        if account_id in last_at and created_at < last_at[account_id]:
            wrong.append(f"entry {pk} dated before the one posted before it")
        running[account_id] = running.get(account_id, Decimal("0")) + amount
        if balance_after != running[account_id]:
            wrong.append(f"entry {pk}: balance after {balance_after}, sum {running[account_id]}")
        last_at[account_id] = created_at
    for account_id, balance in balances.items():
        if balance != running.get(account_id, Decimal("0")):
            wrong.append(f"account {account_id}: balance {balance} != sum of its entries")
    assert not wrong, wrong[:10]


@pytest.mark.django_db
def test_regions_belong_to_the_clients_country(demo):
    clients = demo_clients(demo)
    wrong = [
        (c.number, c.country, c.region)
        for c in clients
        if c.region and c.region not in REGIONS.get(c.country, ())
    ]
    assert not wrong, f"regions of another country: {wrong[:10]}"
    assert any(c.region for c in clients) and any(not c.region for c in clients)


@pytest.mark.django_db
def test_sender_ids_exist_and_are_decided_before_their_traffic(demo):
    wrong = []
    with scopes_disabled():
        senders = list(SenderId.objects.filter(tenant=demo["sms"]).select_related("client"))
        for sender in senders:
            first = Message.objects.filter(
                client=sender.client, channel=sender.channel, sender=sender.name
            ).aggregate(first=Min("sent_at"))["first"]
            if sender.created_at < sender.client.created_at:
                wrong.append(f"{sender.name}: registered before its client joined")
            if sender.decided_at and sender.decided_at < sender.created_at:
                wrong.append(f"{sender.name}: decided before it was registered")
            if first is not None and first <= (sender.decided_at or sender.created_at):
                wrong.append(f"{sender.name}: traffic from {first}, before it was decided")
    assert senders and not wrong, wrong[:10]
    assert any(s.status == "approved" and s.decided_by_id for s in senders)


def shortfall_start(entries: list, credit_limit: Decimal):
    """The time of the entry after which the available funds (balance + credit limit) have
    been below zero ever since, per the ledger; None when they are not below zero."""
    since = None
    for created_at, amount, balance_after in entries:
        after = balance_after + credit_limit
        if after - amount >= 0 > after:
            since = created_at
        elif after >= 0:
            since = None
    return since


@pytest.mark.django_db
def test_financial_holds_start_when_the_ledger_went_below_zero(demo):
    wrong = []
    with scopes_disabled():
        holds = ClientHold.objects.filter(tenant__in=demo.values(), lifted_at__isnull=True)
        financial = list(holds.filter(kind=HoldKind.FINANCIAL).select_related("client__tenant"))
        for shortfall in FundsShortfall.objects.filter(tenant__in=demo.values()):
            account = Account.objects.get(client_id=shortfall.client_id)
            entries = account.entries.order_by("pk").values_list(
                "created_at", "amount", "balance_after"
            )
            since = shortfall_start(list(entries), account.credit_limit)
            if shortfall.since != since:
                wrong.append(
                    f"client {shortfall.client_id}: since {shortfall.since}, ledger {since}"
                )
        shortfalls = dict(
            FundsShortfall.objects.filter(tenant__in=demo.values()).values_list(
                "client_id", "since"
            )
        )
        for hold in financial:
            since = shortfalls.get(hold.client_id)
            grace = timedelta(days=hold.client.tenant.financial_hold_grace_days)
            if since is None or hold.set_at < since + grace:
                wrong.append(f"hold {hold.pk}: set {hold.set_at}, below zero since {since}")
        administrative = list(holds.filter(kind=HoldKind.ADMINISTRATIVE).select_related("client"))
        for hold in administrative:
            if hold.set_by_id is None or not hold.reason or hold.set_at < hold.client.created_at:
                wrong.append(f"administrative hold {hold.pk}: no operator, reason or date")
        statuses = dict(
            Client.objects.filter(status=ClientStatus.FINANCIAL_HOLD).values_list("pk", "status")
        )
    assert financial and administrative
    assert set(statuses) == {h.client_id for h in financial}
    assert not wrong, wrong[:10]


@pytest.mark.django_db
def test_demo_records_still_look_imported(demo):
    """Coherent, yet not tidy: some e-mails keep the name's own letters, phone numbers are
    written in several ways, fields are missing."""
    clients = demo_clients(demo)
    assert any(not c.email.isascii() for c in clients)
    assert any(c.phone.startswith("00") for c in clients) and any(" " in c.phone for c in clients)
    assert any(not c.country for c in clients) and any(not c.email for c in clients)
