"""Writes with business rules for tenants, operators and their preferences."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from access.selectors import has_second_factor
from access.services import user_sessions_end_all
from core.stored_text import field_labels, stored_gettext
from core.text import REFUSED_PATTERN

from .models import (
    SAVED_VIEW_NAME_MAX,
    ApiIdempotencyRecord,
    ApiToken,
    Membership,
    OperatorProfile,
    SavedView,
    Tenant,
    TenantSequence,
)
from .roles import Capability, Role
from .selectors import api_token_with_tenant, saved_view_removable
from .signals import tenancy_change_record


def membership_save_preference(*, membership: Membership, key: str, value) -> None:
    """Store one preference; a row lock keeps two tabs saving at once from losing a key."""
    with transaction.atomic():
        locked = Membership.all_tenants.select_for_update().get(pk=membership.pk)
        preferences = dict(locked.preferences or {})
        if preferences.get(key) == value:
            return
        preferences[key] = value
        locked.preferences = preferences
        locked.save(update_fields=["preferences"])
    membership.preferences = preferences


def _active_owner_count(tenant: Tenant) -> int:
    return Membership.objects.for_tenant(tenant).filter(role=Role.OWNER, is_active=True).count()


def _check_keeps_an_owner(membership: Membership, *, role: str, is_active: bool) -> None:
    still_owner = role == Role.OWNER and is_active
    was_owner = membership.role == Role.OWNER and membership.is_active
    if was_owner and not still_owner and _active_owner_count(membership.tenant) <= 1:
        raise ValidationError(
            {"role": _("The tenant must keep at least one active owner.")}
            if role != Role.OWNER
            else {"is_active": _("The tenant must keep at least one active owner.")}
        )


LOGIN_NAME_MAX = 150  # auth_user.username


def operator_login(*, tenant: Tenant, name: str) -> str:
    """The login of an operator an owner adds: the typed name in the tenant's own namespace
    (`ivan` in tenant `northwind` logs in as `ivan@northwind`). Tenant slugs are unique, so
    whether a login is free depends only on this tenant's operators: the answer never tells an
    owner that a name exists in another tenant."""
    return f"{name}@{tenant.slug}"


def operator_name_max_length(tenant: Tenant) -> int:
    return LOGIN_NAME_MAX - len(operator_login(tenant=tenant, name=""))


@transaction.atomic
def operator_create(
    *,
    tenant: Tenant,
    actor,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    password: str,
) -> Membership:
    """Create a user, with a login in the tenant's namespace, and their membership."""
    if "@" in username:
        raise ValidationError({"username": _("Type the name without @: the tenant is added.")})
    login = operator_login(tenant=tenant, name=username)
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=login).exists():
        raise ValidationError(
            {"username": _("This tenant already has an operator %(login)s.") % {"login": login}}
        )
    user = user_model(username=login, email=email, first_name=first_name, last_name=last_name)
    user.set_password(password)
    user.full_clean()
    user.save()
    membership = Membership.objects.for_tenant(tenant).create(tenant=tenant, user=user, role=role)
    _record_operator(
        membership,
        actor=actor,
        type="operator.invited",
        description=stored_gettext(
            "Operator %(login)s invited as %(role)s", login=login, role=Role(role).label
        ),
        payload={"role": role},
    )
    return membership


def _record_operator(membership: Membership, *, actor, type: str, description, payload):  # noqa: A002
    tenancy_change_record(
        tenant=membership.tenant,
        actor=actor,
        type=type,
        description=description,
        object_type="operator",
        object_id=membership.pk,
        payload={"user": membership.user_id, "login": membership.user.username, **payload},
    )


def identity_is_shared(membership: Membership) -> bool:
    """Does this person's name and e-mail belong to more than this tenant? True when they also
    work in another tenant, or are staff: then only they (My account) or a superuser edit it."""
    user = membership.user
    if user.is_staff or user.is_superuser:
        return True
    return (
        Membership.all_tenants.filter(user_id=user.pk).exclude(tenant_id=membership.tenant_id)
    ).exists()


IDENTITY_FIELDS = ("first_name", "last_name", "email")


def _identity_changes(user, **values) -> dict:
    return {field: value for field, value in values.items() if getattr(user, field) != value}


