"""Webhook endpoints over the JSON API (owners only: MANAGE_WEBHOOKS), through the Webhooks
pages' form, FilterSets and services (events/webhooks.py).

- Endpoints: list (WebhookEndpointFilterSet: `q` in the URL, `is_active`), read, add, change
  the fields sent, delete (with its delivery log). Turning one off is a change of
  `is_active`, as on its page; its open deliveries fail with it.
- The signing secret is write-only, as on the page: the add answers it once (the one sent, or
  one made when none is sent) and no other answer ever holds it; a change with a `secret`
  replaces it. The add takes an Idempotency-Key like every create: the kept answer holds the
  secret encrypted, as the endpoint does.
- The URL goes through the outbound address policy when it is saved: a refused address is a
  422 naming `url` with the reason.
- Deliveries: an endpoint's delivery log, newest first (WebhookDeliveryFilterSet: `status`),
  and Redeliver, which sends a delivery's event again as a new delivery with an id of its own.
"""

import secrets
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema, Status

from core.api import (
    Answer,
    SortKey,
    chosen_fields,
    form_problem,
    page_body,
    sort_pair,
    sorted_page,
    valid_filters,
)
from tenancy.api import api_actor, api_operation
from tenancy.roles import Capability

from .types import EVENT_TYPES
from .webhook_filters import WebhookDeliveryFilterSet, WebhookEndpointFilterSet
from .webhook_forms import WebhookEndpointForm
from .webhook_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_redeliver,
)

router = Router()

PAGE_DEFAULT = 20
PAGE_MAX = 100
ObjectId = Annotated[int, Path(ge=1, le=2**63 - 1)]
EVENT_TYPE_NAMES = ", ".join(EVENT_TYPES)
GENERATED_SECRET_BYTES = 32  # 43 URL-safe characters


# -- endpoints ---------------------------------------------------------------------------------
ENDPOINT_FIELDS = (
    "id",
    "url",
    "description",
    "event_types",
    "is_active",
    "active_since",
    "failing_since",
    "disabled_at",
    "disabled_reason",
    "created_at",
    "updated_at",
)
ENDPOINT_SORTS = {**sort_pair("created_at"), **sort_pair("url")}
EndpointSort = Literal["-created_at", "created_at", "url", "-url"]


class WebhookEndpointOut(Answer):
    """A webhook endpoint, without its secret; with `?fields=` only the fields asked for."""

    id: int | None = None
    url: str | None = None
    description: str | None = None
    event_types: list[str] | None = Field(None, description="The event types it receives.")
    is_active: bool | None = Field(None, description="Whether events are sent to it.")
    active_since: datetime | None = Field(
        None, description="Events written before this moment are not sent to it."
    )
    failing_since: datetime | None = Field(
        None, description="The first failure since the last delivered event, if failing."
    )
    disabled_at: datetime | None = Field(
        None, description="When Clientdesk turned it off after a day of failures."
    )
    disabled_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class WebhookEndpointCreated(WebhookEndpointOut):
    secret: str = Field(
        description="The signing secret (X-Clientdesk-Signature), shown in this answer only."
    )


class WebhookEndpointPage(Answer):
    items: list[WebhookEndpointOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class WebhookEndpointListQuery(Schema):
    q: str | None = Field(None, max_length=100, description="Part of the URL.")
    is_active: bool | None = Field(None, description="Active or turned off.")
    sort: EndpointSort = "-created_at"
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000, description="E.g. id,url,is_active.")


EventTypeName = Annotated[str, Field(max_length=100)]


class WebhookEndpointIn(Schema):
    """The endpoint form's fields."""

    url: str = Field(
        max_length=10000,
        description="An http:// or https:// URL the outbound address policy allows.",
    )
    description: str = Field("", max_length=10000, description="At most 200 characters.")
    secret: str | None = Field(
        None,
        max_length=10000,
        description="16 to 200 characters without spaces; one is made when none is sent.",
    )
    event_types: list[EventTypeName] = Field(
        max_length=200, description=f"At least one of: {EVENT_TYPE_NAMES}."
    )
    is_active: bool = True


