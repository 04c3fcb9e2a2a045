"""Every date on a page goes through the tenant's formats: templates use the `day` / `moment` /
`clock` filters (never Django's `date` or `time` filter, which follow the server's locale) and no
native date input (which follows the browser's); forms use the shared date fields; tables the
shared date columns."""

import re
from pathlib import Path

from django import forms
from django.conf import settings
from django.urls import get_resolver

from core.dates import DateField, DateTimeField
from tests.security.test_numbers import project_forms

ROOT = Path(settings.BASE_DIR)
APPS = (
    "billing",
    "clients",
    "core",
    "exports",
    "holds",
    "messaging",
    "routers",
    "subscriptions",
    "tenancy",
)
DATE_FILTER = re.compile(r"\|\s*(date|time)\b(?!\w)")
NATIVE_DATE_INPUT = re.compile(r"""type\s*=\s*["']?(date|datetime-local)\b""", re.IGNORECASE)
# What only core/dates.py (the shared field) and core/formatting.py may spell out.
RAW_DATE_CODE = re.compile(
    r"forms\.(DateField|DateTimeField|DateInput|DateTimeInput)\(|"
    r"tables\.(DateColumn|DateTimeColumn)\(|"
    r"SHORT_DATE(TIME)?_FORMAT|strftime\(\"%Y-%m-%d"
)


def project_templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html"))
    for app in APPS:
        found += sorted((ROOT / app / "templates").rglob("*.html"))
    return found


def project_sources() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        and path.relative_to(ROOT).as_posix() not in ("core/dates.py", "core/formatting.py")
    ]


def test_the_patterns_see_what_they_refuse():
    assert DATE_FILTER.search('{{ x.created_at|date:"Y-m-d" }}')
    assert DATE_FILTER.search("{{ x.at | time }}")
    assert not DATE_FILTER.search("{{ x.at|day }} {{ x.start_date|default:'' }}")
    assert NATIVE_DATE_INPUT.search('<input type="date" name="start">')
    assert RAW_DATE_CODE.search('start = forms.DateField(label="Start")')


def test_templates_use_the_tenants_date_filters_and_no_native_date_input():
    templates = project_templates()
    assert len(templates) > 20
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if DATE_FILTER.search(line) or NATIVE_DATE_INPUT.search(line)
    ]
    assert offending == []


def test_notification_defaults_use_the_tenants_date_filters():
    from holds.notifications import DEFAULTS

    texts = [text for pair in DEFAULTS.values() for text in pair]
    assert not [text for text in texts if DATE_FILTER.search(text)]


def test_forms_declare_only_the_shared_date_fields():
    assert get_resolver().url_patterns  # every view's module, and so every form, imported
    shared = [
        cls.__name__
        for cls in project_forms()
        if any(isinstance(f, DateField) for f in cls.base_fields.values())
    ]
    assert {"PeriodForm", "StatisticsExportForm", "ClientForm"} <= set(shared)
    declared = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in project_forms()
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.DateTimeField)
        and not isinstance(field, DateTimeField)
        or isinstance(field, forms.DateField)
        and not isinstance(field, DateField)
    ]
    assert declared == []


def test_filter_sets_use_the_shared_date_fields():
    from clients.filters import ClientFilterSet

    ranges = [f for f in ClientFilterSet.base_filters.values() if "Date" in type(f).__name__]
    assert ranges
    for date_filter in ranges:
        subfields = date_filter.field.fields
        assert all(isinstance(f, DateField) for f in subfields), date_filter.field_name


def test_no_code_builds_a_date_field_widget_or_column_of_its_own():
    """Fields added in a form's __init__ escape the walk above: the sources are read too."""
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in project_sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if RAW_DATE_CODE.search(line)
    ]
    assert offending == []
