"""Two-factor authentication: enrolment, the login's second step, throttled wrong codes,
recovery codes, turning it off, a tenant's requirement and the admin's."""

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.services import recovery_codes_replace
from tenancy.services import api_token_create
from tests.factories import TEST_PASSWORD, MembershipFactory, TenantFactory, UserFactory
from tests.helpers import (
    assert_role_refused,
    field_errors,
    force_login_verified,
    totp_code,
    totp_device_for,
)

pytestmark = pytest.mark.django_db

ENROL = reverse("access:enrol")
VERIFY = reverse("access:verify")
DISABLE = reverse("access:disable")
CLIENTS = reverse("clients:client_list")


def pending_key(client) -> str:
    return client.session["access.pending_totp_key"]


def log_in_with_password(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return response


def device_count(user) -> tuple[int, int]:
    return (
        TOTPDevice.objects.filter(user=user).count(),
        StaticToken.objects.filter(device__user=user).count(),
    )


# -- enrolment -----------------------------------------------------------------------------
def test_enrolment_shows_a_local_qr_code_and_the_secret_and_a_first_code_confirms_it(client, owner):
    page = client.get(ENROL)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in body
    key = pending_key(client)
    assert client.get(ENROL).context["secret"] == page.context["secret"]  # the same secret
    assert TOTPDevice.objects.filter(user=owner.user).count() == 0  # nothing stored yet

    response = client.post(ENROL, {"code": totp_code(None, key)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    device = TOTPDevice.objects.get(user=owner.user)
    assert device.confirmed and device.key == key
    assert client.get(CLIENTS).status_code == 200  # this session gave the code
    assert "access.pending_totp_key" not in client.session
    assert client.get(reverse("access:two_factor")).context["recovery_codes_left"] == 10


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the code."),
        ("1" * 21, "at most 20 characters"),
        ("12345a", "Enter the 6 digits your app shows."),
        ("abcdefgh", "Enter the 6 digits your app shows."),
        ("12\x00a\x01b", "Enter the 6 digits your app shows."),  # controls removed, then read
        ("000000", "That code is not right."),
    ],
)
def test_enrolment_refuses_bad_codes_next_to_the_field(client, owner, code, message):
    client.get(ENROL)
    response = client.post(ENROL, {"code": code})
    assert response.status_code == 400
    assert any(message in error for error in field_errors(response, "code"))
    assert device_count(owner.user) == (0, 0)


# -- the login's second step ----------------------------------------------------------------
def test_login_asks_for_the_code_after_the_password(client, tenant):
    me = MembershipFactory(tenant=tenant)
    device = totp_device_for(me.user)
    log_in_with_password(client, me.user)
    response = client.get(CLIENTS)
    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next={CLIENTS.replace('/', '%2F')}"
    assert client.get(reverse("account")).status_code == 302  # every page waits for it
    assert client.get(VERIFY).status_code == 200
    key_before = client.session.session_key

    response = client.post(VERIFY, {"code": totp_code(device), "next": CLIENTS})
    assert response.status_code == 302 and response.url == CLIENTS
    assert client.get(CLIENTS).status_code == 200
    assert client.session.session_key != key_before  # a new session key once verified


def test_a_used_code_is_not_accepted_twice(client, tenant):
    me = MembershipFactory(tenant=tenant)
    device = totp_device_for(me.user)
    log_in_with_password(client, me.user)
    code = totp_code(device)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.post(reverse("logout"))
    log_in_with_password(client, me.user)
    assert client.post(VERIFY, {"code": code}).status_code == 400


@override_settings(OTP_TOTP_THROTTLE_FACTOR=60)
def test_wrong_codes_are_throttled_even_before_a_right_one(client, tenant):
    me = MembershipFactory(tenant=tenant)
    device = totp_device_for(me.user)
    log_in_with_password(client, me.user)
    first = client.post(VERIFY, {"code": "000000"})
    assert first.status_code == 400
    assert (
        "That code is not right. Too many wrong codes: try again in"
        in (field_errors(first, "code")[0])
    )
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 400
    assert field_errors(response, "code")[0].startswith("Too many wrong codes")
    assert client.get(CLIENTS).status_code == 302  # still not through
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the code."),
        ("x" * 5000, "at most 20 characters"),
        ("12345", "Enter the 6 digits your app shows, or a recovery code"),
        ("1234567", "Enter the 6 digits"),
        ("a\x00\x01\x0b\x1fb", "Enter the 6 digits"),
        ("zzzz-zzzz", "That code is not right."),  # well formed, but no such recovery code
    ],
)
def test_the_code_page_refuses_bad_codes_next_to_the_field(client, tenant, code, message):
    me = MembershipFactory(tenant=tenant)
    totp_device_for(me.user)
    recovery_codes_replace(user=me.user)
    log_in_with_password(client, me.user)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 400
    assert any(message in error for error in field_errors(response, "code"))
    assert device_count(me.user) == (1, 10)


