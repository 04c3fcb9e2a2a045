"""The language of a page, of the API, of e-mails and of background work (README, "Languages").

Pages: the operator's own choice, else the tenant's, else the browser's. The API:
Accept-Language, else the tenant's, else English. An e-mail to a client: the client's language,
else the tenant's. A job: the language of whoever started it, although the worker runs without
a request. Texts of Django's own catalogue ("Yes" is "Да") show the language without depending
on the portal's catalogue."""

import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from billing import services as billing_services
from core.formatting import format_amount
from core.languages import in_language_of
from core.tasks import work_language
from events import webhooks
from exports import services as export_services
from exports.models import ExportJob
from exports.tasks import export_job_run
from holds.notifications import render_notification
from tenancy.middleware import operator_language
from tenancy.models import OperatorProfile, Tenant
from tenancy.services import api_token_create
from tests.factories import ClientFactory, MembershipFactory, TenantFactory, make_account
from tests.helpers import field_errors

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def set_language(membership, language: str) -> None:
    OperatorProfile.objects.update_or_create(user=membership.user, defaults={"language": language})


# -- pages: operator > tenant > browser ----------------------------------------------------------
def test_the_browser_decides_while_nobody_chose(client, owner):
    page = client.get(reverse("account"), **RU)
    assert page.status_code == 200
    assert html_lang(page) == "ru" and page["Content-Language"] == "ru"
    assert "Accept-Language" in page["Vary"]
    assert html_lang(client.get(reverse("account"), **EN)) == "en"


def test_the_tenant_language_comes_before_the_browser(client, tenant, owner):
    Tenant.objects.filter(pk=tenant.pk).update(language="ru")
    page = client.get(reverse("home"), follow=True, **EN)
    assert html_lang(page) == "ru" and page["Content-Language"] == "ru"
    assert "Cookie" in page["Vary"]


def test_the_operator_language_comes_before_the_tenant(client, tenant, owner):
    Tenant.objects.filter(pk=tenant.pk).update(language="ru")
    set_language(owner, "en")
    page = client.get(reverse("account"), **RU)
    assert html_lang(page) == "en" and page["Content-Language"] == "en"
    assert page.wsgi_request.LANGUAGE_CODE == "en"


def test_the_operator_language_follows_them_into_every_tenant(client, tenant, other_tenant, owner):
    MembershipFactory(tenant=other_tenant, user=owner.user, role="viewer")
    set_language(owner, "ru")
    assert html_lang(client.get(reverse("account"), **EN)) == "ru"
    client.post(reverse("tenancy:tenant_switch"), {"tenant": other_tenant.pk})
    assert html_lang(client.get(reverse("account"), **EN)) == "ru"


# -- the switcher ------------------------------------------------------------------------------
def test_the_user_menu_offers_each_language_named_in_itself(client, owner):
    page = client.get(reverse("account"), **EN).content.decode()
    switcher = page.split('data-testid="language-switcher"')[1].split("</li>")[0]
    assert f'action="{reverse("account_language")}"' in switcher
    assert 'name="next" value="/account/"' in switcher
    assert re.search(r'data-testid="language-en"[^>]*>English<', switcher)
    assert re.search(r'data-testid="language-ru"[^>]*>Русский<', switcher)


def test_switching_saves_sets_the_cookie_and_goes_back(client, owner):
    answer = client.post(reverse("account_language"), {"language": "ru", "next": "/clients/"}, **EN)
    assert answer.status_code == 302 and answer["Location"] == "/clients/"
    assert answer.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    assert OperatorProfile.objects.get(user=owner.user).language == "ru"
    assert html_lang(client.get(reverse("account"), **EN)) == "ru"


def test_the_choice_is_remembered_across_logout_and_login(client, owner):
    client.post(reverse("account_language"), {"language": "ru", "next": "/"}, **EN)
    client.post(reverse("logout"))
    login_page = client.get(reverse("login"), **EN)  # the language cookie stays
    assert html_lang(login_page) == "ru"
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    client.force_login(owner.user)  # another browser, say: the profile decides
    page = client.get(reverse("account"), **EN)
    assert html_lang(page) == "ru"
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"  # and it remembers it
    assert settings.LANGUAGE_COOKIE_NAME not in client.get(reverse("account"), **EN).cookies


