"""Holds over the JSON API: the holds in force across the tenant, a client's holds (its
history), and the administrative hold placed and released with a reason, through the client
page's reason form and the same services.

A financial hold is the system's: the financial-hold job sets it when funds stay below zero,
and money coming in lifts it. The API, like the page, refuses to place or release one (a 422
naming `kind`); top up or raise the credit limit instead. A script that places the same hold
twice gets the first answer with its Idempotency-Key, else a 422 saying the client is already
on hold.
"""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from clients.api import ClientNumber, client_or_404
from core.api import (
    Answer,
    Problem,
    SortKey,
    chosen_fields,
    form_problem,
    page_body,
)
from core.stored_text import StoredText
from tenancy.api import api_actor, api_operation
from tenancy.roles import Capability

from .forms import HoldReasonForm
from .models import ClientHold, HoldKind
from .services import client_place_hold, client_release_hold, operator_reason

router = Router()

PAGE_DEFAULT = 20
PAGE_MAX = 100
NEWEST_FIRST = (SortKey("set_at", True), SortKey("id", True))
HOLD_FIELDS = (
    "id",
    "client",
    "kind",
    "reason",
    "in_force",
    "set_at",
    "set_by",
    "lifted_at",
    "lifted_by",
    "lift_reason",
)


class HoldOut(Answer):
    """A hold; with `?fields=` only the fields asked for are present."""

    id: int | None = None
    client: int | None = Field(None, description="The client's ID (its number).")
    kind: HoldKind | None = None
    reason: str | None = None
    in_force: bool | None = Field(None, description="Not lifted yet.")
    set_at: datetime | None = None
    set_by: str | None = Field(None, description="The operator, or the job that set it.")
    lifted_at: datetime | None = None
    lifted_by: str | None = Field(None, description="The operator, or the job; null in force.")
    lift_reason: str | None = None


class HoldPage(Answer):
    items: list[HoldOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class HoldPageQuery(Schema):
    kind: HoldKind | None = None
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000, description="E.g. client,kind,reason.")


class HoldsInForceQuery(HoldPageQuery):
    client: int | None = Field(None, ge=1, le=2**63 - 1, description="A client's ID.")


class ClientHoldsQuery(HoldPageQuery):
    in_force: bool | None = Field(None, description="Only those in force (true) or lifted.")


class HoldIn(Schema):
    reason: str = Field(max_length=10000, description="Required; at most 500 characters.")
    kind: HoldKind = Field(
        HoldKind.ADMINISTRATIVE, description="Only administrative: financial holds are the job's."
    )


def hold_row(hold: ClientHold, fields=HOLD_FIELDS) -> dict:
    """A hold as the API answers it, its reasons rendered in the request's language."""
    values = {
        "client": hold.client.number,
        "reason": str(hold.reason),
        "lift_reason": str(hold.lift_reason),
        "in_force": hold.in_force,
        "set_by": hold.set_by_label,
        "lifted_by": hold.lifted_by_label or None,
    }
    return {name: values[name] if name in values else getattr(hold, name) for name in fields}


def hold_queryset(request):
    return ClientHold.objects.for_tenant(request.tenant).select_related(
        "client", "set_by", "lifted_by"
    )


def _hold_page(queryset, query: HoldPageQuery) -> dict:
    fields = chosen_fields(query.fields, HOLD_FIELDS)
    if query.kind is not None:
        queryset = queryset.filter(kind=query.kind)
    return page_body(
        queryset, query, keys=NEWEST_FIRST, sort="-set_at", row=lambda hold: hold_row(hold, fields)
    )


@api_operation(
    router, "GET", "holds/", capability=Capability.VIEW, response=HoldPage, exclude_unset=True
)
def holds_in_force(request, query: Query[HoldsInForceQuery]):
    """The holds in force across the tenant, the newest first."""
    queryset = hold_queryset(request).filter(lifted_at__isnull=True)
    if query.client is not None:
        queryset = queryset.filter(client__number=query.client)
    return _hold_page(queryset, query)


@api_operation(
    router,
    "GET",
    "clients/{number}/holds/",
    capability=Capability.VIEW,
    response=HoldPage,
    exclude_unset=True,
)
def client_holds(request, number: ClientNumber, query: Query[ClientHoldsQuery]):
    """A client's holds, in force and lifted, the newest first."""
    queryset = hold_queryset(request).filter(client=client_or_404(request, number))
    if query.in_force is not None:
        queryset = queryset.filter(lifted_at__isnull=query.in_force)
    return _hold_page(queryset, query)


def _administrative_reason(payload: HoldIn) -> StoredText:
    """The cleaned reason of an administrative hold, the caller's own words; a financial one
    is refused."""
    if payload.kind != HoldKind.ADMINISTRATIVE:
        raise Problem(
            422,
            _("Invalid request"),
            _("Financial holds are set and lifted by the system."),
            [
                {
                    "field": "kind",
                    "message": _(
                        "A financial hold is lifted when money comes in: top up or "
                        "raise the credit limit."
                    ),
                }
            ],
        )
    form = HoldReasonForm({"reason": payload.reason})
    if not form.is_valid():
        raise form_problem(form)
    return operator_reason(form.cleaned_data["reason"])


@api_operation(
    router,
    "POST",
    "clients/{number}/holds/",
    capability=Capability.MANAGE_HOLDS,
    idempotent=True,
    response={201: HoldOut},
)
def client_hold_place(request, number: ClientNumber, payload: HoldIn):
    """Put the client on administrative hold: its active subscriptions are suspended and its
    access cut until the hold is released."""
    client = client_or_404(request, number)
    hold = client_place_hold(
        tenant=request.tenant,
        client=client,
        kind=HoldKind.ADMINISTRATIVE,
        reason=_administrative_reason(payload),
        actor=api_actor(request),
    )
    hold.client = client
    return Status(201, HoldOut(**hold_row(hold)))


@api_operation(
    router,
    "POST",
    "clients/{number}/holds/release/",
    capability=Capability.MANAGE_HOLDS,
    response={200: HoldOut},
)
def client_hold_release(request, number: ClientNumber, payload: HoldIn):
    """Lift the client's administrative hold, with a reason; with no other hold in force its
    subscriptions resume and its access returns."""
    client = client_or_404(request, number)
    hold = client_release_hold(
        tenant=request.tenant,
        client=client,
        kind=HoldKind.ADMINISTRATIVE,
        reason=_administrative_reason(payload),
        actor=api_actor(request),
    )
    hold.client = client
    return Status(200, HoldOut(**hold_row(hold)))
