"""Packages and subscriptions over the JSON API, through the portal's FilterSets, forms and
services.

- Packages: the Packages page's list (PackageFilterSet: `q`, `status`, `period_unit`; its
  sorts) and one package; add and change (the fields sent) through PackageForm and
  `package_create` / `package_update`, retire (off sale: it cannot be bought, its
  subscriptions run on) and put back on sale, as the package's page does. A package is never
  deleted (its subscriptions keep it), on the page as here. Adding takes an Idempotency-Key,
  as every create does.
- Subscriptions: every period of the tenant's clients, or of one client (the client page's
  Subscriptions tab), filtered by SubscriptionFilterSet (`status` with Expiring derived from
  the tenant's window, `package`) and, on the tenant's list, by `client`; one subscription.
- Purchase (a client's new subscription) goes through SubscriptionForm and
  `subscription_create`, as Create subscription does; its Idempotency-Key, hashed with the
  caller, is also the purchase's ledger key, so even a retry that outlived the API's record of
  its first answer charges once. Without the header every purchase is new (the form's token).
- Cancel (with the refund of the unused days when asked) and auto-renew on or off go through
  CancelForm and the same services as the subscription's page; a cancellation moves money, so
  it takes an Idempotency-Key too. Ordering for a new client (Order subscription) stays a page.

Another tenant's package, subscription or client is a 404; a tenant that sells no
subscriptions (messaging only) gets a 404 on every operation, as on its pages.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from billing.services import InsufficientFunds
from clients.api import ClientNumber, client_or_404
from core.api import (
    Answer,
    Number,
    Problem,
    chosen_fields,
    form_problem,
    sort_pair,
    sorted_page,
    valid_filters,
)
from tenancy.api import api_actor, api_operation, idempotency_digest
from tenancy.modules import SUBSCRIPTIONS
from tenancy.roles import Capability

from . import services
from .filters import PackageFilterSet, SubscriptionFilterSet
from .forms import CancelForm, PackageForm, SubscriptionForm
from .models import LIVE_STATUSES, DisplayStatus, Package, PeriodUnit, Subscription, tenant_today

router = Router()

PAGE_DEFAULT = 20
PAGE_MAX = 100
ObjectId = Annotated[int, Path(ge=1, le=2**63 - 1)]


# -- packages --------------------------------------------------------------------------------
PACKAGE_FIELDS = (
    "id",
    "name",
    "price",
    "period_count",
    "period_unit",
    "description",
    "rate_limit",
    "pppoe_profile",
    "is_active",
    "live_subscriptions",
    "created_at",
)
PACKAGE_SORTS = {**sort_pair("name"), **sort_pair("price"), **sort_pair("created_at")}
PackageSort = Literal["name", "-name", "price", "-price", "created_at", "-created_at"]


class PackageOut(Answer):
    """A package; with `?fields=` only the fields asked for are present."""

    id: int | None = None
    name: str | None = None
    price: Decimal | None = None
    period_count: int | None = None
    period_unit: PeriodUnit | None = None
    description: str | None = None
    rate_limit: str | None = None
    pppoe_profile: str | None = None
    is_active: bool | None = Field(None, description="On sale; a retired package is not.")
    live_subscriptions: int | None = Field(None, description="Active and suspended ones.")
    created_at: datetime | None = None


class PackagePage(Answer):
    items: list[PackageOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class PackageListQuery(Schema):
    q: str | None = Field(None, max_length=100, description="Name, PPPoE profile, description.")
    status: Literal["active", "retired"] | None = Field(None, description="On sale or retired.")
    period_unit: PeriodUnit | None = None
    sort: PackageSort = "name"
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000, description="E.g. id,name,price.")


def package_queryset(request):
    """The tenant's packages with their live subscriptions counted, as the page shows."""
    return Package.objects.for_tenant(request.tenant).annotate(
        live_subscriptions=Count("subscriptions", filter=Q(subscriptions__status__in=LIVE_STATUSES))
    )


def package_row(package: Package, fields) -> dict:
    return {name: getattr(package, name) for name in fields}


@api_operation(
    router,
    "GET",
    "packages/",
    capability=Capability.VIEW,
    modules=SUBSCRIPTIONS,
    response=PackagePage,
    exclude_unset=True,
)
def package_list(request, query: Query[PackageListQuery]):
    """Packages, searched and filtered as on the Packages page."""
    filterset = valid_filters(
        PackageFilterSet(request.GET, queryset=package_queryset(request), request=request)
    )
    fields = chosen_fields(query.fields, PACKAGE_FIELDS)
    return sorted_page(
        filterset.qs, query, sorts=PACKAGE_SORTS, row=lambda package: package_row(package, fields)
    )