def test_each_recovery_code_works_once(client, tenant):
    me = MembershipFactory(tenant=tenant)
    totp_device_for(me.user)
    first, second = recovery_codes_replace(user=me.user)[:2]
    log_in_with_password(client, me.user)
    assert client.post(VERIFY, {"code": first.upper()[:4] + "-" + first[4:]}).status_code == 302
    client.post(reverse("logout"))
    log_in_with_password(client, me.user)
    assert client.post(VERIFY, {"code": first}).status_code == 400
    StaticDevice.objects.filter(user=me.user).update(throttling_failure_count=0)
    assert client.post(VERIFY, {"code": second}).status_code == 302
    assert client.get(reverse("access:two_factor")).context["recovery_codes_left"] == 8


def test_new_recovery_codes_replace_the_old_ones_and_are_shown_once(client, owner):
    force_login_verified(client, owner.user)
    old = recovery_codes_replace(user=owner.user)
    response = client.post(reverse("access:recovery_codes"))
    new = response.context["codes"]
    assert response.status_code == 200 and len(new) == 10
    tokens = set(
        StaticToken.objects.filter(device__user=owner.user).values_list("token", flat=True)
    )
    assert tokens == set(new) and not tokens & set(old)
    overview = client.get(reverse("access:two_factor")).content.decode()
    assert not any(code in overview for code in new)


# -- turning it off -------------------------------------------------------------------------
def test_turning_it_off_asks_for_a_code(client, owner):
    device = force_login_verified(client, owner.user)
    recovery_codes_replace(user=owner.user)
    for bad in ("", "12\x00", "y" * 300, "123456"):
        response = client.post(DISABLE, {"code": bad})
        assert response.status_code == 400 and field_errors(response, "code")
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    assert device_count(owner.user) == (1, 10)
    response = client.post(DISABLE, {"code": totp_code(device)})
    assert response.status_code == 302
    assert device_count(owner.user) == (0, 0)
    assert client.get(CLIENTS).status_code == 200  # nothing left to ask for


def test_it_cannot_be_turned_off_while_a_tenant_requires_it(client, tenant):
    tenant.require_two_factor = True
    tenant.save()
    me = MembershipFactory(tenant=tenant)
    device = force_login_verified(client, me.user)
    response = client.post(DISABLE, {"code": totp_code(device)})
    assert response.status_code == 400
    assert "Required by Tenant A" in field_errors(response, "code")[0]
    assert TOTPDevice.objects.filter(user=me.user).exists()


# -- a tenant's requirement -----------------------------------------------------------------
def test_a_tenant_that_requires_it_sends_an_operator_without_it_to_set_it_up(client, tenant):
    tenant.require_two_factor = True
    tenant.save()
    relaxed = TenantFactory(name="Relaxed Ltd")
    me = MembershipFactory(tenant=tenant, role="viewer")
    MembershipFactory(tenant=relaxed, user=me.user, role="viewer")
    client.force_login(me.user)
    client.post(reverse("tenancy:tenant_switch"), {"tenant": tenant.pk})
    response = client.get(CLIENTS)
    assert response.status_code == 302 and response.url.startswith(ENROL)
    assert "Tenant A requires" in client.get(ENROL).content.decode()
    # Switching to a tenant that does not require it: its pages open.
    client.post(reverse("tenancy:tenant_switch"), {"tenant": relaxed.pk})
    assert client.get(CLIENTS).status_code == 200
    client.post(reverse("tenancy:tenant_switch"), {"tenant": tenant.pk})
    client.post(ENROL, {"code": totp_code(None, pending_key(client))})
    assert client.get(CLIENTS).status_code == 200


