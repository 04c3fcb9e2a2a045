"""Clients over the JSON API: list, read, create and update, through the portal's FilterSet,
form and services.

- The list takes the client list's parameters (ClientFilterSet: `q`, `status`, `group`,
  `property_type`, `created_after` / `created_before`, `purchased_after` / `purchased_before`,
  `sort`, and the filters other apps contribute through clients.extensions, e.g.
  subscriptions' `expiring` and routers' `connection`), but a bad value is a 422 naming the
  parameter rather than a filter left out with a message. The contributed filters are
  documented in the schema from the same registry the FilterSet reads (each with its
  `x-modules`: a tenant without them has no such filter, and its parameter is ignored, as on
  the page). Pages are cursors over the sort's
  index (no count); `?fields=` chooses the fields of each item.
- Create and update go through ClientForm, so that the API refuses exactly what the form
  refuses, with the same messages; an update sends only the fields it changes (the others are
  the stored values, kept even where today's rules would refuse them).
- A reseller's customers are created by ordering a subscription, as in the portal.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from core.api import (
    Answer,
    Problem,
    Scalar,
    SortKey,
    answered_as_built,
    check_sort,
    chosen_fields,
    filter_parameters,
    form_problem,
    names_filters,
    page_body,
    valid_filters,
)
from tenancy.api import api_actor, api_operation
from tenancy.modules import adds_clients_directly
from tenancy.roles import Capability

from .extensions import LIST_FILTERS
from .filters import ClientFilterSet, sort_choices_for
from .forms import ClientForm
from .models import Client, ClientStatus
from .modules import default_sort_for
from .services import client_create, client_update

router = Router()

# A client's number in a path: its per-tenant ID (a PositiveBigIntegerField).
ClientNumber = Annotated[int, Path(ge=1, le=2**63 - 1, description="The client's ID.")]

PAGE_DEFAULT = 20
PAGE_MAX = 100

# The fields of a client as the API shows them, in this order: the client form's own, with the
# number, the status and the creation time that the form does not edit.
_EDITED = tuple(ClientForm.Meta.fields)
CLIENT_FIELDS = ("number", *_EDITED[:2], "status", *_EDITED[2:], "created_at")
# Columns read for each field ("group" is the client type's id).
COLUMNS = {name: ("group_id" if name == "group" else name) for name in CLIENT_FIELDS}

# The list's sorts (those of ClientFilterSet, each served by an index) as keyset orders.
SORT_KEYS = {
    "number": (SortKey("number"), SortKey("id")),
    "-number": (SortKey("number", True), SortKey("id", True)),
    "name": (SortKey("name_lower"), SortKey("id")),
    "-name": (SortKey("name_lower", True), SortKey("id", True)),
    "created_at": (SortKey("created_at"), SortKey("id")),
    "-created_at": (SortKey("created_at", True), SortKey("id", True)),
    "last_purchase_at": (SortKey("last_purchase_at", nullable=True), SortKey("id")),
    "-last_purchase_at": (SortKey("last_purchase_at", True, nullable=True), SortKey("id", True)),
}


class ClientOut(Answer):
    """A client; with `?fields=` only the fields asked for are present."""

    number: int | None = None
    name: str | None = None
    company: str | None = None
    status: ClientStatus | None = None
    login: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    country: str | None = None
    itn: str | None = None
    group: int | None = Field(None, description="The client type's id.")
    property_type: str | None = None
    activity_type: str | None = None
    region: str | None = None
    site: str | None = None
    postal_address: str | None = None
    accounting_email: str | None = None
    external_tenant_name: str | None = None
    channel: str | None = None
    referer: str | None = None
    registered_on: date | None = None
    last_login_at: datetime | None = None
    failed_login_attempts: int | None = None
    activation_required: bool | None = None
    sms_price: Decimal | None = None
    sms_subscription: bool | None = None
    last_purchase_at: datetime | None = None
    created_at: datetime | None = None


ANSWERED = frozenset(ClientOut.model_fields)


class ClientPage(Answer):
    items: list[ClientOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class ClientListQuery(Schema):
    q: str | None = Field(None, max_length=1000, description="As the list's search box.")
    status: list[ClientStatus] | None = Field(None, description="Deleted only when named.")
    group: int | None = Field(None, description="A client type's id.")
    property_type: str | None = Field(None, max_length=20)
    created_after: date | None = None
    created_before: date | None = None
    purchased_after: date | None = None
    purchased_before: date | None = None
    sort: str | None = Field(None, max_length=40, description="E.g. -created_at, name, number.")
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000, description="E.g. number,name,status.")


class ClientIn(Schema):
    """The fields of the client form; those of modules the tenant does not use are ignored."""

    name: str = Field(max_length=1000)
    company: str = Field("", max_length=1000)
    login: str = Field("", max_length=1000, description="Phone number; saved in E.164.")
    email: str = Field("", max_length=1000)
    phone: str = Field("", max_length=1000)
    address: str = Field("", max_length=1000)
    contact_name: str = Field("", max_length=1000)
    contact_email: str = Field("", max_length=1000)
    country: str = Field("", max_length=1000, description="Two-letter ISO code.")
    itn: str = Field("", max_length=1000)
    group: int | None = Field(None, description="A client type's id.")
    property_type: str = Field("", max_length=1000)
    activity_type: str = Field("", max_length=1000)
    region: str = Field("", max_length=1000)
    site: str = Field("", max_length=1000)
    postal_address: str = Field("", max_length=1000)
    accounting_email: str = Field("", max_length=1000)
    external_tenant_name: str = Field("", max_length=1000)
    channel: str = Field("", max_length=1000)
    referer: str = Field("", max_length=1000)
    registered_on: str | None = Field(None, max_length=100, description="YYYY-MM-DD.")
    last_login_at: str | None = Field(None, max_length=100, description="YYYY-MM-DDTHH:MM.")
    failed_login_attempts: str | int | None = Field(None)
    activation_required: bool = False
    sms_price: Scalar = Field(None, description="Up to 4 decimal places.")
    sms_subscription: bool = False
    last_purchase_at: str | None = Field(None, max_length=100, description="YYYY-MM-DDTHH:MM.")


class ClientPatch(ClientIn):
    name: str | None = Field(None, max_length=1000)


def client_row(values: dict, fields: list[str]) -> dict:
    """The chosen fields only: the answer leaves out what was not asked for."""
    return {name: values[COLUMNS[name]] for name in fields}


def client_queryset(request):
    return Client.objects.for_tenant(request.tenant)


def client_or_404(request, number: int, *related: str) -> Client:
    """The tenant's client of this number (with `related` selected), else a 404: the one way
    every app's operations under /clients/{number}/ find their client."""
    queryset = client_queryset(request).select_related("tenant", *related)
    return get_object_or_404(queryset, number=number)


