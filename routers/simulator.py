"""A RouterOS API server in Python, so that tests, the demo and the benchmark run librouteros
for real over TCP.

It speaks the API wire protocol (https://help.mikrotik.com/docs/display/ROS/API): words
prefixed by their length in the 1-5 byte encoding, sentences ended by an empty word, replies
`!re`, `!done`, `!trap` and `!fatal`, `.tag` echoed on every reply of a tagged command,
`.proplist`, and the query words `?name=value`, `?=name=value`, `?name`, `?-name`,
`?<name=value`, `?>name=value` with the stack operations `?#!`, `?#&`, `?#|` (as librouteros'
`Key`, `And`, `Or` and `In` send them). The login is the plain one of RouterOS 6.43 and later
(`/login =name= =password=`).

It holds `/ppp/secret` and `/ppp/active` in memory (`print`, `add`, `set`, `remove`), and
answers `/system/identity/print` and `/system/resource/print`. Knobs, all changeable while it
runs: `latency` (seconds before each reply), `hang` ("login": accept the connection but never
answer anything, as a router behind a link that drops its replies; "command": answer the login,
then nothing), `drop_connections` (close the socket on the first command
after the login), `reject_logins` (every login refused, as with wrong credentials) and
`malformed` (answer commands with bytes that are not a valid sentence).

`churn(...)` makes sessions come and go (the demo); a disabled secret never comes online, nor
one named in `never_dial_in` (a client whose equipment was never connected).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import socket
import ssl
import threading
import time
from collections.abc import Iterable

VERSION = "7.16.2 (stable)"


# -- the wire protocol -------------------------------------------------------------------------
def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + length.to_bytes(4, "big")


def encode_sentence(words: Iterable[str]) -> bytes:
    out = bytearray()
    for word in words:
        data = word.encode("utf-8")
        out += encode_length(len(data))
        out += data
    out += b"\x00"
    return bytes(out)


class ProtocolViolation(Exception):
    pass


def read_length(stream) -> int | None:
    first = stream.read(1)
    if not first:
        return None
    c = first[0]
    if c < 0x80:
        return c
    if c < 0xC0:
        extra, mask = 1, 0x8000
    elif c < 0xE0:
        extra, mask = 2, 0xC00000
    elif c < 0xF0:
        extra, mask = 3, 0xE0000000
    elif c == 0xF0:
        rest = stream.read(4)
        if len(rest) < 4:
            return None
        return int.from_bytes(rest, "big")
    else:
        raise ProtocolViolation(f"bad length control byte {c:#x}")
    rest = stream.read(extra)
    if len(rest) < extra:
        return None
    return int.from_bytes(first + rest, "big") ^ mask


def read_sentence(stream) -> list[str] | None:
    """One sentence, or None when the peer closed the connection."""
    words: list[str] = []
    while True:
        length = read_length(stream)
        if length is None:
            return None
        if length == 0:
            return words
        data = stream.read(length)
        if len(data) < length:
            return None
        words.append(data.decode("utf-8", errors="replace"))


# -- queries -----------------------------------------------------------------------------------
def _compare(value, other: str) -> tuple:
    """RouterOS compares numbers as numbers; everything else as text."""
    try:
        return (0, int(value), int(other))
    except (TypeError, ValueError):
        return (1, str(value), other)


_BOOLEANS = {"yes": "true", "true": "true", "no": "false", "false": "false"}


def _same(value: str, other: str) -> bool:
    """Equality as RouterOS queries see it: yes/no and true/false are the same booleans."""
    if value in _BOOLEANS and other in _BOOLEANS:
        return _BOOLEANS[value] == _BOOLEANS[other]
    return value == other


def build_filter(queries: list[str]):
    """The query words of a print as a predicate over a row (a dict of API strings)."""
    if not queries:
        return lambda row: True
    ops = []
    for word in queries:
        body = word[1:]
        if body.startswith("#"):
            ops.append(("stack", body[1:]))
        elif body.startswith("="):
            key, _, value = body[1:].partition("=")
            ops.append(("eq", key, value))
        elif body.startswith("<"):
            key, _, value = body[1:].partition("=")
            ops.append(("lt", key, value))
        elif body.startswith(">"):
            key, _, value = body[1:].partition("=")
            ops.append(("gt", key, value))
        elif body.startswith("-"):
            ops.append(("absent", body[1:]))
        elif "=" in body:
            key, _, value = body.partition("=")
            ops.append(("eq", key, value))
        else:
            ops.append(("present", body))

    def evaluate(row: dict) -> bool:
        stack: list[bool] = []
        for op in ops:
            kind = op[0]
            if kind == "eq":
                stack.append(_same(row.get(op[1], ""), op[2]))
            elif kind in ("lt", "gt"):
                _, left, right = _compare(row.get(op[1], ""), op[2])
                smaller = left < right if kind == "lt" else left > right
                stack.append(op[1] in row and smaller)
            elif kind == "absent":
                stack.append(op[1] not in row)
            elif kind == "present":
                stack.append(op[1] in row)
            else:
                for char in op[1]:
                    if char == "!":
                        stack.append(not stack.pop() if stack else True)
                    elif char in "&|":
                        right = stack.pop() if stack else True
                        left = stack.pop() if stack else True
                        stack.append(left and right if char == "&" else left or right)
                    elif char == ".":
                        stack.append(stack[-1] if stack else True)
                    elif char.isdigit():
                        index = int(char)
                        stack.append(stack[-1 - index] if index < len(stack) else True)
        return all(stack)

    return evaluate


class CommandTrap(Exception):
    def __init__(self, message: str, category: int | None = None):
        super().__init__(message)
        self.message = message
        self.category = category


def format_uptime(seconds: float) -> str:
    seconds = int(seconds)
    weeks, seconds = divmod(seconds, 7 * 86400)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = [f"{v}{u}" for v, u in ((weeks, "w"), (days, "d"), (hours, "h"), (minutes, "m")) if v]
    parts.append(f"{seconds}s")
    return "".join(parts)


# -- the router --------------------------------------------------------------------------------
class SimulatedRouter:
    """One simulated router, serving the API on a local port from a thread of its own."""

    def __init__(
        self,
        *,
        identity: str = "MikroTik",
        username: str = "admin",
        password: str = "",
        version: str = VERSION,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.identity = identity
        self.username = username
        self.password = password
        self.version = version
        self.ssl_context = ssl_context
        self.latency = 0.0
        self.hang: str | None = None  # None, "login" or "command"
        self.drop_connections = False
        self.reject_logins = False
        self.malformed = False
        self.never_dial_in: set[str] = set()  # usernames churn leaves offline
        self.secrets: dict[str, dict[str, str]] = {}
        self.active: dict[str, dict[str, str]] = {}
        self.commands: list[str] = []  # every command word received, for tests
        self.logins = 0
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._started = time.monotonic()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self.host = "127.0.0.1"
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> SimulatedRouter:
        self._stopped.clear()
        self._listener = socket.create_server((host, port), backlog=256)
        self._listener.settimeout(0.2)
        self.host, self.port = host, self._listener.getsockname()[1]
        thread = threading.Thread(
            target=self._accept_loop, name=f"routeros-sim-{self.port}", daemon=True
        )
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection (a hung one too)."""
        self._stopped.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        with self.lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads.clear()

    def __enter__(self) -> SimulatedRouter:
        return self if self._listener else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self._connections.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # -- state helpers (tests and the demo use these) --------------------------------------
    def _next_id(self) -> str:
        while True:  # past the ids given explicitly (add_secret's item_id)
            key = f"*{next(self._ids):X}"
            if key not in self.secrets and key not in self.active:
                return key

    def add_secret(
        self, name: str, password: str = "", *, item_id: str | None = None, **fields: str
    ) -> str:
        """Add a secret as the router's own console would; `item_id` restores one under the
        `.id` it had (the demo's adopted secrets, when the simulator starts again)."""
        with self.lock:
            return self._secret_add(
                {"name": name, "password": password, **{k: str(v) for k, v in fields.items()}},
                item_id=item_id,
            )

    def secret(self, name: str) -> dict[str, str] | None:
        with self.lock:
            return next((dict(s) for s in self.secrets.values() if s["name"] == name), None)

    def connect_session(
        self, name: str, *, address: str | None = None, caller_id: str | None = None
    ) -> str:
        """A PPPoE client dials in (whether or not a secret exists: RADIUS users do too)."""
        with self.lock:
            for row in self.active.values():
                if row["name"] == name:
                    return row[".id"]
            number = next(self._ids)
            session_id = f"*{number:X}"
            self.active[session_id] = {
                ".id": session_id,
                "name": name,
                "service": "pppoe",
                "caller-id": caller_id
                or f"02:00:00:{number >> 16 & 255:02X}:{number >> 8 & 255:02X}:{number & 255:02X}",
                "address": address or f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}",
                "encoding": "",
                "session-id": f"0x{8100000 + number:X}",
                "limit-bytes-in": "0",
                "limit-bytes-out": "0",
                "radius": "false",
                "_since": str(time.monotonic()),
            }
            return session_id

    def disconnect_session(self, name: str) -> bool:
        with self.lock:
            for key, row in list(self.active.items()):
                if row["name"] == name:
                    del self.active[key]
                    return True
            return False

    def active_names(self) -> set[str]:
        with self.lock:
            return {row["name"] for row in self.active.values()}

    def churn(self, *, interval: float = 10.0, share_online: float = 0.7, seed: int = 0):
        """Sessions come and go every `interval` seconds around `share_online` of the enabled
        secrets; returns the thread (a daemon, stopped with the router)."""
        rng = random.Random(seed)

        def loop():
            while not self._stopped.wait(interval):
                with self.lock:
                    enabled = [
                        s["name"]
                        for s in self.secrets.values()
                        if s.get("disabled") != "true" and s["name"] not in self.never_dial_in
                    ]
                    online = self.active_names()
                    for name in enabled:
                        if name in online and rng.random() < (1 - share_online) * 0.2:
                            self.disconnect_session(name)
                        elif name not in online and rng.random() < share_online * 0.2:
                            self.connect_session(name)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    # -- one connection --------------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.ssl_context is not None:
                conn.settimeout(10)
                tls = self.ssl_context.wrap_socket(conn, server_side=True)
                tls.settimeout(None)
                with self.lock:
                    self._connections.discard(conn)
                    self._connections.add(tls)
                conn = tls
            stream = conn.makefile("rb", buffering=65536)
            logged_in = False
            while not self._stopped.is_set():
                try:
                    words = read_sentence(stream)
                except ProtocolViolation:
                    conn.sendall(encode_sentence(["!fatal", "malformed sentence"]))
                    return
                if words is None:
                    return
                if not words:
                    continue
                command = words[0]
                with self.lock:
                    self.commands.append(command)
                if self.hang == "login" or (self.hang == "command" and logged_in):
                    # Never answer; read on until the client gives up and closes, so that a
                    # stalled router holds no thread past its client (the demo polls it
                    # every minute).
                    continue
                if self.latency:
                    time.sleep(self.latency)
                attrs, queries, tag = self._parse_words(words[1:])
                if command == "/login":
                    reply, logged_in = self._login(attrs)
                    conn.sendall(self._tagged(reply, tag))
                    continue
                if not logged_in:
                    conn.sendall(self._tagged([["!fatal", "not logged in"]], tag))
                    return
                if self.drop_connections:
                    return
                if self.malformed:
                    conn.sendall(b"\xf8\xff\x00garbage\x00")
                    continue
                if command == "/quit":
                    conn.sendall(encode_sentence(["!fatal", "session terminated on request"]))
                    return
                conn.sendall(self._tagged(self._dispatch(command, attrs, queries), tag))
        except (OSError, ssl.SSLError, ValueError):
            return
        finally:
            with self.lock:
                self._connections.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    @staticmethod
    def _parse_words(words: list[str]) -> tuple[dict[str, str], list[str], str | None]:
        attrs: dict[str, str] = {}
        queries: list[str] = []
        tag = None
        for word in words:
            if word.startswith("="):
                key, _, value = word[1:].partition("=")
                attrs[key] = value
            elif word.startswith("?"):
                queries.append(word)
            elif word.startswith(".tag="):
                tag = word[5:]
        return attrs, queries, tag

    @staticmethod
    def _tagged(sentences: list[list[str]], tag: str | None) -> bytes:
        if tag is not None:
            sentences = [[*s, f".tag={tag}"] for s in sentences]
        return b"".join(encode_sentence(s) for s in sentences)

    def _login(self, attrs: dict[str, str]) -> tuple[list[list[str]], bool]:
        if "name" not in attrs:
            # Pre-6.43 challenge login is not offered (RouterOS 7 does not either).
            return [["!trap", "=message=missing =name="], ["!done"]], False
        if (
            self.reject_logins
            or attrs.get("name") != self.username
            or attrs.get("password", "") != self.password
        ):
            return [["!trap", "=message=invalid user name or password (6)"], ["!done"]], False
        with self.lock:
            self.logins += 1
        return [["!done"]], True

    # -- commands --------------------------------------------------------------------------
    def _dispatch(self, command: str, attrs: dict, queries: list[str]) -> list[list[str]]:
        path, _, action = command.rpartition("/")
        try:
            with self.lock:
                if path == "/system/identity" and action == "print":
                    rows = [{"name": self.identity}]
                elif path == "/system/identity" and action == "set":
                    self.identity = attrs.get("name", self.identity)
                    rows = []
                elif path == "/system/resource" and action == "print":
                    rows = [self._resource()]
                elif path in ("/ppp/secret", "/ppp/active"):
                    return self._table_command(path, action, attrs, queries)
                else:
                    raise CommandTrap("no such command prefix", 0)
        except CommandTrap as trap:
            words = ["!trap", f"=message={trap.message}"]
            if trap.category is not None:
                words.insert(1, f"=category={trap.category}")
            return [words, ["!done"]]
        return [*(self._row_words(r, attrs) for r in rows), ["!done"]]

    def _resource(self) -> dict[str, str]:
        return {
            "uptime": format_uptime(time.monotonic() - self._started),
            "version": self.version,
            "build-time": "2024-12-04 09:12:55",
            "free-memory": "812019712",
            "total-memory": "1073741824",
            "cpu": "QEMU",
            "cpu-count": "2",
            "cpu-load": "3",
            "architecture-name": "x86_64",
            "board-name": "CHR",
            "platform": "MikroTik",
        }

    @staticmethod
    def _row_words(row: dict[str, str], attrs: dict[str, str]) -> list[str]:
        proplist = attrs.get(".proplist")
        keys = proplist.split(",") if proplist else [k for k in row if not k.startswith("_")]
        return ["!re", *(f"={k}={row[k]}" for k in keys if k in row)]

    def _table_command(self, path, action, attrs, queries) -> list[list[str]]:
        table = self.secrets if path == "/ppp/secret" else self.active
        if action in ("print", "getall"):
            match = build_filter(queries)
            rows = []
            now = time.monotonic()
            for row in table.values():
                if path == "/ppp/active":
                    row = {**row, "uptime": format_uptime(now - float(row["_since"]))}
                if match(row):
                    rows.append(row)
            if "count-only" in attrs:
                return [["!done", f"=ret={len(rows)}"]]
            return [*(self._row_words(r, attrs) for r in rows), ["!done"]]
        if action == "add" and path == "/ppp/secret":
            return [["!done", f"=ret={self._secret_add(attrs)}"]]
        if action == "set":
            for key in self._ids_of(table, attrs):
                if path == "/ppp/secret":
                    self._secret_set(key, attrs)
                else:
                    raise CommandTrap("failure: active sessions cannot be changed")
            return [["!done"]]
        if action == "remove":
            for key in self._ids_of(table, attrs):
                del table[key]
            return [["!done"]]
        raise CommandTrap("no such command", 0)

    @staticmethod
    def _ids_of(table: dict, attrs: dict) -> list[str]:
        raw = attrs.get(".id") or attrs.get("numbers") or ""
        ids = [part for part in raw.split(",") if part]
        if not ids:
            raise CommandTrap("no such item (4)", 0)
        for key in ids:
            if key not in table:
                raise CommandTrap("no such item (4)", 0)
        return ids

    _SECRET_FIELDS = (
        "name",
        "service",
        "caller-id",
        "password",
        "profile",
        "local-address",
        "remote-address",
        "routes",
        "comment",
        "disabled",
    )

    def _secret_add(self, attrs: dict[str, str], item_id: str | None = None) -> str:
        name = attrs.get("name", "")
        if not name:
            raise CommandTrap("failure: name must be set")
        if any(s["name"] == name for s in self.secrets.values()):
            raise CommandTrap("failure: secret with the same name already exists")
        if item_id is not None and item_id in self.secrets:
            raise CommandTrap("failure: item with such id already exists")
        key = item_id or self._next_id()
        row = {
            ".id": key,
            "name": name,
            "service": attrs.get("service", "any"),
            "caller-id": attrs.get("caller-id", ""),
            "password": attrs.get("password", ""),
            "profile": attrs.get("profile", "default"),
            "local-address": attrs.get("local-address", ""),
            "remote-address": attrs.get("remote-address", ""),
            "routes": "",
            "limit-bytes-in": "0",
            "limit-bytes-out": "0",
            "last-logged-out": "1970-01-01 00:00:00",
            "disabled": self._bool(attrs.get("disabled", "no")),
        }
        if attrs.get("comment"):
            row["comment"] = attrs["comment"]
        self.secrets[key] = row
        return key

    def _secret_set(self, key: str, attrs: dict[str, str]) -> None:
        row = self.secrets[key]
        new_name = attrs.get("name")
        if new_name and any(s["name"] == new_name and k != key for k, s in self.secrets.items()):
            raise CommandTrap("failure: secret with the same name already exists")
        for field in self._SECRET_FIELDS:
            if field in attrs:
                row[field] = self._bool(attrs[field]) if field == "disabled" else attrs[field]
        if row.get("comment") == "":
            row.pop("comment")

    @staticmethod
    def _bool(value: str) -> str:
        if value in ("yes", "true"):
            return "true"
        if value in ("no", "false", ""):
            return "false"
        raise CommandTrap(f"value of disabled must be yes or no, not {value!r}")
