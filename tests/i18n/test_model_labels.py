"""Every model of the project names itself, its fields and their choices in Russian.

Django shows a model's names in the admin, in form labels taken from the model, in validation
messages ("Client with this Login already exists.") and in exports. A name Django derives by
itself (a field without a verbose_name shows its attribute name, "credit limit"; a model without
Meta.verbose_name its class name, "ledger entry") is English in every language, and so is a plain
string ("help_text='API user.'"). So for each model of the project's apps, each of these must be
a lazy translation (gettext_lazy) that reads differently in Russian, or be one of the names that
Russian operators write as English does (KEPT):
- the model's verbose_name and verbose_name_plural, set in its Meta;
- each concrete field's verbose_name (but an automatic primary key's), and its help_text;
- each label of the field's choices (but the portal's languages, each named in itself).

Caught, for example: `login = models.CharField(max_length=64)` (no verbose_name: "login"),
`help_text="API user."` (not lazy), `verbose_name=_("balance")` with no Russian in the catalogue
(the same text in Russian), a TextChoices member without a label ("Active" from its name), a
Meta without verbose_name_plural (Django's "clients" from verbose_name + "s").
"""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

# Project apps: those whose code lives in this repository (not Django's or a library's).
PROJECT_APPS = [
    config
    for config in apps.get_app_configs()
    if str(config.path).startswith(str(settings.BASE_DIR)) and "/.venv/" not in str(config.path)
]
# Read the same in Russian: abbreviations and product names.
KEPT = {"IP", "URL", "API", "PPPoE", "SMS", "Viber", "MCC/MNC"}
# A choice of the portal's languages names each in itself (English, Русский), in every language,
# so that a reader finds their own (core.languages.language_choices).
LANGUAGE_NAMES = set(settings.LANGUAGES)


def project_models() -> list[type[models.Model]]:
    return [model for config in PROJECT_APPS for model in config.get_models()]


def labelled_fields(model: type[models.Model]) -> list[models.Field]:
    """The model's concrete fields, inherited and many-to-many ones too, but its automatic key."""
    return [
        field
        for field in model._meta.get_fields()
        if field.concrete and not field.auto_created and not isinstance(field, models.AutoField)
    ]


def problem(text) -> str | None:
    """Why `text` is not a name that reads in Russian, or None when it is."""
    if not isinstance(text, Promise):
        return "not marked for translation"
    with translation.override("en"):
        english = str(text)
    with translation.override("ru"):
        russian = str(text)
    if russian == english and english not in KEPT:
        return "no Russian translation"
    return None


def names_of(model: type[models.Model]):
    """(where, text) for each name of the model that a person reads."""
    meta = model._meta
    label = meta.label
    for option in ("verbose_name", "verbose_name_plural"):
        # Unset, Django derives it (from the class name; plural: verbose_name + "s").
        yield f"{label}.Meta.{option}", meta.original_attrs.get(option)
    for field in labelled_fields(model):
        where = f"{label}.{field.name}"
        yield f"{where}.verbose_name", field.verbose_name
        if field.help_text:
            yield f"{where}.help_text", field.help_text
        for value, choice in field.flatchoices or ():
            if (value, choice) in LANGUAGE_NAMES:
                continue
            yield f"{where}.choices[{value!r}]", choice


def test_the_walk_reads_the_project_apps():
    names = {config.label for config in PROJECT_APPS}
    expected = {"core", "tenancy", "events", "clients", "subscriptions", "billing", "holds"}
    assert expected | {"messaging", "routers", "exports", "access"} <= names
    assert not names & {"admin", "auth", "sessions", "otp_totp", "axes"}
    assert len(project_models()) >= 30


@pytest.mark.parametrize("model", project_models(), ids=lambda model: model._meta.label)
def test_model_names_read_in_russian(model):
    problems = [f"{where}: {why}" for where, text in names_of(model) if (why := problem(text))]
    assert not problems, "\n".join(problems)


def test_the_check_refuses_what_django_derives_and_plain_text():
    """The check itself: Django's derived names, a plain string and an untranslated text fail,
    a translated one and a kept abbreviation pass."""
    field = models.DecimalField(max_digits=12, decimal_places=2)
    field.set_attributes_from_name("credit_limit")  # as a model does: verbose_name "credit limit"

    assert problem(field.verbose_name) == "not marked for translation"
    assert problem(None) == "not marked for translation"  # no Meta.verbose_name
    assert problem(format_lazy("{}s", "client")) == "no Russian translation"  # derived plural
    assert problem("API user.") == "not marked for translation"
    assert problem(gettext_lazy("zzz no such message")) == "no Russian translation"
    assert problem(gettext_lazy("API")) is None
    assert problem(gettext_lazy("Clients")) is None
