"""Why a PPPoE account's connection status is unavailable, in one place for the client page
(Connection details and the Connection tab) and the lists' status cells.

A status is unavailable (Unknown) for one of these reasons, each told apart as an operator
would expect from the last poll of the account's router:

- "The MikroTik server is offline": the router could not be reached at all — the connection
  was refused, the address is unreachable, its name does not resolve, or the TCP connection
  was not accepted within the router's timeout (PollErrorKind.OFFLINE).
- "There's a network connectivity issue": the router accepted the connection but the exchange
  failed — it stopped answering (a reply timed out, or the poll's deadline cut it off), reset or
  closed the connection mid-way (PollErrorKind.TIMEOUT and NETWORK).
- "The client has never connected": the router was read fine, but the account has never been
  seen in /ppp/active (no `last_seen_at`). An account once seen and now gone is plain Offline.

A router that answered but refused the login, broke TLS, sent an unreadable reply, or whose
password or address Clientdesk cannot use keeps its own precise wording: those are for the
operator to fix, not a network fault. Before the first poll, and on a disabled router, the
status is not checked at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import ConnectionStatus, PollErrorKind, PppoeAccount


@dataclass(frozen=True)
class Unavailable:
    reason: str  # the sentence after "Connection status unavailable:"
    word: str  # the short form beside "Unknown" in the lists


SERVER_OFFLINE = Unavailable("The MikroTik server is offline", "server offline")
NETWORK_ISSUE = Unavailable("There’s a network connectivity issue", "network issue")
NEVER_CONNECTED = Unavailable("The client has never connected", "never connected")
NOT_CHECKED = Unavailable(
    "Not checked yet: the router has not been polled since the account was added", "not checked"
)
ROUTER_DISABLED = Unavailable(
    "The router is disabled in Clientdesk, so it is not polled", "router disabled"
)

BY_POLL_ERROR = {
    PollErrorKind.OFFLINE: SERVER_OFFLINE,
    PollErrorKind.TIMEOUT: NETWORK_ISSUE,
    PollErrorKind.NETWORK: NETWORK_ISSUE,
    PollErrorKind.LOGIN: Unavailable("The router refused Clientdesk’s login", "login refused"),
    PollErrorKind.PROTOCOL: Unavailable(
        "The router sent a reply Clientdesk cannot read", "unreadable reply"
    ),
    PollErrorKind.TLS: Unavailable("The TLS connection to the router failed", "TLS failed"),
    PollErrorKind.CONFIG: Unavailable(
        "The router’s stored password cannot be read", "password unreadable"
    ),
    PollErrorKind.ADDRESS: Unavailable(
        "The router’s address is not allowed for outbound connections", "address not allowed"
    ),
}


def why_unavailable(account: PppoeAccount) -> Unavailable | None:
    """None unless the status is Unknown; reads `account.router` (select it with the account)."""
    if account.status != ConnectionStatus.UNKNOWN:
        return None
    router = account.router
    if not router.enabled:
        return ROUTER_DISABLED
    if router.is_reachable is False:
        return BY_POLL_ERROR.get(router.last_error_kind, NETWORK_ISSUE)
    if router.is_reachable and account.checked_at is not None and account.last_seen_at is None:
        return NEVER_CONNECTED
    return NOT_CHECKED
