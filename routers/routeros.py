"""Talking to a router through librouteros, with a deadline that holds.

librouteros sets one socket timeout and reads word by word, so a router that trickles bytes,
or answers a few sentences and then stalls, can keep a call going far past that timeout. Here
every read and write gets a socket timeout cut to what is left of the call's own deadline, and
a watchdog can `abort()` a connection from another thread (the poller's overall deadline).

Every failure becomes a RouterError with a kind (routers.models.PollErrorKind) and a message
in plain words for the Routers page, stored as its message (core/stored_text.py) with the
router's host and port and, as literal text, what the router or the system said, so that the
poller's last error reads in each reader's language; the password never appears in either.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass

from librouteros import Api
from librouteros.exceptions import (
    ConnectionClosed,
    FatalError,
    LibRouterosError,
    ProtocolError,
    TrapError,
)
from librouteros.login import plain
from librouteros.protocol import ApiProtocol
from librouteros.query import Key

from core import outbound
from core.crypto import ENV_NAME
from core.stored_text import StoredText, stored_gettext

from .models import PollErrorKind

ENCODING = "utf-8"
PASSWORD_WORD = re.compile(r"=password=.*?(?=['\"]?$)")


class RedactPasswords(logging.Filter):
    """librouteros logs every word it sends at DEBUG, the login's `=password=` and a
    secret's password included: blank them before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "=password=" in message:
            record.msg = PASSWORD_WORD.sub("=password=********", message)
            record.args = ()
        return True


logging.getLogger("librouteros").addFilter(RedactPasswords())


# What a router or the system says about a failure is kept as literal text, at most this long.
SAID_MAX = 300


class RouterError(Exception):
    """Why a router could not be talked to: its kind and `text`, a stored message (the
    poller keeps it as the router's last error); `message` is the text in the active
    language, for what is shown at once (Test connection, adoption)."""

    def __init__(self, kind: str, text: StoredText):
        if not isinstance(text, StoredText):
            raise TypeError("A router error's text is a stored message (core/stored_text.py)")
        super().__init__(text.msgid)
        self.kind = kind
        self.text = text

    @property
    def message(self) -> str:
        return str(self.text)

    def __str__(self) -> str:
        return self.message


def said(value) -> str:
    """What a router or the system said, as a literal parameter of bounded length."""
    return str(value)[:SAID_MAX]


def secret_unreadable_error() -> RouterError:
    """The router's stored password cannot be decrypted (the key changed)."""
    return RouterError(
        "config",
        stored_gettext(
            "The stored password cannot be decrypted: was %(setting)s changed?",
            setting=ENV_NAME,
        ),
    )