@transaction.atomic
def operator_update(
    *,
    membership: Membership,
    actor,
    role: str,
    is_active: bool,
    email: str,
    first_name: str,
    last_name: str,
) -> Membership:
    """Change an operator's role, access and, when they belong to this tenant only, their name
    and e-mail (see identity_is_shared). Nobody deactivates or demotes themselves, and the
    tenant always keeps an active owner. Deactivation also revokes the API tokens they created
    here: a token must not outlive the access of the person who holds its secret."""
    membership = Membership.all_tenants.select_for_update().get(pk=membership.pk)
    if membership.user_id == actor.pk and (role != membership.role or not is_active):
        raise ValidationError(
            {"role": _("You cannot change your own role or deactivate yourself.")}
        )
    _check_keeps_an_owner(membership, role=role, is_active=is_active)
    user = get_user_model().objects.select_for_update().get(pk=membership.user_id)
    membership.user = user
    changes = _identity_changes(user, email=email, first_name=first_name, last_name=last_name)
    if changes and identity_is_shared(membership):
        raise ValidationError(
            dict.fromkeys(changes, _("This person also works elsewhere: only they can change it."))
        )
    deactivated = membership.is_active and not is_active
    reactivated = not membership.is_active and is_active
    old_role = membership.role
    membership.role = role
    membership.is_active = is_active
    membership.save(update_fields=["role", "is_active"])
    _identity_save(user, changes)
    login = user.username
    if role != old_role:
        _record_operator(
            membership,
            actor=actor,
            type="operator.role_changed",
            description=stored_gettext(
                "Operator %(login)s: role %(old)s → %(new)s",
                login=login,
                old=Role(old_role).label,
                new=Role(role).label,
            ),
            payload={"old": old_role, "new": role},
        )
    if changes:
        _record_operator(
            membership,
            actor=actor,
            type="operator.updated",
            description=stored_gettext(
                "Operator %(login)s edited: %(fields)s",
                login=login,
                fields=field_labels(get_user_model(), sorted(changes)),
            ),
            payload={"fields": sorted(changes)},
        )
    if deactivated:
        _sessions_end_if_nowhere_else(membership)
        revoked = _api_tokens_revoke_created_by(membership)
        _record_operator(
            membership,
            actor=actor,
            type="operator.deactivated",
            description=stored_gettext("Operator %(login)s deactivated", login=login),
            payload={"tokens_revoked": revoked},
        )
    if reactivated:
        _record_operator(
            membership,
            actor=actor,
            type="operator.reactivated",
            description=stored_gettext("Operator %(login)s reactivated", login=login),
            payload={},
        )
    return membership