def test_an_owner_requires_it_once_they_use_it_themselves(client, owner):
    url = reverse("tenancy:tenant_security")
    client.force_login(owner.user)
    response = client.post(url, {"require_two_factor": "on"})
    assert response.status_code == 400
    assert "yourself first" in field_errors(response, "require_two_factor")[0]
    owner.tenant.refresh_from_db()
    assert not owner.tenant.require_two_factor

    force_login_verified(client, owner.user)
    assert client.post(url, {"require_two_factor": "on"}).status_code == 302
    owner.tenant.refresh_from_db()
    assert owner.tenant.require_two_factor
    assert client.post(url, {}).status_code == 302
    owner.tenant.refresh_from_db()
    assert not owner.tenant.require_two_factor


@pytest.mark.parametrize("role", ["manager", "accountant", "viewer"])
def test_only_owners_set_the_requirement(client, tenant, login_as, role):
    login_as(tenant, role)
    url = reverse("tenancy:tenant_security")
    assert_role_refused(client, url)
    assert_role_refused(client, url, "post", {"require_two_factor": "on"})
    tenant.refresh_from_db()
    assert not tenant.require_two_factor


# -- the admin ------------------------------------------------------------------------------
def test_the_admin_needs_a_second_factor(client):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(ENROL)
    device = totp_device_for(admin)
    client.force_login(admin)  # a new login: now it has a device to ask for
    response = client.get(reverse("admin:tenancy_tenant_changelist"))
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    client.post(VERIFY, {"code": totp_code(device)})
    assert client.get(reverse("admin:tenancy_tenant_changelist")).status_code == 200


def test_the_demo_admin_enrols_on_the_first_visit_of_the_admin(client):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    log_in_with_password(client, admin)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.request["PATH_INFO"] == ENROL
    client.post(ENROL, {"code": totp_code(None, pending_key(client)), "next": "/admin/"})
    assert client.get(reverse("admin:index")).status_code == 200


# -- query counts ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["access:two_factor", "access:enrol", "tenancy:tenant_security", "account"]
)
def test_two_factor_pages_query_count(client, owner, django_assert_max_num_queries, name):
    client.get(reverse(name))  # the session's first activity is noted once
    with django_assert_max_num_queries(8):
        assert client.get(reverse(name)).status_code == 200


def test_the_code_page_query_count(client, tenant, django_assert_max_num_queries):
    me = MembershipFactory(tenant=tenant)
    totp_device_for(me.user)
    log_in_with_password(client, me.user)
    with django_assert_max_num_queries(6):
        assert client.get(VERIFY).status_code == 200


def test_the_operator_list_shows_who_uses_a_second_factor(client, owner):
    with_app = MembershipFactory(tenant=owner.tenant, role="viewer")
    totp_device_for(with_app.user)
    table = client.get(reverse("tenancy:operator_list")).context["table"]
    by_name = {row.record.user.username: row.record.has_two_factor for row in table.rows}
    assert by_name == {owner.user.username: False, with_app.user.username: True}
    assert "Two-factor" in [column.header for column in table.columns]


def test_an_htmx_request_waiting_for_the_code_is_sent_to_it_whole(client, tenant):
    me = MembershipFactory(tenant=tenant)
    totp_device_for(me.user)
    log_in_with_password(client, me.user)
    response = client.get(CLIENTS, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region")
    assert response.status_code == 204 and response["HX-Redirect"].startswith(VERIFY)


def test_turning_it_on_ends_the_sessions_signed_in_with_the_password_alone(client, owner):
    phone = HttpClient()
    phone.force_login(owner.user)
    client.get(ENROL)
    client.post(ENROL, {"code": totp_code(None, pending_key(client))})
    assert phone.get(CLIENTS).status_code == 302
    assert client.get(CLIENTS).status_code == 200


# -- the JSON API --------------------------------------------------------------------------
def test_the_api_answers_a_session_owing_its_second_factor_with_a_problem(client, tenant):
    me = MembershipFactory(tenant=tenant, role="owner")
    totp_device_for(me.user)
    log_in_with_password(client, me.user)
    response = client.get("/api/v1/clients/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["title"] == "Second factor required"


def test_a_token_call_from_a_browser_owing_its_second_factor_is_the_tokens(client, tenant):
    me = MembershipFactory(tenant=tenant, role="owner")
    totp_device_for(me.user)
    issued = api_token_create(tenant=tenant, actor=me.user, name="Gateway", scope="viewer")
    log_in_with_password(client, me.user)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}
    response = client.get("/api/v1/clients/", **bearer)
    assert response.status_code == 200, response.content
    assert client.get(CLIENTS, **bearer).status_code == 302  # pages still wait for the code