def test_next_elsewhere_is_not_followed(client, owner):
    answer = client.post(
        reverse("account_language"), {"language": "ru", "next": "https://evil.example/"}
    )
    assert answer.status_code == 302 and answer["Location"] == reverse("account")


def test_a_language_not_offered_is_refused_next_to_the_field(client, owner):
    answer = client.post(reverse("account_language"), {"language": "de", "next": "/"}, **EN)
    assert answer.status_code == 400 and field_errors(answer, "language")
    assert not OperatorProfile.objects.filter(user=owner.user).exists()
    assert settings.LANGUAGE_COOKIE_NAME not in answer.cookies
    page = client.get(reverse("account_language"), **EN)
    assert page.status_code == 200 and html_lang(page) == "en"


def test_my_account_chooses_the_language_too(client, owner):
    user = owner.user
    data = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email}
    refused = client.post(reverse("account"), {**data, "language": "xx"}, **EN)
    assert refused.status_code == 400 and field_errors(refused, "language")
    saved = client.post(reverse("account"), {**data, "language": "ru"}, **EN)
    assert saved.status_code == 302
    assert saved.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    assert OperatorProfile.objects.get(user=user).language == "ru"
    back = client.post(reverse("account"), {**data, "language": ""}, **EN)  # the browser's
    assert back.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""
    assert html_lang(client.get(reverse("account"), **EN)) == "en"


def test_error_and_login_pages_carry_the_language(client, owner):
    assert html_lang(client.get("/clients/999999999/", **RU)) == "ru"
    client.logout()
    assert html_lang(client.get(reverse("login"), **RU)) == "ru"


# -- the JavaScript catalogue ----------------------------------------------------------------
def test_the_javascript_catalogue_serves_russian_before_the_script(client, owner):
    page = client.get(reverse("account"), **RU).content.decode()
    catalogue = re.search(r'<script src="(/jsi18n/[^"]+)"', page).group(1)
    assert catalogue.startswith("/jsi18n/ru/")
    assert page.index(f'src="{catalogue}"') < page.index("js/clientdesk.js")
    client.logout()  # the login page needs it too
    script = client.get(catalogue)
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert catalogue_entries(script)["%(percent)s done"] == "выполнено %(percent)s"


def catalogue_entries(script) -> dict:
    """The script's translations (none written out when the language needs none)."""
    found = re.search(r"const newcatalog = (\{.*?\});", script.content.decode(), re.S)
    return json.loads(found.group(1)) if found else {}


def test_the_javascript_catalogue_is_kept_by_browsers_until_a_new_translation(client, owner):
    english = re.search(
        r'<script src="(/jsi18n/[^"]+)"', client.get(reverse("account")).content.decode()
    )
    script = client.get(english.group(1), **RU)  # the address, not the browser, says English
    assert english.group(1).startswith("/jsi18n/en/")
    assert catalogue_entries(script) == {}
    assert "max-age=31536000" in script["Cache-Control"] and "immutable" in script["Cache-Control"]
    version = english.group(1).split("/")[3]
    assert client.get(f"/jsi18n/de/{version}/").status_code == 404


# -- the API ---------------------------------------------------------------------------------
@pytest.fixture
def bearer(tenant):
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="t", scope="owner").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def refused_email(client, bearer, **headers) -> tuple[str, str]:
    answer = client.post(
        "/api/v1/clients/",
        {"name": "Nina", "email": "not-an-address"},
        content_type="application/json",
        **bearer,
        **headers,
    )
    assert answer.status_code == 422, answer.content
    messages = [e["message"] for e in answer.json()["errors"] if e["field"] == "email"]
    return messages[0], answer["Content-Language"]


def test_the_api_answers_a_problem_in_the_language_asked(client, tenant, bearer):
    message, language = refused_email(client, bearer, **RU)
    assert language == "ru" and "электронной почты" in message
    message, language = refused_email(client, bearer)  # nothing asked: English
    assert language == "en" and "email address" in message


def test_the_api_speaks_the_tenant_language_when_nothing_is_asked(client, tenant, bearer):
    Tenant.objects.filter(pk=tenant.pk).update(language="ru")
    message, language = refused_email(client, bearer)
    assert language == "ru" and "электронной почты" in message
    assert refused_email(client, bearer, **EN)[1] == "en"