@api_operation(
    router,
    "GET",
    "packages/{package_id}/",
    capability=Capability.VIEW,
    modules=SUBSCRIPTIONS,
    response=PackageOut,
    exclude_unset=True,
)
def package_read(request, package_id: ObjectId, fields: str | None = Query(None, max_length=1000)):
    package = get_object_or_404(package_queryset(request), pk=package_id)
    return package_row(package, chosen_fields(fields, PACKAGE_FIELDS))


class PackageIn(Schema):
    """The package form's fields."""

    name: str = Field(max_length=1000, description="Unique among the packages on sale.")
    price: Number = Field(description="For one period, in the tenant's currency; 0 allowed.")
    period_count: Number = Field(1, description="1 to 3650 (at most 120 months).")
    period_unit: str = Field(PeriodUnit.MONTHS, max_length=100, description="days or months.")
    description: str = Field("", max_length=10000)
    rate_limit: str = Field("", max_length=1000, description="MikroTik rx/tx, e.g. 20M/100M.")
    pppoe_profile: str = Field("", max_length=1000, description="The /ppp/profile name.")


class PackagePatch(Schema):
    """The fields to change; those not sent keep their stored values."""

    name: str | None = Field(None, max_length=1000)
    price: Number | None = Field(None, description="Applies to purchases from now on.")
    period_count: Number | None = None
    period_unit: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=10000)
    rate_limit: str | None = Field(None, max_length=1000)
    pppoe_profile: str | None = Field(None, max_length=1000)


def _package_form(payload: Schema, *, tenant, instance: Package) -> PackageForm:
    """The package form over the stored values (a new package's defaults) and what the
    request sends; refused as a 422 with the form's messages."""
    shown = PackageForm(tenant=tenant, instance=instance)
    data = {name: shown[name].initial for name in shown.fields}
    sent = payload.model_dump(exclude_unset=True)
    data.update({name: value for name, value in sent.items() if value is not None})
    form = PackageForm(
        {name: "" if value is None else value for name, value in data.items()},
        tenant=tenant,
        instance=instance,
    )
    if not form.is_valid():
        raise form_problem(form)
    return form


def _package_out(request, package: Package) -> PackageOut:
    """The package as it is now, with its live subscriptions counted."""
    return PackageOut(**package_row(package_queryset(request).get(pk=package.pk), PACKAGE_FIELDS))


def _package(request, package_id: int) -> Package:
    packages = Package.objects.for_tenant(request.tenant).select_related("tenant")
    return get_object_or_404(packages, pk=package_id)


@api_operation(
    router,
    "POST",
    "packages/",
    capability=Capability.MANAGE_SUBSCRIPTIONS,
    modules=SUBSCRIPTIONS,
    idempotent=True,
    response={201: PackageOut},
)
def package_add(request, payload: PackageIn):
    """Add a package on sale, as Add package on the Packages page."""
    form = _package_form(payload, tenant=request.tenant, instance=Package(tenant=request.tenant))
    package = services.package_create(
        tenant=request.tenant, actor=api_actor(request), **form.service_data()
    )
    return Status(201, _package_out(request, package))


@api_operation(
    router,
    "PATCH",
    "packages/{package_id}/",
    capability=Capability.MANAGE_SUBSCRIPTIONS,
    modules=SUBSCRIPTIONS,
    response=PackageOut,
)
def package_change(request, package_id: ObjectId, payload: PackagePatch):
    """Change the fields sent; a new price applies to purchases from now on (subscriptions
    keep what they paid)."""
    package = _package(request, package_id)
    form = _package_form(payload, tenant=request.tenant, instance=_package(request, package_id))
    changed = services.package_update(
        package=package, actor=api_actor(request), **form.service_data()
    )
    return _package_out(request, changed)


@api_operation(
    router,
    "POST",
    "packages/{package_id}/retire/",
    capability=Capability.MANAGE_SUBSCRIPTIONS,
    modules=SUBSCRIPTIONS,
    response=PackageOut,
)
def package_retire(request, package_id: ObjectId):
    """Take a package off sale: it can no longer be bought; its subscriptions keep running.
    A retired package again changes nothing."""
    package = services.package_retire(
        package=_package(request, package_id), actor=api_actor(request)
    )
    return _package_out(request, package)


