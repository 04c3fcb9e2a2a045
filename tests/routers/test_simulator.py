"""The simulator speaks the RouterOS API wire protocol: checked with librouteros and, for what
librouteros never sends (.tag, /quit, long words), with raw sentences on a socket."""

import socket

import librouteros
import pytest
from librouteros.exceptions import TrapError
from librouteros.query import And, Key, Or

from routers.simulator import SimulatedRouter, encode_sentence, read_sentence


@pytest.fixture
def router():
    sim = SimulatedRouter(identity="unit", password="pw").start()
    yield sim
    sim.stop()


def api_for(router):
    return librouteros.connect(router.host, "admin", "pw", port=router.port, timeout=2)


def test_print_add_set_remove_and_queries(router):
    api = api_for(router)
    secrets = api.path("ppp", "secret")
    ids = [secrets.add(name=f"u{i}", password="x", profile="p" if i % 2 else "q") for i in range(4)]
    secrets.update(**{".id": ids[0], "disabled": True})
    name, profile, disabled = Key("name"), Key("profile"), Key("disabled")
    assert {r["name"] for r in secrets.select(name).where(profile == "p")} == {"u1", "u3"}
    assert {r["name"] for r in secrets.select(name).where(name.In("u0", "u2"))} == {"u0", "u2"}
    assert [r["name"] for r in secrets.select(name).where(disabled == True)] == ["u0"]  # noqa: E712
    both = secrets.select(name).where(And(profile == "q", disabled == False))  # noqa: E712
    assert [r["name"] for r in both] == ["u2"]
    either = secrets.select(name).where(Or(name == "u1", name == "u3"))
    assert {r["name"] for r in either} == {"u1", "u3"}
    assert {r["name"] for r in secrets.select(name).where(name != "u0")} == {"u1", "u2", "u3"}
    rows = list(secrets.select(Key(".id"), name))
    assert all(set(r) == {".id", "name"} for r in rows)  # .proplist honoured
    secrets.remove(ids[1], ids[2])
    assert {r["name"] for r in secrets} == {"u0", "u3"}
    with pytest.raises(TrapError, match="same name"):
        secrets.add(name="u0")
    with pytest.raises(TrapError, match="no such item"):
        secrets.remove("*FFFF")
    with pytest.raises(TrapError, match="no such command"):
        list(api("/interface/wireless/print"))
    identity = list(api("/system/identity/print"))
    assert identity == [{"name": "unit"}]
    api.close()


def raw(router):
    sock = socket.create_connection((router.host, router.port), timeout=2)
    stream = sock.makefile("rb")
    return sock, stream


def test_tag_fatal_and_long_words_on_the_wire(router):
    sock, stream = raw(router)
    sock.sendall(encode_sentence(["/login", "=name=admin", "=password=pw", ".tag=7"]))
    assert read_sentence(stream) == ["!done", ".tag=7"]
    long_comment = "c" * 20000  # a three-byte length
    sock.sendall(encode_sentence(["/ppp/secret/add", "=name=long", f"=comment={long_comment}"]))
    assert read_sentence(stream)[0] == "!done"
    sock.sendall(encode_sentence(["/ppp/secret/print", "?name=long", "=.proplist=comment"]))
    assert read_sentence(stream) == ["!re", f"=comment={long_comment}"]
    assert read_sentence(stream) == ["!done"]
    sock.sendall(encode_sentence(["/quit"]))
    assert read_sentence(stream)[0] == "!fatal"
    assert read_sentence(stream) is None  # closed
    sock.close()


def test_commands_before_login_are_fatal(router):
    sock, stream = raw(router)
    sock.sendall(encode_sentence(["/ppp/active/print"]))
    assert read_sentence(stream) == ["!fatal", "not logged in"]
    sock.close()


def test_wrong_password_is_a_trap(router):
    with pytest.raises(TrapError, match="invalid user name or password"):
        librouteros.connect(router.host, "admin", "nope", port=router.port, timeout=2)


@pytest.mark.parametrize("mode", ["login", "command"])
def test_hang_modes_block_until_the_client_gives_up(router, mode):
    router.hang = mode
    with pytest.raises((TimeoutError, OSError)):
        api = librouteros.connect(router.host, "admin", "pw", port=router.port, timeout=0.3)
        list(api.path("ppp", "active"))


def test_a_hung_connection_ends_when_its_client_gives_up(router):
    """The demo polls its stalled router every minute: no connection (and thread) is kept."""
    import time

    router.hang = "login"
    with socket.create_connection((router.host, router.port), timeout=2) as client:
        client.sendall(encode_sentence(["/login", "=name=admin", "=password=pw"]))
        deadline = time.monotonic() + 5
        while "/login" not in router.commands and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(router._connections) == 1
    deadline = time.monotonic() + 5
    while router._connections and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not router._connections


def test_churn_never_brings_a_disabled_or_never_dialling_secret_online(router):
    router.add_secret("on", "x")
    router.add_secret("off", "x", disabled="yes")
    router.add_secret("never", "x")
    router.never_dial_in.add("never")
    router.churn(interval=0.01, share_online=1.0)
    import time

    deadline = time.monotonic() + 10  # the churn thread may be slow to run on a busy machine
    while "on" not in router.active_names() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    assert "on" in router.active_names()
    assert "off" not in router.active_names() and "never" not in router.active_names()
