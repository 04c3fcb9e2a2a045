"""Sets request.tenant and request.membership, and the django-scopes scope for the request."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django_scopes import scope, scopes_disabled

from core.api import API_PREFIX, bearer_secret, is_bearer_api_request
from core.languages import language_remembered, offered

from .models import Membership, OperatorProfile
from .services import api_token_authenticate

SESSION_TENANT_KEY = "tenant_id"


def active_memberships(user) -> list[Membership]:
    return list(
        Membership.all_tenants.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant", "user__operator_profile")  # the person's language too
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
        if is_bearer_api_request(request):
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


def operator_language(request) -> str:
    """The signed-in person's own language ("" when they chose none). Read from the profile
    TenantMiddleware loaded with the memberships (no query), else from the database."""
    user = getattr(request, "user", None)  # a view may have replaced it (DRF sets None)
    if user is None or not user.is_authenticated:
        return ""
    for membership in request.memberships:
        try:
            return offered(membership.user.operator_profile.language)
        except OperatorProfile.DoesNotExist:
            return ""
    if not hasattr(user, "_operator_language"):
        profile = OperatorProfile.objects.filter(user=user).values_list("language", flat=True)
        user._operator_language = offered(profile.first())
    return user._operator_language


def accepted_language(request) -> str:
    """The first of the portal's languages the request's Accept-Language names, or ""."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in translation.trans_real.parse_accept_lang_header(header):
        if code != "*" and (found := offered(code)):
            return found
    return ""


class LanguageMiddleware:
    """The language of the answer, after TenantMiddleware (README, "Languages").

    Pages: the operator's own choice, else the tenant's language, else the browser's (what
    LocaleMiddleware activated from the language cookie or Accept-Language). The API:
    Accept-Language, else the operator's (a session), else the tenant's, else English (a token
    has no operator). Sets `request.LANGUAGE_CODE` and `Content-Language`; the answer varies
    on what decided it (`Vary: Accept-Language` always, `Cookie` for a session's choice,
    `Authorization` for a token's tenant)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language, vary = self.resolve(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers["Content-Language"] = translation.get_language() or language
        patch_vary_headers(response, ("Accept-Language", *vary))
        cookie = settings.LANGUAGE_COOKIE_NAME
        if cookie in response.cookies:  # the answer to a choice sets it already
            return response
        chosen = operator_language(request)
        if chosen and request.COOKIES.get(cookie) != chosen:
            # Signed in from another browser: its login page after a logout speaks it too.
            language_remembered(response, chosen)
        return response

    def resolve(self, request) -> tuple[str, tuple[str, ...]]:
        """(the language, or "" to keep the browser's; the request headers it came from)."""
        tenant = getattr(request, "tenant", None)
        tenant_language = offered(getattr(tenant, "language", ""))
        if request.path.startswith(API_PREFIX):
            if found := accepted_language(request):
                return found, ()
            if found := operator_language(request):
                return found, ("Cookie",)
            if tenant_language:
                via = "Authorization" if getattr(request, "api_token", None) else "Cookie"
                return tenant_language, (via,)
            return "en", ()
        if found := operator_language(request):
            return found, ("Cookie",)
        if tenant_language:
            return tenant_language, ("Cookie",)
        return "", ()