@api_operation(
    router,
    "POST",
    "packages/{package_id}/reactivate/",
    capability=Capability.MANAGE_SUBSCRIPTIONS,
    modules=SUBSCRIPTIONS,
    response=PackageOut,
)
def package_reactivate(request, package_id: ObjectId):
    """Put a retired package on sale again; refused at `name` when a package on sale has its
    name."""
    package = services.package_reactivate(
        package=_package(request, package_id), actor=api_actor(request)
    )
    return _package_out(request, package)


# -- subscriptions ---------------------------------------------------------------------------
SUBSCRIPTION_FIELDS = (
    "id",
    "client",
    "package",
    "package_name",
    "status",
    "display_status",
    "start_date",
    "end_date",
    "auto_renew",
    "amount_paid",
    "refunded_amount",
    "renewal_of",
    "created_at",
    "cancelled_at",
    "cancel_reason",
)
SUBSCRIPTION_SORTS = {**sort_pair("start_date"), **sort_pair("end_date")}
SubscriptionSort = Literal["-start_date", "start_date", "end_date", "-end_date"]
StatusFilter = Literal["active", "expiring", "suspended", "cancelled", "expired"]


class SubscriptionOut(Answer):
    """A subscription period; with `?fields=` only the fields asked for are present."""

    id: int | None = None
    client: int | None = Field(None, description="The client's ID (its number).")
    package: int | None = Field(None, description="The package's id.")
    package_name: str | None = None
    status: str | None = Field(None, description="Stored: active, suspended, cancelled, expired.")
    display_status: DisplayStatus | None = Field(
        None, description="As the pages show it: Expiring and Starts later derived from today."
    )
    start_date: date | None = None
    end_date: date | None = Field(None, description="The first day no longer covered.")
    auto_renew: bool | None = None
    amount_paid: Decimal | None = None
    refunded_amount: Decimal | None = None
    renewal_of: int | None = Field(None, description="The previous period's id, if renewed.")
    created_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None


class SubscriptionPage(Answer):
    items: list[SubscriptionOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class ClientSubscriptionQuery(Schema):
    status: StatusFilter | None = Field(None, description="Expiring: within the tenant's window.")
    package: int | None = Field(None, ge=1, le=2**63 - 1, description="A package's id.")
    sort: SubscriptionSort = "-start_date"
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000, description="E.g. id,status,end_date.")


class SubscriptionListQuery(ClientSubscriptionQuery):
    client: int | None = Field(None, ge=1, le=2**63 - 1, description="A client's ID.")


class PurchaseIn(Schema):
    package: int = Field(ge=1, le=2**63 - 1, description="The id of a package on sale.")
    start_date: str | None = Field(
        None, max_length=100, description="YYYY-MM-DD; the tenant's today by default."
    )
    auto_renew: bool = False


class CancelIn(Schema):
    reason: str = Field(max_length=10000, description="Required; at most 500 characters.")
    refund: bool = Field(False, description="Refund the unused days to the balance.")


class AutoRenewIn(Schema):
    auto_renew: bool


class SubscriptionView:
    """Turns subscriptions into answers as of the tenant's today (read once a request)."""

    def __init__(self, tenant, fields=SUBSCRIPTION_FIELDS):
        self.today = tenant_today(tenant)
        self.window = tenant.expiring_window_days
        self.fields = fields

    def row(self, subscription: Subscription) -> dict:
        values = {
            "client": subscription.client.number,
            "package": subscription.package_id,
            "package_name": subscription.package.name,
            "display_status": subscription.display_status(self.today, self.window),
            "renewal_of": subscription.renewal_of_id,
        }
        return {
            name: values[name] if name in values else getattr(subscription, name)
            for name in self.fields
        }

    def out(self, subscription: Subscription) -> SubscriptionOut:
        return SubscriptionOut(**self.row(subscription))


def subscription_queryset(request):
    return Subscription.objects.for_tenant(request.tenant).select_related("package", "client")


def _subscription_page(request, queryset, query: ClientSubscriptionQuery) -> dict:
    filterset = valid_filters(
        SubscriptionFilterSet(request.GET, queryset=queryset, request=request)
    )
    view = SubscriptionView(request.tenant, chosen_fields(query.fields, SUBSCRIPTION_FIELDS))
    return sorted_page(filterset.qs, query, sorts=SUBSCRIPTION_SORTS, row=view.row)


def _subscription(request, subscription_id: int) -> Subscription:
    return get_object_or_404(subscription_queryset(request), pk=subscription_id)


