"""A webhook receiver on 127.0.0.1 (a threaded http.server) for the tests: it records every
request and answers what the test scripted (a status, a delay, a redirect), 204 otherwise."""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def delivery(self) -> str:
        return self.headers["X-Clientdesk-Delivery"]

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        """What a receiver does (docs/events.md): HMAC of `timestamp.body`, compared in
        constant time."""
        timestamp = self.headers["X-Clientdesk-Timestamp"]
        expected = hmac.new(
            secret.encode(), f"{timestamp}.".encode() + self.body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(self.headers["X-Clientdesk-Signature"], f"sha256={expected}")


@dataclass
class Answer:
    status: int = 204
    delay: float = 0.0
    body: bytes = b""
    headers: dict = field(default_factory=dict)


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self.script: list[Answer] = []  # answers for the next requests, then 204
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.arrived:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    answer = receiver.script.pop(0) if receiver.script else Answer()
                    receiver.arrived.notify_all()
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up (a timeout)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} requests, not {count}")
                self.arrived.wait(left)
            return list(self.received)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
