"""Clients and client types (groups).

`status` is stored (not derived per page) because the list filters and sorts a million rows on
it; the holds app keeps it in line with the holds in force.
`search_text` is a lower-cased copy of the searchable fields, kept by `save()` and by the bulk
loaders, so that one trigram index serves the search box. The PostgreSQL-only indexes (pg_trgm,
prefix pattern ops, DESC NULLS LAST) are created by migration 0002 on PostgreSQL only, so that
the demo still migrates on SQLite.
"""

from decimal import Decimal
from uuid import uuid4

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.languages import StartedInLanguage, language_field
from core.leases import Leased
from core.stored_text import StoredTextField
from core.tenant_keys import TenantForeignKey
from core.validators import InternationalEmailField
from tenancy.models import TenantOwnedModel

SEARCH_TEXT_MAX = 1000


class ClientGroup(TenantOwnedModel):
    """A client type: the group a client is linked to."""

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("client type")
        verbose_name_plural = _("client types")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="client_group_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ClientStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("client status", "Active")
    ADMINISTRATIVE_HOLD = "administrative_hold", _("Administrative hold")
    FINANCIAL_HOLD = "financial_hold", _("Financial hold")
    DELETED = "deleted", pgettext_lazy("client status", "Deleted")


# The statuses of a client whose access is cut by a hold (administrative or financial).
HOLD_STATUSES = (ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.FINANCIAL_HOLD)


class PropertyType(models.TextChoices):
    LEGAL_ENTITY = "legal_entity", _("Legal entity")
    INDIVIDUAL = "individual", _("Individual")
    ENTREPRENEUR = "entrepreneur", _("Entrepreneur")


class Channel(models.TextChoices):
    WEB = "web", _("Web sign-up")
    PARTNER = "partner", _("Partner")
    SALES = "sales", _("Sales team")
    API = "api", _("API")
    IMPORT = "import", pgettext_lazy("client channel", "Import")


def build_search_text(*parts) -> str:
    return " ".join(str(p).strip().lower() for p in parts if p)[:SEARCH_TEXT_MAX]


