"""Stored messages (core/stored_text.py): written once, rendered in the language active when
they are read, with their parameters in the reader's formats; never raising at read time."""

import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone, translation
from django.utils.translation import pgettext_lazy

from clients.models import Client
from core.formatting import formats_of
from core.stored_text import (
    Capitalized,
    Money,
    StoredText,
    field_labels,
    label_text,
    literal_text,
    stored_gettext,
    stored_ngettext,
    stored_pgettext,
    validation_message,
)
from holds.models import HoldKind
from tests.helpers import russian_plurals

NBSP = "\N{NO-BREAK SPACE}"


def read(text: StoredText, language: str) -> str:
    """The text as a reader of `language` reads it, after a trip through its JSON column."""
    stored = StoredText.from_json(json.loads(json.dumps(text.to_json())))
    assert stored == text
    with translation.override(language):
        return str(stored)


def test_a_message_reads_in_the_readers_language_not_the_writers():
    with translation.override("ru"):
        text = stored_gettext("Client created")
    assert read(text, "en") == "Client created"
    assert read(text, "ru") == "Клиент создан"


@pytest.mark.parametrize(
    ("count", "russian"),
    russian_plurals(
        ("{n} подписка снова активна", "{n} подписки снова активны", "{n} подписок снова активны")
    ),
)
def test_plural_forms_are_chosen_when_read(count, russian):
    text = stored_ngettext(
        "%(count)s subscription active again", "%(count)s subscriptions active again", count
    )
    english = "subscription active again" if count == 1 else "subscriptions active again"
    assert read(text, "en") == f"{count} {english}"
    assert read(text, "ru") == russian


def test_money_reads_in_the_readers_separators_and_sign():
    text = stored_gettext("Funds back to %(amount)s", amount=Money(Decimal("1234.5"), "RUB"))
    assert read(text, "en") == "Funds back to 1,234.50 RUB"
    assert read(text, "ru") == f"Средства восстановлены до 1{NBSP}234,50{NBSP}₽"


def test_a_bare_amount_has_no_currency():
    text = stored_gettext(
        "Credit limit %(old)s → %(new)s",
        old=Money(Decimal("10"), show_currency=False),
        new=Money(Decimal("2500"), "EUR"),
    )
    assert read(text, "en") == "Credit limit 10.00 → 2,500.00 EUR"


def test_dates_read_in_the_tenants_formats_and_zone(tenant):
    tenant.date_format, tenant.time_format = "d.m.Y", "H:i"
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    text = stored_gettext(
        "Debt: available funds %(amount)s (below zero since %(since)s)",
        amount=Money(Decimal("-5"), "EUR"),
        since=moment,
    )
    with formats_of(tenant), timezone.override("Europe/Berlin"):
        assert read(text, "en") == (
            "Debt: available funds -5.00 EUR (below zero since 02.03.2026 00:30)"
        )
    tenant.date_format = "m/d/Y"
    with formats_of(tenant), timezone.override("UTC"):
        assert read(
            stored_pgettext(
                "period of days",
                "%(start)s – %(end)s",
                start=date(2026, 3, 1),
                end=date(2026, 3, 31),
            ),
            "en",
        ) == ("03/01/2026 – 03/31/2026")


def test_nested_labels_and_lists_of_field_labels_are_translated_when_read():
    placed = stored_gettext("%(hold)s set: %(reason)s", hold=HoldKind.FINANCIAL.label, reason="x")
    assert read(placed, "ru") == "Финансовая блокировка поставлена: x"
    edited = stored_gettext("Edited %(fields)s", fields=field_labels(Client, ["name", "phone"]))
    assert read(edited, "en") == "Edited name, phone"
    assert read(edited, "ru") == "Изменено: название, телефон"
    capital = stored_gettext(
        "%(field)s: %(old)s → %(new)s",
        field=Capitalized(field_labels(Client, ["phone"])[0]),
        old="1",
        new="2",
    )
    assert read(capital, "en") == "Phone: 1 → 2"


def test_literal_text_and_old_rows_read_as_they_are():
    assert read(literal_text("Top-up 5.00 EUR"), "ru") == "Top-up 5.00 EUR"
    old_row = StoredText.from_json("Client created")  # a row written before messages
    with translation.override("ru"):
        assert str(old_row) == "Client created"
    assert old_row.to_json() == "Client created"


def test_missing_or_extra_parameters_never_raise(caplog):
    missing = StoredText(msgid="Router %(name)s reachable again", params={})
    assert read(missing, "ru") == "Роутер %(name)s снова доступен"
    extra = stored_gettext("Client created", unused="x")
    assert read(extra, "ru") == "Клиент создан"
    wrong = StoredText(msgid="Funds back to %(amount)s", params={"other": "x"})
    with caplog.at_level(logging.WARNING, logger="core.stored_text"):
        assert read(wrong, "en") == "Funds back to %(amount)s"
    assert "does not take its parameters" in caplog.text


def test_a_stored_value_of_an_unknown_shape_reads_as_text():
    assert str(StoredText.from_json(["a", 1])) == "['a', 1]"
    assert str(StoredText.from_json(None)) == ""
    broken = StoredText.from_json(
        {"msgid": "Funds back to %(amount)s", "params": {"amount": {"money": "not a number"}}}
    )
    assert str(broken) == "Funds back to {'money': 'not a number'}"


def test_a_parameter_json_cannot_hold_is_refused_when_written():
    with pytest.raises(TypeError, match="object"):
        stored_gettext("Client created", what=object())


def test_empty_text_is_false_like_an_empty_string():
    assert not literal_text("") and not StoredText.from_json("")
    assert literal_text("x") and stored_gettext("Client created")


def test_a_form_message_is_stored_as_its_msgid_and_parameters():
    with translation.override("en"):
        form = forms.Form()
        form.fields["email"] = forms.EmailField(max_length=5)
        form.data, form.is_bound = {"email": "toolong"}, True
        form.full_clean()
        error = ValidationError(form.errors.as_data())
    text = validation_message(error)
    assert text.msgid == "Enter a valid email address." and not text.literal
    assert read(text, "ru") == "Введите правильный адрес электронной почты."


@pytest.mark.parametrize(
    ("count", "russian"),
    russian_plurals(
        (
            "Убедитесь, что это значение содержит не более {n} символ (сейчас 30).",
            "Убедитесь, что это значение содержит не более {n} символов (сейчас 30).",
            "Убедитесь, что это значение содержит не более {n} символов (сейчас 30).",
        )
    ),
)
def test_a_plural_form_message_keeps_its_count(count, russian):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        MaxLengthValidator(count)("x" * 30)  # Django's message: ngettext_lazy, by limit_value
    text = validation_message(ValidationError({"name": refused.value}))
    assert (text.count, text.params) == (count, {"limit_value": count, "show_value": 30})
    assert read(text, "ru") == russian
    assert read(text, "en").startswith(f"Ensure this value has at most {count} character")


def test_a_message_in_context_and_one_already_rendered():
    contextual = ValidationError(pgettext_lazy("subscription status", "Active"))
    assert validation_message(contextual).context == "subscription status"
    assert read(validation_message(contextual), "ru") == "Активна"
    with translation.override("ru"):
        rendered = ValidationError(translation.gettext("Client created"))
    assert validation_message(rendered) == literal_text("Клиент создан")


def test_a_label_is_stored_as_its_msgid():
    label = label_text(Client._meta.get_field("phone").verbose_name)
    assert label.msgid == "phone" and read(label, "ru") == "телефон"
    assert label_text("Opening balance") == literal_text("Opening balance")
