"""Packages (what a tenant sells) and subscriptions (a client's paid periods of a package).

Periods. A subscription covers the days from `start_date` up to, not including, `end_date`
(in the tenant's time zone): a 30-day package bought for 1 March ends on 31 March, and its
renewal starts on 31 March. A month-based package adds calendar months, keeping the day of
the month where it exists (31 January + 1 month = 28/29 February).

Statuses. Active, Suspended (while the client is on hold), Cancelled (by an operator, with a
reason), Expired (its end date passed). "Expiring" is never stored: an active subscription
whose end date falls within the tenant's `expiring_window_days` from today (the tenant's
today) shows as Expiring (`display_status`). An active subscription whose end date has passed
but which the expiry job has not reached yet shows as Expired.

Renewal creates the next period as a new row (`renewal_of` points at the previous period,
`origin` at the first period of the series), so the history lists every period with its
amount. At most one live (active or suspended) subscription per client and package: checked
by the purchase service under a row lock, and by a partial unique constraint.
"""

import calendar
from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from billing.models import money_field
from core.tenant_keys import TenantForeignKey, TenantOneToOneField
from tenancy.models import Tenant, TenantOwnedModel


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def tenant_today(tenant: Tenant, now=None) -> date:
    """Today's date where the tenant is."""
    return timezone.localtime(now or timezone.now(), tenant.zone).date()


class PeriodUnit(models.TextChoices):
    DAYS = "days", _("Days")
    MONTHS = "months", _("Months")


class Package(TenantOwnedModel):
    """A service package: its price buys one period. Retired packages cannot be bought but keep
    their subscriptions and history (a package is never deleted once sold)."""

    name = models.CharField(_("Name"), max_length=120)
    price = money_field(_("Price"), validators=[MinValueValidator(0)])
    period_count = models.PositiveSmallIntegerField(
        _("Period length"), default=1, validators=[MinValueValidator(1)]
    )
    period_unit = models.CharField(
        _("Period unit"), max_length=10, choices=PeriodUnit.choices, default=PeriodUnit.MONTHS
    )
    description = models.TextField(_("Description"), blank=True)
    rate_limit = models.CharField(
        _("Rate limit"),
        max_length=60,
        blank=True,
        help_text=_("For internet packages: the MikroTik rate limit, e.g. 20M/100M (rx/tx)."),
    )
    pppoe_profile = models.CharField(
        _("PPPoE profile"),
        max_length=60,
        blank=True,
        help_text=_("For internet packages: the /ppp/profile name on the routers."),
    )
    is_active = models.BooleanField(pgettext_lazy("package", "Active"), default=True)
    retired_at = models.DateTimeField(_("Retired"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["name", "id"]
        constraints = [
            # Two packages on sale may not share a name; a retired one may.
            models.UniqueConstraint(
                fields=["tenant", "name"],
                condition=Q(is_active=True),
                name="package_unique_active_name",
                violation_error_message=_("An active package with this name already exists."),
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="package_price_not_negative"),
            models.CheckConstraint(condition=Q(period_count__gte=1), name="package_period_min"),
        ]
        indexes = [
            models.Index(fields=["tenant", "is_active", "name"], name="package_active_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("subscriptions:package_edit", kwargs={"pk": self.pk})

    @property
    def period_label(self) -> str:
        count = self.period_count
        if self.period_unit == PeriodUnit.DAYS:
            text = ngettext("%(count)s day", "%(count)s days", count)
        else:
            text = ngettext("%(count)s month", "%(count)s months", count)
        return text % {"count": count}

    def end_for(self, start: date) -> date:
        """The end date (exclusive) of a period starting on `start`."""
        if self.period_unit == PeriodUnit.DAYS:
            return start + timedelta(days=self.period_count)
        return add_months(start, self.period_count)


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("subscription status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("subscription status", "Suspended")
    CANCELLED = "cancelled", pgettext_lazy("subscription status", "Cancelled")
    EXPIRED = "expired", pgettext_lazy("subscription status", "Expired")


LIVE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)


class DisplayStatus(models.TextChoices):
    """What the pages show: the stored status, with Expiring derived."""

    ACTIVE = "active", pgettext_lazy("subscription status", "Active")
    EXPIRING = "expiring", pgettext_lazy("subscription status", "Expiring")
    SUSPENDED = "suspended", pgettext_lazy("subscription status", "Suspended")
    CANCELLED = "cancelled", pgettext_lazy("subscription status", "Cancelled")
    EXPIRED = "expired", pgettext_lazy("subscription status", "Expired")
    SCHEDULED = "scheduled", pgettext_lazy("subscription status", "Starts later")


class Subscription(TenantOwnedModel):
    client = TenantForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("Client"),
    )
    package = TenantForeignKey(
        Package, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("Package")
    )
    status = models.CharField(
        _("Status"),
        max_length=12,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    start_date = models.DateField(_("Start date"))
    end_date = models.DateField(_("End date"), help_text=_("The first day no longer covered."))
    auto_renew = models.BooleanField(_("Auto-renew"), default=False)
    amount_paid = money_field(_("Amount paid"))
    refunded_amount = money_field(_("Refunded"), default=0)
    charge_entry = TenantOneToOneField(
        "billing.LedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subscription_charged",
        verbose_name=_("charge"),
    )
    refund_entry = TenantOneToOneField(
        "billing.LedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subscription_refunded",
        verbose_name=_("refund"),
    )
    renewal_of = TenantOneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewed_by",
        verbose_name=_("renewal of"),
    )
    origin = TenantForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The first period of this series of renewals (empty on the first itself)."),
        verbose_name=_("first period"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system created it (auto-renewal)."),
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("Created"), default=timezone.now, editable=False)
    suspended_at = models.DateTimeField(_("Suspended"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("Cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_reason = models.CharField(_("Reason"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "client", "package"],
                condition=Q(status__in=["active", "suspended"]),
                name="subscription_one_live_per_package",
                violation_error_message=_(
                    "The client already has an active subscription of this package."
                ),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")), name="subscription_end_after"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0), name="subscription_amount_not_negative"
            ),
        ]
        indexes = [
            # The client page: history newest first, current subscriptions.
            models.Index(
                fields=["tenant", "client", "-start_date", "-id"], name="subscription_history_idx"
            ),
            # The expiry job and the "expiring within N days" filter.
            models.Index(fields=["tenant", "status", "end_date"], name="subscription_due_idx"),
            models.Index(fields=["tenant", "package", "status"], name="subscription_package_idx"),
            # The API's list of every client's periods, in either order of either date.
            models.Index(fields=["tenant", "start_date", "id"], name="subscription_start_idx"),
            models.Index(fields=["tenant", "end_date", "id"], name="subscription_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.package} {self.start_date} – {self.end_date}"

    def get_absolute_url(self) -> str:
        return reverse("subscriptions:subscription_detail", kwargs={"pk": self.pk})

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days

    @property
    def net_amount(self):
        return self.amount_paid - self.refunded_amount

    def display_status(self, today: date, window_days: int) -> str:
        """Active, Expiring, Expired, ... as of the tenant's `today`."""
        if self.status == SubscriptionStatus.ACTIVE:
            if self.end_date <= today:
                return DisplayStatus.EXPIRED
            if self.start_date > today:
                return DisplayStatus.SCHEDULED
            if (self.end_date - today).days <= window_days:
                return DisplayStatus.EXPIRING
            return DisplayStatus.ACTIVE
        return self.status

    def display_status_for(self, tenant: Tenant, now=None) -> str:
        return self.display_status(tenant_today(tenant, now), tenant.expiring_window_days)