class Client(TenantOwnedModel):
    number = models.PositiveBigIntegerField(_("Client ID"), editable=False)
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    login = models.CharField(
        _("login"),
        max_length=16,
        blank=True,
        help_text=_("The client's phone number in E.164, e.g. +4930123456."),
    )
    email = InternationalEmailField(_("E-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    contact_name = models.CharField(_("Contact person"), max_length=200, blank=True)
    contact_email = InternationalEmailField(_("Contact person's e-mail"), blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        help_text=_("ISO country code; decides how the ITN is checked."),
    )
    itn = models.CharField(
        _("ITN"), max_length=20, blank=True, help_text=_("Registration number (INN).")
    )
    group = TenantForeignKey(
        ClientGroup,
        verbose_name=_("Client type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clients",
    )
    status = models.CharField(
        _("status"), max_length=24, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    property_type = models.CharField(
        _("property type"), max_length=20, choices=PropertyType.choices, blank=True
    )
    activity_type = models.CharField(_("Type of activity"), max_length=120, blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    site = models.URLField(_("site"), blank=True)
    postal_address = models.CharField(_("postal address"), max_length=255, blank=True)
    accounting_email = InternationalEmailField(_("Accounting e-mail"), blank=True)
    language = language_field(
        verbose_name=_("language of e-mails"),
        help_text=_("The language of the e-mails this client gets (blank: the tenant's)."),
    )
    external_tenant_name = models.CharField(
        _("external tenant name"),
        max_length=255,
        blank=True,
        help_text=_("E.g. the Microsoft tenant domain."),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, blank=True)
    referer = models.CharField(_("referer"), max_length=255, blank=True)
    registered_on = models.DateField(_("Registration date"), null=True, blank=True)
    last_login_at = models.DateTimeField(_("Last login date"), null=True, blank=True)
    failed_login_attempts = models.PositiveIntegerField(_("Login attempts"), default=0)
    activation_required = models.BooleanField(_("activation required"), default=False)
    sms_price = models.DecimalField(
        _("SMS price"),
        max_digits=10,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    sms_subscription = models.BooleanField(_("SMS subscription"), default=False)
    last_purchase_at = models.DateTimeField(_("Last purchase date"), null=True, blank=True)
    created_at = models.DateTimeField(_("Creation date"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    search_text = models.CharField(
        max_length=SEARCH_TEXT_MAX, editable=False, default="", verbose_name=_("search text")
    )
    external_ref = models.CharField(
        _("External reference"),
        max_length=100,
        blank=True,
        help_text=_("The client's ID in the system it was imported from."),
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="client_unique_number"),
            models.UniqueConstraint(
                fields=["tenant", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="client_unique_external_ref",
            ),
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


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", pgettext_lazy("import status", "Previewed")
    QUEUED = "queued", pgettext_lazy("import status", "Queued")
    RUNNING = "running", pgettext_lazy("import status", "Running")
    DONE = "done", pgettext_lazy("import status", "Done")
    FAILED = "failed", pgettext_lazy("import status", "Failed")


class MatchBy(models.TextChoices):
    EXTERNAL_REF = "external_ref", _("External reference")
    ITN = "itn", _("ITN")
    LOGIN = "login", _("Login")


def import_upload_to(job: "ClientImport", filename: str) -> str:
    return f"imports/{job.tenant_id}/{timezone.now():%Y/%m}/{uuid4().hex}-{filename}"


class ClientImport(TenantOwnedModel, Leased, StartedInLanguage):
    """One uploaded file of clients: its column mapping, its preview, and its commit by a
    worker under a lease. `rows_done` moves with each committed chunk, in the chunk's
    transaction, so that a worker that takes over a killed one resumes after the last chunk
    that committed and the counts stay those of one run."""

    LEASE_QUEUED = ImportStatus.QUEUED

    created_by = models.ForeignKey(
        "auth.User",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    file = models.FileField(upload_to=import_upload_to, max_length=255, verbose_name=_("file"))
    file_name = models.CharField(max_length=255, verbose_name=_("file name"))
    file_hash = models.CharField(max_length=64, verbose_name=_("file checksum"))
    headers = models.JSONField(default=list, verbose_name=_("headers"))
    mapping = models.JSONField(
        default=dict, help_text=_("Header -> client field."), verbose_name=_("column mapping")
    )
    match_by = models.CharField(
        max_length=20,
        choices=MatchBy.choices,
        default=MatchBy.EXTERNAL_REF,
        verbose_name=_("match existing clients by"),
    )
    status = models.CharField(
        max_length=10,
        choices=ImportStatus.choices,
        default=ImportStatus.PREVIEWED,
        verbose_name=_("status"),
    )
    preview = models.JSONField(
        default=dict, help_text=_("Counts of the preview."), verbose_name=_("preview")
    )
    counts = models.JSONField(
        default=dict, help_text=_("Counts of the commit so far."), verbose_name=_("counts")
    )
    rows_done = models.PositiveIntegerField(default=0, verbose_name=_("rows done"))
    total = models.PositiveIntegerField(default=0, verbose_name=_("rows in total"))
    error = StoredTextField(verbose_name=_("error"), blank=True, default=str)
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("client import")
        verbose_name_plural = _("client imports")
        indexes = [models.Index(fields=["tenant", "created_at", "id"], name="client_import_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    def lease_on_expired(self, lease, now) -> str:
        """Queue it again: the commit resumes after its last committed chunk."""
        from .importing import client_import_recover  # the importer uses this model: a circle

        return client_import_recover(job=self, lease=lease, now=now)

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    def refused_rows(self):
        """Its refused rows by line, whatever tenant scope is active (a worker's, a command's)."""
        return ClientImportRefusal.objects.for_tenant(self.tenant).filter(job=self)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return min(100, int(self.rows_done * 100 / self.total)) if self.total else 0

    def get_absolute_url(self) -> str:
        return reverse("clients:client_import_detail", kwargs={"pk": self.pk})


class ClientImportRefusal(TenantOwnedModel):
    """A row of an import's file that was refused, with its line, field, reason and cells (to
    be fixed and imported again). The preview's rows until the commit starts, then the
    commit's, written with each chunk: a row of its own each, so that a chunk appends its
    refusals rather than rewriting all of those before it."""

    job = TenantForeignKey(
        ClientImport, on_delete=models.CASCADE, related_name="refusals", verbose_name=_("import")
    )
    line = models.PositiveIntegerField(verbose_name=_("line"))
    # The field's label and the reason as their messages, read in each reader's language
    # (the worker wrote them in the language the import was started in).
    field = StoredTextField(blank=True, default=str, verbose_name=_("field"))
    reason = StoredTextField(default=str, verbose_name=_("reason"))
    cells = models.JSONField(default=list, verbose_name=_("cells of the line"))

    class Meta:
        verbose_name = _("line refused by an import")
        verbose_name_plural = _("lines refused by imports")
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="client_import_refusal_idx")]

    def __str__(self) -> str:
        return _("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}

    @property
    def field_label(self) -> str:
        """The field's label as a column heading (a verbose name is stored as it is written:
        "phone"), in the reader's language."""
        return capfirst(str(self.field))


class BulkActionStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("bulk action status", "Queued")
    RUNNING = "running", pgettext_lazy("bulk action status", "Running")
    DONE = "done", pgettext_lazy("bulk action status", "Done")
    FAILED = "failed", pgettext_lazy("bulk action status", "Failed")


class ClientBulkAction(TenantOwnedModel, Leased, StartedInLanguage):
    """One action on a selection of the client list: which action with which parameters, the
    selection as the operator made it (the ids of the rows ticked, or the list's filter), and
    how far it got. The selection is evaluated again in the tenant's scope by whoever runs it,
    in id order; `last_client_id` moves with each committed chunk, in the chunk's transaction,
    so that a worker taking over a killed one resumes after the last chunk that committed and
    every client is counted once."""

    LEASE_QUEUED = BulkActionStatus.QUEUED

    created_by = models.ForeignKey(
        "auth.User",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    action = models.CharField(max_length=60, verbose_name=_("action"))
    # What the result page calls the action, read in each reader's language.
    title = StoredTextField(
        _("title"), blank=True, default=str, help_text=_("What the operator sees.")
    )
    parameters = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    selection = models.JSONField(
        default=dict,
        help_text=_('{"ids": [...]} or {"query": "..."}.'),
        verbose_name=_("selected clients"),
    )
    status = models.CharField(
        max_length=10,
        choices=BulkActionStatus.choices,
        default=BulkActionStatus.QUEUED,
        verbose_name=_("status"),
    )
    total = models.PositiveIntegerField(
        default=0, help_text=_("Clients selected at the start."), verbose_name=_("clients in total")
    )
    done = models.PositiveIntegerField(default=0, verbose_name=_("changed"))
    unchanged = models.PositiveIntegerField(default=0, verbose_name=_("unchanged"))
    refused = models.JSONField(
        default=list,
        help_text=_("Refused clients: id, number, name, reason."),
        verbose_name=_("refused"),
    )
    last_client_id = models.BigIntegerField(default=0, verbose_name=_("last client done"))
    error = StoredTextField(verbose_name=_("error"), blank=True, default=str)
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("bulk action")
        verbose_name_plural = _("bulk actions")
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="client_bulk_action_idx")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    def lease_on_expired(self, lease, now) -> str:
        """Queue it again: it resumes after its last committed chunk."""
        from .bulk import client_bulk_action_recover  # the runner uses this model: a circle

        return client_bulk_action_recover(job=self, lease=lease, now=now)

    @property
    def is_active(self) -> bool:
        return self.status in (BulkActionStatus.QUEUED, BulkActionStatus.RUNNING)

    @property
    def processed(self) -> int:
        return self.done + self.unchanged + len(self.refused)

    @property
    def percent(self) -> int:
        if self.status == BulkActionStatus.DONE:
            return 100
        return min(100, int(self.processed * 100 / self.total)) if self.total else 0

    def get_absolute_url(self) -> str:
        return reverse("clients:client_bulk_action_detail", kwargs={"pk": self.pk})
