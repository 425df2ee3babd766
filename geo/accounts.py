"""Accounts: users, passwords, lock-outs, API tokens, and the scope each user may see.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile);
API tokens are 256-bit random strings of which only the SHA-256 is stored. A user is never
deleted, only disabled, so that the access audit keeps naming them. What each role may see:
:func:`scope_for` here (which residents) and ``webmap/access.py`` (which pages and calls);
docs/accounts.md says both in prose.

Length: users, passwords, lock-outs and tokens share one transaction discipline and the
same checks; a split by noun would import back and forth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.scope import Scope
from geo.score_runs import PUBLISHED_RUN_SQL
from visitmap.errors import FieldError, Unauthorized
from visitmap.vocab import ROLES

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024
TOKEN_PREFIX = "vmt_"
#: A visitor sees the residents of their team's dongs that are due, planned for their team
#: from this many days ago on, or visited by their team in the last VISITED_DAYS days.
PLANNED_SINCE_DAYS = 7
VISITED_DAYS = 30

_hasher = PasswordHasher()
#: verified against when the user name is unknown, so that the answer takes as long
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(FieldError):
    """Bad input for an account command; ``field`` names the option or form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field)


class LoginRefused(Unauthorized):
    """A sign-in that did not succeed; ``reason`` is one of ``bad_credentials``, ``locked``.

    A disabled account answers ``bad_credentials`` like a wrong password (no account oracle).
    ``locked_until`` is set (timezone-aware) when ``reason`` is ``locked``.
    """

    def __init__(self, reason: str, locked_until: dt.datetime | None = None):
        super().__init__(reason)
        self.reason = reason
        self.locked_until = locked_until


@dataclass(frozen=True)
class Account:
    """A user account as the application sees it (no password hash).

    Attributes
    ----------
    id : int
        Database id of the user.
    username, display_name : str
        Sign-in name and the name shown.
    roles : tuple of str
        The account's roles, from :data:`visitmap.vocab.ROLES`.
    all_areas : bool
        True when the account works in every dong.
    area_codes : tuple of str
        The 10-digit 행정동 codes the account is limited to, sorted.
    team_db_id, team_id, team_name
        The visit team (database id, external id, name), or None.
    provider_db_id, provider_id, provider_name
        The provider organisation of agency staff (database id, external id, name), or None.
    disabled : bool
        True when the account may not sign in or use its tokens.
    session_version : int
        Raised on every password change, disabling and enabling, which signs existing
        sessions out.
    locked_until, last_login_at : datetime or None
        End of the current lock-out and the last successful sign-in.
    """

    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    all_areas: bool
    area_codes: tuple[str, ...]
    team_db_id: int | None
    team_id: str | None
    team_name: str | None
    provider_db_id: int | None
    provider_id: str | None
    provider_name: str | None
    disabled: bool
    session_version: int
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None

    def has(self, *roles: str) -> bool:
        """Return True if the account has any of ``roles``."""
        return any(r in self.roles for r in roles)


@dataclass(frozen=True)
class TokenInfo:
    """An API token's record (never the token itself).

    Attributes
    ----------
    id : int
        Database id of the token.
    username : str
        The account the token belongs to.
    name : str
        The token's name, unique per account.
    prefix : str
        The token's first 12 characters, to recognise it by.
    created_at, last_used_at, revoked_at : datetime or None
        When the token was made, last used, and revoked (None when not yet).
    """

    id: int
    username: str
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def hash_password(password: str) -> str:
    """Return the Argon2id hash of ``password`` (PHC string format, salted)."""
    return _hasher.hash(password)


