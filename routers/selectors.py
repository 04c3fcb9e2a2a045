"""Reads that more than one view needs: the client's connection (the Connection tab and the
Connection details block of the client page), the Routers page's queryset, and what adopting
a router's own secrets would do (read live from the router, matched to clients)."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy, pgettext_lazy

from clients.models import HOLD_STATUSES, Client, ClientStatus
from clients.signals import access_reason_label
from core import crypto
from core.stored_text import EMPTY_TEXT, StoredText, stored_gettext, validation_message
from core.text import clean_text
from subscriptions.selectors import client_current_subscriptions
from tenancy.models import Tenant
from tenancy.modules import INTERNET, uses_any

from .availability import why_unavailable
from .models import (
    ConnectionStatus,
    PollErrorKind,
    PppoeAccount,
    Router,
    pppoe_profile_validator,
    pppoe_username_validator,
)
from .reconcile import SECRET_PATH, account_id_of, is_disabled
from .routeros import RouterConnection, RouterError, RouterTarget, secret_unreadable_error
from .tables import connection_status_html


@dataclass(frozen=True)
class Connection:
    """What the Connection block shows."""

    account: PppoeAccount | None
    username: str = ""
    server: str = ""
    status: str = ""
    status_label: str = ""
    last_seen: datetime | None = None
    checked_at: datetime | None = None
    address: str = ""
    caller_id: str = ""
    uptime: str = ""
    enabled: bool = True
    disabled_reason: str = ""
    unavailable_reason: str = ""  # set when the status is Unknown
    router_error: str = ""

    @property
    def exists(self) -> bool:
        return self.account is not None

    @property
    def status_html(self) -> str:
        return connection_status_html(self.status)


def connection_of_account(account: PppoeAccount | None) -> Connection:
    if account is None:
        return Connection(account=None)
    router = account.router
    status = account.status
    why = why_unavailable(account)
    return Connection(
        account=account,
        username=account.username,
        server=f"{router.name} ({router.address})",
        status=status,
        status_label=str(account.get_status_display()),
        last_seen=account.last_seen_at,
        checked_at=account.checked_at,
        address=account.address,
        caller_id=account.caller_id,
        uptime=account.uptime,
        enabled=account.enabled,
        disabled_reason=access_reason_label(account.disabled_reason),
        unavailable_reason=why.reason if why else "",
        router_error=str(router.last_error) if status == ConnectionStatus.UNKNOWN else "",
    )


def account_of_client(client) -> PppoeAccount | None:
    """One query: the client's PPPoE account with its router, or None."""
    return (
        PppoeAccount.objects.for_tenant(Tenant(pk=client.tenant_id))
        .select_related("router")
        .filter(client_id=client.pk)
        .first()
    )


def connection_for_client(client) -> Connection:
    return connection_of_account(account_of_client(client))


def client_package_profile(client) -> str:
    """A new account's profile: the PPPoE profile of the client's current package."""
    for subscription in client_current_subscriptions(client=client):
        if subscription.package.pppoe_profile:
            return subscription.package.pppoe_profile
    return "default"


