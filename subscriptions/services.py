"""Every write of packages and subscriptions; one function per use case, each in one
transaction. Money moves only through `billing.services` (charges and refunds on the ledger).

Locks. A purchase locks the client row first, then (through the ledger) the account row; a
deletion locks the client row too. So two purchases of one package for one client queue up and
the second sees the first (one subscription, one charge), and a client cannot be deleted while
a purchase is under way. The partial unique constraint `subscription_one_live_per_package`
backs this up.

Idempotency. A purchase carries the form's token as its ledger key ("sub-purchase:<token>"):
a repeated request returns the subscription the first one bought (`replayed` is True) and
charges nothing. A refund's key is "sub-refund:<subscription id>", so a period is refunded at
most once. Renewals use "sub-renewal:<previous subscription id>".

Refunds. Cancelling with a refund gives back the unused whole days of the period, pro rata by
days: today counts as used when the period has started; a period that has not started yet is
refunded in full. Rounded to cents, half up, never more than was paid.

A subscription's life after the purchase (the paid period, suspend and resume for holds,
renewal, expiry and the expiry job) is written in `subscriptions/lifecycle.py` and re-exported
here, so that this module stays the one place other apps import a subscription's rules from.
A purchase, a renewal, a cancellation and an expiry announce `subscriptions_changed` after the
commit (lifecycle.py); the holds app, which owns access, decides from it whether the client's
service is cut or restored.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import MONEY_QUANTUM, LedgerEntry
from billing.services import (
    account_for_client,
    account_refund,
    account_set_credit_limit,
    account_top_up,
    new_idempotency_key,
)
from clients.models import HOLD_STATUSES, Client, ClientStatus
from clients.services import client_create
from core.formatting import format_date
from core.stored_text import Money, StoredText, field_labels, stored_gettext, stored_ngettext
from events.services import event_record
from tenancy.models import Tenant

from .lifecycle import (
    EXPIRY_JOB,
    EXPIRY_RESULT_LABELS,
    clients_with_active_subscription,
    days_between,
    expiry_done,
    expiry_run,
    purchase_purpose,
    renewal_key,
    renewal_purpose,
    subscription_period_buy,
    subscription_renew,
    subscription_resume_all,
    subscription_suspend_all,
    subscriptions_changed,
    subscriptions_changed_announce,
    subscriptions_resume,
    subscriptions_suspend,
)
from .models import (
    LIVE_STATUSES,
    Package,
    Subscription,
    SubscriptionStatus,
    tenant_today,
)

__all__ = [  # the rules written in lifecycle.py, public from here
    "EXPIRY_JOB",
    "EXPIRY_RESULT_LABELS",
    "clients_with_active_subscription",
    "expiry_done",
    "expiry_run",
    "purchase_purpose",
    "renewal_key",
    "renewal_purpose",
    "subscription_period_buy",
    "subscription_renew",
    "subscription_resume_all",
    "subscription_suspend_all",
    "subscriptions_changed",
    "subscriptions_changed_announce",
    "subscriptions_resume",
    "subscriptions_suspend",
]

MAX_START_AHEAD_DAYS = 366
PACKAGE_FIELDS = (
    "name",
    "price",
    "period_count",
    "period_unit",
    "description",
    "rate_limit",
    "pppoe_profile",
)


# -- packages ------------------------------------------------------------------------------
def _check_package_name(package: Package) -> None:
    if not package.is_active:
        return
    clash = (
        Package.objects.for_tenant(package.tenant)
        .filter(is_active=True, name=package.name)
        .exclude(pk=package.pk)
        .exists()
    )
    if clash:
        raise ValidationError({"name": _("An active package with this name already exists.")})


def _save_package(package: Package) -> Package:
    package.full_clean(validate_constraints=False)
    _check_package_name(package)
    try:
        with transaction.atomic():
            package.save()
    except IntegrityError as exc:  # created concurrently under the same name
        raise ValidationError(
            {"name": _("An active package with this name already exists.")}
        ) from exc
    return package


def _record_package(package: Package, *, actor, type: str, changes: dict) -> None:  # noqa: A002
    """A package's event: created, or what changed (old and new values as text)."""
    if type == "package.created":
        description = stored_gettext(
            "Package %(name)s created at %(price)s",
            name=package.name,
            price=Money(package.price, package.tenant.currency),
        )
        payload = {"package": package.pk, "name": package.name, "price": str(package.price)}
    else:
        description = stored_gettext(
            "Package %(name)s changed: %(fields)s",
            name=package.name,
            fields=field_labels(Package, sorted(changes)),
        )
        payload = {"package": package.pk, "fields": sorted(changes), "changes": changes}
    event_record(
        tenant=package.tenant,
        type=type,
        object_type="package",
        object_id=package.pk,
        actor=actor,
        description=description,
        payload=payload,
    )


