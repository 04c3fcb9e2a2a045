"""Every page of the portal, read in Russian: no English left but data and kept names.

The pages are the URL patterns the bad-input walk enumerates, with its world (a tenant with
every module on and one of each thing, made as an operator working in Russian makes it),
opened with a Russian browser: by an anonymous visitor where the page answers one (the public
pages), by the owner otherwise. Each page is read whole, then as its HTMX fragment where the
view answers one (HX-Request), then each of its forms is submitted twice, every field empty and
every field with a bad value of its kind (from tests/security/walker.py), and the answer (the
page with its errors, or where it redirects with its message) is read too. What a page may show
in Latin letters is the data itself (the text values of the tenant's rows and its operators,
but not what the code words itself, identifiers and choices: NOT_DATA) and the short list in
tests/i18n/visible_text.py.

So that the walk cannot pass by walking nothing, a page must have Russian text, and the last
test checks that every route was walked and how many were read as pages.
"""

import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.test import Client as HttpClient
from django.utils import translation
from django_scopes import scopes_disabled

from tenancy.models import Tenant
from tests.i18n.visible_text import data_words, english_words, russian_words, visible_text
from tests.security import walker
from tests.security.test_bad_input import World

ROUTES = walker.portal_routes()
TEXT_FIELDS = (models.CharField, models.TextField)
# The portal has this many URL patterns today; fewer means the walker lost some.
LEAST_ROUTES = 85
# Of which at least this many answer the owner (or a visitor) with an HTML page (50 today; the
# others are actions, redirects, files and the machines' endpoints).
LEAST_PAGES = 50
# Endpoints for monitoring, not people: no page to read (a 503 or a 404 is their answer).
MACHINE_ROUTES = {"health_live", "health_ready", "metrics"}
# Pages that show something only for a query, and the queries they are read with (the first is
# the page): the search box's suggestions, found, none found, too short.
QUERIES = {"clients:client_suggest": [{"q": "Клиент"}, {"q": "Qqqzzz"}, {"q": "Qq"}]}
QUERY_WORDS = data_words(*(q for queries in QUERIES.values() for d in queries for q in d.values()))
WALKED: dict[str, str] = {}  # route name -> "page", "redirect", "not html", "no GET", "machine"
SEEN_FORMS: set = set()  # a form shown on several pages is walked once
# Forms the walk does not submit: logging out would end its own session (the login page it
# leads to is walked).
NOT_SUBMITTED = {"logout"}


# Text the code writes (descriptions, titles, reasons and errors it words itself) and
# identifiers (keys, types, job names): not data, so a page shows them in Russian or not at all.
# A field with choices is not data either: a page shows its label.
NOT_DATA = {
    # A ledger entry is never changed: its comments are read as whole phrases (DATA_PHRASES).
    "billing.LedgerEntry": {"purpose", "idempotency_key", "comment"},
    "billing.CreditLimitChange": {"idempotency_key"},
    "clients.Client": {"search_text"},
    "clients.ClientBulkAction": {"action", "error"},
    "clients.ClientImport": {"error", "file_hash"},
    "clients.ClientImportRefusal": {"reason"},
    "core.JobRun": {"error"},
    "events.Event": {"type", "actor_label", "object_type", "description"},
    "events.OutboxEmail": {"key", "kind", "subject", "body", "error"},
    "events.WebhookDelivery": {"object_key", "error"},
    "events.WebhookEndpoint": {"disabled_reason", "secret_encrypted"},
    "exports.ExportJob": {"kind", "title", "error", "idempotency_key"},
    "holds.ClientHold": {"set_by_job", "lifted_by_job"},
    "routers.PppoeAccount": {"password_encrypted", "sync_error", "disabled_reason"},
    "routers.Router": {"password_encrypted", "last_error"},
    "tenancy.ApiIdempotencyRecord": {"caller", "key", "fingerprint"},
    "tenancy.ApiToken": {"digest"},
    "tenancy.SavedView": {"list_name", "query"},
    "tenancy.TenantSequence": {"name"},
}


