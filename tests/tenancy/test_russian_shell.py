"""The portal's shell in Russian: the row count's plural forms, flash messages, form and
validation errors, the API's problem details and the date format names an operator reads."""

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from access.services import _wait_text
from core.dates import date_message
from core.formatting import formats_of
from core.numbers import parse_decimal, parse_integer
from tests.factories import MembershipFactory
from tests.helpers import russian_plurals

pytestmark = pytest.mark.django_db

ROWS = Template(
    "{% with rows=n|count %}{% blocktranslate count counter=n %}{{ rows }} row"
    "{% plural %}{{ rows }} rows{% endblocktranslate %}{% endwith %}"
)


@pytest.mark.parametrize(
    ("n", "russian"),
    [*russian_plurals(("{n} строка", "{n} строки", "{n} строк")), (1234, "1\xa0234 строки")],
)
def test_the_row_count_takes_the_plural_form_of_its_number(n, russian):
    with translation.override("ru"):
        assert ROWS.render(Context({"n": n})) == russian
    with translation.override("en"):
        assert ROWS.render(Context({"n": n})) == ("1 row" if n == 1 else f"{n:,} rows")


@pytest.mark.parametrize(
    ("seconds", "russian"), russian_plurals(("{n} секунду", "{n} секунды", "{n} секунд"))
)
def test_the_wait_after_wrong_codes_is_counted_in_russian(seconds, russian):
    from datetime import timedelta

    from django.utils import timezone

    info = {"locked_until": timezone.now() + timedelta(seconds=seconds - 0.5)}
    with translation.override("ru"):
        assert (
            _wait_text(info) == f"Слишком много неверных кодов: попробуйте снова через {russian}."
        )
    with translation.override("en"):
        assert _wait_text(info).endswith(f"{seconds} second{'s' if seconds > 1 else ''}.")


def test_pages_of_the_shell_read_in_russian(client, owner):
    page = client.get(reverse("tenancy:operator_list"), HTTP_ACCEPT_LANGUAGE="ru")
    text = page.content.decode()
    for russian in ("Операторы", "Добавить оператора", "Мой профиль", "Выйти", "Строк на странице"):
        assert russian in text
    assert "Клиенты" in text  # a section another app registers, marked where it is defined


def test_a_flash_message_and_a_form_error_in_russian(client, tenant, owner):
    page = client.post(
        reverse("tenancy:api_token_create"),
        {"name": "Gateway", "scope": "ingest", "expires_on": "2000-01-01"},
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert page.status_code == 400
    assert "Выберите сегодняшний или более поздний день." in page.content.decode()
    page = client.post(reverse("account"), {"email": "o@example.com"}, HTTP_ACCEPT_LANGUAGE="ru")
    page = client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="ru")
    assert "Ваши данные сохранены." in page.content.decode()


def test_the_operator_forms_refusals_in_russian(client, tenant, owner):
    other = MembershipFactory(tenant=tenant)
    page = client.post(
        reverse("tenancy:operator_edit", kwargs={"pk": owner.pk}),
        {"role": "viewer", "email": owner.user.email, "is_active": "on"},
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert "Нельзя менять свою роль или отключать себя." in page.content.decode()
    assert other.pk


def test_an_api_problem_speaks_the_callers_language(client, owner):
    url = "/api/v1/clients/?sort=nonsense"
    english = client.get(url).json()
    russian = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").json()
    assert (english["title"], english["detail"]) == ("Invalid request", "Some values were refused.")
    assert (russian["title"], russian["detail"]) == (
        "Недопустимый запрос",
        "Некоторые значения не приняты.",
    )
    assert russian["errors"][0]["message"].startswith("Допустимые значения: ")


def test_number_refusals_use_the_languages_separators():
    with translation.override("ru"), pytest.raises(ValidationError) as refused:
        parse_integer("99999999999", max_value=2_147_483_647)
    assert refused.value.messages == ["Введите целое число от 0 до 2\xa0147\xa0483\xa0647."]
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        parse_integer("99999999999", max_value=2_147_483_647)
    assert refused.value.messages == ["Enter a whole number from 0 to 2,147,483,647."]
    with translation.override("ru"), pytest.raises(ValidationError) as refused:
        parse_decimal("abc", max_value=1000, places=2)
    assert refused.value.messages == ["Введите число, например 150,00."]


class _Tenant:
    date_format = "d.m.Y"
    time_format = "H:i"
    currency = "RUB"


def test_the_date_format_name_reads_in_russian():
    with formats_of(_Tenant()), translation.override("ru"):
        assert date_message() == "Введите дату в формате ДД.ММ.ГГГГ, например 31.01.2026."
    with formats_of(_Tenant()), translation.override("en"):
        assert date_message() == "Enter a date as DD.MM.YYYY, e.g. 31.01.2026."