def _package_changes(package: Package, values: dict) -> dict:
    return {
        name: {"old": str(getattr(package, name)), "new": str(value)}
        for name, value in values.items()
        if getattr(package, name) != value
    }


@transaction.atomic
def package_create(*, tenant: Tenant, actor, **data) -> Package:
    unknown = set(data) - set(PACKAGE_FIELDS)
    if unknown:
        raise TypeError(f"package_create() does not take {', '.join(sorted(unknown))}")
    package = _save_package(Package(tenant=tenant, **data))
    _record_package(package, actor=actor, type="package.created", changes={})
    return package


@transaction.atomic
def package_update(*, package: Package, actor, **data) -> Package:
    """Change a package. A new price applies to purchases from now on; subscriptions keep the
    amount they paid."""
    unknown = set(data) - set(PACKAGE_FIELDS)
    if unknown:
        raise TypeError(f"package_update() does not take {', '.join(sorted(unknown))}")
    locked = Package.objects.for_tenant(package.tenant).select_for_update().get(pk=package.pk)
    changes = _package_changes(locked, data)
    for name, value in data.items():
        setattr(locked, name, value)
    _save_package(locked)
    if changes:
        _record_package(locked, actor=actor, type="package.updated", changes=changes)
    return locked


@transaction.atomic
def package_retire(*, package: Package, actor) -> Package:
    """Take a package off sale. Its subscriptions run on (and may still auto-renew: the
    client keeps what they have); it cannot be bought again."""
    locked = Package.objects.for_tenant(package.tenant).select_for_update().get(pk=package.pk)
    if locked.is_active:
        changes = _package_changes(locked, {"is_active": False})
        locked.is_active = False
        locked.retired_at = timezone.now()
        locked.save(update_fields=["is_active", "retired_at", "updated_at"])
        _record_package(locked, actor=actor, type="package.updated", changes=changes)
    return locked


@transaction.atomic
def package_reactivate(*, package: Package, actor) -> Package:
    locked = Package.objects.for_tenant(package.tenant).select_for_update().get(pk=package.pk)
    if not locked.is_active:
        changes = _package_changes(locked, {"is_active": True})
        locked.is_active = True
        locked.retired_at = None
        _check_package_name(locked)
        locked.save(update_fields=["is_active", "retired_at", "updated_at"])
        _record_package(locked, actor=actor, type="package.updated", changes=changes)
    return locked


# -- purchase ------------------------------------------------------------------------------
def purchase_key(token) -> str:
    return f"sub-purchase:{token}"


def _replayed_purchase(
    tenant: Tenant, key: str | None, *, client: Client | None, package: Package
) -> Subscription | None:
    """The subscription an earlier posting of this key bought, when this one asks for the
    same (a new client's order cannot be compared by client); a key already spent on another
    client or package is refused, never answered with that one's subscription."""
    if not key:
        return None
    entry = LedgerEntry.objects.for_tenant(tenant).filter(idempotency_key=key).first()
    if entry is None:
        return None
    subscription = (
        Subscription.objects.for_tenant(tenant)
        .select_related("package", "client")
        .filter(charge_entry=entry)
        .first()
    )
    if subscription is None or _asks_otherwise(subscription, client=client, package=package):
        raise ValidationError(
            _("This request was already used for another posting; reload the page and try again.")
        )
    subscription.replayed = True
    return subscription