class WebhookEndpointPatch(Schema):
    """The fields to change; those not sent keep their stored values."""

    url: str | None = Field(None, max_length=10000, description="As on add.")
    description: str | None = Field(None, max_length=10000)
    secret: str | None = Field(None, max_length=10000, description="A new signing secret.")
    event_types: list[EventTypeName] | None = Field(None, max_length=200)
    is_active: bool | None = Field(None, description="False turns it off.")


def endpoint_queryset(request):
    return WebhookEndpoint.objects.for_tenant(request.tenant)


def endpoint_row(endpoint: WebhookEndpoint, fields=ENDPOINT_FIELDS) -> dict:
    """The endpoint's fields; why it was disabled in the caller's language (a stored message)."""
    values = {"disabled_reason": str(endpoint.disabled_reason)}
    return {name: values[name] if name in values else getattr(endpoint, name) for name in fields}


def _endpoint(request, endpoint_id: int) -> WebhookEndpoint:
    return get_object_or_404(endpoint_queryset(request).select_related("tenant"), pk=endpoint_id)


def _endpoint_form(data: dict, endpoint: WebhookEndpoint | None) -> WebhookEndpointForm:
    """The page's form over `data`, refused as a 422 with the form's messages."""
    form = WebhookEndpointForm(data, endpoint=endpoint)
    if not form.is_valid():
        raise form_problem(form)
    return form


@api_operation(
    router,
    "GET",
    "",
    capability=Capability.MANAGE_WEBHOOKS,
    response=WebhookEndpointPage,
    exclude_unset=True,
)
def webhook_endpoint_list(request, query: Query[WebhookEndpointListQuery]):
    """The tenant's webhook endpoints, filtered as on the Webhooks page."""
    filterset = valid_filters(
        WebhookEndpointFilterSet(request.GET, queryset=endpoint_queryset(request), request=request)
    )
    fields = chosen_fields(query.fields, ENDPOINT_FIELDS)
    return sorted_page(
        filterset.qs,
        query,
        sorts=ENDPOINT_SORTS,
        row=lambda endpoint: endpoint_row(endpoint, fields),
    )


@api_operation(
    router,
    "GET",
    "{endpoint_id}/",
    capability=Capability.MANAGE_WEBHOOKS,
    response=WebhookEndpointOut,
    exclude_unset=True,
)
def webhook_endpoint_read(
    request, endpoint_id: ObjectId, fields: str | None = Query(None, max_length=1000)
):
    """One endpoint with its state (failing since, disabled and why); never its secret."""
    endpoint = get_object_or_404(endpoint_queryset(request), pk=endpoint_id)
    return endpoint_row(endpoint, chosen_fields(fields, ENDPOINT_FIELDS))


@api_operation(
    router,
    "POST",
    "",
    capability=Capability.MANAGE_WEBHOOKS,
    idempotent=True,
    sealed=("secret",),
    response={201: WebhookEndpointCreated},
)
def webhook_endpoint_add(request, payload: WebhookEndpointIn):
    """Register an endpoint; it receives the chosen events written from now on. The answer
    holds the signing secret, which no later answer shows."""
    data = payload.model_dump()
    if data["secret"] is None:
        data["secret"] = secrets.token_urlsafe(GENERATED_SECRET_BYTES)
    form = _endpoint_form(data, endpoint=None)
    service_data = form.service_data()
    endpoint = webhook_endpoint_create(
        tenant=request.tenant, actor=api_actor(request), **service_data
    )
    return Status(
        201, WebhookEndpointCreated(**endpoint_row(endpoint), secret=service_data["secret"])
    )


@api_operation(
    router,
    "PATCH",
    "{endpoint_id}/",
    capability=Capability.MANAGE_WEBHOOKS,
    response=WebhookEndpointOut,
)
def webhook_endpoint_change(request, endpoint_id: ObjectId, payload: WebhookEndpointPatch):
    """Change the fields sent. Turning an endpoint on again sends events from then on and
    clears why it was disabled; turning it off fails its open deliveries."""
    endpoint = _endpoint(request, endpoint_id)
    data = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
        "secret": "",
    }
    data.update({k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None})
    form = _endpoint_form(data, endpoint=endpoint)
    changed = webhook_endpoint_update(
        endpoint=endpoint, actor=api_actor(request), **form.service_data()
    )
    return WebhookEndpointOut(**endpoint_row(changed))


