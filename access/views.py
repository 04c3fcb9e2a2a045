"""My account's two-factor authentication and sessions, and the login's second step.

Decisions where the product was silent:
- The second step comes after Django's own login: the password signs the person in, and until
  the session has given the code (or a recovery code) the middleware lets it open only the
  code page and Log out. Giving the code renews the session key.
- Recovery codes are shown on the page that made them and never again.
- The sessions page is a short list of one person's own sessions, not a table to page
  through; the session in use is marked and ends by logging out.
"""

import django_otp
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView

from core.formatting import format_count
from core.views import InvalidFormStatusMixin, form_errors_from, safe_next

from .forms import CodeForm, EnrolmentForm, SessionEndForm
from .models import OperatorSession
from .qr import qr_data_uri
from .requirements import second_factor_required_by
from .selectors import recovery_codes_left, sessions_of, totp_device_of
from .services import (
    SESSION_SECOND_FACTOR_KEY,
    recovery_codes_replace,
    second_factor_disable,
    second_factor_enrol,
    second_factor_verify,
    session_record,
    sessions_end,
    sessions_end_others,
    totp_key_new,
    totp_secret_text,
    totp_setup_uri,
)
from .user_agents import describe_user_agent

PENDING_KEY = "access.pending_totp_key"  # the secret of an app being set up


def _session_verified(request, device) -> None:
    """The session has given its second factor: mark it, and give it a new key (what was
    known of the old one before the code no longer signs anyone in)."""
    django_otp.login(request, device)
    request.session.cycle_key()
    request.session[SESSION_SECOND_FACTOR_KEY] = True
    request.session.pop(PENDING_KEY, None)
    session_record(request, request.user)


def _render_recovery_codes(request, codes, next_url):
    return render(request, "access/recovery_codes.html", {"codes": codes, "next_url": next_url})


class TwoFactorView(TemplateView):
    """My account → two-factor authentication: whether it is on, the recovery codes left."""

    template_name = "access/two_factor.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            device=totp_device_of(user),
            recovery_codes_left=recovery_codes_left(user),
            required_by=second_factor_required_by(user),
            **kwargs,
        )


class TwoFactorEnrolView(InvalidFormStatusMixin, FormView):
    """Set up an authenticator app: its QR code and secret, confirmed by its first code."""

    form_class = EnrolmentForm
    template_name = "access/enrol.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and totp_device_of(request.user) is not None:
            return redirect("access:two_factor")
        return super().dispatch(request, *args, **kwargs)

    def pending_key(self) -> str:
        key = self.request.session.get(PENDING_KEY)
        if not isinstance(key, str) or len(key) != 40:
            key = self.request.session[PENDING_KEY] = totp_key_new()
        return key

    def get_context_data(self, **kwargs):
        key = self.pending_key()
        uri = totp_setup_uri(user=self.request.user, key=key)
        return super().get_context_data(
            qr_code=qr_data_uri(uri),
            secret=totp_secret_text(key),
            required_by=second_factor_required_by(self.request.user),
            next=safe_next(self.request, ""),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            device, codes = second_factor_enrol(
                user=self.request.user,
                key=self.pending_key(),
                code=form.cleaned_data["code"],
                current_session_key=self.request.session.session_key,
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        _session_verified(self.request, device)
        messages.success(self.request, _("Two-factor authentication is on."))
        next_url = safe_next(self.request, reverse("access:two_factor"))
        return _render_recovery_codes(self.request, codes, next_url)


class TwoFactorVerifyView(InvalidFormStatusMixin, FormView):
    """The login's second step: the code from the app, or a recovery code."""

    form_class = CodeForm
    template_name = "access/verify.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and (user.is_verified() or totp_device_of(user) is None):
            request.session[SESSION_SECOND_FACTOR_KEY] = user.is_verified()
            return redirect(safe_next(request, reverse("home")))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=safe_next(self.request, ""), **kwargs)

    def form_valid(self, form):
        try:
            device = second_factor_verify(user=self.request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        _session_verified(self.request, device)
        return redirect(safe_next(self.request, reverse("home")))


class RecoveryCodesView(View):
    """A new set of recovery codes, shown once; the old ones stop working."""

    http_method_names = ["post"]

    def post(self, request):
        try:
            codes = recovery_codes_replace(user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("access:two_factor")
        return _render_recovery_codes(request, codes, reverse("access:two_factor"))


class TwoFactorDisableView(InvalidFormStatusMixin, FormView):
    """Turn two-factor authentication off, with a code from the app or a recovery code."""

    form_class = CodeForm
    template_name = "access/disable.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and totp_device_of(request.user) is None:
            return redirect("access:two_factor")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        required_by = second_factor_required_by(self.request.user)
        return super().get_context_data(required_by=required_by, **kwargs)

    def form_valid(self, form):
        try:
            second_factor_disable(user=self.request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        self.request.session[SESSION_SECOND_FACTOR_KEY] = False
        messages.success(self.request, _("Two-factor authentication is off."))
        return redirect("access:two_factor")


class SessionListView(TemplateView):
    """My account → sessions: where the person is signed in; they end any other one."""

    template_name = "access/sessions.html"

    def get_context_data(self, form=None, **kwargs):
        current = self.request.session.session_key
        rows = [
            {
                "session": row,
                "device": describe_user_agent(row.user_agent),
                "current": row.session_id == current,
            }
            for row in sessions_of(self.request.user)
        ]
        return super().get_context_data(rows=rows, form=form, **kwargs)


class SessionEndView(SessionListView):
    """Ends one other session of the person's own; another person's session is a 404."""

    http_method_names = ["post"]

    def post(self, request):
        form = SessionEndForm(request.POST)
        if form.is_valid():
            session = OperatorSession.objects.filter(
                user=request.user, pk=form.cleaned_data["session"]
            ).first()
            if session is None:
                raise Http404("No such session.")
            if session.session_id == request.session.session_key:
                form.add_error("session", _("This is the session you are using: log out instead."))
            else:
                sessions_end(
                    user=request.user,
                    session_ids=[session.pk],
                    current_key=request.session.session_key,
                )
                messages.success(request, _("The session is ended."))
                return redirect("access:session_list")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SessionEndOthersView(View):
    """Ends every session of the person's but the one in use."""

    http_method_names = ["post"]

    def post(self, request):
        count = sessions_end_others(user=request.user, current_key=request.session.session_key)
        messages.success(
            request,
            ngettext("Ended %(count)s other session.", "Ended %(count)s other sessions.", count)
            % {"count": format_count(count)},
        )
        return redirect("access:session_list")