def check_password_rules(password: str, username: str = "", field: str = "password") -> None:
    """Check that ``password`` may be set.

    Parameters
    ----------
    password : str
        The new password: 12 to 1024 characters, no NUL character.
    username : str, optional
        The account's user name, which the password must not contain (any case).
    field : str, optional
        The field named by the error.

    Raises
    ------
    AccountError
        If the password breaks a rule.
    """
    if not isinstance(password, str) or len(password) < PASSWORD_MIN_LENGTH:
        raise AccountError(field, f"must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise AccountError(field, f"must be at most {PASSWORD_MAX_LENGTH} characters")
    if "\x00" in password:
        raise AccountError(field, "must not contain a NUL character")
    if username and username.lower() in password.lower():
        raise AccountError(field, "must not contain the user name")


_ACCOUNT_SQL = """
    SELECT u.id, u.username, u.display_name, u.roles, u.all_areas, u.disabled,
           u.session_version, u.locked_until, u.last_login_at, u.team_id AS team_db_id,
           t.external_id AS team_id, t.name AS team_name, u.provider_id AS provider_db_id,
           p.external_id AS provider_id, p.name AS provider_name,
           coalesce((SELECT array_agg(a.code ORDER BY a.code) FROM user_areas ua
                     JOIN areas a ON a.id = ua.area_id WHERE ua.user_id = u.id), '{}')
               AS area_codes
    FROM users u LEFT JOIN visit_teams t ON t.id = u.team_id
    LEFT JOIN providers p ON p.id = u.provider_id"""


def _account(row) -> Account:
    return Account(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=tuple(row["roles"]),
        all_areas=row["all_areas"],
        area_codes=tuple(row["area_codes"]),
        team_db_id=row["team_db_id"],
        team_id=row["team_id"],
        team_name=row["team_name"],
        provider_db_id=row["provider_db_id"],
        provider_id=row["provider_id"],
        provider_name=row["provider_name"],
        disabled=row["disabled"],
        session_version=row["session_version"],
        locked_until=row["locked_until"],
        last_login_at=row["last_login_at"],
    )


def get_account(
    session: Session, *, username: str | None = None, user_id: int | None = None
) -> Account | None:
    """Return the account named ``username`` (or with database id ``user_id``), or None."""
    if username is not None:
        if "\x00" in username:
            return None
        where, params = "u.username = :u", {"u": username}
    else:
        where, params = "u.id = :id", {"id": int(user_id)}
    row = session.execute(text(f"{_ACCOUNT_SQL} WHERE {where}"), params).mappings().one_or_none()
    return _account(row) if row else None


def list_accounts(session: Session) -> list[Account]:
    """Return every account, disabled ones included, by user name."""
    rows = session.execute(text(f"{_ACCOUNT_SQL} ORDER BY u.username")).mappings()
    return [_account(r) for r in rows]


def _require(session: Session, username: str) -> Account:
    account = get_account(session, username=username)
    if account is None:
        raise AccountError("user", f"no user named {username!r}")
    return account


def _area_ids(session: Session, codes: Iterable[str]) -> list[int]:
    codes = sorted(set(codes))
    found = dict(
        session.execute(text("SELECT code, id FROM areas WHERE code = ANY(:c)"), {"c": codes}).all()
    )
    missing = [c for c in codes if c not in found]
    if missing:
        raise AccountError("area", f"no such area (dong code): {', '.join(missing)}")
    return [found[c] for c in codes]


def _lookup(session: Session, table: str, field: str, external_id: str | None) -> int | None:
    if external_id is None:
        return None
    found = session.execute(
        text(f"SELECT id FROM {table} WHERE external_id = :e"), {"e": external_id}
    ).scalar()
    if found is None:
        raise AccountError(field, f"no such {field}: {external_id!r}")
    return found


def _check_roles(roles: Sequence[str]) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(roles))
    if not roles:
        raise AccountError("role", "give at least one role")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise AccountError("role", f"unknown role {', '.join(unknown)}; one of {', '.join(ROLES)}")
    return roles


def _check_fit(roles, *, area_codes, all_areas, team_db_id, provider_db_id) -> None:
    """Check that each role has the fields it needs to see anyone; raise AccountError."""
    if "visitor" in roles and team_db_id is None:
        raise AccountError("team", "a visitor belongs to a visit team (--team)")
    if "agency" in roles and provider_db_id is None:
        raise AccountError("org", "agency staff belong to an organisation (--org PROVIDER)")
    if "leader" in roles and not (area_codes or all_areas):
        raise AccountError("area", "a leader works in one or more dongs (--area or --all-areas)")


