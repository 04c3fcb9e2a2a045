"""What leaves the portal speaks Russian too: the e-mails to clients, the exports' files and the
API's errors.

- Every kind of client notice (a hold set, administrative and financial; a subscription about
  to expire and expired, with and without auto-renew; a credit limit changed), owed for a client
  whose language is Russian in a Russian tenant, is written in Russian, though the job that owes
  it runs in English (a worker has no request); a client in English in the same tenant gets
  English.
- An export started by an operator reading Russian (the client list, the audit log, the
  Finance tab's transactions) has its headers and sheet names in Russian, though the job runs
  in a worker without a language.
- The API's problem details, over a real server with `Accept-Language: ru`: a 404 and a 422
  with field errors have their title, detail and messages in Russian (field names stay the
  API's).
"""

from decimal import Decimal
from io import BytesIO

import pytest
import requests
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from billing.services import account_set_credit_limit
from core.stored_text import literal_text
from core.validation_messages import MESSAGES, field_error_message
from events.outbox import OutboxEmail, emails_render
from exports.models import ExportJob, ExportStatus
from exports.tasks import export_job_run
from holds.models import HoldKind, NotificationKind
from holds.services import client_place_hold, notifications_create
from tests.api.conftest import (  # noqa: F401 - the API's live-server fixtures
    api_as,
    api_client_of,
    http_sessions,
    issue_token,
)
from tests.factories import (
    ClientFactory,
    MembershipFactory,
    PackageFactory,
    SubscriptionFactory,
    TenantFactory,
    make_account,
)
from tests.i18n.test_russian_walk import tenant_data_words
from tests.i18n.visible_text import CYRILLIC_WORD, data_words, english_words

# The limits a pydantic error's context may carry (max_length, gt, ...), for the walk of kinds.
LIMIT_KEYS = (
    "max_length",
    "min_length",
    "gt",
    "ge",
    "lt",
    "le",
    "multiple_of",
    "max_digits",
    "decimal_places",
    "whole_digits",
)

RUSSIAN_TENANT = {
    "name": "Северный ветер",
    "slug": "sever",
    "currency": "RUB",
    "time_zone": "Europe/Moscow",
    "language": "ru",
}

RUSSIAN_OPERATOR = {  # not "operator0", "Test": data words that would let English pass
    "user__username": "ivanova",
    "user__email": "ivanova@primer.ru",
    "user__first_name": "Анна",
    "user__last_name": "Иванова",
}


def english_in(text: str, allowed: set[str]) -> list[str]:
    """The English words of a plain text (an e-mail, a header)."""
    return english_words(text.replace("&", "&amp;").replace("<", "&lt;"), allowed)


@pytest.fixture
def russian_tenant(db):
    return TenantFactory(**RUSSIAN_TENANT)


def russian_client(tenant, **kwargs):
    values = {
        "name": "Ромашка",
        "company": "ООО «Ромашка»",
        "contact_name": "Иван Петров",
        "email": "romashka@primer.ru",
        "contact_email": "ivan@primer.ru",
        "language": "ru",
    }
    return ClientFactory(tenant=tenant, **{**values, **kwargs})


def owed_emails(tenant, client) -> list[OutboxEmail]:
    """The e-mails owed to `client`, with the text the sender gives those owed without one,
    rendered in English (a worker's language)."""
    with translation.override("en"), scopes_disabled():
        emails = list(OutboxEmail.objects.filter(tenant=tenant, client_id=client.pk).order_by("pk"))
        emails_render(tenant, emails)
    return emails