def _api_tokens_revoke_created_by(membership: Membership) -> int:
    """Revoke the usable tokens this operator created in this tenant (their tokens elsewhere
    belong to tenants they still work in)."""
    return (
        ApiToken.objects.for_tenant(membership.tenant)
        .filter(created_by_id=membership.user_id, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )


def _sessions_end_if_nowhere_else(membership: Membership) -> None:
    """A deactivated operator who works nowhere else is signed out at once, everywhere. One who
    also works in another tenant keeps their sessions there: this tenant is closed to them
    from their next request (the tenant middleware reads active memberships only), and an
    owner here does not sign them out of another tenant's work."""
    user = membership.user
    elsewhere = (
        Membership.all_tenants.filter(user_id=user.pk, is_active=True, tenant__is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not elsewhere and not user.is_staff:
        user_sessions_end_all(user=user)


def tenant_names_requiring_two_factor(user) -> list[str]:
    """The tenants this person works in whose owners require a second factor."""
    return list(
        Membership.all_tenants.filter(
            user_id=user.pk, is_active=True, tenant__is_active=True, tenant__require_two_factor=True
        )
        .order_by("tenant__name")
        .values_list("tenant__name", flat=True)
    )


@transaction.atomic
def tenant_security_update(*, tenant: Tenant, actor, require_two_factor: bool) -> bool:
    """An owner requires (or stops requiring) two-factor authentication of every operator. An
    owner who has not set it up for themselves cannot require it: they would be the first one
    sent to set it up, in the middle of their work. Returns whether anything changed."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.require_two_factor == require_two_factor:
        return False
    if require_two_factor and not has_second_factor(actor):
        raise ValidationError(
            {
                "require_two_factor": _(
                    "Set up two-factor authentication for yourself first "
                    "(My account → Two-factor authentication)."
                )
            }
        )
    tenant.require_two_factor = require_two_factor
    tenant.save(update_fields=["require_two_factor"])
    tenancy_change_record(
        tenant=tenant,
        actor=actor,
        type="tenant.security_changed",
        description=(
            stored_gettext("Two-factor authentication required of every operator")
            if require_two_factor
            else stored_gettext("Two-factor authentication no longer required")
        ),
        object_type="tenant",
        object_id=tenant.pk,
        payload={"require_two_factor": require_two_factor},
    )
    return True


def _identity_save(user, changes: dict) -> None:
    if not changes:
        return
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=list(changes))


@transaction.atomic
def account_update(*, user, email: str, first_name: str, last_name: str):
    """A person changes their own name and e-mail (My account): what every tenant they work
    in shows."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    _identity_save(
        user, _identity_changes(user, email=email, first_name=first_name, last_name=last_name)
    )
    return user


def operator_language_set(*, user, language: str) -> str:
    """A person's own language of the portal, the same in every tenant ("" gives it back to
    the tenant's, else the browser's). Returns the stored language; the language already
    stored writes nothing."""
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError({"language": "Choose one of the languages offered."})
    if language != operator_language_get(user):  # saved unchanged: nothing written
        OperatorProfile.objects.update_or_create(user=user, defaults={"language": language})
    user.__dict__.pop("_operator_language", None)
    return language


def operator_language_get(user) -> str:
    """A person's own language, "" when they chose none."""
    found = OperatorProfile.objects.filter(user=user).values_list("language", flat=True).first()
    return found or ""


def tenant_next_number(*, tenant: Tenant, name: str, count: int = 1) -> int:
    """Reserve `count` numbers of the tenant's sequence `name`; returns the first. Joins the
    caller's transaction, so that a rolled-back insert gives its numbers back."""
    from django.db.models import F

    with transaction.atomic():
        sequence, _ = TenantSequence.objects.select_for_update().get_or_create(
            tenant=tenant, name=name
        )
        TenantSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + count)
    return sequence.last_value + 1


# -- API tokens --------------------------------------------------------------------------------
TOKEN_PREFIX = "cd_"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last use is written at most once a minute


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


@transaction.atomic
def api_token_create(
    *, tenant: Tenant, actor, name: str, scope: str, expires_at: datetime | None = None
) -> IssuedToken:
    """A new token for `tenant`; its secret is in the answer only."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        tenant=tenant,
        name=name.strip(),
        scope=scope,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(secret),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        expires_at=expires_at,
    )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("Choose a moment in the future.")})
    token.full_clean(exclude=["prefix", "digest"])
    token.save()
    _record_token(
        token,
        actor=actor,
        type="api_token.created",
        description=stored_gettext(
            "API token %(name)s (%(prefix)s…) created", name=token.name, prefix=token.prefix
        ),
        payload={
            "scope": token.scope,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return IssuedToken(token=token, secret=secret)


def _record_token(token: ApiToken, *, actor, type: str, description, payload):  # noqa: A002
    tenancy_change_record(
        tenant=token.tenant,
        actor=actor,
        type=type,
        description=description,
        object_type="api_token",
        object_id=token.pk,
        payload={"token": token.pk, "name": token.name, "prefix": token.prefix, **payload},
    )


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Revoke for good; revoking twice keeps the first moment."""
    locked = ApiToken.objects.for_tenant(token.tenant).select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        locked.tenant = token.tenant
        _record_token(
            locked,
            actor=actor,
            type="api_token.revoked",
            description=stored_gettext(
                "API token %(name)s (%(prefix)s…) revoked", name=locked.name, prefix=locked.prefix
            ),
            payload={},
        )
    return locked


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The usable token of `secret` (with its tenant), or None. Marks its last use."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = api_token_with_tenant(token_digest(secret))
    now = timezone.now()
    if token is None or not token.is_usable(now):
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken._base_manager.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# -- the API's idempotency records -------------------------------------------------------------
API_IDEMPOTENCY_PURGE_JOB = "api_idempotency_purge"  # the registered job (core/jobs.py)
IDEMPOTENCY_PURGE_BATCH = 5000


def api_idempotency_purge(*, tenant: Tenant, now: datetime | None = None) -> dict:
    """Delete the tenant's first answers kept for Idempotency-Key retries once they are older
    than `API_IDEMPOTENCY_KEEP_HOURS`, oldest first, IDEMPOTENCY_PURGE_BATCH rows a
    transaction: a killed run loses nothing but time (the next one goes on), rows another run
    is deleting are skipped (SKIP LOCKED), and a second run finds nothing left. A retry after
    that is answered as a new request; money writes still post once, since their keys are
    also the ledger's."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.API_IDEMPOTENCY_KEEP_HOURS)
    records = ApiIdempotencyRecord.objects.for_tenant(tenant)
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                records.filter(created_at__lt=cutoff)
                .order_by("created_at", "id")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:IDEMPOTENCY_PURGE_BATCH]
            )
            if batch:
                records.filter(pk__in=batch).delete()
        deleted += len(batch)
        if len(batch) < IDEMPOTENCY_PURGE_BATCH:
            return {"deleted": deleted}


# -- saved views of lists ------------------------------------------------------------------------
SAVED_VIEW_QUERY_MAX = SavedView._meta.get_field("query").max_length
_NAME_BREAKS = ("\t", "\n", "\r")


def saved_view_clean_name(name) -> str:
    """A view's name as its dropdown shows it: one line of visible text, at most 80
    characters; anything else is refused with a message for the name's field."""
    if not isinstance(name, str):
        raise ValidationError({"name": _("Give the view a name.")})
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if REFUSED_PATTERN.search(name) or any(ch in name for ch in _NAME_BREAKS):
        raise ValidationError({"name": _("A name is one line of visible characters.")})
    if len(name) > SAVED_VIEW_NAME_MAX:
        raise ValidationError(
            {
                "name": _("At most %(max)s characters (this one has %(length)s).")
                % {"max": SAVED_VIEW_NAME_MAX, "length": len(name)}
            }
        )
    return name


# Where one was in the list, which view was applied and the page size (saved on its own): not
# part of what a view shows.
SAVED_VIEW_LEFT_OUT = ("page", "view", "per_page")


def saved_view_clean_query(query: str) -> str:
    data = QueryDict(query or "", mutable=True)
    for name in SAVED_VIEW_LEFT_OUT:
        data.pop(name, None)
    return data.urlencode()


def saved_view_create(
    *,
    tenant: Tenant,
    actor: Membership,
    list_name: str,
    name: str,
    query: str,
    columns: list[str],
    per_page: int | None,
    shared: bool = False,
) -> SavedView:
    """Save a list's filter and sort (`query`, the list's URL query), columns and page size
    under a name, for the operator (`actor`, their membership) or, when their role may share,
    for the tenant. A name is unique per operator and list, whatever its case."""
    name = saved_view_clean_name(name)
    query = saved_view_clean_query(query)
    if actor.tenant_id != tenant.pk or not actor.is_active:
        raise ValidationError(_("This operator does not work in this organisation."))
    if shared and not actor.allows(Capability.SHARE_VIEWS):
        raise ValidationError(
            {"shared": _("Your role does not share views; save it for yourself.")}
        )
    if len(query) > SAVED_VIEW_QUERY_MAX:
        raise ValidationError({"name": _("This list's filter is too long to save as a view.")})
    views = SavedView.objects.for_tenant(tenant)
    with transaction.atomic():
        taken = views.filter(owner=actor, list_name=list_name, name__iexact=name).exists()
        if taken:
            raise ValidationError(
                {"name": _("You already have a view named “%(name)s” here.") % {"name": name}}
            )
        try:
            with transaction.atomic():
                return views.create(
                    tenant=tenant,
                    owner=actor,
                    list_name=list_name,
                    name=name,
                    query=query,
                    columns=list(columns),
                    per_page=per_page,
                    shared=bool(shared),
                )
        except IntegrityError:  # saved twice at once: the unique name's constraint
            raise ValidationError(
                {"name": _("You already have a view named “%(name)s” here.") % {"name": name}}
            ) from None


def saved_view_delete(*, view: SavedView, actor: Membership) -> None:
    """Remove a saved view: its owner may, and an owner of the tenant removes a shared one."""
    if view.tenant_id != actor.tenant_id or not saved_view_removable(view, actor):
        raise PermissionDenied("Only the operator who saved this view may remove it.")
    view.delete()
