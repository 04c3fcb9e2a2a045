"""HTTP requests on a tenant's behalf (webhooks), through the outbound address policy.

`requests` (on urllib3) speaks HTTP; the TCP connection under it is opened by
`core.outbound.connect` to an address `check_host` allowed, so the name is resolved once and a
refused network is never reached, whatever the URL says. TLS still checks the certificate
against the URL's host name. Redirects are never followed (a receiver could send the request on
to a refused address), and every request has a timeout.

    answer = post_checked(url, body=b"{}", headers={...}, timeout=10)  # OutboundError if refused
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .outbound import CheckedHost, check_host, connect

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    elapsed_ms: int


def _connection_classes(checked: CheckedHost, timeout: float):
    """urllib3 connections whose socket is `connect(checked)`: no resolution of their own."""

    class CheckedHTTPConnection(HTTPConnection):
        def _new_conn(self):
            return connect(checked, timeout=timeout)

    class CheckedHTTPSConnection(HTTPSConnection):
        def _new_conn(self):
            return connect(checked, timeout=timeout)

    class CheckedHTTPPool(HTTPConnectionPool):
        ConnectionCls = CheckedHTTPConnection

    class CheckedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = CheckedHTTPSConnection

    return {"http": CheckedHTTPPool, "https": CheckedHTTPSPool}


class CheckedAdapter(HTTPAdapter):
    """A transport adapter bound to one checked host."""

    def __init__(self, checked: CheckedHost, timeout: float):
        self._pools = _connection_classes(checked, timeout)
        super().__init__(max_retries=0, pool_connections=1, pool_maxsize=1)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools


def url_host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 80)


def post_checked(
    url: str, *, body: bytes, headers: dict, timeout: float, read_limit: int = 4096
) -> Answer:
    """POST `body` to `url` once, without following redirects; the first `read_limit` bytes of
    the answer are kept. Raises core.outbound.OutboundError (refused, unresolvable) or
    requests.RequestException (refused connection, timeout, broken answer)."""
    host, port = url_host_port(url)
    checked = check_host(host, port)
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: the checked address only
        adapter = CheckedAdapter(checked, timeout)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        response = session.post(
            url,
            data=body,
            headers=headers,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        )
        try:
            content = next(response.iter_content(read_limit), b"")
        finally:
            response.close()
        elapsed = int(response.elapsed.total_seconds() * 1000)
        return Answer(status=response.status_code, body=content, elapsed_ms=elapsed)
