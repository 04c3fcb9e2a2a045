"""Two pieces of the request cycle: the second factor asked for where it is needed, and the
session's last activity noted."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from core.api import API_PREFIX, Problem, problem_response

from .selectors import has_second_factor
from .services import SESSION_SECOND_FACTOR_KEY, session_touch

VERIFY, ENROL = "verify", "enrol"
# What a person may open while their second factor is still to be given (or set up).
ALLOWED_BEFORE = {
    VERIFY: {"access:verify", "logout"},
    ENROL: {"access:enrol", "logout", "tenancy:tenant_switch"},
}


def second_factor_problem(step: str):
    """The API promises problem documents: a session still owing its second factor is told so,
    not sent to a page a program cannot fill in."""
    if step == VERIFY:
        detail = _("Sign in to the portal and give it (My account) before using the API.")
    else:
        detail = _("Sign in to the portal and set one up (My account) before using the API.")
    return problem_response(Problem(401, _("Second factor required"), detail))


class SessionActivityMiddleware:
    """Notes the signed-in session's last activity (at most once a minute, see session_touch).
    After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            session_touch(request)
        return self.get_response(request)


class SecondFactorMiddleware:
    """Deny by default: a signed-in person whose session has not given the second factor
    reaches only the pages in ALLOWED_BEFORE when
    - they have one (set up under My account): the code is asked for after the password;
    - they have none and open the Django admin as staff: superusers always need one there;
    - they have none and work in a tenant that requires it (`Tenant.require_two_factor`): with
      several tenants, only while that one is chosen (the switcher stays open).
    Runs after TenantMiddleware (request.tenant) and django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def admin_prefix(self) -> str:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        return self._admin_prefix

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        if getattr(request, "api_token", None) is not None:  # the token is the credential
            return self.get_response(request)
        step = self.step_needed(request)
        if step is None or self.url_name(request) in ALLOWED_BEFORE[step]:
            return self.get_response(request)
        if request.path.startswith(API_PREFIX):
            return second_factor_problem(step)
        return self.send_to(request, step)

    def step_needed(self, request) -> str | None:
        if self.has_second_factor(request):
            return VERIFY
        if request.path.startswith(self.admin_prefix()) and request.user.is_staff:
            return ENROL
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.require_two_factor:
            return ENROL
        return None

    @staticmethod
    def has_second_factor(request) -> bool:
        remembered = request.session.get(SESSION_SECOND_FACTOR_KEY)
        if remembered is None:  # a session from before this was noted at login
            remembered = request.session[SESSION_SECOND_FACTOR_KEY] = has_second_factor(
                request.user
            )
        return remembered

    @staticmethod
    def url_name(request) -> str | None:
        try:
            return resolve(request.path_info).view_name
        except Resolver404:
            return None

    @staticmethod
    def send_to(request, step: str):
        target = reverse(f"access:{step}")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return redirect(target)
