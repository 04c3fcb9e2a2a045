"""Assertions and set-ups that tests of several apps share."""

import select
import socket
from contextlib import contextmanager

from django.contrib.auth import get_user_model

# The counts that tell Russian's three plural forms apart, each with the form it takes (0: one
# "1 строка", 1: few "2 строки", 2: many "5 строк"); 11 and 21 catch a rule that looks at the
# last digit alone, or at the number as a whole.
RUSSIAN_PLURAL_FORMS = ((1, 0), (2, 1), (5, 2), (11, 2), (21, 0))


def russian_plurals(*forms: tuple[str, str, str]) -> list[tuple]:
    """The table of a Russian plural test: (n, text, ...) for 1, 2, 5, 11 and 21, one text for
    each triple of forms (one, few, many), with `{n}` where the number goes.

    russian_plurals(("{n} строка", "{n} строки", "{n} строк"))
    -> [(1, "1 строка"), (2, "2 строки"), (5, "5 строк"), (11, "11 строк"), (21, "21 строка")]
    """
    return [
        (n, *(triple[form].format(n=n) for triple in forms)) for n, form in RUSSIAN_PLURAL_FORMS
    ]


def assert_other_tenant_gives_404(client, url: str, method: str = "get", data=None) -> None:
    """The logged-in operator asks for another tenant's object: 404, never 403 or 200."""
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"


def assert_role_refused(client, url: str, method: str = "get", data=None) -> None:
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 403, f"{method.upper()} {url} gave {response.status_code}"


def field_errors(response, field: str) -> list[str]:
    """The errors shown next to one form field (the form in the response context)."""
    form = response.context["form"]
    return list(form.errors.get(field, []))


def user_count() -> int:
    return get_user_model().objects.count()


def table_html(response) -> str:
    """Only the table region of a list page (not the navigation, which names the user)."""
    body = response.content.decode()
    start = body.index('id="table-region"')
    return body[start:]


def fake_dns(monkeypatch, answers: dict[str, list[str] | None]) -> list[str]:
    """Answer getaddrinfo for the names in `answers` (a list of addresses, or None for a name
    that does not resolve) without asking any DNS server; every other host goes to the real
    resolver. Returns the names looked up, in order, so that a test can count resolutions."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in answers:
            return real(host, port, family, type, proto, flags)
        looked_up.append(host)
        if answers[host] is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos = []
        for address in answers[host]:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


class RecordingListener:
    """A TCP port on `host` that counts the connections made to it, to prove that none was."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_server((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]
        self.accepted = 0

    def connections(self, wait: float = 0.3) -> int:
        """Connections made so far (waiting up to `wait` seconds for one in flight)."""
        while select.select([self.sock], [], [], wait)[0]:
            conn, _ = self.sock.accept()
            conn.close()
            self.accepted += 1
            wait = 0.05
        return self.accepted

    def close(self) -> None:
        self.sock.close()


def client_page_names() -> list[str]:
    """Every named URL that takes just a client's number: the client's pages and tabs."""
    from tests.security.walker import portal_routes

    return [route.name for route in portal_routes() if route.arguments == ("number",)]


def client_pages(client, customer) -> dict:
    """URL name -> response of every full page of a client that a GET shows (POST-only
    actions, redirects and HTMX fragments left out)."""
    from django.urls import reverse

    pages = {}
    for name in client_page_names():
        response = client.get(reverse(name, kwargs={"number": customer.number}))
        html = response.status_code == 200 and "text/html" in response["Content-Type"]
        if html and b'class="navbar' in response.content:
            pages[name] = response
    return pages


def ledger_export_create(actor, customer, *, start="2026-03-01", end="2026-03-31", **extra):
    """The export of a client's transactions over a period, as the Finance tab asks for it."""
    from django_scopes import scopes_disabled

    from exports.services import export_job_create

    with scopes_disabled():
        return export_job_create(
            tenant=customer.tenant,
            actor=actor,
            kind="billing.ledger",
            parameters={"client_number": customer.number, "start": start, "end": end},
            **extra,
        )


# -- the second factor ---------------------------------------------------------------------
def totp_device_for(user):
    """A confirmed authenticator app of `user` (as after enrolment, without recovery codes)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def totp_code(device, key: str | None = None) -> str:
    """The code the app shows now for `device` (or for the secret `key`), as typed."""
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(key) if key else device.bin_key):06d}"


def force_login_verified(client, user):
    """Log the test client in as `user` with the second factor given, as after the code page
    (what the admin and any tenant that requires it ask for). Returns the user's app."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from access.services import SESSION_SECOND_FACTOR_KEY

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or totp_device_for(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_SECOND_FACTOR_KEY] = True
    session.save()
    return device


# -- migrations ----------------------------------------------------------------------------------
@contextmanager
def migrated_back_to(*targets):
    """A cursor on the database migrated back to `targets` ((app, migration) pairs) for the
    block, where a test writes a row as an older schema held it; then forward again to the
    latest, whatever the block raised."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    MigrationExecutor(connection).migrate(list(targets))
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