def world_in_russian_words(world: World) -> None:
    """The world's data in words that are not English (the factories name things "Client 0",
    "Package 0", "Opening balance", which would let the same English words of the page pass as
    data): what an operator in Russia types. Logins, e-mails and codes stay Latin."""
    from clients.models import Client, ClientBulkAction, ClientGroup, ClientImportRefusal
    from messaging.models import SenderId
    from routers.models import PppoeAccount, Router
    from subscriptions.models import Package
    from tenancy.models import ApiToken, SavedView

    tenant = world.tenant
    Tenant.objects.filter(pk=tenant.pk).update(name="Северный ветер")
    tenant.refresh_from_db()
    with scopes_disabled():
        for client in Client.objects.filter(tenant=tenant):
            values = {
                "name": f"Клиент {client.number}",
                "company": f"ООО «Ромашка {client.number}»",
                "contact_name": "Иван Петров",
                "email": f"klient{client.number}@primer.ru",
                "contact_email": f"kontakt{client.number}@primer.ru",
            }
            searched = [*values.values(), client.login, client.itn]
            values["search_text"] = " ".join(filter(None, searched)).lower()
            Client.objects.filter(pk=client.pk).update(**values)
        renames = [
            (ClientGroup, {"name": "Частные лица"}),
            (Package, {"name": "Домашний 100", "pppoe_profile": "tarif100"}),
            (PppoeAccount, {"profile": "tarif100"}),
            (Router, {"name": "Узел Север", "username": "uzel"}),
            (SenderId, {"purpose": "Уведомления о заказах", "sample_text": "Заказ 123 отправлен."}),
            (SenderId, {"documents_note": "Выписка из ЕГРЮЛ"}),
            (ApiToken, {"name": "Шлюз"}),
            (SavedView, {"name": "Должники"}),
            (ClientBulkAction, {"title": "Блокировка"}),
            (ClientImportRefusal, {"field": "Имя"}),
        ]
        for model, values in renames:
            model.objects.filter(tenant=tenant).update(**values)
        from events.models import WebhookDelivery
        from holds.models import ClientHold

        WebhookDelivery.objects.filter(tenant=tenant).update(response_excerpt="принято")
        ClientHold.objects.filter(tenant=tenant).update(reason="Неоплаченный счёт")
    for number, user in enumerate(get_user_model().objects.all()):
        user.username, user.email = f"ivanov{number}", f"ivanov{number}@primer.ru"
        user.first_name, user.last_name = "Иван", f"Иванов {number}"
        user.save(update_fields=["username", "email", "first_name", "last_name"])


def data_fields(model) -> list[str]:
    """The text fields of a model whose values a page shows as they are."""
    skipped = NOT_DATA.get(model._meta.label, set())
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, TEXT_FIELDS) and not f.choices and f.name not in skipped
    ]


def tenant_data_phrases(tenant) -> set[str]:
    """Data that cannot be reworded (the ledger's comments, "Opening balance" from the
    factories): taken out of the page whole, so that its words still count elsewhere."""
    from billing.models import LedgerEntry

    with scopes_disabled():
        comments = LedgerEntry.objects.filter(tenant=tenant).values_list("comment", flat=True)
        return {comment for comment in comments if comment}


def tenant_data_words(tenant) -> set[str]:
    """The Latin words of every text value the tenant's pages may show as data."""
    texts = [str(getattr(tenant, name) or "") for name in data_fields(Tenant)]
    with scopes_disabled():
        for model in apps.get_models():
            names = data_fields(model)
            if not names or not any(f.name == "tenant" for f in model._meta.concrete_fields):
                continue
            for row in model._default_manager.filter(tenant=tenant).values_list(*names):
                texts.extend(str(value) for value in row if value)
        for user in get_user_model().objects.all():
            texts += [user.username, user.first_name, user.last_name, user.email]
    return data_words(*texts)


class Reader:
    """Reads the answers of one route's walk and keeps what is wrong with them."""

    def __init__(self, http: HttpClient, user, allowed: set[str], phrases=frozenset()):
        self.http, self.user, self.allowed, self.phrases = http, user, allowed, phrases
        self.failures: list[str] = []
        self.seen: set[str] = set()  # English already reported: an answer's own is reported

    def read(self, response, what: str, page: bool = False) -> bool:
        """Checks an HTML answer; `page`: it must also have Russian text of its own."""
        assert response.status_code < 500, f"{what} answered {response.status_code}"
        if "html" not in response.get("Content-Type", ""):
            return False
        html = response.content.decode()
        for phrase in self.phrases:
            html = html.replace(phrase, " ")
        english = [w for w in english_words(html, self.allowed) if w not in self.seen]
        self.seen.update(english)
        if english:
            self.failures.append(f"{what} shows English: {english[:40]}")
        if page and not visible_text(html):
            self.failures.append(f"{what} renders no text")
        elif page and not russian_words(html):
            self.failures.append(f"{what} has no Russian text")
        return True

    def submit(self, form: walker.Form, data: dict, what: str):
        method = getattr(self.http, form.method)
        response = method(form.action, data, follow=True)
        self.read(response, f"{form.method.upper()} {form.action} {what}")
        if self.user is not None and not response.wsgi_request.user.is_authenticated:
            self.http.force_login(self.user)