def owe_every_notice(tenant, client) -> None:
    """Each kind of notice to `client`, owed the way its job owes it, in English (a worker's
    language)."""
    packages = [
        PackageFactory(tenant=tenant, name=name, price=Decimal("1234.56"))
        for name in ("Домашний 100", "Домашний 200")
    ]
    renewing, lapsing = (
        SubscriptionFactory(tenant=tenant, client=client, package=package, auto_renew=renew)
        for package, renew in zip(packages, (True, False), strict=True)
    )
    account = make_account(client)
    with translation.override("en"), scopes_disabled(), transaction.atomic():
        client_place_hold(tenant=tenant, client=client, reason=literal_text("Проверка оплаты"))
        client_place_hold(
            tenant=tenant,
            client=client,
            reason=literal_text("Долг по счёту"),
            kind=HoldKind.FINANCIAL,
        )
        rows = [
            (client.pk, kind, f"{kind}:{s.pk}", s.pk, None)
            for kind in (NotificationKind.EXPIRING, NotificationKind.EXPIRED)
            for s in (renewing, lapsing)
        ]
        notifications_create(tenant=tenant, rows=rows)
        account_set_credit_limit(account=account, credit_limit=Decimal("1500"), notify=True)


@pytest.mark.django_db
def test_every_client_notice_is_in_the_clients_russian(russian_tenant):
    client = russian_client(russian_tenant)
    owe_every_notice(russian_tenant, client)
    emails = owed_emails(russian_tenant, client)
    kinds = {email.kind for email in emails}
    assert kinds >= {*NotificationKind.values, "credit_limit_changed"}, kinds
    allowed = tenant_data_words(russian_tenant)
    wrong = []
    for email in emails:
        for part, text in (("subject", email.subject), ("body", email.body)):
            english = english_in(text, allowed)
            if english or not CYRILLIC_WORD.search(text):
                wrong.append(f"{email.kind} {part}: {english} in {text!r}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.django_db
def test_a_client_in_english_gets_english_in_a_russian_tenant(russian_tenant):
    client = russian_client(
        russian_tenant,
        name="Daisy",
        company="Daisy Ltd",
        contact_name="John Smith",
        email="daisy@example.com",
        language="en",
    )
    owe_every_notice(russian_tenant, client)
    emails = owed_emails(russian_tenant, client)
    assert len(emails) >= 6
    for email in emails:
        # Russian here could only be the tenant's name and the package's (data).
        russian = set(CYRILLIC_WORD.findall(email.subject + email.body))
        data = set(CYRILLIC_WORD.findall(f"{russian_tenant.name} Домашний Проверка оплаты"))
        data |= set(CYRILLIC_WORD.findall("Долг по счёту"))
        assert russian <= data, f"{email.kind}: {russian - data}"


# -- exports ---------------------------------------------------------------------------------
def export_in_russian(http: HttpClient, url: str, data: dict):
    """Start an export as the page does, in Russian, and run its job as a worker would."""
    with scopes_disabled():
        before = set(ExportJob.objects.values_list("pk", flat=True))
    response = http.post(url, data, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code in (200, 302), response.content[:300]
    with scopes_disabled():
        job = ExportJob.objects.exclude(pk__in=before).get()
    with translation.override("en"):
        export_job_run(job.pk, tenant_id=job.tenant_id)  # queued on commit: never, in a test
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    with job.file.open("rb") as handle:
        return load_workbook(BytesIO(handle.read()))


@pytest.mark.django_db
def test_an_export_started_in_russian_has_russian_headers_and_sheets(
    russian_tenant, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    owner = MembershipFactory(tenant=russian_tenant, role="owner", **RUSSIAN_OPERATOR)
    client = russian_client(russian_tenant)
    make_account(client, balance="1234.56", credit_limit="100")
    http = HttpClient(HTTP_ACCEPT_LANGUAGE="ru")
    http.force_login(owner.user)
    allowed = tenant_data_words(russian_tenant)
    files = {
        "client list": (reverse("exports:list_export"), {"list_path": "/clients/"}),
        "audit log": (reverse("exports:list_export"), {"list_path": reverse("events:event_list")}),
        "transactions": (
            reverse("billing:client_finance_export", kwargs={"number": client.number}),
            {"token": "i18n-ledger"},
        ),
    }
    wrong = []
    for what, (url, data) in files.items():
        book = export_in_russian(http, url, {"list_query": "", **data})
        for sheet in book.worksheets:
            if english_in(sheet.title, allowed) or not CYRILLIC_WORD.search(sheet.title):
                wrong.append(f"{what}: sheet {sheet.title!r}")
            headers = [str(c.value) for c in next(sheet.iter_rows(max_row=1)) if c.value]
            assert headers, f"{what}: {sheet.title!r} has no header row"
            english = english_in(" ".join(headers), allowed)
            if english:
                wrong.append(f"{what}: headers {headers} show {english}")
    assert wrong == [], "\n".join(wrong)


# -- the API ---------------------------------------------------------------------------------
@pytest.fixture
def russian_api_tenant(transactional_db):
    return TenantFactory(**{**RUSSIAN_TENANT, "uses_reseller": False})


def problem_texts(body: dict) -> list[str]:
    """What a person reads of a problem document: its title, detail and field messages."""
    texts = [body.get("title", ""), body.get("detail", "")]
    return texts + [error.get("message", "") for error in body.get("errors", [])]


def test_the_apis_problems_are_in_russian(russian_api_tenant, api_as, api_client_of):  # noqa: F811
    customer = api_client_of(russian_api_tenant, name="Ромашка", language="ru")
    api = api_as(russian_api_tenant, "owner")
    api.session.headers["Accept-Language"] = "ru"
    allowed = data_words(russian_api_tenant.name, russian_api_tenant.currency)
    top_up = f"clients/{customer.number}/top-up/"
    answers = {
        "404": api.get(f"clients/{customer.number + 1000}/"),
        "422 (fields)": api.post("clients/", json={"name": "", "email": "не адрес"}),
        "422 (amount)": api.post(top_up, json={"amount": "-5"}),
        "422 (comment)": api.post(top_up, json={"amount": "1", "comment": "x" * 600}),
        "422 (type)": api.post(top_up, json={"amount": ["1"]}),
        "422 (missing)": api.post(top_up, json={}),
        "422 (not JSON)": api.post(top_up, data="{", headers={"Content-Type": "application/json"}),
        "422 (query)": api.get("clients/", params={"limit": "много"}),
        "422 (range)": api.get("clients/", params={"limit": "100000"}),
        "422 (length)": api.post("clients/", json={"name": "Ромашка", "region": "ы" * 1001}),
    }
    wrong = []
    for what, response in answers.items():
        assert isinstance(response, requests.Response)
        assert response.status_code in (400, 404, 422), f"{what}: {response.status_code}"
        body = response.json()
        if what.startswith("422 (fields)"):
            assert {"name", "email"} <= {e["field"] for e in body["errors"]}, body
        for text in filter(None, problem_texts(body)):
            if english_in(text, allowed) or not CYRILLIC_WORD.search(text):
                wrong.append(f"{what}: {text!r}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_every_field_error_of_the_api_reads_in_russian(kind):
    error = {"type": kind, "input": "42", "ctx": dict.fromkeys(LIMIT_KEYS, 2)}
    with translation.override("ru"):
        text = field_error_message(error)
    assert CYRILLIC_WORD.search(text) and not english_in(text, set()), (kind, text)


def test_an_unknown_field_error_still_reads_in_russian():
    with translation.override("ru"):
        assert field_error_message({"type": "no_such_kind"}) == "Введите правильное значение."


def test_a_field_error_counts_what_it_was_given():
    error = {"type": "string_too_long", "input": "x" * 120, "ctx": {"max_length": 100}}
    with translation.override("ru"):
        assert "не более 100 символов (сейчас 120)" in field_error_message(error)
    with translation.override("en"):
        assert field_error_message(error) == (
            "Ensure this value has at most 100 characters (it has 120)."
        )
