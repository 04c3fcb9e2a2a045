"""Every form and every query parameter of every page, fed bad input one field at a time.

The pages are enumerated from the URL patterns and their forms parsed from the HTML an owner of a
tenant with every module on sees, so that a new page, form or field is walked without anyone
remembering. Only how to build each URL argument is written here, and a test fails when a pattern
has an argument the walker cannot build. Each field gets the bad values of its kind (a number
field the huge exponents, NaN, infinities and out-of-range numbers; every field NUL and control
characters, 100 kB of text, the field twice and the field left out); the other fields keep their
rendered values. No answer may be a 500, and a refusal (4xx) must leave every table unchanged.
"""

import pytest
from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from clients.models import ClientBulkAction
from core.languages import javascript_catalogue_version
from core.stored_text import literal_text
from events.webhooks import webhook_endpoint_create
from routers.models import RouterAdoption
from tenancy.services import api_token_create, saved_view_create
from tests.events.test_webhook_pages import make_delivery
from tests.factories import (
    ClientFactory,
    ClientGroupFactory,
    MembershipFactory,
    PackageFactory,
    PppoeAccountFactory,
    RouterFactory,
    SenderIdFactory,
    SubscriptionFactory,
    TenantFactory,
    make_account,
)
from tests.security import walker

PUBLIC = {"login"}  # walked as an anonymous visitor
ROUTES = walker.portal_routes()
COMMON_QUERY_PARAMETERS = set(walker.QUERY_KINDS)  # page, per_page, sort, q


# -- the data every page needs -------------------------------------------------------------
class World:
    """A tenant with every module on, its owner, and one of each thing the pages show."""

    def __init__(self, tmp_path, settings):
        from holds.services import client_place_hold
        from tests.clients.test_client_import_views import make_import
        from tests.exports.test_export_views import make_job

        settings.MEDIA_ROOT = tmp_path / "media"
        self.tenant = TenantFactory(uses_routers=True, uses_messaging=True)
        self.owner = MembershipFactory(tenant=self.tenant, role="owner")
        self.operator = MembershipFactory(tenant=self.tenant, role="viewer")
        group = ClientGroupFactory(tenant=self.tenant)
        self.client = ClientFactory(tenant=self.tenant, group=group)
        make_account(self.client, balance="100", credit_limit="50")
        self.package = PackageFactory(tenant=self.tenant)
        self.subscription = SubscriptionFactory(
            tenant=self.tenant, client=self.client, package=self.package
        )
        self.router = RouterFactory(tenant=self.tenant, host="127.0.0.1", port=1)
        PppoeAccountFactory(tenant=self.tenant, client=self.client, router=self.router)
        self.sender = SenderIdFactory(client=self.client, tenant=self.tenant, status="pending")
        self.export_job = make_job(self.tenant, self.owner.user)
        self.api_token = api_token_create(
            tenant=self.tenant, actor=None, name="Шлюз", scope="ingest"
        ).token
        self.client_import = make_import(self.tenant, tmp_path)
        self.webhook_endpoint = webhook_endpoint_create(
            tenant=self.tenant,
            actor=None,
            url="http://127.0.0.1:9/hook",
            secret="s3cret-signing-key-0123456789",
            event_types=["client.updated"],
        )
        self.webhook_delivery = make_delivery(self.webhook_endpoint)
        self.saved_view = saved_view_create(
            tenant=self.tenant,
            actor=self.owner,
            list_name="clients:client_list",
            name="Walked",
            query="sort=number",
            columns=["name", "number"],
            per_page=20,
        )
        with scopes_disabled():
            self.router_adoption = RouterAdoption.objects.create(
                tenant=self.tenant, router=self.router, created_by=self.owner.user, status="done"
            )
            self.client_bulk_action = ClientBulkAction.objects.create(
                tenant=self.tenant, created_by=self.owner.user, action="hold_place", title="Hold"
            )
        with scopes_disabled():
            client_place_hold(
                tenant=self.tenant,
                client=ClientFactory(tenant=self.tenant),
                reason=literal_text("Неоплаченный счёт"),
                actor=self.owner.user,
            )

    def argument(self, route: walker.Route, name: str):
        builder = ARGUMENTS[name]
        return builder(self, route) if callable(builder) else builder


def _pk(world: World, route: walker.Route):
    prefix = max((p for p in PK_BY_ROUTE if route.name.startswith(p)), key=len, default=None)
    if prefix is None:
        raise KeyError(f"no object for <pk> of {route.name}")
    return getattr(world, PK_BY_ROUTE[prefix]).pk


# How each URL argument is built; <pk> names the object by the pattern's name.
PK_BY_ROUTE = {
    "exports:": "export_job",
    "exports:client_import": "client_import",
    "clients:client_import": "client_import",
    "clients:client_bulk_action": "client_bulk_action",
    "routers:": "router",
    "subscriptions:package_": "package",
    "subscriptions:": "subscription",
    "tenancy:operator_": "operator",
    "tenancy:api_token_": "api_token",
    "tenancy:saved_view_": "saved_view",
    "messaging:sender_": "sender",
    "events:webhook_": "webhook_endpoint",
    "events:webhook_delivery_redeliver": "webhook_delivery",
}
ARGUMENTS = {
    "number": lambda world, route: world.client.number,
    "pk": _pk,
    "adoption": lambda world, route: world.router_adoption.pk,
    "table_name": "ClientTable",
    # The scripts' catalogue: a language and the catalogue's version.
    "language": "ru",
    "version": lambda world, route: javascript_catalogue_version(),
}