def _asks_otherwise(subscription: Subscription, *, client: Client | None, package: Package) -> bool:
    if subscription.package_id != package.pk:
        return True
    return client is not None and subscription.client_id != client.pk


def _check_start_date(tenant: Tenant, start_date: date) -> None:
    today = tenant_today(tenant)
    if start_date < today:
        raise ValidationError(
            {
                "start_date": _("The start date cannot be in the past (today is %(today)s).")
                % {"today": format_date(today)}
            }
        )
    if start_date > today + timedelta(days=MAX_START_AHEAD_DAYS):
        raise ValidationError({"start_date": _("The start date can be at most a year ahead.")})


def _bought_description(
    name: str, price: Money, period: StoredText, *, auto_renew: bool, on_hold: bool
) -> StoredText:
    """A bought subscription's activity line."""
    values = {"name": name, "price": price, "period": period}
    if auto_renew and on_hold:
        return stored_gettext(
            "Subscription %(name)s bought for %(price)s, %(period)s, auto-renew on "
            "(suspended: the client is on hold)",
            **values,
        )
    if auto_renew:
        return stored_gettext(
            "Subscription %(name)s bought for %(price)s, %(period)s, auto-renew on", **values
        )
    if on_hold:
        return stored_gettext(
            "Subscription %(name)s bought for %(price)s, %(period)s "
            "(suspended: the client is on hold)",
            **values,
        )
    return stored_gettext("Subscription %(name)s bought for %(price)s, %(period)s", **values)


@transaction.atomic
def subscription_create(
    *,
    tenant: Tenant,
    client: Client,
    package: Package,
    start_date: date,
    auto_renew: bool = False,
    actor=None,
    idempotency_key: str | None = None,
) -> Subscription:
    """Buy one period of `package` for `client`, charging its price through the ledger in
    this transaction.

    Refused (ValidationError, nothing changed) when: the client is deleted; the package is
    retired or another tenant's; the start date is in the past or more than a year ahead;
    the client already has a live subscription of this package; funds are short
    (`billing.services.InsufficientFunds`, whose message names the available amount). A client
    on hold gets the subscription Suspended (it becomes Active when the hold is released).
    """
    if client.tenant_id != tenant.pk or package.tenant_id != tenant.pk:
        raise ValidationError({"package": _("Select a valid choice from your own organisation.")})
    replay = _replayed_purchase(tenant, idempotency_key, client=client, package=package)
    if replay is not None:
        return replay
    locked_client = Client.objects.for_tenant(tenant).select_for_update().get(pk=client.pk)
    # A twin request committed meanwhile.
    replay = _replayed_purchase(tenant, idempotency_key, client=client, package=package)
    if replay is not None:
        return replay
    if locked_client.status == ClientStatus.DELETED:
        raise ValidationError(_("A deleted client cannot buy a subscription."), code="deleted")
    package = Package.objects.for_tenant(tenant).get(pk=package.pk)
    if not package.is_active:
        raise ValidationError(
            {
                "package": _("The package “%(name)s” is retired and cannot be bought.")
                % {"name": package.name}
            }
        )
    _check_start_date(tenant, start_date)
    subscriptions = Subscription.objects.for_tenant(tenant)
    if subscriptions.filter(
        client=locked_client, package=package, status__in=LIVE_STATUSES
    ).exists():
        raise ValidationError(
            {
                "package": _(
                    "The client already has an active subscription of “%(name)s”. "
                    "Cancel it or turn on auto-renew instead."
                )
                % {"name": package.name}
            },
            code="duplicate",
        )
    on_hold = locked_client.status in HOLD_STATUSES
    try:
        with transaction.atomic():
            subscription = subscription_period_buy(
                tenant=tenant,
                client=locked_client,
                package=package,
                start_date=start_date,
                auto_renew=auto_renew,
                idempotency_key=idempotency_key or new_idempotency_key("sub-purchase"),
                status=SubscriptionStatus.SUSPENDED if on_hold else SubscriptionStatus.ACTIVE,
                actor=actor,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {
                "package": _("The client already has an active subscription of “%(name)s”.")
                % {"name": package.name}
            }
        ) from exc
    end_date = subscription.end_date
    currency = tenant.currency
    event_record(
        tenant=tenant,
        client_id=locked_client.pk,
        object_type="subscription",
        object_id=subscription.pk,
        actor=actor,
        type="subscription.created",
        description=_bought_description(
            package.name,
            Money(package.price, currency),
            days_between(start_date, end_date),
            auto_renew=auto_renew,
            on_hold=on_hold,
        ),
        payload={"subscription": subscription.pk, "amount": str(package.price)},
    )
    subscriptions_changed_announce(
        tenant=tenant, client_ids=[locked_client.pk], active=True, reason="subscription_created"
    )
    subscription.replayed = False
    return subscription