class DeadlineTransport:
    """librouteros' SocketTransport, with every read and write bounded by a deadline."""

    def __init__(self, sock: socket.socket, *, timeout: float, deadline: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.deadline = deadline
        self.aborted = False

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if self.aborted or left <= 0:
            raise TimeoutError("deadline passed")
        self.sock.settimeout(min(self.timeout, left))

    def write(self, data: bytes) -> None:
        self._arm()
        self.sock.sendall(data)

    def read(self, length: int) -> bytes:
        data = bytearray()
        while len(data) < length:
            self._arm()
            got = self.sock.recv(length - len(data))
            if not got:
                raise ConnectionClosed("Connection unexpectedly closed.")
            data += got
        return bytes(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def abort(self) -> None:
        """From another thread: wake a blocked recv() and make the next call fail."""
        self.aborted = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


class BufferedDeadlineTransport(DeadlineTransport):
    """Reads the socket in large chunks: librouteros asks for one word (often a few bytes) at
    a time, and a recv() per word costs more than parsing it on a 1,000-session reply."""

    def __init__(self, sock, *, timeout, deadline) -> None:
        super().__init__(sock, timeout=timeout, deadline=deadline)
        self.buffer = bytearray()

    def read(self, length: int) -> bytes:
        while len(self.buffer) < length:
            self._arm()
            got = self.sock.recv(max(65536, length - len(self.buffer)))
            if not got:
                raise ConnectionClosed("Connection unexpectedly closed.")
            self.buffer += got
        data = bytes(self.buffer[:length])
        del self.buffer[:length]
        return data


@dataclass(frozen=True)
class RouterTarget:
    """What is needed to reach one router (no model instance: safe to hand to a thread)."""

    router_id: int
    host: str
    port: int
    username: str
    password: str
    timeout: float
    use_tls: bool = False
    verify_tls: bool = False

    def __repr__(self) -> str:  # never the password
        return f"RouterTarget({self.router_id}, {self.host}:{self.port})"

    @classmethod
    def of(cls, router) -> RouterTarget:
        return cls(
            router_id=router.pk,
            host=router.host,
            port=router.port,
            username=router.username,
            password=router.password,
            timeout=router.timeout,
            use_tls=router.use_tls,
            verify_tls=router.verify_tls,
        )


def tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        # RouterOS's api-ssl usually runs with a self-signed certificate; the connection is
        # still encrypted.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def server_name(host: str) -> str:
    """The TLS server name of a host as stored: an IPv6 literal without its brackets."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def connect_or_offline(checked, target: RouterTarget, *, timeout: float) -> socket.socket:
    """The TCP connection. A router that does not accept it within the timeout is offline
    (switched off, or no route to it), like one that refuses it; a timeout after the
    connection was accepted is a network issue (classify)."""
    try:
        return outbound.connect(checked, timeout=timeout)
    except TimeoutError as exc:
        raise RouterError(
            PollErrorKind.OFFLINE,
            stored_gettext(
                "%(host)s:%(port)s did not accept the connection in time: the router is off or "
                "cannot be reached.",
                host=target.host,
                port=target.port,
            ),
        ) from exc


class RouterConnection:
    """A logged-in API session. Use as a context manager; `deadline` is a time.monotonic()
    instant after which every call fails."""

    def __init__(self, target: RouterTarget, *, deadline: float | None = None) -> None:
        self.target = target
        self.deadline = deadline if deadline is not None else time.monotonic() + 4 * target.timeout
        self.transport: DeadlineTransport | None = None
        self.api: Api | None = None

    # -- connecting ------------------------------------------------------------------------
    def open(self) -> RouterConnection:
        target = self.target
        with translate_errors(target):
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("deadline passed")
            # Resolved and checked against the outbound address policy at every connection;
            # the socket goes to a checked address, never to a second resolution of the name.
            checked = outbound.check_host(target.host, target.port)
            sock = connect_or_offline(checked, target, timeout=min(target.timeout, left))
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if target.use_tls:
                    sock.settimeout(
                        min(target.timeout, max(0.01, self.deadline - time.monotonic()))
                    )
                    # The name as configured, not the address connected to: SNI and the
                    # certificate check are about the router's name.
                    sock = tls_context(target.verify_tls).wrap_socket(
                        sock, server_hostname=server_name(target.host)
                    )
                self.transport = BufferedDeadlineTransport(
                    sock, timeout=target.timeout, deadline=self.deadline
                )
                self.api = Api(protocol=ApiProtocol(transport=self.transport, encoding=ENCODING))
                plain(self.api, target.username, target.password)
            except BaseException:
                sock.close()
                raise
        return self

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def __enter__(self) -> RouterConnection:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- commands --------------------------------------------------------------------------
    def call(self, command: str, **kwargs) -> list[dict]:
        with translate_errors(self.target):
            return list(self.api(command, **kwargs))

    def select(self, path: str, keys: Iterable[str], *where) -> list[dict]:
        with translate_errors(self.target):
            query = self.api.path(*path.strip("/").split("/")).select(*(Key(k) for k in keys))
            if where:
                query = query.where(*where)
            return list(query)

    def identity_and_version(self) -> tuple[str, str]:
        identity = self.call("/system/identity/print")
        resource = self.call("/system/resource/print")
        if not identity or not resource:
            raise RouterError(
                PollErrorKind.PROTOCOL, stored_gettext("The router sent an empty reply.")
            )
        return str(identity[0].get("name", "")), str(resource[0].get("version", ""))

    def active_sessions(self) -> list[dict]:
        return self.select(
            "/ppp/active", (".id", "name", "service", "address", "caller-id", "uptime")
        )

    def remove(self, path: str, ids: list[str]) -> None:
        if ids:
            self.call(f"{path}/remove", **{".id": ",".join(ids)})

    def add(self, path: str, **fields) -> str:
        rows = self.call(f"{path}/add", **fields)
        return str(rows[0].get("ret", "")) if rows else ""

    def set(self, path: str, item_id: str, **fields) -> None:
        self.call(f"{path}/set", **{".id": item_id, **fields})


class translate_errors:  # noqa: N801 - used as a context manager
    """Turn socket, TLS and librouteros errors into a RouterError in plain words."""

    def __init__(self, target: RouterTarget) -> None:
        self.target = target

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, RouterError):
            return False
        error = classify(exc, self.target.host, self.target.port)
        if error is None:
            return False
        raise error from exc


def classify(exc: BaseException, host: str, port: int) -> RouterError | None:
    """The RouterError of a socket, TLS or librouteros error talking to host:port, or None
    for an error that is none of these."""
    where = {"host": host, "port": port}
    if isinstance(exc, outbound.AddressRefused):
        return RouterError(PollErrorKind.ADDRESS, exc.text)
    if isinstance(exc, outbound.HostUnresolvable | socket.gaierror):
        return RouterError(
            PollErrorKind.OFFLINE,
            stored_gettext("The host name of %(host)s:%(port)s cannot be resolved.", **where),
        )
    if isinstance(exc, TrapError | FatalError) and "invalid user name or password" in str(exc):
        return RouterError(
            PollErrorKind.LOGIN,
            stored_gettext(
                "%(host)s:%(port)s refused the login: wrong username or password.", **where
            ),
        )
    if isinstance(exc, TimeoutError | socket.timeout):  # connected, then no answer in time
        return RouterError(
            PollErrorKind.TIMEOUT,
            stored_gettext("%(host)s:%(port)s did not answer in time (timed out).", **where),
        )
    if isinstance(exc, ConnectionRefusedError):
        return RouterError(
            PollErrorKind.OFFLINE,
            stored_gettext(
                "%(host)s:%(port)s refused the connection: the router is off, or its API "
                "service is disabled.",
                **where,
            ),
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return RouterError(
            PollErrorKind.TLS,
            stored_gettext(
                "%(host)s:%(port)s: the router's TLS certificate is not trusted (%(reason)s).",
                reason=said(exc.verify_message),
                **where,
            ),
        )
    if isinstance(exc, ssl.SSLError):
        return RouterError(
            PollErrorKind.TLS,
            stored_gettext(
                "%(host)s:%(port)s: the TLS handshake failed (%(reason)s).",
                reason=said(exc.reason),
                **where,
            ),
        )
    if isinstance(exc, ConnectionClosed | ConnectionResetError | BrokenPipeError):
        return RouterError(
            PollErrorKind.NETWORK,
            stored_gettext("%(host)s:%(port)s closed the connection unexpectedly.", **where),
        )
    if isinstance(exc, OSError) and exc.errno in (101, 113, 110, 112):  # unreachable, timed out
        return RouterError(
            PollErrorKind.OFFLINE,
            stored_gettext(
                "%(host)s:%(port)s cannot be reached (%(error)s).",
                error=said(exc.strerror),
                **where,
            ),
        )
    if isinstance(exc, OSError):
        return RouterError(
            PollErrorKind.NETWORK,
            stored_gettext(
                "Network error talking to %(host)s:%(port)s: %(error)s.",
                error=said(exc.strerror or exc),
                **where,
            ),
        )
    if isinstance(exc, TrapError):
        return RouterError(
            PollErrorKind.PROTOCOL,
            stored_gettext(
                "%(host)s:%(port)s refused a command: %(error)s.", error=said(exc), **where
            ),
        )
    if isinstance(exc, FatalError):
        return RouterError(
            PollErrorKind.NETWORK,
            stored_gettext(
                "%(host)s:%(port)s ended the session: %(error)s.", error=said(exc), **where
            ),
        )
    if isinstance(
        exc, ProtocolError | LibRouterosError | UnicodeError | ValueError | IndexError | KeyError
    ):
        return RouterError(
            PollErrorKind.PROTOCOL,
            stored_gettext(
                "%(host)s:%(port)s sent a reply that is not valid RouterOS API (%(kind)s).",
                kind=type(exc).__name__,
                **where,
            ),
        )
    return None


def read_identity(target: RouterTarget) -> tuple[str, str]:
    """(identity, version) of the router, or RouterError."""
    with RouterConnection(target, deadline=time.monotonic() + 3 * target.timeout) as conn:
        return conn.identity_and_version()
