"""Writes with business rules for tenants, operators and their preferences."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Membership, Tenant
from .roles import Role


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
            {"role": "The tenant must keep at least one active owner."}
            if role != Role.OWNER
            else {"is_active": "The tenant must keep at least one active owner."}
        )


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
    """Create a user and their membership in the tenant."""
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "This username is already taken."})
    user = user_model(username=username, email=email, first_name=first_name, last_name=last_name)
    user.set_password(password)
    user.full_clean()
    user.save()
    return Membership.objects.for_tenant(tenant).create(tenant=tenant, user=user, role=role)


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
    """Change an operator's role, details or access. Nobody deactivates or demotes themselves,
    and the tenant always keeps an active owner."""
    membership = Membership.all_tenants.select_for_update().get(pk=membership.pk)
    if membership.user_id == actor.pk and (role != membership.role or not is_active):
        raise ValidationError({"role": "You cannot change your own role or deactivate yourself."})
    _check_keeps_an_owner(membership, role=role, is_active=is_active)
    membership.role = role
    membership.is_active = is_active
    membership.save(update_fields=["role", "is_active"])
    user = membership.user
    user.email, user.first_name, user.last_name = email, first_name, last_name
    user.save(update_fields=["email", "first_name", "last_name"])
    return membership


def tenant_next_number(*, tenant: Tenant, name: str, count: int = 1) -> int:
    """Reserve `count` numbers of the tenant's sequence `name`; returns the first. Joins the
    caller's transaction, so that a rolled-back insert gives its numbers back."""
    from django.db.models import F

    from .models import TenantSequence

    with transaction.atomic():
        sequence, _ = TenantSequence.objects.select_for_update().get_or_create(
            tenant=tenant, name=name
        )
        TenantSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + count)
    return sequence.last_value + 1