def create_user(
    session: Session,
    username: str,
    *,
    display_name: str,
    roles: Sequence[str],
    password: str | None,
    area_codes: Sequence[str] = (),
    all_areas: bool = False,
    team: str | None = None,
    org: str | None = None,
) -> Account:
    """Create an account (the caller commits).

    Parameters
    ----------
    session : Session
        The transaction to write in.
    username : str
        2-63 characters: lower-case letters, digits, ``.``, ``_`` or ``-``, starting with a
        letter or digit; must not exist yet.
    display_name : str
        The name shown, 1-200 characters (stripped).
    roles : sequence of str
        One or more of :data:`visitmap.vocab.ROLES`.
    password : str or None
        The password (see :func:`check_password_rules`), or None for an account that cannot
        sign in with a password.
    area_codes : sequence of str, optional
        10-digit 행정동 codes the account works in.
    all_areas : bool, optional
        True for an account that works in every dong.
    team, org : str or None, optional
        External ids of a visit team (a visitor needs one) and of a provider (agency staff
        need one).

    Returns
    -------
    Account
        The new account.

    Raises
    ------
    AccountError
        If a value is bad, a named area, team or provider does not exist, or a role lacks
        what it needs (a leader needs areas).
    """
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise AccountError(
            "username",
            "2-63 characters: lower-case letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
        )
    if get_account(session, username=username) is not None:
        raise AccountError("username", f"a user named {username!r} exists already")
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 200 or "\x00" in display_name:
        raise AccountError("name", "give a display name of 1-200 characters")
    roles = _check_roles(roles)
    area_ids = _area_ids(session, area_codes)
    team_db_id = _lookup(session, "visit_teams", "team", team)
    provider_db_id = _lookup(session, "providers", "org", org)
    _check_fit(
        roles,
        area_codes=area_ids,
        all_areas=all_areas,
        team_db_id=team_db_id,
        provider_db_id=provider_db_id,
    )
    if password is not None:
        check_password_rules(password, username)
    user_id = session.execute(
        text("""
        INSERT INTO users (username, display_name, roles, all_areas, team_id, provider_id,
                           password_hash)
        VALUES (:u, :n, :roles, :all, :team, :org, :hash) RETURNING id"""),
        {
            "u": username,
            "n": display_name,
            "roles": list(roles),
            "all": all_areas,
            "team": team_db_id,
            "org": provider_db_id,
            "hash": hash_password(password) if password is not None else None,
        },
    ).scalar_one()
    _replace_areas(session, user_id, area_ids)
    return get_account(session, user_id=user_id)


def _replace_areas(session: Session, user_id: int, area_ids: list[int]) -> None:
    session.execute(text("DELETE FROM user_areas WHERE user_id = :u"), {"u": user_id})
    if area_ids:
        session.execute(
            text("INSERT INTO user_areas (user_id, area_id) SELECT :u, unnest(CAST(:a AS int[]))"),
            {"u": user_id, "a": area_ids},
        )


def set_areas(
    session: Session, username: str, area_codes: Sequence[str], *, all_areas: bool = False
) -> Account:
    """Replace the dongs ``username`` works in (the caller commits).

    Parameters
    ----------
    session : Session
        The transaction to write in.
    username : str
        An existing account.
    area_codes : sequence of str
        10-digit 행정동 codes; they replace the account's current ones.
    all_areas : bool, optional
        True for every dong.

    Returns
    -------
    Account
        The account as changed.

    Raises
    ------
    AccountError
        If there is no such user or area, or a leader would be left without dongs.
    """
    account = _require(session, username)
    area_ids = _area_ids(session, area_codes)
    _check_fit(
        account.roles,
        area_codes=area_ids,
        all_areas=all_areas,
        team_db_id=account.team_db_id,
        provider_db_id=account.provider_db_id,
    )
    session.execute(
        text("UPDATE users SET all_areas = :all WHERE id = :id"),
        {"all": all_areas, "id": account.id},
    )
    _replace_areas(session, account.id, area_ids)
    return get_account(session, user_id=account.id)


def set_disabled(session: Session, username: str, disabled: bool) -> Account:
    """Disable (or enable) an account; disabling signs its sessions out and stops its tokens."""
    account = _require(session, username)
    session.execute(
        text(
            "UPDATE users SET disabled = :d, session_version = session_version + 1 WHERE id = :id"
        ),
        {"d": disabled, "id": account.id},
    )
    return get_account(session, user_id=account.id)


def set_password(session: Session, username: str, password: str) -> Account:
    """Set a new password; sign existing sessions out and lift the lock-out.

    Raises :class:`AccountError` if there is no such user or the password breaks a rule
    (:func:`check_password_rules`).
    """
    account = _require(session, username)
    check_password_rules(password, username)
    session.execute(
        text("""
        UPDATE users SET password_hash = :h, session_version = session_version + 1,
                         failed_logins = 0, locked_until = NULL
        WHERE id = :id"""),
        {"h": hash_password(password), "id": account.id},
    )
    return get_account(session, user_id=account.id)