@api_operation(
    router,
    "GET",
    "subscriptions/",
    capability=Capability.VIEW,
    modules=SUBSCRIPTIONS,
    response=SubscriptionPage,
    exclude_unset=True,
)
def subscription_list(request, query: Query[SubscriptionListQuery]):
    """Every client's subscription periods, filtered as a client's Subscriptions tab."""
    queryset = subscription_queryset(request)
    if query.client is not None:
        queryset = queryset.filter(client__number=query.client)
    return _subscription_page(request, queryset, query)


@api_operation(
    router,
    "GET",
    "clients/{number}/subscriptions/",
    capability=Capability.VIEW,
    modules=SUBSCRIPTIONS,
    response=SubscriptionPage,
    exclude_unset=True,
)
def client_subscription_list(request, number: ClientNumber, query: Query[ClientSubscriptionQuery]):
    """A client's subscription periods (the Subscriptions tab), newest first by default."""
    client = client_or_404(request, number)
    return _subscription_page(request, subscription_queryset(request).filter(client=client), query)


@api_operation(
    router,
    "GET",
    "subscriptions/{subscription_id}/",
    capability=Capability.VIEW,
    modules=SUBSCRIPTIONS,
    response=SubscriptionOut,
    exclude_unset=True,
)
def subscription_read(
    request, subscription_id: ObjectId, fields: str | None = Query(None, max_length=1000)
):
    subscription = _subscription(request, subscription_id)
    return SubscriptionView(request.tenant, chosen_fields(fields, SUBSCRIPTION_FIELDS)).row(
        subscription
    )


@api_operation(
    router,
    "POST",
    "clients/{number}/subscriptions/",
    capability=Capability.MANAGE_SUBSCRIPTIONS,
    modules=SUBSCRIPTIONS,
    idempotent=True,
    response={201: SubscriptionOut},
)
def subscription_purchase(request, number: ClientNumber, payload: PurchaseIn):
    """Buy one period of a package for the client, charged to its balance (and credit); a
    client on hold gets it Suspended."""
    client = client_or_404(request, number)
    token = uuid.uuid4()
    form = SubscriptionForm(
        {
            "sub-package": str(payload.package),
            "sub-start_date": payload.start_date or tenant_today(request.tenant).isoformat(),
            "sub-auto_renew": "on" if payload.auto_renew else "",
            "sub-token": str(token),
        },
        tenant=request.tenant,
    )
    if not form.is_valid():
        raise form_problem(form)
    try:
        subscription = services.subscription_create(
            tenant=request.tenant,
            client=client,
            package=form.cleaned_data["package"],
            start_date=form.cleaned_data["start_date"],
            auto_renew=form.cleaned_data["auto_renew"],
            actor=api_actor(request),
            idempotency_key=services.purchase_key(idempotency_digest(request) or token),
        )
    except InsufficientFunds as error:
        raise Problem(
            422,
            _("Invalid request"),
            _("Some values were refused."),
            [{"field": "package", "message": message} for message in error.messages],
        ) from None
    subscription.client = client
    return Status(201, SubscriptionView(request.tenant).out(subscription))


@api_operation(
    router,
    "POST",
    "subscriptions/{subscription_id}/cancel/",
    capability=Capability.MANAGE_SUBSCRIPTIONS,
    modules=SUBSCRIPTIONS,
    idempotent=True,
    response={200: SubscriptionOut},
)
def subscription_cancel(request, subscription_id: ObjectId, payload: CancelIn):
    """Cancel an active or suspended subscription with a reason; with `refund`, the unused
    whole days go back to the balance (`refunded_amount`)."""
    subscription = _subscription(request, subscription_id)
    form = CancelForm(
        {"cancel-reason": payload.reason, "cancel-refund": "on" if payload.refund else ""}
    )
    if not form.is_valid():
        raise form_problem(form)
    cancelled = services.subscription_cancel(
        subscription=subscription,
        actor=api_actor(request),
        reason=form.cleaned_data["reason"],
        refund=form.cleaned_data["refund"],
    )
    return Status(200, SubscriptionView(request.tenant).out(cancelled))


@api_operation(
    router,
    "POST",
    "subscriptions/{subscription_id}/auto-renew/",
    capability=Capability.MANAGE_SUBSCRIPTIONS,
    modules=SUBSCRIPTIONS,
    response=SubscriptionOut,
)
def subscription_auto_renew(request, subscription_id: ObjectId, payload: AutoRenewIn):
    """Turn auto-renew on or off; the same value again changes nothing."""
    subscription = services.subscription_set_auto_renew(
        subscription=_subscription(request, subscription_id),
        actor=api_actor(request),
        auto_renew=payload.auto_renew,
    )
    return SubscriptionView(request.tenant).out(subscription)
