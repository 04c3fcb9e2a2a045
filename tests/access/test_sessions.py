"""An operator's sessions: listed under My account, ended one by one or all others at once,
and ended for them when an owner deactivates them."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from django.urls import reverse

from access.models import OperatorSession
from access.user_agents import describe_user_agent
from tests.factories import TEST_PASSWORD, MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db

SESSIONS = reverse("access:session_list")
END = reverse("access:session_end")
CLIENTS = reverse("clients:client_list")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Safari/537.36"
)


def browser_logged_in(user, user_agent: str, address: str = "127.0.0.1") -> HttpClient:
    """Another browser of the same person, logged in through the form."""
    http = HttpClient(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = http.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return http


@pytest.fixture
def me(tenant):
    return MembershipFactory(tenant=tenant, role="viewer")


def test_sessions_are_listed_with_device_address_and_the_current_one_marked(me):
    laptop = browser_logged_in(me.user, FIREFOX, "127.0.0.2")
    browser_logged_in(me.user, CHROME_WINDOWS, "127.0.0.3")
    MembershipFactory(tenant=me.tenant)  # someone else's session is not listed
    browser_logged_in(me.user, FIREFOX).post(reverse("logout"))  # a logged-out one neither
    response = laptop.get(SESSIONS)
    rows = response.context["rows"]
    assert [(r["device"], r["session"].ip_address, r["current"]) for r in rows] == [
        ("Chrome on Windows", "127.0.0.3", False),
        ("Firefox on Linux", "127.0.0.2", True),
    ]
    body = response.content.decode()
    assert "This session" in body and "Chrome on Windows" in body
    for session in Session.objects.all():
        assert session.session_key not in body  # sessions are named by id, never by key


def test_an_operator_ends_another_session_which_is_then_logged_out(me):
    laptop = browser_logged_in(me.user, FIREFOX)
    phone = browser_logged_in(me.user, CHROME_WINDOWS)
    other = OperatorSession.objects.get(session_id=phone.session.session_key)
    response = laptop.post(END, {"session": other.pk})
    assert response.status_code == 302
    assert phone.get(CLIENTS).status_code == 302  # sent to log in
    assert laptop.get(CLIENTS).status_code == 200
    assert not OperatorSession.objects.filter(pk=other.pk).exists()


def test_end_all_other_sessions_keeps_the_current_one(me):
    laptop = browser_logged_in(me.user, FIREFOX)
    others = [browser_logged_in(me.user, CHROME_WINDOWS) for _ in range(2)]
    assert laptop.post(reverse("access:session_end_others")).status_code == 302
    assert all(other.get(CLIENTS).status_code == 302 for other in others)
    assert laptop.get(CLIENTS).status_code == 200
    assert OperatorSession.objects.filter(user=me.user).count() == 1


def test_another_persons_session_is_a_404_and_the_current_one_is_refused(me, tenant):
    stranger = MembershipFactory(tenant=TenantFactory())
    theirs = browser_logged_in(stranger.user, FIREFOX)
    laptop = browser_logged_in(me.user, FIREFOX)
    stranger_session = OperatorSession.objects.get(session_id=theirs.session.session_key)
    assert laptop.post(END, {"session": stranger_session.pk}).status_code == 404
    assert theirs.get(CLIENTS).status_code == 200

    current = OperatorSession.objects.get(session_id=laptop.session.session_key)
    response = laptop.post(END, {"session": current.pk})
    assert response.status_code == 400
    assert "log out instead" in response.content.decode()
    assert laptop.get(CLIENTS).status_code == 200


@pytest.mark.parametrize(
    "value", ["", "abc", "1e1000000", "-1", str(10**30), "1\x00\x01", "9" * 5000]
)
def test_a_bad_session_id_gets_a_message_and_ends_nothing(me, value):
    laptop = browser_logged_in(me.user, FIREFOX)
    browser_logged_in(me.user, FIREFOX)
    response = laptop.post(END, {"session": value})
    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert 'data-field-error="session"' in response.content.decode()
    assert OperatorSession.objects.filter(user=me.user).count() == 2


def test_deactivating_an_operator_ends_their_sessions(client, owner):
    operator = MembershipFactory(tenant=owner.tenant, role="manager")
    browsers = [browser_logged_in(operator.user, FIREFOX) for _ in range(2)]
    data = {
        "first_name": operator.user.first_name,
        "last_name": operator.user.last_name,
        "email": operator.user.email,
        "role": "manager",
    }
    url = reverse("tenancy:operator_edit", args=[operator.pk])
    assert client.post(url, data).status_code == 302  # "is_active" left out: deactivated
    assert all(http.get(CLIENTS).status_code == 302 for http in browsers)
    assert not OperatorSession.objects.filter(user=operator.user).exists()
    assert client.get(CLIENTS).status_code == 200  # the owner's own session stays


def test_an_operator_who_works_elsewhere_keeps_those_sessions(client, owner):
    operator = MembershipFactory(tenant=owner.tenant, role="manager")
    MembershipFactory(tenant=TenantFactory(name="Elsewhere"), user=operator.user)
    http = browser_logged_in(operator.user, FIREFOX)
    data = {"role": "manager", "email": operator.user.email}
    url = reverse("tenancy:operator_edit", args=[operator.pk])
    assert client.post(url, data).status_code == 302
    assert http.get(CLIENTS).status_code == 200
    assert http.get(CLIENTS).context["tenant"].name == "Elsewhere"


def test_user_agents_in_words():
    assert describe_user_agent(FIREFOX) == "Firefox on Linux"
    assert describe_user_agent(CHROME_WINDOWS) == "Chrome on Windows"
    assert describe_user_agent("") == "Unknown browser"
    headless = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/156.0 Safari/537.36"
    )
    assert describe_user_agent(headless) == "Chrome on Linux"


def test_sessions_page_query_count(me, django_assert_max_num_queries):
    laptop = browser_logged_in(me.user, FIREFOX)
    for _ in range(5):
        browser_logged_in(me.user, CHROME_WINDOWS)
    laptop.get(SESSIONS)
    with django_assert_max_num_queries(6):
        response = laptop.get(SESSIONS)
    assert len(response.context["rows"]) == 6


def test_last_activity_is_noted_at_most_once_a_minute(me):
    laptop = browser_logged_in(me.user, FIREFOX)
    row = OperatorSession.objects.get(session_id=laptop.session.session_key)
    laptop.get(CLIENTS)
    row.refresh_from_db()
    noted = row.last_activity
    session = laptop.session
    session["access.seen"] -= 61
    session.save()
    laptop.get(CLIENTS)
    row.refresh_from_db()
    assert row.last_activity > noted


def test_behind_the_trusted_proxy_the_address_is_the_one_it_saw(me, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    http = HttpClient(HTTP_X_FORWARDED_FOR="127.0.0.9, 127.0.0.5", HTTP_X_FORWARDED_PROTO="https")
    http.post(
        reverse("login"), {"username": me.user.username, "password": TEST_PASSWORD}, secure=True
    )
    assert OperatorSession.objects.get(user=me.user).ip_address == "127.0.0.5"