# -- e-mails to clients ----------------------------------------------------------------------
NOTICE = {"probe": ("{% translate 'Yes' %}", "{{ amount|money }}")}


def rendered(customer, tenant):
    return render_notification(
        NOTICE, "probe", tenant=tenant, client=customer, hold=None, subscription=None
    )


def test_a_notice_is_in_the_client_language_else_the_tenant_else_english(tenant):
    russian = ClientFactory(tenant=tenant, language="ru")
    plain = ClientFactory(tenant=tenant)
    with translation.override("en"):  # whoever triggers it reads English
        assert rendered(russian, tenant)[0] == "Да"
        assert rendered(plain, tenant)[0] == "Yes"
        tenant.language = "ru"
        assert rendered(plain, tenant)[0] == "Да"
        english = ClientFactory(tenant=tenant, language="en")
        assert rendered(english, tenant)[0] == "Yes"


def test_a_notice_uses_the_tenant_formats(tenant):
    tenant.currency, tenant.date_format = "RUB", "d.m.Y"
    customer = ClientFactory(tenant=tenant, language="ru")
    with in_language_of(customer, tenant):
        assert format_amount(Decimal("1234.56")) == "1\N{NO-BREAK SPACE}234,56\N{NO-BREAK SPACE}₽"
        assert translation.get_language() == "ru"
    assert translation.get_language() != "ru"


def test_the_credit_limit_notice_is_built_in_the_client_language(tenant, monkeypatch):
    seen = []
    monkeypatch.setattr(
        billing_services,
        "credit_notice_email",
        lambda **_: seen.append((translation.get_language(), format_amount(Decimal("1")))),
    )
    tenant.currency = "RUB"
    tenant.save()
    customer = ClientFactory(tenant=tenant, language="ru", email="nina@example.com")
    account = make_account(customer, balance="0")
    with translation.override("en"), scopes_disabled():
        billing_services.account_set_credit_limit(account=account, credit_limit="100", notify=True)
    assert seen == [("ru", "1,00\N{NO-BREAK SPACE}₽")]


def test_owners_hear_of_a_disabled_endpoint_each_in_their_language(tenant, monkeypatch):
    russian = MembershipFactory(tenant=tenant, role="owner")
    set_language(russian, "ru")
    english = MembershipFactory(tenant=tenant, role="owner")
    seen = {}
    monkeypatch.setattr(
        webhooks,
        "_tell_owners_in",
        lambda tenant, endpoint, reason, now, recipients, suffix: seen.update(
            {translation.get_language(): (recipients, suffix)}
        ),
    )
    with translation.override("en"):
        webhooks._tell_owners(tenant, None, "Too many failures.", None)
    assert seen == {
        "ru": ([russian.user.email], ":ru"),
        "en": ([english.user.email], ":en"),
    }


# -- background work ---------------------------------------------------------------------------
def test_an_export_started_in_russian_is_written_in_russian(tenant, owner, monkeypatch):
    customer = ClientFactory(tenant=tenant)
    with translation.override("ru"), scopes_disabled():  # the operator's request
        job = ExportJob.objects.create(
            tenant=tenant, created_by=owner.user, kind="clients", title="t"
        )
    assert job.language == "ru"
    seen = []

    def execute(*, job):
        seen.append((translation.get_language(), translation.gettext("Yes")))
        return job

    monkeypatch.setattr(export_services, "export_job_execute", execute)
    with translation.override("en"):  # a worker: no request, whatever it was started with
        export_job_run.run(job.pk, tenant_id=tenant.pk)
        assert translation.get_language() == "en"
    assert seen == [("ru", "Да")]
    assert customer.pk


def test_work_of_no_operator_speaks_the_tenant_language():
    tenant = TenantFactory(language="ru")
    assert work_language(tenant, tenant) == "ru"
    assert work_language(tenant, TenantFactory()) == "en"
    with translation.override("ru"):
        job = ExportJob(tenant=tenant, kind="clients")
    assert work_language(job, TenantFactory()) == "ru"


def test_a_view_that_took_the_user_away_leaves_the_language_alone(rf):
    request = rf.get("/api/v1/clients/")
    request.user = None  # what Django REST framework leaves after a token without a user
    assert operator_language(request) == ""
