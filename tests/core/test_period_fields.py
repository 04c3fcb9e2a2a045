"""The period and date fields of every tab read the tenant's date format (and ISO), and refuse
another with a message naming the tenant's format."""

from datetime import date

import pytest
from django.http import QueryDict

from billing.forms import PeriodForm
from clients.filters import ClientFilterSet
from clients.models import Client
from core.formatting import formats_of
from messaging.forms import StatisticsExportForm, StatisticsPeriodForm

pytestmark = pytest.mark.django_db

DMY_MESSAGE = "Enter a date as DD.MM.YYYY, e.g. 31.01.2026."


@pytest.fixture
def dmy_tenant(tenant):
    tenant.date_format = "d.m.Y"
    tenant.save(update_fields=["date_format"])
    with formats_of(tenant):
        yield tenant


@pytest.mark.parametrize("form_class", [PeriodForm, StatisticsPeriodForm])
def test_a_period_reads_the_tenants_format(dmy_tenant, form_class):
    form = form_class({"start": "15.10.2026", "end": "31102026"}, tenant=dmy_tenant)
    assert form.is_valid(), form.errors
    assert (form.period.start, form.period.end) == (date(2026, 10, 15), date(2026, 10, 31))
    iso = form_class({"start": "2026-10-15", "end": "2026-10-31"}, tenant=dmy_tenant)
    assert iso.is_valid() and iso.period == form.period


@pytest.mark.parametrize("form_class", [PeriodForm, StatisticsPeriodForm])
def test_a_period_in_another_format_is_refused_naming_the_tenants(dmy_tenant, form_class):
    form = form_class({"start": "10/15/2026", "end": "31.10.2026"}, tenant=dmy_tenant)
    assert not form.is_valid()
    assert form.errors["start"] == [DMY_MESSAGE]
    assert form.period == form.default  # a bad period changes nothing


def test_an_unbound_period_shows_the_default_in_the_tenants_format(dmy_tenant):
    form = PeriodForm(None, tenant=dmy_tenant)
    html = str(form["start"])
    assert f'value="{form.default.start:%d.%m.%Y}"' in html
    assert 'placeholder="DD.MM.YYYY"' in html


def test_the_statistics_export_reads_the_tenants_format(dmy_tenant):
    data = {"start": "01.10.2026", "end": "15.10.2026", "reports": ["day"], "columns": ["sent"]}
    assert StatisticsExportForm(data).is_valid()
    refused = StatisticsExportForm({**data, "end": "2026/10/15"})
    assert refused.errors["end"] == [DMY_MESSAGE]


def test_the_subscription_start_date_reads_the_tenants_format(dmy_tenant):
    from subscriptions.forms import SubscriptionForm

    form = SubscriptionForm({"sub-start_date": "10/15/2026"}, tenant=dmy_tenant)
    form.is_valid()
    assert form.errors["start_date"] == [DMY_MESSAGE]
    form = SubscriptionForm({"sub-start_date": "15.10.2026"}, tenant=dmy_tenant)
    form.is_valid()
    assert "start_date" not in form.errors or "Enter a date as" not in str(
        form.errors["start_date"]
    )


def test_the_client_list_ranges_read_the_tenants_format(dmy_tenant, rf):
    request = rf.get("/")
    request.tenant = dmy_tenant
    data = QueryDict("created_after=01.10.2026&created_before=15102026&purchased_after=10/01/2026")
    filterset = ClientFilterSet(data, queryset=Client.objects.none(), request=request)
    form = filterset.form
    assert not form.is_valid()
    assert form.errors["purchased"] == [DMY_MESSAGE]
    created = form.cleaned_data["created"]
    assert (created.start.date(), created.stop.date()) == (date(2026, 10, 1), date(2026, 10, 15))
