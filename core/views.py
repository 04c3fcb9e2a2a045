"""View pieces every app's pages share and that are not tenancy: the 400 answer of a refused
form, the table region an HTMX request asks for, and a service's error put next to its field;
and the operations endpoints (health, metrics) that answer without a login."""

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

from .health import readiness
from .languages import in_language, offered
from .metrics import metrics_text


def form_errors_from(form, error: ValidationError, subforms=()) -> None:
    """Put a service's ValidationError next to the fields it names: on `form`, or on the first
    of `subforms` (a form nested in it) that has the field; any other error goes on top of
    `form`."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = next((f for f in (form, *subforms) if field in f.fields), None)
        if target is None:
            form.add_error(None, errors)
        else:
            target.add_error(field, errors)


def safe_next(request, fallback: str) -> str:
    """The `next` address a form or link carries, when it stays on this site; else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


class InvalidFormStatusMixin:
    """A FormView whose form, re-shown with its errors, answers 400 Bad Request (nothing was
    changed), so that a script or a test sees the refusal without reading the page."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class TableFragmentMixin:
    """A page with a table: an HTMX request aimed at #table-region (sort headers, page links,
    the filter form) gets only `fragment_template_name`; any other request gets the whole page.
    Every response says `Vary: HX-Request`, so that a cache never serves one for the other."""

    fragment_template_name = "tables/table_region.html"
    fragment_target = "table-region"

    def wants_table_fragment(self) -> bool:
        htmx = getattr(self.request, "htmx", None)
        return bool(htmx and not htmx.boosted and htmx.target == self.fragment_target)

    def get_template_names(self):
        if self.wants_table_fragment():
            return [self.fragment_template_name]
        return super().get_template_names()

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response


# -- operations: health and metrics (no login; nothing a tenant owns) --------------------------
@login_not_required
@never_cache
@require_GET
def health_live(request):
    """The process answers: a container's liveness, which nothing outside it may fail."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def health_ready(request):
    """Whether this deployment can do its work now (core.health): 200, or 503 with the checks
    that failed."""
    ready, body = readiness()
    return JsonResponse(body, status=200 if ready else 503)


@login_not_required
@never_cache
@require_GET
def metrics(request):
    """Prometheus' text format, for a scraper with METRICS_TOKEN (a bearer token) or from
    METRICS_ALLOWED_NETWORKS; anyone else gets a 404, as for a page that does not exist."""
    if not metrics_allowed(request):
        raise Http404
    body, content_type = metrics_text()
    return HttpResponse(body, content_type=content_type)


# Headers a proxy adds to what it forwards: behind one, REMOTE_ADDR is the proxy's own address.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def metrics_allowed(request) -> bool:
    """The token admits from anywhere; the network setting only a scraper that connects
    directly, since a request forwarded by the proxy carries the proxy's address, which would
    admit anyone on the internet."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_NETWORKS
    )


YEAR = 365 * 24 * 3600


@method_decorator(login_not_required, name="dispatch")
class JavaScriptCatalogView(JavaScriptCatalog):
    """The texts of the portal's scripts in the language its address names. The address also
    carries the catalogue's version (`javascript_catalogue_version`), so the answer never
    changes: browsers keep it for a year instead of fetching it with every page."""

    domain = "djangojs"

    def get(self, request, *args, language: str, version: str, **kwargs):
        if offered(language) != language:
            raise Http404
        with in_language(language):
            response = super().get(request, *args, **kwargs)
        patch_cache_control(response, public=True, max_age=YEAR, immutable=True)
        return response