def contributed_filter_parameters() -> list[dict]:
    """The query parameters of the filters other apps add to the client list, read from the
    registry ClientFilterSet takes them from, when the schema is made."""
    return [
        parameter
        for entry in LIST_FILTERS.all()
        for parameter in filter_parameters(entry.name, entry.filter, modules=entry.modules)
    ]


def filtered_clients(request) -> tuple:
    """(the clients the list's filters select, the sort they name or None). A request naming
    no filter takes the unfiltered rows without a FilterSet, whose making copies each of its
    filters (a tenth of the server's CPU on a page of 100 clients)."""
    if not names_filters(request.GET):
        return ClientFilterSet.unfiltered(client_queryset(request)), None
    filterset = valid_filters(
        ClientFilterSet(request.GET, queryset=client_queryset(request), request=request)
    )
    return filterset.qs, filterset.cleaned.get("sort")


@api_operation(
    router,
    "GET",
    "",
    capability=Capability.VIEW,
    response=ClientPage,
    exclude_unset=True,
    query_parameters=contributed_filter_parameters,
)
def client_list(request, filters: Query[ClientListQuery]):
    """Clients, filtered, searched and sorted as on the client list."""
    queryset, sort = filtered_clients(request)
    # Only what ClientOut declares, as when ninja validated the page (the form's `language`
    # has no place in the answer's schema).
    fields = [name for name in chosen_fields(filters.fields, CLIENT_FIELDS) if name in ANSWERED]
    check_sort(filters.sort, [value for value, _label in sort_choices_for(request.tenant)])
    sort = sort or default_sort_for(request.tenant)
    keys = SORT_KEYS[sort]
    if sort.lstrip("-") == "name":
        queryset = queryset.annotate(name_lower=Lower("name"))
    # The shown columns first, in the fields' order, then the sort's keys (read by name for
    # the cursor): a row's answer is its first len(fields) values under the fields' names.
    shown = [COLUMNS[name] for name in fields]
    columns = shown + [key.name for key in keys if key.name not in shown]
    body = page_body(
        queryset.values_list(*columns, named=True),
        filters,
        keys=keys,
        sort=sort,
        row=lambda row: dict(zip(fields, row, strict=False)),
    )
    return answered_as_built(body)  # database values of ClientOut's own types


