"""`to_money`'s refusals are lazy: raised while one language is active (a worker's English),
they read in the language active when they are shown, the limit in that language's digit
grouping, whether rendered as the error's messages, its text, a form's error or a stored
message."""

import pytest
from django import forms
from django.utils import translation

from billing.models import MONEY_LIMIT
from billing.services import AmountOutOfRange, to_money
from core.formatting import money
from core.stored_text import validation_message


def raised_in_english(value) -> AmountOutOfRange:
    with translation.override("en"), pytest.raises(AmountOutOfRange) as raised:
        to_money(value)
    return raised.value


def limit_in(language: str) -> str:
    with translation.override(language):
        return money(MONEY_LIMIT)


def test_the_limit_reads_in_the_language_active_when_shown():
    error = raised_in_english("1e20")
    with translation.override("ru"):
        assert error.messages == [f"Сумма должна быть не больше {limit_in('ru')}."]
        assert "Сумма должна быть не больше" in str(error)
    with translation.override("en"):
        assert error.messages == [f"The amount must be at most {limit_in('en')}."]
    assert limit_in("ru") != limit_in("en")  # 9 999 999 999,99 against 9,999,999,999.99


def test_an_invalid_amount_reads_in_the_readers_language():
    error = raised_in_english("twelve")
    with translation.override("ru"):
        assert error.messages == ["Введите правильную сумму."]
    with translation.override("en"):
        assert error.messages == ["Enter a valid amount."]


def test_a_form_error_and_a_stored_message_follow_the_reader():
    error = raised_in_english("1e20")
    form = forms.Form()
    form.cleaned_data = {}
    form.add_error(None, error)
    stored = validation_message(error)
    with translation.override("ru"):
        assert form.non_field_errors() == [f"Сумма должна быть не больше {limit_in('ru')}."]
        assert str(stored) == f"Сумма должна быть не больше {limit_in('ru')}."
    with translation.override("en"):
        assert str(stored) == f"The amount must be at most {limit_in('en')}."
