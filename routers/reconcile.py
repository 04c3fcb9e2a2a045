"""Bringing a router's /ppp/secret and /ppp/active in line with what Clientdesk wants.

Pure router work over an open RouterConnection (no database), shared by the poller (every
poll, for the accounts that need attention, and a full audit now and then) and the enforcement
task (one account, at once). Only Clientdesk's secrets are ever changed: those whose comment
carries its mark (`clientdesk:<account id>`), and those adopted from the router as they were,
known by the RouterOS `.id` recorded on the account (`DesiredSecret.secret_id`); a secret of the
same name made by someone else is left alone and reported. Only marked secrets are ever removed
as orphans: an adopted secret that no account wants any more stays on the router, as it was
before Clientdesk knew it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from librouteros.query import Key, Or

from core.stored_text import StoredText, stored_gettext

from .models import SECRET_COMMENT_PREFIX, secret_comment
from .routeros import RouterConnection, RouterError

SECRET_PATH = "/ppp/secret"
ACTIVE_PATH = "/ppp/active"
SECRET_KEYS = (".id", "name", "profile", "disabled", "comment", "service")


@dataclass
class DesiredSecret:
    """One account as Clientdesk wants it on the router. `password` is None when it is not
    needed (the account is in sync and only checked)."""

    account_id: int
    username: str
    profile: str
    enabled: bool
    pending: bool  # the router is not known to match: write every field
    version: int
    password: str | None = None
    secret_id: str = ""  # the RouterOS .id of an adopted secret (its comment has no mark)

    def __repr__(self) -> str:  # never the password
        return f"DesiredSecret({self.account_id}, {self.username!r}, enabled={self.enabled})"

    @property
    def comment(self) -> str:
        return secret_comment(self.account_id)


@dataclass
class ReconcileResult:
    synced: dict[int, int] = field(default_factory=dict)  # account id -> version applied
    # account id -> why the router refused it, as a message read in the reader's language
    errors: dict[int, StoredText] = field(default_factory=dict)
    kicked: set[str] = field(default_factory=set)  # usernames whose session was removed
    removed_orphans: int = 0


def account_id_of(comment) -> int | None:
    if not isinstance(comment, str) or not comment.startswith(SECRET_COMMENT_PREFIX):
        return None
    try:
        return int(comment[len(SECRET_COMMENT_PREFIX) :])
    except ValueError:
        return None


def is_disabled(row: dict) -> bool:
    value = row.get("disabled", False)
    return value is True or value in ("true", "yes")


def reconcile(
    conn: RouterConnection,
    desired: list[DesiredSecret],
    *,
    active: list[dict] | None = None,
    full: bool = False,
) -> ReconcileResult:
    """Apply `desired` on the router. With `full`, every secret is read and Clientdesk's
    secrets that no account wants here any more are removed (with their sessions); otherwise
    only the secrets of `desired` are looked up (one print). `active` is the /ppp/active just
    read by the poller; when None the sessions of the accounts concerned are read here."""
    result = ReconcileResult()
    if not desired and not full:
        return result
    secrets = _read_secrets(conn, desired, full=full)
    ours: dict[int, dict] = {}
    by_name: dict[str, dict] = {}
    by_id = {str(row[".id"]): row for row in secrets if ".id" in row}
    for row in secrets:
        account_id = account_id_of(row.get("comment"))
        if account_id is not None:
            ours[account_id] = row
        if "name" in row:
            by_name[str(row["name"])] = row

    for want in desired:
        try:
            _apply_one(conn, want, _current_of(want, ours, by_id), by_name)
        except RouterError as error:
            if error.kind != "protocol":  # the connection itself failed: give up on it
                raise
            result.errors[want.account_id] = error.text
        else:
            if want.account_id not in result.errors:
                result.synced[want.account_id] = want.version

    to_kick = {w.username for w in desired if not w.enabled}
    if full:
        wanted_ids = {w.account_id for w in desired}
        orphans = [row for aid, row in ours.items() if aid not in wanted_ids]
        wanted_names = {w.username for w in desired}
        conn.remove(SECRET_PATH, [str(row[".id"]) for row in orphans])
        result.removed_orphans = len(orphans)
        to_kick |= {str(row.get("name")) for row in orphans} - wanted_names

    if to_kick:
        if active is None:
            active = conn.select(ACTIVE_PATH, (".id", "name"), Key("name").In(*sorted(to_kick)))
        session_ids = [str(r[".id"]) for r in active if r.get("name") in to_kick and ".id" in r]
        conn.remove(ACTIVE_PATH, session_ids)
        result.kicked = {str(r.get("name")) for r in active if r.get("name") in to_kick}
    return result


def _current_of(want: DesiredSecret, ours: dict[int, dict], by_id: dict[str, dict]):
    """The account's secret on the router: marked with its id, or the adopted one by `.id`."""
    if want.account_id in ours:
        return ours[want.account_id]
    return by_id.get(want.secret_id) if want.secret_id else None


def _read_secrets(conn: RouterConnection, desired: list[DesiredSecret], *, full: bool):
    if full:
        return conn.select(SECRET_PATH, SECRET_KEYS)
    comments = sorted(w.comment for w in desired)
    names = sorted({w.username for w in desired})
    wanted = [Key("comment").In(*comments), Key("name").In(*names)]
    secret_ids = sorted({w.secret_id for w in desired if w.secret_id})
    if secret_ids:
        wanted.append(Key(".id").In(*secret_ids))
    return conn.select(SECRET_PATH, SECRET_KEYS, Or(*wanted))


def _apply_one(conn, want: DesiredSecret, current: dict | None, by_name: dict) -> None:
    disabled = not want.enabled
    if current is None:
        clash = by_name.get(want.username)
        if clash is not None and account_id_of(clash.get("comment")) != want.account_id:
            raise RouterError(
                "protocol",
                stored_gettext(
                    "A secret named “%(login)s” already exists on the router and was not "
                    "created by Clientdesk; it was left alone.",
                    login=want.username,
                ),
            )
        if want.password is None:
            raise RouterError("protocol", stored_gettext("The secret is missing on the router."))
        conn.add(
            SECRET_PATH,
            name=want.username,
            password=want.password,
            profile=want.profile,
            service="pppoe",
            comment=want.comment,
            disabled=disabled,
        )
        by_name[want.username] = {"name": want.username, "comment": want.comment}
        return
    changes: dict = {}
    if want.pending:
        changes = {"name": want.username, "profile": want.profile, "disabled": disabled}
        if want.password is not None:
            changes["password"] = want.password
    else:
        if current.get("name") != want.username:
            changes["name"] = want.username
        if str(current.get("profile", "")) != want.profile:
            changes["profile"] = want.profile
        if is_disabled(current) != disabled:
            changes["disabled"] = disabled
    if changes.get("name") and changes["name"] != current.get("name"):
        clash = by_name.get(want.username)
        if clash is not None and clash is not current:
            raise RouterError(
                "protocol",
                stored_gettext(
                    "A secret named “%(login)s” already exists on the router; the account "
                    "cannot be renamed to it.",
                    login=want.username,
                ),
            )
    if changes:
        conn.set(SECRET_PATH, str(current[".id"]), **changes)