# A bad value the page shows back (its control characters dropped) is data too: "a\x00b" -> "ab".
BAD_VALUE_WORDS = data_words(
    *(
        re.sub(r"[\x00-\x1f\x7f-\x9f]", "", value)
        for values in walker.VALUES_BY_KIND.values()
        for value in values
        if isinstance(value, str)
    )
)


def empty(form: walker.Form) -> dict:
    """Every field empty; hidden fields (the CSRF token, an object's id) as rendered."""
    data = form.data()
    for field in form.fields:
        if field.kind != "hidden":
            data[field.name] = [""]
    return data


def bad(form: walker.Form) -> dict:
    """Every field with the first bad value of its kind (hidden fields as rendered)."""
    data = form.data()
    for field in form.fields:
        if field.kind == "hidden":
            continue
        value = next(v for v in walker.VALUES_BY_KIND[field.kind] if isinstance(v, str))
        data[field.name] = [value]
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_every_page_reads_in_russian(route, tmp_path, settings):
    if route.name in MACHINE_ROUTES:
        WALKED[route.name] = "machine"
        return
    with translation.override("ru"):  # what the code words as it writes is in Russian
        world = World(tmp_path, settings)
    world_in_russian_words(world)
    url = route.url({a: world.argument(route, a) for a in route.arguments})
    first, *other_queries = QUERIES.get(route.name, [{}])
    http = HttpClient(HTTP_ACCEPT_LANGUAGE="ru")
    page = http.get(url, first)
    user = None
    if page.status_code != 200:  # not a public page: the owner's
        user = world.owner.user
        http.force_login(user)
        page = http.get(url, first)
    assert page.status_code in (200, 302, 405), f"{url} answered {page.status_code}"
    if page.status_code != 200:
        # A redirect or an action: its page is walked under its own pattern, its forms on the
        # page that shows them.
        WALKED[route.name] = "redirect" if page.status_code == 302 else "no GET"
        return
    allowed = tenant_data_words(world.tenant) | BAD_VALUE_WORDS | QUERY_WORDS
    reader = Reader(http, user, allowed, tenant_data_phrases(world.tenant))
    if not reader.read(page, f"GET {url}", page=True):
        WALKED[route.name] = "not html"
        return
    WALKED[route.name] = "page"
    for query in other_queries:
        reader.read(http.get(url, query), f"GET {url}?{query}", page=True)

    fragment = http.get(url, HTTP_HX_REQUEST="true")
    if fragment.status_code == 200 and b"<html" not in fragment.content:
        reader.read(fragment, f"GET {url} (HTMX fragment)")

    for form in walker.page_forms(page.content.decode(), "http://testserver" + url):
        signature = form.signature()
        if signature in SEEN_FORMS or signature[1] in NOT_SUBMITTED or not form.fields:
            continue
        SEEN_FORMS.add(signature)
        reader.submit(form, empty(form), "with every field empty")
        reader.submit(form, bad(form), "with bad values")
    assert reader.failures == [], "\n".join(reader.failures)


@pytest.mark.django_db
def test_error_pages_read_in_russian(tenant, login_as, client):
    viewer = login_as(tenant, "viewer")
    user = viewer.user
    names = data_words(tenant.name, tenant.slug, user.username, user.first_name, user.last_name)
    for url, status in (("/clients/999999999/", 404), ("/operators/add/", 403)):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ru")
        if response.status_code != status:
            continue  # the address moved: the walk above covers its page
        html = response.content.decode()
        assert english_words(html, names) == [], url
        assert russian_words(html), f"{url} ({status}) has no Russian text"


def test_the_walk_walked_every_route():
    """Runs after the walk (the module's tests run in order): every route was walked, and the
    walk read at least as many pages as the portal has."""
    assert len(ROUTES) >= LEAST_ROUTES, f"the walker finds {len(ROUTES)} URL patterns"
    missing = [r.name for r in ROUTES if r.name not in WALKED]
    assert missing == [], f"not walked (run the whole module): {missing}"
    pages = [name for name, kind in WALKED.items() if kind == "page"]
    assert len(pages) >= LEAST_PAGES, f"only {len(pages)} routes answered a page: {WALKED}"
