"""MikroTik routers and the PPPoE accounts Clientdesk keeps on them.

A Router's password is stored encrypted (core.crypto); the model exposes it only through
`router.password` (decrypts) and `router.set_password()`. The poll state (reachable, last
poll, last error and its kind, sessions online) is written by the poller in one statement per
router.

A PppoeAccount has two kinds of state:
- what the router last told us: `status` (Online / Offline / Unknown), `last_seen_at`,
  `address`, `caller_id`, `uptime`, `checked_at`;
- what Clientdesk wants on the router (the desired state): username, password, profile and
  `enabled` (False while the client is on hold or its subscription expired, with
  `disabled_reason`). `sync_state` says whether the router is known to match: a change makes
  it Pending; the enforcement task and every poll bring the router in line and mark it Synced.

Which /ppp/secret is the account's: the one whose comment carries Clientdesk's mark
(`clientdesk:<account id>`, written when Clientdesk creates the secret), or, for a secret
adopted from the router as it was, the one whose RouterOS `.id` is `router_secret_id`. An
adopted secret keeps its own comment: the mark is recorded on our side.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from core import crypto
from core.formatting import format_count
from core.languages import StartedInLanguage
from core.leases import Leased
from core.stored_text import StoredTextField, render_param
from core.tenant_keys import TenantForeignKey, TenantOneToOneField
from tenancy.models import TenantOwnedModel

API_PORT = 8728
API_TLS_PORT = 8729
# The comment that marks a /ppp/secret as Clientdesk's; followed by the account id. Clientdesk
# never changes or removes a secret without it.
SECRET_COMMENT_PREFIX = "clientdesk:"

router_username_validator = RegexValidator(
    r"^[\x21-\x7e]+$", _("Use printable ASCII characters without spaces.")
)
pppoe_username_validator = RegexValidator(
    r"^[A-Za-z0-9._@+-]+$",
    _("Use letters, digits and . _ @ + - only (no spaces)."),
)
pppoe_profile_validator = RegexValidator(
    r"^[A-Za-z0-9._ -]+$", _("Use letters, digits, spaces and . _ - only.")
)


def secret_comment(account_id: int) -> str:
    return f"{SECRET_COMMENT_PREFIX}{account_id}"


class PollErrorKind(models.TextChoices):
    """Why a router could not be read. OFFLINE: not reached at all (refused, unreachable, no
    connection within the timeout); NETWORK and TIMEOUT: reached, then the exchange failed.
    routers.availability turns each into the reason a status is unavailable."""

    NONE = "", _("No error")
    OFFLINE = "offline", _("Router offline")
    NETWORK = "network", _("Network error")
    TIMEOUT = "timeout", _("Router did not answer in time")
    LOGIN = "login", _("Router refused the login")
    PROTOCOL = "protocol", _("Router sent an unreadable reply")
    TLS = "tls", _("TLS handshake failed")
    CONFIG = "config", _("Router password unreadable")
    ADDRESS = "address", _("Router address not allowed")


class Router(TenantOwnedModel):
    name = models.CharField(_("name"), max_length=100)
    host = models.CharField(
        _("host"), max_length=255, help_text=_("IP address or host name of the router.")
    )
    port = models.PositiveIntegerField(
        _("API port"),
        default=API_PORT,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text=_("8728 for the plain API, 8729 for API-SSL."),
    )
    use_tls = models.BooleanField(
        _("Use TLS (API-SSL)"), default=False, help_text=_("Connect with TLS (RouterOS api-ssl).")
    )
    verify_tls = models.BooleanField(
        _("Verify the certificate"),
        default=False,
        help_text=_(
            "Check the router's certificate against the system's CAs. Leave off for "
            "RouterOS's usual self-signed certificate."
        ),
    )
    username = models.CharField(
        _("username"),
        max_length=100,
        validators=[router_username_validator],
        help_text=_("API user."),
    )
    password_encrypted = models.TextField(
        editable=False, default="", verbose_name=_("password (encrypted)")
    )
    timeout = models.FloatField(
        _("Timeout (seconds)"),
        default=5.0,
        validators=[MinValueValidator(0.5), MaxValueValidator(60)],
        help_text=_("Connect and read timeout for each API call."),
    )
    enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Polled every minute when enabled.")
    )

    # Poll state, written by the poller. Reachable None: never polled.
    is_reachable = models.BooleanField(verbose_name=_("reachable"), null=True, editable=False)
    last_polled_at = models.DateTimeField(
        verbose_name=_("last polled at"), null=True, blank=True, editable=False
    )
    last_success_at = models.DateTimeField(
        verbose_name=_("last answered at"), null=True, blank=True, editable=False
    )
    # Why the last poll failed, as its message: read in each reader's language (a beat job
    # wrote it).
    last_error = StoredTextField(
        verbose_name=_("last error"), blank=True, default=str, editable=False
    )
    last_error_kind = models.CharField(
        verbose_name=_("kind of last error"),
        max_length=20,
        choices=PollErrorKind.choices,
        blank=True,
        editable=False,
    )
    sessions_online = models.PositiveIntegerField(
        verbose_name=_("sessions online"), null=True, blank=True, editable=False
    )
    identity = models.CharField(
        verbose_name=_("RouterOS identity"), max_length=255, blank=True, editable=False
    )
    version = models.CharField(
        verbose_name=_("RouterOS version"), max_length=100, blank=True, editable=False
    )
    # A full reconciliation of /ppp/secret is due (an account moved away, or the router was
    # unreachable); the poller clears it after an audit.
    audit_due = models.BooleanField(verbose_name=_("full check due"), default=True, editable=False)
    last_audit_at = models.DateTimeField(
        verbose_name=_("last full check at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("router")
        verbose_name_plural = _("routers")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="router_unique_name"),
        ]
        indexes = [models.Index(fields=["tenant", "enabled"], name="router_enabled_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("routers:router_edit", kwargs={"pk": self.pk})

    # The password: write-only from the outside, never in repr, forms or logs.
    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_encrypted)

    def set_password(self, value: str) -> None:
        self.password_encrypted = crypto.encrypt(value)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def status_label(self) -> str:
        return ROUTER_STATE_LABELS[self.state_key]

    @property
    def state_key(self) -> str:
        """disabled, never, reachable or unreachable (the Routers filter's values too)."""
        if not self.enabled:
            return "disabled"
        if self.is_reachable is None:
            return "never"
        return "reachable" if self.is_reachable else "unreachable"


ROUTER_STATE_LABELS = {
    "reachable": pgettext_lazy("router state", "Reachable"),
    "unreachable": pgettext_lazy("router state", "Unreachable"),
    "never": pgettext_lazy("router state", "Never polled"),
    "disabled": pgettext_lazy("router state", "Disabled"),
}


class ConnectionStatus(models.TextChoices):
    ONLINE = "online", pgettext_lazy("connection status", "Online")
    OFFLINE = "offline", pgettext_lazy("connection status", "Offline")
    UNKNOWN = "unknown", pgettext_lazy("connection status", "Unknown")


class SyncState(models.TextChoices):
    PENDING = "pending", _("Waiting to be applied on the router")
    SYNCED = "synced", _("Applied on the router")
    ERROR = "error", _("Router refused the change")


class PppoeAccount(TenantOwnedModel):
    client = TenantOneToOneField(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="pppoe_account",
        verbose_name=_("client"),
    )
    router = TenantForeignKey(
        Router, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("router")
    )
    username = models.CharField(
        _("PPPoE username"), max_length=64, validators=[pppoe_username_validator]
    )
    password_encrypted = models.TextField(
        editable=False, default="", verbose_name=_("password (encrypted)")
    )
    profile = models.CharField(
        _("profile"),
        max_length=64,
        default="default",
        validators=[pppoe_profile_validator],
        help_text=_("The /ppp/profile on the router (speed, pool); usually the package's."),
    )

    # Observed on the router by the poller.
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ConnectionStatus.choices,
        default=ConnectionStatus.UNKNOWN,
    )
    last_seen_at = models.DateTimeField(_("Last seen online"), null=True, blank=True)
    address = models.CharField(_("Current address"), max_length=64, blank=True)
    caller_id = models.CharField(_("Caller ID"), max_length=64, blank=True)
    uptime = models.CharField(verbose_name=_("uptime"), max_length=32, blank=True)
    checked_at = models.DateTimeField(_("Status checked at"), null=True, blank=True)

    # Desired on the router.
    enabled = models.BooleanField(verbose_name=_("enabled"), default=True)
    disabled_reason = models.CharField(
        verbose_name=_("reason disabled"), max_length=200, blank=True
    )
    sync_state = models.CharField(
        _("on the router"), max_length=10, choices=SyncState.choices, default=SyncState.PENDING
    )
    # Why the router refused the last change, as its message: read in each reader's language
    # (the poller, a beat job, wrote it).
    sync_error = StoredTextField(verbose_name=_("router error"), blank=True, default=str)
    # Bumped by every change of the desired state; a router write marks the account Synced
    # only if the version it applied is still the current one.
    sync_version = models.PositiveIntegerField(verbose_name=_("change number"), default=1)
    synced_at = models.DateTimeField(
        verbose_name=_("applied on the router at"), null=True, blank=True
    )
    # The RouterOS `.id` of a secret adopted from the router (empty for the secrets Clientdesk
    # created, which carry its mark in their comment). An adopted account never moves to
    # another router (routers.services.pppoe_account_save refuses it).
    router_secret_id = models.CharField(
        _("adopted secret's id on the router"), max_length=32, blank=True, editable=False
    )
    adopted_at = models.DateTimeField(
        verbose_name=_("adopted at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("PPPoE account")
        verbose_name_plural = _("PPPoE accounts")
        ordering = ["username", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "router", "username"], name="pppoe_account_unique_username"
            ),
            models.UniqueConstraint(
                fields=["tenant", "router", "router_secret_id"],
                condition=~models.Q(router_secret_id=""),
                name="pppoe_account_unique_adopted_secret",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status"], name="pppoe_account_status_idx"),
            models.Index(
                fields=["router"],
                condition=~models.Q(sync_state="synced") | models.Q(enabled=False),
                name="pppoe_account_attention_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_encrypted)

    def set_password(self, value: str) -> None:
        self.password_encrypted = crypto.encrypt(value)

    @property
    def comment(self) -> str:
        return secret_comment(self.pk)


class AdoptionStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("adoption status", "Queued")
    RUNNING = "running", pgettext_lazy("adoption status", "Running")
    DONE = "done", pgettext_lazy("adoption status", "Done")
    FAILED = "failed", pgettext_lazy("adoption status", "Failed")


ADOPTION_ACTIVE = (AdoptionStatus.QUEUED, AdoptionStatus.RUNNING)


class RouterAdoption(TenantOwnedModel, Leased, StartedInLanguage):
    """One confirmed adoption of a router's own secrets, run by a worker under a lease: the
    secrets the operator reviewed (their RouterOS `.id`s, in the reviewed order) and what the
    adoption did so far. `secrets_done` moves with each committed chunk, in the chunk's
    transaction with its accounts and counts, so that a worker taking over a killed one resumes
    after the last chunk that committed and every secret is counted once. One adoption per
    router is queued or running at a time (a partial unique constraint)."""

    LEASE_QUEUED = AdoptionStatus.QUEUED

    router = TenantForeignKey(
        Router, on_delete=models.CASCADE, related_name="adoptions", verbose_name=_("router")
    )
    created_by = models.ForeignKey(
        "auth.User",
        verbose_name=_("started by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    secret_ids = models.JSONField(
        verbose_name=_("secrets reviewed"), default=list, help_text=_("The reviewed secrets' .ids.")
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=10,
        choices=AdoptionStatus.choices,
        default=AdoptionStatus.QUEUED,
    )
    total = models.PositiveIntegerField(
        verbose_name=_("secrets"), default=0, help_text=_("Secrets reviewed.")
    )
    secrets_done = models.PositiveIntegerField(verbose_name=_("secrets processed"), default=0)
    adopted = models.JSONField(
        verbose_name=_("adopted"),
        default=list,
        help_text=_("[secret name, client number] adopted."),
    )
    clients_created = models.PositiveIntegerField(verbose_name=_("clients created"), default=0)
    refused = models.JSONField(
        verbose_name=_("refused"),
        default=list,
        help_text=_("[secret name, reason] refused."),
    )
    gone = models.PositiveIntegerField(
        verbose_name=_("taken or removed meanwhile"),
        default=0,
        help_text=_("Reviewed secrets no longer the router's own (raced)."),
    )
    error = StoredTextField(verbose_name=_("error"), blank=True, default=str)
    created_at = models.DateTimeField(
        verbose_name=_("started at"), default=timezone.now, editable=False
    )
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("adoption of existing secrets")
        verbose_name_plural = _("adoptions of existing secrets")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "router"],
                condition=models.Q(status__in=["queued", "running"]),
                name="router_adoption_one_active",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "router", "created_at"], name="router_adoption_idx")
        ]

    def __str__(self) -> str:
        secrets = ngettext("%(count)s secret", "%(count)s secrets", self.total) % {
            "count": format_count(self.total)
        }
        return f"{self.router_id}: {secrets} ({self.get_status_display()})"

    def lease_on_expired(self, lease, now) -> str:
        """Queue it again: it resumes after its last committed chunk."""
        from .services import router_adoption_recover  # the services use this model: a circle

        return router_adoption_recover(job=self, lease=lease, now=now)

    @property
    def is_active(self) -> bool:
        return self.status in ADOPTION_ACTIVE

    @property
    def refusals(self) -> list[tuple[str, str]]:
        """(secret name, why it was refused) in the active language."""
        return [(name, render_param(reason)) for name, reason in self.refused]

    @property
    def processed(self) -> int:
        return len(self.adopted) + len(self.refused) + self.gone

    @property
    def percent(self) -> int:
        if self.status == AdoptionStatus.DONE:
            return 100
        return min(100, int(self.secrets_done * 100 / self.total)) if self.total else 0

    def get_absolute_url(self) -> str:
        return reverse(
            "routers:router_adoption", kwargs={"pk": self.router_id, "adoption": self.pk}
        )