def client_connection_provider(request, client) -> Connection | None:
    """For the client page's Connection details block (contributions.py): None when the tenant
    does not use routers or the client has no account ("no router is assigned")."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not uses_any(tenant, {INTERNET}):
        return None
    connection = connection_for_client(client)
    return connection if connection.exists else None


def routers_for_page(tenant: Tenant):
    return Router.objects.for_tenant(tenant).annotate(accounts_count=Count("accounts"))


# -- adopting the secrets already on a router ------------------------------------------------
# What a secret may be adopted as: a PPPoE account (the secrets of other services stay alone).
ADOPTABLE_SERVICES = frozenset({"any", "pppoe"})
SECRET_READ_KEYS = (".id", "name", "password", "profile", "disabled", "comment", "service")
COMMENT_NUMBER = re.compile(r"^#?\s*(\d{1,18})$")


class MatchedBy(models.TextChoices):
    """How a secret found its client; NEW: no client matched, adoption creates one."""

    USERNAME = "username", pgettext_lazy("adoption matched by", "username")
    LOGIN = "login", pgettext_lazy("adoption matched by", "login")
    COMMENT = "comment", pgettext_lazy("adoption matched by", "comment")
    NEW = "", gettext_lazy("new client")


@dataclass(frozen=True)
class RouterSecret:
    """One /ppp/secret as the router holds it (never its password in repr)."""

    secret_id: str
    name: str
    profile: str
    disabled: bool
    comment: str
    service: str
    password: str = field(default="", repr=False)


@dataclass
class SecretProposal:
    """What adopting one secret would do: the client it joins (None: a new client, named
    `new_client_name`), how it was matched, or why it is refused (a stored message: the
    adoption keeps it, read later in each reader's language)."""

    secret: RouterSecret
    client: Client | None = None
    matched_by: str = MatchedBy.NEW
    refused: StoredText = EMPTY_TEXT

    @property
    def adoptable(self) -> bool:
        return not self.refused

    @property
    def matched_by_label(self) -> str:
        return MatchedBy(self.matched_by).label

    @property
    def client_on_hold(self) -> bool:
        """The client is on hold: its adopted account is disabled, and so is the secret."""
        return self.client is not None and self.client.status in HOLD_STATUSES

    @property
    def new_client_name(self) -> str:
        return (self.secret.comment or self.secret.name)[:200]


def router_secrets_read(router: Router) -> list[RouterSecret]:
    """The router's /ppp/secret, read live (one print), by name; RouterError in plain words when
    the router cannot be read."""
    if not router.enabled:
        raise RouterError(
            PollErrorKind.CONFIG,
            stored_gettext(
                "“%(name)s” is disabled in Clientdesk: enable it to read its secrets.",
                name=router.name,
            ),
        )
    try:
        target = RouterTarget.of(router)
    except crypto.SecretUnreadable as exc:
        raise secret_unreadable_error() from exc
    with RouterConnection(target, deadline=time.monotonic() + 3 * target.timeout) as conn:
        rows = conn.select(SECRET_PATH, SECRET_READ_KEYS)
    secrets = [
        RouterSecret(
            secret_id=str(row[".id"]),
            name=str(row.get("name", "")),
            profile=str(row.get("profile", "") or "default"),
            disabled=is_disabled(row),
            comment=clean_text(str(row.get("comment", "") or ""), single_line=True).strip(),
            service=str(row.get("service", "any") or "any"),
            password=str(row.get("password", "") or ""),
        )
        for row in rows
        if ".id" in row
    ]
    return sorted(secrets, key=lambda s: (s.name.lower(), s.secret_id))


def _owned_secret_ids(tenant: Tenant, router: Router) -> set[str]:
    return set(
        PppoeAccount.objects.for_tenant(tenant)
        .filter(router=router)
        .exclude(router_secret_id="")
        .values_list("router_secret_id", flat=True)
    )


def foreign_secrets(tenant: Tenant, router: Router, secrets: list[RouterSecret]):
    """The secrets no PPPoE account owns: neither marked by Clientdesk in their comment (its
    own, or orphans the next audit removes) nor adopted before (their `.id` recorded)."""
    owned = _owned_secret_ids(tenant, router)
    return [s for s in secrets if account_id_of(s.comment) is None and s.secret_id not in owned]


def _refusal_of_secret(secret: RouterSecret, taken: dict[str, tuple]) -> StoredText:
    """Why the secret cannot be adopted whatever it matches (empty text: it can)."""
    if secret.service not in ADOPTABLE_SERVICES:
        return stored_gettext("Its service is %(service)s, not PPPoE.", service=secret.service)
    if secret.name in taken:
        number, router_name = taken[secret.name]
        return stored_gettext(
            "“%(name)s” is already the PPPoE account of client #%(number)s on %(router)s.",
            name=secret.name,
            number=number,
            router=router_name,
        )
    for value, validator, too_long, refused in (
        (
            secret.name,
            pppoe_username_validator,
            stored_gettext("Its name is longer than 64 characters."),
            lambda error: stored_gettext("Its name cannot be kept: %(error)s", error=error),
        ),
        (
            secret.profile,
            pppoe_profile_validator,
            stored_gettext("Its profile is longer than 64 characters."),
            lambda error: stored_gettext("Its profile cannot be kept: %(error)s", error=error),
        ),
    ):
        if len(value) > 64:
            return too_long
        try:
            validator(value)
        except ValidationError as error:
            return refused(validation_message(error))
    return EMPTY_TEXT


def _candidate_clients(tenant: Tenant, secrets: list[RouterSecret]) -> list[Client]:
    """In one query, every live client a secret could name by its number, external reference,
    login or (in its comment) name, with the username of its PPPoE account if it has one."""
    names = {s.name for s in secrets}
    comments = {s.comment for s in secrets if s.comment}
    numbers = {int(m.group(1)) for text in names | comments if (m := COMMENT_NUMBER.match(text))}
    logins = names | {f"+{n}" for n in names if n.isdigit()}
    return list(
        Client.objects.for_tenant(tenant)
        .exclude(status=ClientStatus.DELETED)
        .annotate(name_lower=Lower("name"), account_username=F("pppoe_account__username"))
        .filter(
            Q(number__in=numbers)
            | Q(external_ref__in=(names | comments) - {""})
            | Q(login__in=logins - {"", "+"})
            | Q(name_lower__in={c.lower() for c in comments})
        )
        .only("id", "number", "name", "external_ref", "login", "status", "tenant_id")
    )


class _ClientIndex:
    """The candidate clients by each key a secret may match."""

    def __init__(self, clients: list[Client]) -> None:
        self.by_number = {c.number: c for c in clients}
        self.by_ref: dict[str, list[Client]] = defaultdict(list)
        self.by_login: dict[str, list[Client]] = defaultdict(list)
        self.by_name: dict[str, list[Client]] = defaultdict(list)
        for c in clients:
            if c.external_ref:
                self.by_ref[c.external_ref].append(c)
            if c.login:
                self.by_login[c.login].append(c)
            self.by_name[c.name_lower].append(c)

    def number(self, text: str) -> list[Client]:
        match = COMMENT_NUMBER.match(text)
        client = self.by_number.get(int(match.group(1))) if match else None
        return [client] if client else []

    def by_username(self, secret: RouterSecret) -> list[Client]:
        return _distinct(self.by_ref.get(secret.name, []) + self.number(secret.name))

    def by_login_of(self, secret: RouterSecret) -> list[Client]:
        plus = self.by_login.get(f"+{secret.name}", []) if secret.name.isdigit() else []
        return _distinct(self.by_login.get(secret.name, []) + plus)

    def by_comment(self, secret: RouterSecret) -> list[Client]:
        if not secret.comment:
            return []
        found = self.number(secret.comment) or self.by_ref.get(secret.comment, [])
        return _distinct(found or self.by_name.get(secret.comment.lower(), []))


def _distinct(clients: list[Client]) -> list[Client]:
    return list({c.pk: c for c in clients}.values())


def _match(proposal: SecretProposal, index: _ClientIndex) -> None:
    secret = proposal.secret
    for matched_by, found in (
        (MatchedBy.USERNAME, index.by_username(secret)),
        (MatchedBy.LOGIN, index.by_login_of(secret)),
        (MatchedBy.COMMENT, index.by_comment(secret)),
    ):
        if len(found) > 1:
            numbers = ", ".join(f"#{c.number}" for c in sorted(found, key=lambda c: c.number))
            proposal.refused = stored_gettext(
                "Its %(key)s matches several clients (%(numbers)s).",
                key=matched_by.label,
                numbers=numbers,
            )
            return
        if found:
            proposal.client, proposal.matched_by = found[0], matched_by
            if found[0].account_username:
                proposal.refused = stored_gettext(
                    "Client #%(number)s already has the PPPoE account “%(username)s”.",
                    number=found[0].number,
                    username=found[0].account_username,
                )
            return


def adoption_proposals(
    *, tenant: Tenant, router: Router, secrets: list[RouterSecret]
) -> list[SecretProposal]:
    """What adopting each foreign secret would do, in three queries whatever their number.
    A secret is matched to a live client by its name (the client's external reference or
    Client ID: "username"), then by its name as the client's login (with or without the
    leading +: "login"), then by its comment (Client ID, external reference or the client's
    name, letter case aside: "comment"); no match proposes a new client named after the
    comment (or the name). Refused, with the reason: a name that is already a PPPoE account
    anywhere in the tenant, a service other than PPPoE, a name or profile the portal cannot
    keep, a match of several clients, a client that already has a PPPoE account, and a client
    that an earlier secret (by name) already takes."""
    secrets = foreign_secrets(tenant, router, secrets)
    if not secrets:
        return []
    taken = {
        username: (number, router_name)
        for username, number, router_name in PppoeAccount.objects.for_tenant(tenant)
        .filter(username__in={s.name for s in secrets})
        .values_list("username", "client__number", "router__name")
    }
    index = _ClientIndex(_candidate_clients(tenant, secrets))
    proposals, claimed = [], {}
    for secret in secrets:
        proposal = SecretProposal(secret=secret, refused=_refusal_of_secret(secret, taken))
        if proposal.adoptable:
            _match(proposal, index)
        if proposal.adoptable and proposal.client is not None:
            if proposal.client.pk in claimed:
                proposal.refused = stored_gettext(
                    "Client #%(number)s is taken by the secret “%(secret)s”.",
                    number=proposal.client.number,
                    secret=claimed[proposal.client.pk],
                )
            else:
                claimed[proposal.client.pk] = secret.name
        proposals.append(proposal)
    return proposals
