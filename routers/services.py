"""Every write of the routers app with a business rule: one function per use case, each in one
transaction. Router work that follows a change (provisioning, enforcement) is queued with
`transaction.on_commit`, so that a rolled-back change never reaches a router; the poller
applies whatever a task could not (the desired state lives in the database).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.models import HOLD_STATUSES, Client
from clients.services import client_create
from clients.signals import HOLD_ACCESS_REASON
from core import crypto, outbound
from core.leases import (
    Lease,
    LeaseLost,
    WorkStopped,
    lease_finish,
    lease_renew,
    lease_requeue_or_fail,
    leased_job_run,
)
from core.locks import advisory_xact_lock, lock_namespace
from core.stored_text import (
    EMPTY_TEXT,
    StoredText,
    encode_param,
    field_labels,
    stored_gettext,
    validation_message,
)
from core.validators import full_clean_changed
from events.services import EventLine, event_record, events_record_bulk
from tenancy.models import Membership, Tenant
from tenancy.roles import Capability

from .models import (
    ADOPTION_ACTIVE,
    AdoptionStatus,
    ConnectionStatus,
    PppoeAccount,
    Router,
    RouterAdoption,
    SyncState,
)
from .poller import router_locks
from .reconcile import DesiredSecret, reconcile
from .routeros import (
    RouterConnection,
    RouterError,
    RouterTarget,
    read_identity,
    secret_unreadable_error,
)
from .selectors import MatchedBy, adoption_proposals, router_secrets_read

logger = logging.getLogger(__name__)

ROUTER_FIELDS = ("name", "host", "port", "use_tls", "verify_tls", "username", "timeout", "enabled")


class RouterBusy(Exception):
    """Another worker is polling or writing this router; try again shortly."""


# -- routers -----------------------------------------------------------------------------------
def _check_unique_router_name(tenant: Tenant, name: str, exclude_pk=None) -> None:
    clash = Router.objects.for_tenant(tenant).filter(name__iexact=name)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": _("A router with this name already exists.")})


def router_address_check(*, host: str, port: int) -> None:
    """The host must resolve, and only to addresses the outbound address policy allows (the
    poller checks again at every connection, as the name's answer may change). Raises a
    ValidationError on "host". The portal's form and the admin's both ask here."""
    try:
        outbound.check_host(host, port)
    except outbound.OutboundError as error:
        raise ValidationError({"host": error.message}) from error


def _check_address_allowed(router: Router) -> None:
    router_address_check(host=router.host, port=router.port)


def _address_needs_check(router: Router, previous: tuple[str, int]) -> bool:
    """Every save checks the address, except switching off a router whose address did not
    change: a router that is never connected to can always be disabled."""
    return router.enabled or previous != (router.host, router.port)


@transaction.atomic
def router_create(*, tenant: Tenant, actor=None, password: str, **fields) -> Router:
    _check_unique_router_name(tenant, fields["name"])
    router = Router(tenant=tenant, **{k: v for k, v in fields.items() if k in ROUTER_FIELDS})
    router.set_password(password)
    router.full_clean()
    _check_address_allowed(router)
    router.save()
    event_record(
        tenant=tenant,
        type="router.created",
        object_type="router",
        object_id=router.pk,
        actor=actor,
        description=stored_gettext(
            "Router %(name)s added (%(address)s)",
            name=router.name,
            address=f"{router.host}:{router.port}",
        ),
        payload={
            "router": router.pk,
            "name": router.name,
            "host": router.host,
            "port": router.port,
        },
    )
    return router


@transaction.atomic
def router_update(*, router: Router, actor=None, password: str | None = None, **fields) -> Router:
    """Change a router; an empty or missing `password` keeps the stored one. Only what changed
    is validated (a stored value today's rules refuse stays as it was; the address policy is
    checked on every save of an enabled router all the same); a save that changes nothing
    writes nothing."""
    changed = {
        name
        for name, value in fields.items()
        if name in ROUTER_FIELDS and getattr(router, name) != value
    }
    if not changed and not password:
        return router
    if "name" in changed:
        _check_unique_router_name(router.tenant, fields["name"], exclude_pk=router.pk)
    previous = (router.host, router.port)
    previous_values = {name: getattr(router, name) for name in changed}
    for name in changed:
        setattr(router, name, fields[name])
    if password:
        router.set_password(password)
        changed.add("password_encrypted")
    router.audit_due = True  # new address or credentials: check everything on the next poll
    full_clean_changed(router, changed)
    if _address_needs_check(router, previous):
        _check_address_allowed(router)
    router.save()
    if not router.enabled:
        # No longer polled: what was last seen is no longer known.
        PppoeAccount.objects.for_tenant(router.tenant).filter(router=router).exclude(
            status=ConnectionStatus.UNKNOWN
        ).update(status=ConnectionStatus.UNKNOWN, address="", caller_id="", uptime="")
        Router.objects.for_tenant(router.tenant).filter(pk=router.pk).update(
            is_reachable=None, sessions_online=None
        )
    fields = sorted("password" if name == "password_encrypted" else name for name in changed)
    event_record(
        tenant=router.tenant,
        type="router.updated",
        object_type="router",
        object_id=router.pk,
        actor=actor,
        description=stored_gettext(
            "Router %(name)s changed: %(fields)s",
            name=router.name,
            fields=[
                stored_gettext("password") if name == "password" else label
                for name, label in zip(fields, field_labels(Router, fields), strict=True)
            ],
        ),
        # The values, but never the password's.
        payload={
            "router": router.pk,
            "fields": fields,
            "changes": {
                name: {"old": str(previous_values[name]), "new": str(getattr(router, name))}
                for name in fields
                if name != "password"
            },
        },
    )
    return router


def router_test_connection(*, router: Router) -> tuple[str, str]:
    """(identity, version), or RouterError with the reason in plain words."""
    try:
        target = RouterTarget.of(router)
    except crypto.SecretUnreadable as exc:
        raise secret_unreadable_error() from exc
    return read_identity(target)


# -- PPPoE accounts ----------------------------------------------------------------------------
def _queue_sync(account: PppoeAccount) -> None:
    from .tasks import pppoe_account_sync  # the task calls these services: a circle

    account_id, tenant_id = account.pk, account.tenant_id
    transaction.on_commit(lambda: pppoe_account_sync.delay(account_id, tenant_id=tenant_id))


@transaction.atomic
def pppoe_account_save(
    *,
    tenant: Tenant,
    client: Client,
    router: Router,
    username: str,
    password: str | None = None,
    profile: str = "default",
    actor=None,
) -> PppoeAccount:
    """Create the client's PPPoE account or change it, and queue its provisioning as a
    /ppp/secret on the router. A new account needs a password; for a change an empty one keeps
    the stored password. Moving the account to another router makes that router's next poll
    remove the old secret (it is Clientdesk's, by its comment). An adopted account cannot move:
    its secret carries no mark, so no audit would remove it, and it would stay on the old router
    live and unmanaged."""
    if client.tenant_id != tenant.pk or router.tenant_id != tenant.pk:
        raise ValidationError(_("Select a valid choice from your own organisation."))
    account = (
        PppoeAccount.objects.for_tenant(tenant).select_for_update().filter(client=client).first()
    )
    clash = PppoeAccount.objects.for_tenant(tenant).filter(router=router, username=username)
    if account is not None:
        clash = clash.exclude(pk=account.pk)
    if clash.exists():
        raise ValidationError(
            {"username": _("This username is already used by another client on this router.")}
        )
    if account is None:
        if not password:
            raise ValidationError({"password": _("Set a password for the new account.")})
        account = PppoeAccount(tenant=tenant, client=client, router=router)
    elif account.router_id != router.pk:
        _check_movable(account)
        Router.objects.for_tenant(tenant).filter(pk=account.router_id).update(audit_due=True)
    given = {"router": router.pk, "username": username, "profile": profile or "default"}
    changed = {
        name
        for name, value in given.items()
        if account.pk is None
        or getattr(account, f"{name}_id" if name == "router" else name) != value
    }
    created = account.pk is None
    previous = {
        name: getattr(account, f"{name}_id" if name == "router" else name) for name in given
    }
    account.router = router
    account.username = username
    account.profile = given["profile"]
    if password:
        account.set_password(password)
        changed.add("password_encrypted")
    account.sync_state = SyncState.PENDING
    account.sync_version = (account.sync_version or 0) + 1 if account.pk else 1
    # Only what changed is validated: a username imported under older rules stays as it was.
    if account.pk is None:
        account.full_clean(exclude=["client"])
    else:
        full_clean_changed(account, changed, exclude=["client"])
    account.save()
    if created:
        _pppoe_account_created_record(account, actor=actor)
    elif changed:
        _pppoe_account_updated_record(account, previous, changed, actor=actor)
    _queue_sync(account)
    logger.info(
        "PPPoE account %s of client %s saved by %s",
        account.pk,
        client.pk,
        getattr(actor, "pk", None),
    )
    return account


def _pppoe_account_created_record(account: PppoeAccount, *, actor) -> None:
    """pppoe_account.created: where and under which name, never the password."""
    event_record(
        tenant=Tenant(pk=account.tenant_id),
        type="pppoe_account.created",
        client_id=account.client_id,
        object_type="pppoe_account",
        object_id=account.pk,
        actor=actor,
        description=stored_gettext(
            "PPPoE account %(username)s added on router %(router)s",
            username=account.username,
            router=account.router.name,
        ),
        payload={
            "account": account.pk,
            "router": account.router_id,
            "username": account.username,
            "profile": account.profile,
        },
    )


def _pppoe_account_updated_record(
    account: PppoeAccount, previous: dict, changed: set[str], *, actor
) -> None:
    """pppoe_account.updated: the old and new value of each field that changed; a new
    password is named among the fields, its value never written."""
    fields = sorted("password" if name == "password_encrypted" else name for name in changed)
    labels = [
        stored_gettext("password") if name == "password" else _FIELD_LABELS[name] for name in fields
    ]
    event_record(
        tenant=Tenant(pk=account.tenant_id),
        type="pppoe_account.updated",
        client_id=account.client_id,
        object_type="pppoe_account",
        object_id=account.pk,
        actor=actor,
        description=stored_gettext(
            "PPPoE account %(username)s changed: %(fields)s",
            username=account.username,
            fields=labels,
        ),
        payload={
            "account": account.pk,
            "fields": fields,
            "changes": {
                name: {
                    "old": previous[name],
                    "new": getattr(account, f"{name}_id" if name == "router" else name),
                }
                for name in fields
                if name != "password"
            },
            "password_changed": "password" in fields,
        },
    )


_FIELD_LABELS = {
    "router": gettext_lazy("router"),
    "username": gettext_lazy("PPPoE username"),
    "profile": gettext_lazy("profile"),
}


def _check_movable(account: PppoeAccount) -> None:
    if account.router_secret_id:
        old = Router.objects.for_tenant(Tenant(pk=account.tenant_id)).get(pk=account.router_id)
        raise ValidationError(
            {
                "router": _(
                    "This account was adopted from its secret on “%(router)s” and cannot move "
                    "to another router: that secret would stay on “%(router)s”, live and no "
                    "longer managed by Clientdesk."
                )
                % {"router": old.name}
            }
        )


@transaction.atomic
def pppoe_account_set_access(
    account: PppoeAccount, enabled: bool, reason: str = "", *, actor=None
) -> PppoeAccount:
    """The enforcement of holds and expiry: `enabled=False` disables the client's /ppp/secret
    and removes its session, `enabled=True` enables it again. Recorded as the desired state at
    once; the router follows through a task with retries and, failing that, the next poll.
    Setting the state it already has changes nothing."""
    accounts = PppoeAccount.objects.for_tenant(Tenant(pk=account.tenant_id))
    current = accounts.select_for_update().get(pk=account.pk)
    reason = (reason or "")[:200]
    if current.enabled == enabled and (enabled or current.disabled_reason == reason):
        return current
    current.enabled = enabled
    current.disabled_reason = "" if enabled else reason
    current.sync_state = SyncState.PENDING
    current.sync_version = F("sync_version") + 1
    current.save(
        update_fields=["enabled", "disabled_reason", "sync_state", "sync_version", "updated_at"]
    )
    current.refresh_from_db(fields=["sync_version"])
    _queue_sync(current)
    logger.info(
        "PPPoE account %s %s (%s) by %s",
        current.pk,
        "enabled" if enabled else "disabled",
        reason or "no reason given",
        getattr(actor, "pk", None),
    )
    return current


def client_set_router_access(*, client: Client, enabled: bool, reason: str = "") -> bool:
    """For the holds and expiry jobs: apply `enabled` to the client's account, if it has
    one. Returns whether there was an account."""
    account = (
        PppoeAccount.objects.for_tenant(Tenant(pk=client.tenant_id)).filter(client=client).first()
    )
    if account is None:
        return False
    pppoe_account_set_access(account, enabled, reason)
    return True


def pppoe_account_push(*, account: PppoeAccount) -> bool:
    """Bring the router in line with this one account now (the enforcement task): provision or
    update its secret, and remove its session when disabled. Returns True when the router was
    written; raises RouterError when it cannot be reached (the task retries) and RouterBusy
    while a poll holds the router (the poll or a retry applies the change)."""
    tenant = Tenant(pk=account.tenant_id)
    router = Router.objects.for_tenant(tenant).get(pk=account.router_id)
    if not router.enabled:
        return False
    with router_locks([router.pk]) as held:
        if not held:
            raise RouterBusy(f"Router {router.pk} is being polled.")
        fresh = PppoeAccount.objects.for_tenant(tenant).filter(pk=account.pk).first()
        if fresh is None or fresh.router_id != router.pk:
            return False
        if fresh.sync_state == SyncState.SYNCED and fresh.enabled:
            return False
        want = DesiredSecret(
            account_id=fresh.pk,
            username=fresh.username,
            profile=fresh.profile,
            enabled=fresh.enabled,
            pending=True,
            version=fresh.sync_version,
            password=fresh.password or None,
            secret_id=fresh.router_secret_id,
        )
        target = RouterTarget.of(router)
        with RouterConnection(target, deadline=time.monotonic() + 3 * target.timeout) as conn:
            result = reconcile(conn, [want])
        accounts = PppoeAccount.objects.for_tenant(tenant).filter(pk=fresh.pk)
        if fresh.pk in result.errors:
            accounts.update(sync_state=SyncState.ERROR, sync_error=result.errors[fresh.pk])
            return False
        accounts.filter(sync_version=want.version).update(
            sync_state=SyncState.SYNCED, sync_error=EMPTY_TEXT, synced_at=timezone.now()
        )
        if want.username in result.kicked:  # it was online until now
            accounts.update(
                status=ConnectionStatus.OFFLINE,
                last_seen_at=timezone.now(),
                address="",
                caller_id="",
                uptime="",
            )
        return True


# -- adopting the secrets already on a router --------------------------------------------------
ADOPTION_CHUNK = 200
# The disabled reason of a secret adopted disabled (shown as "disabled on the router").
ADOPTED_DISABLED = "disabled_on_router"


# The lock that makes a tenant's adoptions (on any of its routers) run one chunk at a time.
ADOPTION_LOCKS = lock_namespace("routers.adoption")
# How often a chunk is matched again after a concurrent write took one of its clients or
# usernames; past that its secrets are refused, to be adopted by another try.
ADOPTION_ATTEMPTS = 3
ADOPTION_RACED = stored_gettext(
    "A PPPoE account was saved for its client or name meanwhile: review it again."
)


@dataclass
class AdoptionResult:
    """What an adoption did: the secrets adopted (name, client number), how many clients it
    created, the secrets refused with their reasons (stored messages), and the selected secrets
    that are no longer the router's own (adopted meanwhile, or removed from the router)."""

    adopted: list[tuple[str, int]] = field(default_factory=list)
    clients_created: int = 0
    refused: list[tuple[str, StoredText]] = field(default_factory=list)
    gone: int = 0


class AdoptionRunning(Exception):
    """An adoption of this router's secrets is already queued or running: no second one."""

    def __init__(self, job: RouterAdoption) -> None:
        super().__init__(f"RouterAdoption {job.pk} is {job.status}")
        self.job = job


def router_adoption_start(
    *, tenant: Tenant, router: Router, actor, secret_ids: Collection[str]
) -> RouterAdoption:
    """Record the adoption of the secrets the operator reviewed and confirmed (`secret_ids`,
    RouterOS `.id`s; a secret added to the router since is never adopted) and queue it after
    the commit; the worker's part is `router_adoption_execute`. Raises AdoptionRunning, with
    the adoption under way, while one of this router is queued or running (the partial unique
    constraint decides between two confirmations at once)."""
    if router.tenant_id != tenant.pk:
        raise ValidationError(_("Select a valid choice from your own organisation."))
    adoptions = RouterAdoption.objects.for_tenant(tenant)
    ids = list(dict.fromkeys(secret_ids))
    try:
        with transaction.atomic():
            job = adoptions.create(
                tenant=tenant, router=router, created_by=actor, secret_ids=ids, total=len(ids)
            )
    except IntegrityError:
        running = adoptions.filter(router=router, status__in=ADOPTION_ACTIVE).first()
        if running is None:  # it finished between the INSERT and this read
            return router_adoption_start(
                tenant=tenant, router=router, actor=actor, secret_ids=secret_ids
            )
        raise AdoptionRunning(running) from None
    transaction.on_commit(lambda: _adoption_queue(job))
    return job


def _adoption_queue(job: RouterAdoption) -> None:
    from .tasks import router_adoption_run  # the task calls these services: a circle

    router_adoption_run.delay(job.pk, tenant_id=job.tenant_id)


def router_adoption_recover(*, job: RouterAdoption, lease: Lease, now) -> str:
    """The sweep found the adoption's lease expired: queue it again (it resumes after its
    last committed chunk), or fail it once it was interrupted LEASE_MAX_ATTEMPTS times."""
    return lease_requeue_or_fail(lease, now, queue=lambda: _adoption_queue(job))


class AdoptionNotAllowed(WorkStopped):
    """The operator who confirmed the adoption may no longer adopt: it fails with this."""


ADOPTION_REASONS = (
    (RouterError, lambda error: error.text),  # the router cannot be read (or is disabled)
)


def router_adoption_execute(
    *, job: RouterAdoption, chunk_size: int = ADOPTION_CHUNK
) -> RouterAdoption:
    """The worker's part: claim the adoption (or take over one whose worker died), read the
    router once, and adopt the reviewed secrets after `secrets_done`, a chunk a transaction.
    Each becomes a PppoeAccount of the client it matches (selectors.adoption_proposals) or of
    a new client made through `client_create` (a number, an account, its event), with the
    secret's name, password, profile and state (a disabled secret: the account disabled,
    "disabled on the router"), Synced, as the router already holds it. A client on hold gets
    its account disabled for the hold, as the holds app leaves the account of a held client,
    and the secret is disabled on the router by the queued sync.

    The secret is otherwise never written: the mark that makes it Clientdesk's is kept on our
    side, as its `.id` in `router_secret_id`, and its comment stays as it was. Reconciliation
    and enforcement find the secret by that id (reconcile.DesiredSecret.secret_id) and change
    it from then on like any of Clientdesk's; the full audit never removes it as an orphan.

    Running it twice, twice at once, or again after a worker was killed adopts each secret
    once: the claim lets one worker hold the job, each chunk starts from the `secrets_done` it
    reads under the job's row lock and commits its accounts with the new `secrets_done`, and a
    worker that lost its lease writes nothing. A refused secret never stops the others; a
    PPPoE account saved by hand meanwhile for a chunk's client or name (the form does not take
    the lock) makes that chunk roll back to its savepoint and match again: the secret that
    lost is refused with the reason. A router that cannot be read fails the adoption with the
    reason (the chunks before it stay adopted)."""
    return leased_job_run(
        job,
        lambda job, lease: _adoption_run(job, lease, chunk_size),
        label=f"Router adoption {job.pk}",
        failed=stored_gettext(
            "The adoption failed. Please try again; if it fails again, contact support."
        ),
        reasons=ADOPTION_REASONS,
    )


def _adoption_creator_allowed(job: RouterAdoption) -> None:
    """The right is checked again when the work starts: a role taken away meanwhile fails the
    adoption and changes nothing."""
    if job.created_by_id is None:  # started without an operator (a script, a test)
        return
    membership = Membership.objects.for_tenant(job.tenant).filter(user_id=job.created_by_id).first()
    if membership is None or not membership.allows(Capability.MANAGE_ROUTERS):
        raise AdoptionNotAllowed(
            stored_gettext("The operator who confirmed this adoption may no longer adopt.")
        )


def _adoption_run(job: RouterAdoption, lease: Lease, chunk_size: int) -> None:
    """The router is read live once, outside any transaction (again by a worker that takes
    over); each chunk is then matched against the database inside its transaction, holding
    the tenant's adoption lock, so that adoptions on any of the tenant's routers run one chunk
    at a time and a secret adopted meanwhile counts as no longer the router's own."""
    tenant, router = job.tenant, Router.objects.for_tenant(job.tenant).get(pk=job.router_id)
    _adoption_creator_allowed(job)
    on_router = {s.secret_id: s for s in router_secrets_read(router)}
    while True:
        with transaction.atomic():
            advisory_xact_lock(ADOPTION_LOCKS, tenant.pk)
            done = lease.rows().select_for_update().values_list("secrets_done", flat=True).first()
            if done is None:
                raise LeaseLost(f"RouterAdoption {job.pk}")
            ids = job.secret_ids[done : done + chunk_size]
            if not ids:
                break
            chunk = AdoptionResult(gone=sum(1 for i in ids if i not in on_router))
            secrets = [on_router[i] for i in ids if i in on_router]
            _adopt_chunk(tenant, router, job.created_by, secrets, chunk)
            _adoption_chunk_record(job, lease, done + len(ids), chunk)
    if not lease_finish(lease, status=AdoptionStatus.DONE):
        raise LeaseLost(f"RouterAdoption {job.pk}")
    logger.info(
        "Router %s: %s secrets adopted by %s",
        router.pk,
        len(job.adopted),
        job.created_by_id,
    )


def _adoption_chunk_record(job: RouterAdoption, lease: Lease, done: int, chunk) -> None:
    """The chunk's outcome and the new `secrets_done`, in the chunk's transaction, under the
    lease (the row is locked: nobody else moves it meanwhile)."""
    job.adopted = job.adopted + [list(pair) for pair in chunk.adopted]
    job.refused = job.refused + [[name, encode_param(reason)] for name, reason in chunk.refused]
    job.clients_created += chunk.clients_created
    job.gone += chunk.gone
    job.secrets_done = done
    lease_renew(
        lease,
        secrets_done=done,
        adopted=job.adopted,
        refused=job.refused,
        clients_created=job.clients_created,
        gone=job.gone,
    )


@transaction.atomic
def _adopt_chunk(tenant: Tenant, router: Router, actor, secrets, result: AdoptionResult) -> None:
    advisory_xact_lock(ADOPTION_LOCKS, tenant.pk)
    for _attempt in range(ADOPTION_ATTEMPTS):
        chunk = AdoptionResult()
        try:
            with transaction.atomic():
                _adopt_matched(tenant, router, actor, secrets, chunk)
        except IntegrityError:
            continue  # rolled back to the savepoint: match again, the winner now visible
        result.adopted += chunk.adopted
        result.clients_created += chunk.clients_created
        result.refused += chunk.refused
        result.gone += chunk.gone
        return
    result.refused += [(secret.name, ADOPTION_RACED) for secret in secrets]


def _adopt_matched(tenant: Tenant, router: Router, actor, secrets, result: AdoptionResult) -> None:
    proposals = adoption_proposals(tenant=tenant, router=router, secrets=secrets)
    # Adopted by another operator since the router was read: not foreign any more.
    result.gone += len({s.secret_id for s in secrets} - {p.secret.secret_id for p in proposals})
    held = _held_clients(tenant, proposals)
    now = timezone.now()
    accounts, matched_by = [], {}
    for proposal in proposals:
        secret = proposal.secret
        if not proposal.adoptable:
            result.refused.append((secret.name, proposal.refused))
            continue
        client = proposal.client
        if client is None:
            try:
                client = client_create(tenant=tenant, actor=actor, name=proposal.new_client_name)
            except ValidationError as error:
                result.refused.append(
                    (
                        secret.name,
                        stored_gettext(
                            "No client could be made: %(error)s",
                            error=validation_message(error),
                        ),
                    )
                )
                continue
            result.clients_created += 1
        account = _adopted_account(tenant, router, client, secret, now, on_hold=client.pk in held)
        accounts.append(account)
        matched_by[secret.secret_id] = proposal.matched_by
        result.adopted.append((secret.name, client.number))
    PppoeAccount.objects.bulk_create(accounts)
    for account in accounts:
        if account.sync_state == SyncState.PENDING:
            _queue_sync(account)
    events_record_bulk(
        tenant=tenant,
        lines=[_adopted_event(a, router, matched_by[a.router_secret_id], actor) for a in accounts],
    )


def _held_clients(tenant: Tenant, proposals) -> set[int]:
    """The matched clients on hold, their rows locked: a hold placed meanwhile either commits
    first (and is seen here) or waits for this adoption (and then finds the account to
    disable)."""
    ids = {p.client.pk for p in proposals if p.adoptable and p.client is not None}
    if not ids:
        return set()
    return set(
        Client.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk__in=ids, status__in=HOLD_STATUSES)
        .values_list("pk", flat=True)
    )


def _adopted_account(
    tenant: Tenant, router: Router, client: Client, secret, now, *, on_hold: bool
) -> PppoeAccount:
    """The account of an adopted secret in the state the router holds it, except for a client
    on hold: disabled for the hold and Pending, for the sync to disable the secret."""
    if on_hold:
        enabled, reason = False, HOLD_ACCESS_REASON
    else:
        enabled, reason = not secret.disabled, ADOPTED_DISABLED if secret.disabled else ""
    account = PppoeAccount(
        tenant=tenant,
        client=client,
        router=router,
        username=secret.name,
        profile=secret.profile,
        enabled=enabled,
        disabled_reason=reason,
        sync_state=SyncState.PENDING if on_hold else SyncState.SYNCED,
        sync_version=1,
        synced_at=None if on_hold else now,
        router_secret_id=secret.secret_id,
        adopted_at=now,
    )
    account.set_password(secret.password)
    return account


def _adopted_event(account: PppoeAccount, router: Router, matched_by: str, actor) -> EventLine:
    """The adoption's event; `matched_by` a MatchedBy value, its label read in the reader's
    language (the payload keeps the value; "new client" when none matched)."""
    match = MatchedBy(matched_by) if matched_by in MatchedBy.values else MatchedBy.NEW
    return EventLine(
        type="pppoe_account.adopted",
        client_id=account.client_id,
        object_type="pppoe_account",
        object_id=account.pk,
        description=stored_gettext(
            "PPPoE account %(login)s adopted from router %(router)s (%(matched_by)s)",
            login=account.username,
            router=router.name,
            matched_by=match.label,
        ),
        payload={
            "router": router.pk,
            "username": account.username,
            "secret": account.router_secret_id,
            "matched_by": matched_by or "new client",
            "enabled": account.enabled,
        },
        actor=actor,
    )
