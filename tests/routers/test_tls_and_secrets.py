"""API-SSL with a self-signed certificate made here, and the encryption key's configuration."""

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management import call_command
from django_scopes import scopes_disabled

from core import crypto
from routers.models import PollErrorKind, Router
from routers.poller import poll_routers
from routers.routeros import RouterError, RouterTarget, read_identity
from routers.simulator import SimulatedRouter
from tests.factories import ROUTER_TEST_PASSWORD, PppoeAccountFactory, RouterFactory
from tests.helpers import fake_dns

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def server_tls(tmp_path_factory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "router.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def tls_sim(server_tls):
    sim = SimulatedRouter(
        identity="tls-router", password=ROUTER_TEST_PASSWORD, ssl_context=server_tls
    ).start()
    yield sim
    sim.stop()


def test_poll_over_tls_with_a_self_signed_certificate(tls_sim, tenant):
    router = RouterFactory(tenant=tenant, port=tls_sim.port, use_tls=True)
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    tls_sim.connect_session("alice")
    report = poll_routers()
    assert report.reachable == 1
    with scopes_disabled():
        router = Router.objects.get(pk=router.pk)
        assert router.identity == "tls-router" and router.sessions_online == 1


def test_verifying_an_untrusted_certificate_fails_in_plain_words(tls_sim, tenant):
    router = RouterFactory(tenant=tenant, port=tls_sim.port, use_tls=True, verify_tls=True)
    poll_routers()
    with scopes_disabled():
        router = Router.objects.get(pk=router.pk)
    assert router.last_error_kind == PollErrorKind.TLS
    assert "certificate is not trusted" in str(router.last_error)


def test_plain_api_against_a_tls_port_fails_quickly(tls_sim, tenant):
    router = RouterFactory(tenant=tenant, port=tls_sim.port, use_tls=False, timeout=0.5)
    poll_routers(deadline_seconds=5)
    with scopes_disabled():
        router = Router.objects.get(pk=router.pk)
    assert router.is_reachable is False and router.last_error


def test_test_connection_over_tls(tls_sim, tenant):
    router = RouterFactory(tenant=tenant, port=tls_sim.port, use_tls=True)
    assert read_identity(RouterTarget.of(router)) == ("tls-router", tls_sim.version)


# -- the key -----------------------------------------------------------------------------------
def test_passwords_are_encrypted_and_a_changed_key_is_explained(monkeypatch, tenant):
    router = RouterFactory(tenant=tenant)
    assert ROUTER_TEST_PASSWORD not in router.password_encrypted
    monkeypatch.setenv(crypto.ENV_NAME, Fernet.generate_key().decode())
    with pytest.raises(crypto.SecretUnreadable, match="ROUTER_SECRET_KEY"):
        router.password  # noqa: B018


def test_key_rotation_command(monkeypatch, tenant):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(crypto.ENV_NAME, old)
    router = RouterFactory(tenant=tenant)
    monkeypatch.setenv(crypto.ENV_NAME, f"{new},{old}")
    call_command("rotate_router_secrets", stdout=open(os.devnull, "w"))  # noqa: SIM115
    monkeypatch.setenv(crypto.ENV_NAME, new)
    with scopes_disabled():
        assert Router.objects.get(pk=router.pk).password == ROUTER_TEST_PASSWORD


def run_check(tmp_path, **extra):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "production-secret-" + "x9Y!" * 10,
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "CLIENTDESK_VAR_DIR": str(tmp_path),
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_router_key(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode != 0 and "ROUTER_SECRET_KEY" in result.stderr


def test_production_checks_the_key(monkeypatch, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.DEBUG = False
    settings.TESTING = False
    monkeypatch.delenv(crypto.ENV_NAME, raising=False)
    with pytest.raises(ImproperlyConfigured, match="ROUTER_SECRET_KEY"):
        crypto.check_configuration()
    monkeypatch.setenv(crypto.ENV_NAME, "not-a-fernet-key")
    with pytest.raises(ImproperlyConfigured, match="ROUTER_SECRET_KEY"):
        crypto.check_configuration()
    monkeypatch.setenv(crypto.ENV_NAME, Fernet.generate_key().decode())
    crypto.check_configuration()
    assert crypto.decrypt(crypto.encrypt("x")) == "x"


def test_tls_names_the_router_by_its_host_name_not_the_address_connected_to(
    server_tls, tls_sim, tenant, monkeypatch
):
    """The socket goes to the checked address; SNI (and a certificate check) still use the
    router's configured name."""
    names: list[str | None] = []
    monkeypatch.setattr(server_tls, "sni_callback", lambda sock, name, context: names.append(name))
    fake_dns(monkeypatch, {"router.test": ["127.0.0.1"]})
    router = RouterFactory(tenant=tenant, host="router.test", port=tls_sim.port, use_tls=True)
    assert read_identity(RouterTarget.of(router))[0] == "tls-router"
    assert names == ["router.test"]
    with pytest.raises(RouterError) as untrusted:
        read_identity(
            RouterTarget.of(
                RouterFactory(
                    tenant=tenant,
                    host="router.test",
                    port=tls_sim.port,
                    use_tls=True,
                    verify_tls=True,
                )
            )
        )
    assert untrusted.value.kind == PollErrorKind.TLS and names[-1] == "router.test"