def _buildable(route: walker.Route) -> bool:
    if any(a not in ARGUMENTS for a in route.arguments):
        return False
    if "pk" in route.arguments:
        return any(route.name.startswith(p) for p in PK_BY_ROUTE)
    return True


def test_the_walker_can_build_every_url_argument():
    unbuildable = [r.name for r in ROUTES if not _buildable(r)]
    assert unbuildable == [], f"teach the walker how to build the arguments of {unbuildable}"


def test_the_walk_covers_the_portal():
    names = {r.name for r in ROUTES}
    assert {"clients:client_create", "billing:client_top_up", "login"} <= names
    assert not any(name.startswith("admin:") for name in names)


# -- the walk ------------------------------------------------------------------------------
class Walk:
    """Sends requests, counts them, and checks each answer: never a 500, and a refusal changes
    nothing in the database."""

    requests = 0

    def __init__(self, http: HttpClient, user=None):
        self.http = http
        self.user = user
        self.query = walker.snapshot_query()
        self.state = walker.snapshot(self.query)
        self.writes = walker.writes_so_far()
        self.failures: list[str] = []
        self.seen_forms: set = set()

    def send(self, method: str, url: str, data=None, what: str = "", **headers):
        Walk.requests += 1
        response = getattr(self.http, method)(url, data or {}, **headers)
        writes = walker.writes_so_far()
        after = self.state if writes == self.writes else walker.snapshot(self.query)
        self.writes = writes
        if response.status_code >= 500:
            error = getattr(response, "exc_info", None)
            reason = repr(error[1])[:160] if error else ""
            self.failures.append(f"{response.status_code} {method.upper()} {url} {what} {reason}")
        elif 400 <= response.status_code < 500:
            changed = walker.changed_tables(self.state, after)
            if changed:
                self.failures.append(
                    f"{response.status_code} {method.upper()} {url} {what} changed {changed}"
                )
        self.state = after
        if self.user is not None and not response.wsgi_request.user.is_authenticated:
            self.http.force_login(self.user)  # the walk logged out, or sent a foreign cookie
            self.state, self.writes = walker.snapshot(self.query), walker.writes_so_far()
        return response

    def query_parameters(self, url: str, names: set[str]):
        for name in sorted(names):
            kind = walker.QUERY_KINDS.get(name, "unknown")
            for value in walker.QUERY_VALUES_BY_KIND[kind]:
                data = walker.with_bad_value({}, name, value)
                self.send("get", url, data, f"?{name}={walker.describe(value)}")

    def headers(self, url: str):
        for value in walker.CONTROL + walker.LONG:
            headers = dict.fromkeys(walker.BAD_HEADERS, value)
            self.send("get", url, None, f"headers={walker.describe(value)}", **headers)
        # A quoted cookie may spell NUL as an octal escape, which only the cookie parser sees.
        cookie = 'sessionid="abc\\000def"; csrftoken="a\\000b"'
        self.send("get", url, None, "cookies with \\000", HTTP_COOKIE=cookie)

    def form(self, form: walker.Form):
        baseline = form.data()
        for field in form.fields:
            for value in walker.VALUES_BY_KIND[field.kind]:
                data = walker.with_bad_value(baseline, field.name, value)
                what = f"{field.name}={walker.describe(value)}"
                self.send(form.method, form.action, data, what)


SEEN_FORMS: set = set()  # a form shown on several pages is walked once


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_bad_input_never_fails_and_a_refusal_changes_nothing(route, tmp_path, settings):
    world = World(tmp_path, settings)
    http = HttpClient(raise_request_exception=False)
    user = None if route.name in PUBLIC else world.owner.user
    if user is not None:
        http.force_login(user)
    url = route.url({a: world.argument(route, a) for a in route.arguments})
    walk = Walk(http, user)

    page = walk.send("get", url, what="(the page)")
    # A page the world has no data for would make the walk pass without walking anything.
    assert page.status_code in (200, 302, 405), f"{url} answered {page.status_code}"
    forms = []
    if page.status_code == 200 and "html" in page.get("Content-Type", ""):
        forms = walker.page_forms(page.content.decode(), "http://testserver" + url)
    if page.status_code != 405:
        names = COMMON_QUERY_PARAMETERS | walker.view_query_parameters(route)
        # The fields of the page's own GET forms are walked with their forms, by their kind.
        walk.query_parameters(url, names - walker.get_form_fields(forms, url))
        walk.headers(url)
    for form in forms:
        if form.signature() in SEEN_FORMS:
            continue
        SEEN_FORMS.add(form.signature())
        walk.form(form)
    assert walk.failures == [], "\n".join(walk.failures[:60])


@pytest.mark.django_db
def test_the_walker_sees_every_field_of_a_form_with_its_kind(tmp_path, settings):
    from clients.forms import ClientForm

    world = World(tmp_path, settings)
    http = HttpClient()
    http.force_login(world.owner.user)
    url = f"/clients/{world.client.number}/edit/"
    forms = walker.page_forms(http.get(url).content.decode(), "http://testserver" + url)
    edit = next(f for f in forms if f.method == "post" and f.action.endswith(url))
    kinds = {f.name: f.kind for f in edit.fields}
    assert set(ClientForm.Meta.fields) <= set(kinds)
    assert kinds["sms_price"] == kinds["failed_login_attempts"] == "number"
    assert kinds["registered_on"] == kinds["last_login_at"] == "date"
    assert kinds["group"] == "choice" and kinds["csrfmiddlewaretoken"] == "hidden"