@api_operation(
    router,
    "DELETE",
    "{endpoint_id}/",
    capability=Capability.MANAGE_WEBHOOKS,
    response={204: None},
)
def webhook_endpoint_remove(request, endpoint_id: ObjectId):
    """Delete an endpoint with its delivery log (to keep it, turn it off instead)."""
    webhook_endpoint_delete(endpoint=_endpoint(request, endpoint_id), actor=api_actor(request))
    return Status(204, None)


# -- deliveries --------------------------------------------------------------------------------
DELIVERY_KEYS = (SortKey("created_at", True), SortKey("id", True))  # the log's index
DELIVERY_SORT = "-created_at"


class WebhookDeliveryOut(Answer):
    """One event sent (or to be sent) to an endpoint, with its last try."""

    id: int
    delivery_id: UUID = Field(description="X-Clientdesk-Delivery: the same on every try.")
    event: int = Field(description="The event's id.")
    event_type: str
    redelivery_of: int | None = Field(None, description="The first delivery, for a redelivery.")
    status: DeliveryStatus
    attempts: int = Field(description="Tries so far.")
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    response_code: int | None = Field(None, description="The receiver's HTTP status.")
    duration_ms: int | None = None
    response_excerpt: str = Field(description="The start of the receiver's answer.")
    error: str = Field(description="Why the last try failed.")
    created_at: datetime
    finished_at: datetime | None = None


class WebhookDeliveryPage(Answer):
    items: list[WebhookDeliveryOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class WebhookDeliveryListQuery(Schema):
    status: DeliveryStatus | None = None
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)


def delivery_out(delivery: WebhookDelivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=delivery.pk,
        delivery_id=delivery.delivery_id,
        event=delivery.event_id,
        event_type=delivery.event.type,
        redelivery_of=delivery.redelivery_of_id,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_attempt_at=delivery.last_attempt_at,
        response_code=delivery.response_code,
        duration_ms=delivery.duration_ms,
        response_excerpt=delivery.response_excerpt,
        error=str(delivery.error),
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
    )


def delivery_queryset(request, endpoint: WebhookEndpoint):
    return (
        WebhookDelivery.objects.for_tenant(request.tenant)
        .filter(endpoint=endpoint)
        .select_related("event")
    )


@api_operation(
    router,
    "GET",
    "{endpoint_id}/deliveries/",
    capability=Capability.MANAGE_WEBHOOKS,
    response=WebhookDeliveryPage,
)
def webhook_delivery_list(request, endpoint_id: ObjectId, query: Query[WebhookDeliveryListQuery]):
    """The endpoint's delivery log, newest first, as on its page."""
    endpoint = _endpoint(request, endpoint_id)
    filterset = valid_filters(
        WebhookDeliveryFilterSet(
            request.GET, queryset=delivery_queryset(request, endpoint), request=request
        )
    )
    return page_body(filterset.qs, query, keys=DELIVERY_KEYS, sort=DELIVERY_SORT, row=delivery_out)


@api_operation(
    router,
    "POST",
    "{endpoint_id}/deliveries/{delivery_id}/redeliver/",
    capability=Capability.MANAGE_WEBHOOKS,
    idempotent=True,
    response={201: WebhookDeliveryOut},
)
def webhook_delivery_redeliver(request, endpoint_id: ObjectId, delivery_id: ObjectId):
    """Send a delivery's event again, at once, as a new delivery with an id of its own."""
    endpoint = _endpoint(request, endpoint_id)
    delivery = get_object_or_404(
        delivery_queryset(request, endpoint).select_related("endpoint"), pk=delivery_id
    )
    again = webhook_redeliver(delivery=delivery, actor=api_actor(request))
    again.event = delivery.event
    return Status(201, delivery_out(again))
