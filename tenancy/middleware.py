"""Sets request.tenant and request.membership, and the django-scopes scope for the request."""

from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from .models import Membership
from .services import api_token_authenticate

SESSION_TENANT_KEY = "tenant_id"
API_PREFIX = "/api/"
BEARER = "bearer "


def active_memberships(user) -> list[Membership]:
    return list(
        Membership.all_tenants.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def choose_membership(memberships: list[Membership], tenant_id) -> Membership | None:
    for membership in memberships:
        if membership.tenant_id == tenant_id:
            return membership
    return memberships[0] if memberships else None


class TenantMiddleware:
    """Portal requests run inside `scope(tenant=...)` and in the tenant's time zone (dates on
    every page are the tenant's; the response is rendered inside both, before it comes back
    here); the admin runs with scopes disabled
    (superusers work across tenants there). With no tenant no scope is active, so any query of
    a tenant-owned model raises instead of leaking."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def admin_prefix(self) -> str:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        return self._admin_prefix

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        request.memberships = []
        request.api_token = None
        if request.path.startswith(API_PREFIX) and bearer_secret(request) is not None:
            return self.with_api_token(request)
        if request.path.startswith(self.admin_prefix()):
            with scopes_disabled():
                return self.get_response(request)
        if request.user.is_authenticated:
            request.memberships = active_memberships(request.user)
            membership = choose_membership(
                request.memberships, request.session.get(SESSION_TENANT_KEY)
            )
            if membership is not None:
                request.membership = membership
                request.tenant = membership.tenant
                with scope(tenant=membership.tenant), timezone.override(membership.tenant.zone):
                    return self.get_response(request)
        return self.get_response(request)

    def with_api_token(self, request):
        """An API request with `Authorization: Bearer`: the token, never the session, decides
        the tenant and what may be done (`request.membership` is the token, which answers
        `allows()` as a membership does). A token that is unknown, revoked or expired leaves no
        tenant: the API answers 401."""
        token = api_token_authenticate(bearer_secret(request))
        if token is None:
            return self.get_response(request)
        request.api_token = token
        request.membership = token
        request.tenant = token.tenant
        with scope(tenant=token.tenant), timezone.override(token.tenant.zone):
            return self.get_response(request)


def bearer_secret(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[: len(BEARER)].lower() != BEARER:
        return None
    return header[len(BEARER) :].strip()