@transaction.atomic
def subscription_order(
    *,
    tenant: Tenant,
    actor,
    package: Package,
    start_date: date,
    auto_renew: bool = False,
    client: Client | None = None,
    new_client: dict | None = None,
    payment: Decimal | None = None,
    payment_comment: str = "",
    idempotency_key: str | None = None,
) -> Subscription:
    """The reseller's "Order subscription", in one transaction: an existing client or a new one
    (the fields of ClientForm), the payment received with the order (a top-up with its
    comment), and the purchase. A new client whose payment does not cover the price gets the
    tenant's credit for a first order, so that the order is charged to credit where the tenant
    allows it; a free or fully paid order grants no credit. Nothing is kept
    when any step is refused, and a retried request (the same idempotency key) posts nothing
    twice.
    """
    if (client is None) == (new_client is None):
        raise TypeError("subscription_order() takes either client or new_client.")
    replay = _replayed_purchase(tenant, idempotency_key, client=client, package=package)
    if replay is not None:
        return replay
    key = idempotency_key or new_idempotency_key("sub-purchase")
    if client is None:
        client = client_create(tenant=tenant, actor=actor, **new_client)
        if package.price > (payment or 0):
            _grant_first_order_credit(tenant=tenant, client=client, actor=actor, key=key)
    if payment:
        account_top_up(
            account=account_for_client(client=client),
            amount=payment,
            actor=actor,
            comment=payment_comment,
            purpose=stored_gettext(
                "Payment received with the order of %(package)s", package=package.name
            ),
            idempotency_key=f"order-payment:{key}",  # not "sub-": it is the client's money in
        )
    return subscription_create(
        tenant=tenant,
        client=client,
        package=package,
        start_date=start_date,
        auto_renew=auto_renew,
        actor=actor,
        idempotency_key=key,
    )


def _grant_first_order_credit(*, tenant: Tenant, client: Client, actor, key: str) -> None:
    if tenant.new_client_credit_limit > 0:
        account_set_credit_limit(
            account=account_for_client(client=client),
            credit_limit=tenant.new_client_credit_limit,
            actor=actor,
            idempotency_key=f"order-credit:{key}",
        )


# -- cancel and auto-renew -----------------------------------------------------------------
def unused_days(subscription: Subscription, today: date) -> int:
    """Whole days of the period still to come: today counts as used once the period has
    started; a period not started yet is unused in full."""
    if today < subscription.start_date:
        return subscription.days
    return max(0, (subscription.end_date - (today + timedelta(days=1))).days)


def refund_amount(subscription: Subscription, today: date) -> Decimal:
    """The pro rata refund of the unused days, in cents, never more than was paid."""
    days = subscription.days
    if days <= 0 or subscription.amount_paid <= 0:
        return Decimal("0.00")
    share = subscription.amount_paid * Decimal(unused_days(subscription, today)) / Decimal(days)
    return min(share.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP), subscription.amount_paid)