@api_operation(
    router,
    "GET",
    "{number}/",
    capability=Capability.VIEW,
    response=ClientOut,
    exclude_unset=True,
)
def client_read(request, number: ClientNumber, fields: str | None = Query(None, max_length=1000)):
    values = get_object_or_404(client_queryset(request).values(*COLUMNS.values()), number=number)
    return client_row(values, chosen_fields(fields, CLIENT_FIELDS))


def _form_data(payload: Schema, *, instance: Client, tenant) -> dict:
    """Form data: the stored values (a new client's defaults), then what the request sends."""
    shown = ClientForm(tenant=tenant, instance=instance)
    data = {name: shown[name].initial for name in shown.fields}
    data.update(payload.model_dump(exclude_unset=True))
    return {name: ("" if value is None else value) for name, value in data.items()}


def _valid_form(form: ClientForm) -> ClientForm:
    if not form.is_valid():
        raise form_problem(form)
    return form


@api_operation(
    router,
    "POST",
    "",
    capability=Capability.MANAGE_CLIENTS,
    idempotent=True,
    response={201: ClientOut},
)
def client_add(request, payload: ClientIn):
    """Create an Active client with the tenant's next number."""
    if not adds_clients_directly(request.tenant):
        raise Problem(
            422,
            _("Invalid request"),
            _("A reseller's customers are added by ordering a subscription."),
        )
    data = _form_data(payload, instance=Client(tenant=request.tenant), tenant=request.tenant)
    form = _valid_form(ClientForm(data, tenant=request.tenant))
    client = client_create(tenant=request.tenant, actor=api_actor(request), **form.service_data())
    return Status(201, client_out(client))


@api_operation(
    router, "PATCH", "{number}/", capability=Capability.MANAGE_CLIENTS, response=ClientOut
)
def client_change(request, number: ClientNumber, payload: ClientPatch):
    """Change the fields sent; the others keep their stored values."""
    client = client_or_404(request, number)
    if client.is_deleted:
        raise Problem(422, _("Invalid request"), _("A deleted client cannot be edited."))
    instance = client_queryset(request).get(pk=client.pk)  # the form writes onto its instance
    data = _form_data(payload, instance=instance, tenant=request.tenant)
    form = _valid_form(ClientForm(data, tenant=request.tenant, instance=instance))
    client = client_update(client=client, actor=api_actor(request), **form.service_data())
    return client_out(client)


def client_out(client: Client) -> ClientOut:
    return ClientOut(**{name: getattr(client, COLUMNS[name]) for name in CLIENT_FIELDS})
