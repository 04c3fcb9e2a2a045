"""QuickSelect writes the HTML of Django's own Select: choices, groups, the selected one,
attributes, escaping, model choices."""

import pytest
from django import forms

from core.widgets import QuickSelect

CHOICES = [
    ("", "Any event"),
    ("client.updated", "Client <edited> & saved"),
    ("Money", [("ledger.entry_posted", "Ledger entry"), ("credit", 'Credit "limit"')]),
    (7, "A number"),
]


def both(value, attrs=None, choices=CHOICES):
    theirs = forms.Select(attrs=attrs, choices=choices).render("type", value, {"id": "id_type"})
    ours = QuickSelect(attrs=attrs, choices=choices).render("type", value, {"id": "id_type"})
    return ours, theirs


@pytest.mark.parametrize("value", [None, "", "client.updated", "credit", 7, "unknown"])
def test_the_html_is_djangos(value):
    ours, theirs = both(value, attrs={"class": "form-select form-control-sm", "required": True})
    assert ours == theirs
    assert "&lt;edited&gt; &amp; saved" in ours


def test_false_attributes_are_left_out_as_django_leaves_them():
    ours, theirs = both("credit", attrs={"disabled": False, "data-x": "1"})
    assert ours == theirs and "disabled" not in ours


@pytest.mark.django_db
def test_model_choices_are_written_alike(tenant, owner):
    field = forms.ModelChoiceField(queryset=type(owner.user).objects.all(), empty_label="Anyone")
    theirs = forms.Select(choices=field.choices).render("actor", owner.user.pk)
    ours = QuickSelect(choices=field.choices).render("actor", owner.user.pk)
    assert ours == theirs and "selected" in ours