def log_event(
    session: Session, username: str, event: str, *, user_id: int | None, address: str | None
) -> None:
    """Record a sign-in event in ``login_events`` (the caller commits).

    Parameters
    ----------
    session : Session
        The transaction to write in.
    username : str
        The name given (cut to 200 characters, NUL characters dropped).
    event : str
        What happened: ``login``, ``failed``, ``locked``, ``locked_attempt``,
        ``disabled_attempt`` here; ``logout`` and ``timeout`` from the web app.
    user_id : int or None
        The account's database id, None when no account has that name.
    address : str or None
        The client's address.
    """
    session.execute(
        text("""
        INSERT INTO login_events (username, user_id, event, address)
        VALUES (:u, :id, :e, :a)"""),
        {"u": username[:200].replace("\x00", ""), "id": user_id, "e": event, "a": address},
    )


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    address: str | None,
    max_failures: int = 5,
    lock_minutes: int = 10,
    now: dt.datetime | None = None,
) -> Account:
    """Check a sign-in and log it (the caller commits, whether it succeeds or not).

    After ``max_failures`` wrong passwords in a row the account is locked for
    ``lock_minutes``: until then even the right password is refused. Raises
    :class:`LoginRefused`.
    """
    now = now or dt.datetime.now(dt.UTC)
    username = (username or "").strip().lower()
    row = None
    if USERNAME_RE.match(username):
        row = (
            session.execute(
                text("""
                SELECT id, password_hash, disabled, failed_logins, locked_until FROM users
                WHERE username = :u FOR UPDATE"""),
                {"u": username},
            )
            .mappings()
            .one_or_none()
        )
    if row is None:
        _verify(_DUMMY_HASH, password)
        log_event(session, username or "-", "failed", user_id=None, address=address)
        raise LoginRefused("bad_credentials")
    if row["locked_until"] is not None and row["locked_until"] > now:
        log_event(session, username, "locked_attempt", user_id=row["id"], address=address)
        raise LoginRefused("locked", row["locked_until"])
    ok = row["password_hash"] is not None and _verify(row["password_hash"], password)
    if ok and row["disabled"]:
        log_event(session, username, "disabled_attempt", user_id=row["id"], address=address)
        raise LoginRefused("bad_credentials")
    if not ok:
        failures = row["failed_logins"] + 1
        locked_until = None
        if failures >= max_failures:
            locked_until = now + dt.timedelta(minutes=lock_minutes)
            failures = 0
        session.execute(
            text("UPDATE users SET failed_logins = :f, locked_until = :l WHERE id = :id"),
            {"f": failures, "l": locked_until, "id": row["id"]},
        )
        log_event(session, username, "failed", user_id=row["id"], address=address)
        if locked_until is not None:
            log_event(session, username, "locked", user_id=row["id"], address=address)
            raise LoginRefused("locked", locked_until)
        raise LoginRefused("bad_credentials")
    if _hasher.check_needs_rehash(row["password_hash"]):
        session.execute(
            text("UPDATE users SET password_hash = :h WHERE id = :id"),
            {"h": hash_password(password), "id": row["id"]},
        )
    session.execute(
        text("""
        UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = :now
        WHERE id = :id"""),
        {"now": now, "id": row["id"]},
    )
    log_event(session, username, "login", user_id=row["id"], address=address)
    return get_account(session, user_id=row["id"])


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


# --- API tokens ---------------------------------------------------------------------------


def _token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def create_token(session: Session, username: str, name: str) -> tuple[str, TokenInfo]:
    """Create an API token for ``username`` named ``name`` (the caller commits).

    Returns
    -------
    token : str
        The token itself, ``vmt_`` and 43 random characters: shown once, only its SHA-256
        is stored.
    info : TokenInfo
        The token's record.

    Raises
    ------
    AccountError
        If there is no such user, the name is not 1-100 characters, or the user has a token
        of that name already.
    """
    account = _require(session, username)
    name = (name or "").strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise AccountError("name", "give the token a name of 1-100 characters")
    exists = session.execute(
        text("SELECT 1 FROM api_tokens WHERE user_id = :u AND name = :n"),
        {"u": account.id, "n": name},
    ).scalar()
    if exists:
        raise AccountError("name", f"{username} has a token named {name!r} already")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = session.execute(
        text("""
        INSERT INTO api_tokens (user_id, name, prefix, token_sha256)
        VALUES (:u, :n, :p, :h) RETURNING id"""),
        {"u": account.id, "n": name, "p": token[:12], "h": _token_digest(token)},
    ).scalar_one()
    return token, list_tokens(session, token_id=token_id)[0]


def list_tokens(
    session: Session, username: str | None = None, *, token_id: int | None = None
) -> list[TokenInfo]:
    """Return the tokens, revoked ones too: all, those of ``username``, or token ``token_id``."""
    rows = session.execute(
        text("""
        SELECT t.id, u.username, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at
        FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE (CAST(:u AS text) IS NULL OR u.username = :u)
          AND (CAST(:id AS integer) IS NULL OR t.id = :id)
        ORDER BY u.username, t.name"""),
        {"u": username, "id": token_id},
    ).mappings()
    return [TokenInfo(**r) for r in rows]


