"""Clients and client types (groups).

`status` is stored (not derived per page) because the list filters and sorts a million rows on
it; the holds app keeps it in line with the holds in force.
`search_text` is a lower-cased copy of the searchable fields, kept by `save()` and by the bulk
loaders, so that one trigram index serves the search box. The PostgreSQL-only indexes (pg_trgm,
prefix pattern ops, DESC NULLS LAST) are created by migration 0002 on PostgreSQL only, so that
the demo still migrates on SQLite.
"""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from core.validators import InternationalEmailField
from tenancy.models import TenantOwnedModel

SEARCH_TEXT_MAX = 1000


class ClientGroup(TenantOwnedModel):
    """A client type: the group a client is linked to."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="client_group_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ClientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ADMINISTRATIVE_HOLD = "administrative_hold", "Administrative hold"
    FINANCIAL_HOLD = "financial_hold", "Financial hold"
    DELETED = "deleted", "Deleted"


class PropertyType(models.TextChoices):
    LEGAL_ENTITY = "legal_entity", "Legal entity"
    INDIVIDUAL = "individual", "Individual"
    ENTREPRENEUR = "entrepreneur", "Entrepreneur"


class Channel(models.TextChoices):
    WEB = "web", "Web sign-up"
    PARTNER = "partner", "Partner"
    SALES = "sales", "Sales team"
    API = "api", "API"
    IMPORT = "import", "Import"


def build_search_text(*parts) -> str:
    return " ".join(str(p).strip().lower() for p in parts if p)[:SEARCH_TEXT_MAX]


class Client(TenantOwnedModel):
    number = models.PositiveBigIntegerField("Client ID", editable=False)
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    login = models.CharField(
        max_length=16, blank=True, help_text="The client's phone number in E.164, e.g. +4930123456."
    )
    email = InternationalEmailField("E-mail", blank=True)
    phone = models.CharField(max_length=32, blank=True)
    address = models.CharField(max_length=255, blank=True)
    contact_name = models.CharField("Contact person", max_length=200, blank=True)
    contact_email = InternationalEmailField("Contact person's e-mail", blank=True)
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO country code; decides how the ITN is checked."
    )
    itn = models.CharField("ITN", max_length=20, blank=True, help_text="Registration number (INN).")
    group = models.ForeignKey(
        ClientGroup,
        verbose_name="Client type",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clients",
    )
    status = models.CharField(
        max_length=24, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    property_type = models.CharField(max_length=20, choices=PropertyType.choices, blank=True)
    activity_type = models.CharField("Type of activity", max_length=120, blank=True)
    region = models.CharField(max_length=120, blank=True)
    site = models.URLField(blank=True)
    postal_address = models.CharField(max_length=255, blank=True)
    accounting_email = InternationalEmailField("Accounting e-mail", blank=True)
    external_tenant_name = models.CharField(
        max_length=255, blank=True, help_text="E.g. the Microsoft tenant domain."
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    referer = models.CharField(max_length=255, blank=True)
    registered_on = models.DateField("Registration date", null=True, blank=True)
    last_login_at = models.DateTimeField("Last login date", null=True, blank=True)
    failed_login_attempts = models.PositiveIntegerField("Login attempts", default=0)
    activation_required = models.BooleanField(default=False)
    sms_price = models.DecimalField(
        "SMS price",
        max_digits=10,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    sms_subscription = models.BooleanField("SMS subscription", default=False)
    last_purchase_at = models.DateTimeField("Last purchase date", null=True, blank=True)
    created_at = models.DateTimeField("Creation date", default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    search_text = models.CharField(max_length=SEARCH_TEXT_MAX, editable=False, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="client_unique_number")
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="client_created_idx"),
            models.Index(fields=["tenant", "last_purchase_at", "id"], name="client_purchase_idx"),
            models.Index("tenant", Lower("name"), "id", name="client_name_lower_idx"),
            models.Index(fields=["tenant", "status"], name="client_status_idx"),
            models.Index(fields=["tenant", "group"], name="client_group_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("clients:client_detail", kwargs={"number": self.number})

    def refresh_search_text(self) -> None:
        self.search_text = build_search_text(
            self.name,
            self.company,
            self.login,
            self.itn,
            self.email,
            self.contact_name,
            self.contact_email,
        )

    def save(self, *args, **kwargs):
        self.refresh_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "search_text" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "search_text"]
        super().save(*args, **kwargs)

    @property
    def is_deleted(self) -> bool:
        return self.status == ClientStatus.DELETED