def refund_purpose(subscription: Subscription, today: date) -> StoredText:
    """The refund's ledger purpose: the unused days (plural forms) of the package's period,
    read in the reader's language and date format."""
    days = unused_days(subscription, today)
    return stored_ngettext(
        "Refund of %(days)s unused day of %(package)s, %(start)s – %(end)s",
        "Refund of %(days)s unused days of %(package)s, %(start)s – %(end)s",
        days,
        days=days,
        package=subscription.package.name,
        start=subscription.start_date,
        end=subscription.end_date,
    )


def _lock(subscription: Subscription) -> Subscription:
    return (
        Subscription.objects.for_tenant(subscription.tenant)
        .select_for_update(of=("self",))
        .select_related("package", "client")
        .get(pk=subscription.pk)
    )


@transaction.atomic
def subscription_cancel(
    *, subscription: Subscription, actor, reason: str, refund: bool = False
) -> Subscription:
    """Cancel an active or suspended subscription, with a reason. With `refund`, the unused
    part goes back to the client's balance as a ledger refund (at most once per period)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the subscription is cancelled.")})
    locked = _lock(subscription)
    tenant = locked.tenant
    if not locked.is_live:
        raise ValidationError(
            _("This subscription is %(status)s; only an active or suspended one can be cancelled.")
            % {"status": locked.get_status_display().lower()},
            code="not_live",
        )
    today = tenant_today(tenant)
    amount = refund_amount(locked, today) if refund else Decimal("0.00")
    entry = None
    if amount > 0:
        entry = account_refund(
            account=account_for_client(client=locked.client),
            amount=amount,
            purpose=refund_purpose(locked, today),
            comment=reason[:500],
            actor=actor,
            idempotency_key=f"sub-refund:{locked.pk}",
            activity=False,  # the cancellation's line below says it, with the period
        )
    locked.status = SubscriptionStatus.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.cancelled_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.cancel_reason = reason[:500]
    locked.refunded_amount = amount
    locked.refund_entry = entry
    locked.auto_renew = False
    locked.save()
    name = locked.package.name
    if amount > 0:
        cancelled = stored_gettext(
            "Subscription %(name)s cancelled, %(amount)s refunded: %(reason)s",
            name=name,
            amount=Money(amount, tenant.currency),
            reason=reason,
        )
    else:
        cancelled = stored_gettext(
            "Subscription %(name)s cancelled: %(reason)s", name=name, reason=reason
        )
    event_record(
        tenant=tenant,
        client_id=locked.client_id,
        object_type="subscription",
        object_id=locked.pk,
        actor=actor,
        type="subscription.cancelled",
        description=cancelled,
        payload={"subscription": locked.pk, "refund": str(amount)},
    )
    still_active = (
        Subscription.objects.for_tenant(tenant)
        .filter(client_id=locked.client_id, status=SubscriptionStatus.ACTIVE)
        .exists()
    )
    if not still_active:
        subscriptions_changed_announce(
            tenant=tenant,
            client_ids=[locked.client_id],
            active=False,
            reason="subscription_cancelled",
        )
    return locked


@transaction.atomic
def subscription_set_auto_renew(
    *, subscription: Subscription, actor, auto_renew: bool
) -> Subscription:
    locked = _lock(subscription)
    if not locked.is_live:
        raise ValidationError(
            _("Auto-renew can be changed only on an active or suspended subscription.")
        )
    if locked.auto_renew == auto_renew:
        return locked
    locked.auto_renew = auto_renew
    locked.save(update_fields=["auto_renew", "updated_at"])
    event_record(
        tenant=locked.tenant,
        client_id=locked.client_id,
        object_type="subscription",
        object_id=locked.pk,
        actor=actor,
        type="subscription.auto_renew_changed",
        description=(
            stored_gettext("Auto-renew on for %(name)s", name=locked.package.name)
            if auto_renew
            else stored_gettext("Auto-renew off for %(name)s", name=locked.package.name)
        ),
        payload={"subscription": locked.pk, "auto_renew": auto_renew},
    )
    return locked