def revoke_token(session: Session, token_id: int) -> TokenInfo:
    """Revoke token ``token_id`` (again is a no-op; the caller commits) and return its record.

    Raises :class:`AccountError` if there is no such token.
    """
    row = session.execute(
        text("""
        UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = :id
        RETURNING id"""),
        {"id": token_id},
    ).scalar()
    if row is None:
        raise AccountError("token", f"no token with id {token_id}")
    return list_tokens(session, token_id=token_id)[0]


#: How finely a token's ``last_used_at`` is kept (:func:`account_for_token`).
TOKEN_USE_RESOLUTION = "1 minute"


def account_for_token(session: Session, token: str) -> tuple[Account, str, bool] | None:
    """Return the enabled account a live token belongs to, the token's name, and whether it wrote.

    One query. Marks the token used, to the minute: ``last_used_at`` is written when it is
    older than :data:`TOKEN_USE_RESOLUTION`, and the third value says so (the caller commits
    then). Writing it on every request made every tile request a write and a WAL flush
    (issue 15).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (
        session.execute(
            text(f"""
        WITH tok AS (
            SELECT id AS token_id, user_id, name AS token_name,
                   last_used_at IS NULL OR last_used_at < now() - CAST(:every AS interval)
                       AS stale
            FROM api_tokens WHERE token_sha256 = :h AND revoked_at IS NULL
        )
        SELECT acc.*, tok.token_id, tok.token_name, tok.stale
        FROM tok JOIN LATERAL ({_ACCOUNT_SQL} WHERE u.id = tok.user_id AND NOT u.disabled) acc
            ON true"""),
            {"h": _token_digest(token), "every": TOKEN_USE_RESOLUTION},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        return None
    if row["stale"]:
        session.execute(
            text("UPDATE api_tokens SET last_used_at = now() WHERE id = :id"),
            {"id": row["token_id"]},
        )
    return _account(row), row["token_name"], bool(row["stale"])


# --- what a user may see ---------------------------------------------------------------------


def scope_for(session: Session, account: Account, *, today: dt.date) -> Scope:
    """Return the scope of residents ``account`` may see on ``today``.

    What each role sees (docs/accounts.md):

    - leader: every resident of their dongs (all dongs with ``all_areas``);
    - visitor: in their team's dongs (and their own, if any are set), the residents due or
      overdue in the published score run, planned for their team from
      :data:`PLANNED_SINCE_DAYS` days ago on, or visited by their team in the last
      :data:`VISITED_DAYS` days;
    - agency: the residents their organisation has supported (any dong);
    - analyst, admin: no individual resident (aggregates and pseudonymised exports go
      through their own endpoints).

    A user with several roles gets the first of them in this order. A disabled account
    sees nothing.
    """
    if account.disabled:
        return Scope.nothing()
    if account.has("leader"):
        return Scope.everything() if account.all_areas else Scope.of_areas(account.area_codes)
    if account.has("visitor") and account.team_db_id is not None:
        team_codes = session.execute(
            text("""
            SELECT a.code FROM team_areas ta JOIN areas a ON a.id = ta.area_id
            WHERE ta.team_id = :t"""),
            {"t": account.team_db_id},
        ).scalars()
        codes = set(team_codes)
        if account.area_codes:
            codes &= set(account.area_codes)
        ids = session.execute(
            text(f"""
            SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
            JOIN team_areas ta ON ta.area_id = h.area_id AND ta.team_id = :t
            WHERE r.id IN (
                SELECT s.resident_id FROM resident_scores s
                WHERE s.run_id = {PUBLISHED_RUN_SQL} AND s.next_due_on <= :today
                UNION
                SELECT ps.resident_id FROM route_plan_stops ps
                JOIN route_plans p ON p.id = ps.plan_id
                WHERE p.team_id = :t AND p.plan_date >= CAST(:today AS date) - :planned
                UNION
                SELECT v.resident_id FROM visits v
                WHERE v.team_id = :t
                  AND v.visited_at >= CAST(:today AS date) - :visited)"""),
            {
                "t": account.team_db_id,
                "today": today,
                "planned": PLANNED_SINCE_DAYS,
                "visited": VISITED_DAYS,
            },
        ).scalars()
        return Scope.of_areas(codes).only_residents(ids)
    if account.has("agency") and account.provider_db_id is not None:
        ids = session.execute(
            text("SELECT DISTINCT resident_id FROM support_records WHERE provider_id = :p"),
            {"p": account.provider_db_id},
        ).scalars()
        return Scope(None).only_residents(ids)
    return Scope.nothing()
