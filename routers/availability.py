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

from django.utils.translation import gettext_lazy as _

from .models import ConnectionStatus, PollErrorKind, PppoeAccount


@dataclass(frozen=True)
class Unavailable:
    """Both texts marked lazily, read in the active language."""

    reason_text: str  # the sentence after "Connection status unavailable:"
    word_text: str  # the short form beside "Unknown" in the lists

    @property
    def reason(self) -> str:
        return str(self.reason_text)

    @property
    def word(self) -> str:
        return str(self.word_text)


SERVER_OFFLINE = Unavailable(_("The MikroTik server is offline"), _("server offline"))
NETWORK_ISSUE = Unavailable(_("There’s a network connectivity issue"), _("network issue"))
NEVER_CONNECTED = Unavailable(_("The client has never connected"), _("never connected"))
NOT_CHECKED = Unavailable(
    _("Not checked yet: the router has not been polled since the account was added"),
    _("not checked"),
)
ROUTER_DISABLED = Unavailable(
    _("The router is disabled in Clientdesk, so it is not polled"), _("router disabled")
)

BY_POLL_ERROR = {
    PollErrorKind.OFFLINE: SERVER_OFFLINE,
    PollErrorKind.TIMEOUT: NETWORK_ISSUE,
    PollErrorKind.NETWORK: NETWORK_ISSUE,
    PollErrorKind.LOGIN: Unavailable(
        _("The router refused Clientdesk’s login"), _("login refused")
    ),
    PollErrorKind.PROTOCOL: Unavailable(
        _("The router sent a reply Clientdesk cannot read"), _("unreadable reply")
    ),
    PollErrorKind.TLS: Unavailable(_("The TLS connection to the router failed"), _("TLS failed")),
    PollErrorKind.CONFIG: Unavailable(
        _("The router’s stored password cannot be read"), _("password unreadable")
    ),
    PollErrorKind.ADDRESS: Unavailable(
        _("The router’s address is not allowed for outbound connections"), _("address not allowed")
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
