"""Tenants, operator memberships, and the base of every tenant-owned model."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

from core.formatting import (
    DATE_FORMAT_CHOICES,
    DEFAULT_DATE_FORMAT,
    DEFAULT_TIME_FORMAT,
    TIME_FORMAT_CHOICES,
)
from core.languages import language_field
from core.tenant_keys import TenantField, TenantForeignKey

from .roles import Role, role_allows, scope_allows

currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code, e.g. USD."))


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone (e.g. Europe/Berlin).") % {"value": value}
        )


class Tenant(models.Model):
    """A service provider. The modules it uses decide which tabs and sections appear."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    currency = models.CharField(
        _("currency"), max_length=3, default="USD", validators=[currency_validator]
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    expiring_window_days = models.PositiveSmallIntegerField(
        _("expiring window days"),
        default=7,
        help_text=_("An active subscription ending within this many days is “Expiring”."),
    )
    event_retention_days = models.PositiveIntegerField(
        _("event retention days"),
        default=730,
        validators=[MaxValueValidator(36500)],
        help_text=_(
            "Events (the audit log and the client timelines) older than this many days "
            "are deleted by the nightly job (0: kept for ever)."
        ),
    )
    financial_hold_grace_days = models.PositiveSmallIntegerField(
        _("financial hold grace days"),
        default=3,
        help_text=_(
            "A client whose available funds stay below zero this many days goes on "
            "financial hold (0: at the next run)."
        ),
    )
    suspended_days_extend = models.BooleanField(
        _("give back days on hold"),
        default=True,
        help_text=_(
            "When a hold is released, move each subscription's end date on by the "
            "whole days it was suspended."
        ),
    )
    hold_on_failed_renewal = models.BooleanField(
        _("financial hold when auto-renewal fails"),
        default=False,
        help_text=_(
            "When funds do not cover an auto-renewal, the subscription expires and, "
            "with this on, the client also goes on financial hold until a top-up."
        ),
    )
    new_client_credit_limit = models.DecimalField(
        _("credit for a new client's first order"),
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_(
            "The credit limit a client created by Order subscription starts with, so that "
            "its first order can be charged to credit (0: a payment is needed with the order)."
        ),
    )
    uses_routers = models.BooleanField(
        _("internet / MikroTik routers"), default=False, help_text=_("PPPoE accounts and routers.")
    )
    uses_messaging = models.BooleanField(
        _("messaging"), default=False, help_text=_("SMS / Viber statistics and sender IDs.")
    )
    uses_reseller = models.BooleanField(
        _("software reseller"),
        default=False,
        help_text=_(
            "Customers ordered with subscriptions: contact person, ITN, client type, "
            "external tenant name."
        ),
    )
    date_format = models.CharField(
        _("date format"),
        max_length=10,
        choices=DATE_FORMAT_CHOICES,
        default=DEFAULT_DATE_FORMAT,
        help_text=_("How every page shows and reads a date."),
    )
    time_format = models.CharField(
        _("time format"),
        max_length=10,
        choices=TIME_FORMAT_CHOICES,
        default=DEFAULT_TIME_FORMAT,
        help_text=_("How every page shows a time of day."),
    )
    language = language_field(
        help_text=_(
            "The language of the portal for operators who chose none, and of the e-mails to "
            "clients who have none of their own (blank: each operator's browser decides; "
            "e-mails in English)."
        ),
    )
    require_two_factor = models.BooleanField(
        _("require two-factor authentication"),
        default=False,
        help_text=_(
            "Every operator of this tenant signs in with a code from an authenticator "
            "app after the password; one who has none set up is asked to set it up first."
        ),
    )
    is_active = models.BooleanField(pgettext_lazy("organisation", "active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> "TenantQuerySet":
        return self.filter(tenant=tenant)


class _TenantManagerBase(models.Manager.from_queryset(TenantQuerySet)):
    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        """Rows of one tenant, whatever scope is active; never all tenants."""
        if tenant is None:
            raise ValueError("for_tenant() needs a tenant; refusing an unscoped query.")
        return self.with_scope(tenant=tenant).get_queryset()


def TenantManager():  # noqa: N802 - a manager factory, named like the class it returns
    """The default manager: outside a tenant scope (django-scopes), queries raise ScopeError."""
    return ScopedManager(tenant="tenant", _manager_class=_TenantManagerBase)


class TenantOwnedModel(models.Model):
    """Base of every row a tenant owns. `clean()` refuses links to another tenant's rows."""

    tenant = TenantField(
        Tenant, on_delete=models.CASCADE, related_name="+", verbose_name=_("tenant")
    )

    objects = TenantManager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors = {}
        for field in self._meta.concrete_fields:
            if not field.is_relation or not field.many_to_one or field.name == "tenant":
                continue
            if not issubclass(field.related_model, TenantOwnedModel):
                continue
            related_id = getattr(self, field.attname)
            if related_id is None or self.tenant_id is None:
                continue
            owner = (
                field.related_model._base_manager.filter(pk=related_id)
                .values_list("tenant_id", flat=True)
                .first()
            )
            if owner != self.tenant_id:
                errors[field.name] = _("Select a valid choice from your own organisation.")
        if errors:
            raise ValidationError(errors)


class Membership(TenantOwnedModel):
    """A user's place in a tenant: role, whether active, and their saved preferences."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    is_active = models.BooleanField(pgettext_lazy("operator access", "active"), default=True)
    preferences = models.JSONField(_("preferences"), default=dict, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    all_tenants = models.Manager()

    class Meta:
        default_manager_name = "objects"
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")
        ]
        indexes = [models.Index(fields=["user", "is_active"])]

    def __str__(self) -> str:
        return _("%(user)s in %(tenant)s as %(role)s") % {
            "user": self.user,
            "tenant": self.tenant_id,
            "role": self.get_role_display(),
        }

    def allows(self, capability: str) -> bool:
        return self.is_active and role_allows(self.role, capability)


class OperatorProfile(models.Model):
    """A person's own settings, the same in every tenant they work in: the language of the
    portal.

    Stored per person (a user-level row), not in Membership.preferences: those are per
    tenant (a table's columns fit one tenant's data), while a person reads one language
    whichever tenant they switch to, and the choice must be known before any tenant is (the
    account page, the login after logout through the language cookie). One row per user,
    created when they first choose; no row, or a blank language, means "the tenant's, else the
    browser's"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator_profile",
        verbose_name=_("user"),
    )
    language = language_field(
        verbose_name=_("language"),
        help_text=_("Blank: the tenant's language, else your browser's."),
    )

    class Meta:
        verbose_name = _("operator's settings")
        verbose_name_plural = _("operators' settings")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_language_display() or _('no language')})"


class TenantSequence(models.Model):
    """Per-tenant counters, e.g. the client number ("Client ID, your internal reference")."""

    tenant = TenantField(
        Tenant, on_delete=models.CASCADE, related_name="+", verbose_name=_("tenant")
    )
    name = models.CharField(max_length=40, verbose_name=_("name"))
    last_value = models.BigIntegerField(default=0, verbose_name=_("last value"))

    class Meta:
        verbose_name = _("numbering")
        verbose_name_plural = _("numberings")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="tenant_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class ApiTokenScope(models.TextChoices):
    """A token acts with an operator's role, or only pushes message traffic."""

    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    ACCOUNTANT = "accountant", _("Accountant")
    VIEWER = "viewer", _("Viewer")
    INGEST = "ingest", _("Ingest (messages and delivery reports only)")


class ApiToken(TenantOwnedModel):
    """A tenant's key to the JSON API. Only the SHA-256 digest of the secret is stored (the
    secret is random, 32 bytes, so a slow hash adds nothing); its first characters (`prefix`)
    let an owner recognise it. A revoked or expired token authenticates nothing."""

    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("role or scope"), max_length=20, choices=ApiTokenScope.choices)
    prefix = models.CharField(max_length=16, editable=False, verbose_name=_("prefix"))
    digest = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("token digest")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["tenant", "created_at", "id"], name="api_token_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "Revoked"
        return "Active" if self.is_usable(timezone.now()) else "Expired"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, capability: str) -> bool:
        return scope_allows(self.scope, capability)


class ApiIdempotencyRecord(TenantOwnedModel):
    """The first answer to a POST sent with an `Idempotency-Key`: a retry with the same key
    gets it again; the same key with another body is refused. Keys are per tenant and caller
    (token or operator), so two integrations never collide."""

    caller = models.CharField(max_length=40, verbose_name=_("caller"))
    key = models.CharField(max_length=255, verbose_name=_("idempotency key"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("request fingerprint"))
    status = models.PositiveSmallIntegerField(verbose_name=_("response status"))
    body = models.JSONField(verbose_name=_("response body"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("API request answered")
        verbose_name_plural = _("API requests answered")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "caller", "key"], name="api_idempotency_unique_key"
            )
        ]
        indexes = [
            # The hourly purge reads a tenant's oldest records first.
            models.Index(fields=["tenant", "created_at", "id"], name="api_idempotency_age_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.caller}:{self.key}"


SAVED_VIEW_NAME_MAX = 80


class SavedView(TenantOwnedModel):
    """A list's filter, sort, columns and page size saved under a name by an operator, for
    themself or (owners and managers) shared with every operator of the tenant. `list_name` is
    the list page's URL name (e.g. `clients:client_list`); `query` is the page's URL query
    without its page number, as the list reads it."""

    owner = TenantForeignKey(
        Membership, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("owner")
    )
    list_name = models.CharField(max_length=100, verbose_name=_("list name"))
    name = models.CharField(_("name"), max_length=SAVED_VIEW_NAME_MAX)
    shared = models.BooleanField(_("shared"), default=False)
    query = models.CharField(max_length=2000, blank=True, verbose_name=_("filters"))
    columns = models.JSONField(default=list, blank=True, verbose_name=_("columns"))
    per_page = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("rows per page")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(
                "tenant", "owner", "list_name", Lower("name"), name="saved_view_unique_name"
            )
        ]
        indexes = [models.Index(fields=["tenant", "list_name", "name"], name="saved_view_list_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tenancy:saved_view_open", kwargs={"pk": self.pk})
