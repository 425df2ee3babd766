"""The access audit: a row for every response that showed residents' personal data.

Who (user id, user name, role), when, from which address, through which endpoint and path,
with which status, and which residents (database ids; searches show their public ids). The
table ``access_audit`` (migration 0010) is append-only for the application: triggers refuse
UPDATE and TRUNCATE always, and DELETE of any row younger than :data:`MIN_RETENTION_DAYS`,
so :func:`prune_access` is the only way rows leave, and only old ones. The application's role
owns the table, so it (or a superuser) could still drop the trigger; docs/audit.md says how
to close that with a separate owner role.

Functions take the caller's session and never commit: the caller decides the transaction.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.settings import SEOUL
from visitmap.errors import FieldError

#: The shortest retention the law allows (개인정보의 안전성 확보조치 기준: access records kept
#: at least two years). The table's trigger holds the same floor.
MIN_RETENTION_DAYS = 730
#: Longest text kept per field (a path with its query, a user name, ...); longer is cut and
#: marked with an ellipsis.
MAX_TEXT_CHARS = {"username": 200, "role": 50, "method": 16, "endpoint": 200, "path": 2000}
#: The largest age ``prune_access`` takes (a hundred years; beyond is no date PostgreSQL has).
MAX_PRUNE_DAYS = 36_500
#: At most this many rows per search (None = no limit, for the command line's CSV export).
MAX_SEARCH_LIMIT = 100_000


class AuditError(FieldError):
    """A bad audit search or prune request; ``parameter`` names the offending parameter."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message, field=parameter)
        self.parameter = parameter


def _clean(value: str | None, limit: int | None = None) -> str | None:
    """Text PostgreSQL accepts (no NUL bytes), at most ``limit`` characters."""
    if value is None:
        return None
    value = str(value).replace("\x00", "\ufffd")
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def _clean_json(value):
    r"""Return ``value`` with NUL characters replaced in every string (jsonb refuses ``\u0000``)."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {_clean(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    return value


def _address(value: str | None) -> tuple[str | None, str | None]:
    """(address for the inet column, raw text when it is not an IP address)."""
    if value is None or value == "":
        return None, None
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None, _clean(value, 200)
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        address = ipaddress.IPv6Address(str(address).split("%")[0])
    return str(address), None


def record_access(
    session: Session,
    *,
    user_id: int | None,
    username: str,
    role: str | None,
    address: str | None,
    method: str | None,
    endpoint: str,
    path: str | None,
    status: int | None,
    resident_ids: Iterable[int],
    detail: dict | None = None,
    resident_count: int | None = None,
) -> int:
    """Append one audit row in the session's transaction (one INSERT) and return its id.

    Text is cut to :data:`MAX_TEXT_CHARS` and NUL bytes replaced, so that recording never
    fails on what a client sent.

    Parameters
    ----------
    session : Session
        The transaction to write in (not committed here).
    user_id : int or None
        The signed-in user's database id.
    username, role : str
        Who asked, and in which role.
    address : str or None
        The client's address; one that is not an IP address is kept as
        ``detail["address_raw"]``.
    method, endpoint, path : str
        The HTTP method, the Flask endpoint and the path with its query.
    status : int or None
        The response's HTTP status.
    resident_ids : iterable of int
        Database ids (residents.id) of the residents whose personal data the response
        showed; deduplicated and sorted here.
    detail : dict, optional
        More about the request, stored as jsonb.
    resident_count : int, optional
        How many residents the response showed; defaults to the number of ids. Give it for
        a response that counts more residents than it lists (e.g. a tile logged by count).

    Returns
    -------
    int
        The new row's id.

    Raises
    ------
    AuditError
        If ``username`` or ``endpoint`` is empty, or ``resident_count`` is less than the
        number of ids.
    """
    ids = sorted({int(i) for i in resident_ids})
    count = len(ids) if resident_count is None else int(resident_count)
    if count < len(ids):
        raise AuditError("resident_count", f"{count} is less than the {len(ids)} ids given")
    if not username:
        raise AuditError("username", "must not be empty")
    if not endpoint:
        raise AuditError("endpoint", "must not be empty")
    inet, raw_address = _address(address)
    detail = _clean_json(dict(detail)) if detail is not None else None
    if raw_address is not None:
        detail = {**(detail or {}), "address_raw": raw_address}
    return session.execute(
        text("""INSERT INTO access_audit (user_id, username, role, address, method, endpoint,
                path, status, resident_ids, resident_count, detail)
            VALUES (:user_id, :username, :role, CAST(:address AS inet), :method, :endpoint,
                :path, :status, CAST(:resident_ids AS bigint[]), :resident_count,
                CAST(:detail AS jsonb))
            RETURNING id"""),
        {
            "user_id": user_id,
            "username": _clean(username, MAX_TEXT_CHARS["username"]),
            "role": _clean(role, MAX_TEXT_CHARS["role"]),
            "address": inet,
            "method": _clean(method, MAX_TEXT_CHARS["method"]),
            "endpoint": _clean(endpoint, MAX_TEXT_CHARS["endpoint"]),
            "path": _clean(path, MAX_TEXT_CHARS["path"]),
            "status": status,
            "resident_ids": ids,
            "resident_count": count,
            "detail": None if detail is None else json.dumps(detail, ensure_ascii=False),
        },
    ).scalar_one()


def parse_when(parameter: str, value, *, end: bool = False) -> dt.datetime | None:
    """Return a search bound from a date or a date and time (ISO 8601 text, or the objects).

    A date is a whole day in Korea: as ``since`` it starts at 00:00 KST, as ``until``
    (``end=True``) it runs to the next day's 00:00 KST, so both bounds include their day. A
    time without a zone is Korean time. Returns an aware datetime (None for None or empty
    text); the search uses ``at >= since`` and ``at < until``, so a datetime ``until`` is
    moved on by one microsecond to include its instant. Raises :class:`AuditError` naming
    ``parameter`` for a value that is not a date or out of range.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        raw = value.strip()
        try:
            value = dt.date.fromisoformat(raw) if len(raw) == 10 else dt.datetime.fromisoformat(raw)
        except ValueError:
            raise AuditError(
                parameter, f"must be a date (YYYY-MM-DD) or date and time, got {raw!r}"
            ) from None
    try:
        if isinstance(value, dt.datetime):
            when = value if value.tzinfo is not None else value.replace(tzinfo=SEOUL)
            return when + dt.timedelta(microseconds=1) if end else when
        if isinstance(value, dt.date):
            day = value + dt.timedelta(days=1) if end else value
            return dt.datetime.combine(day, dt.time(), tzinfo=SEOUL)
    except OverflowError:
        raise AuditError(parameter, f"{value} is out of range") from None
    raise AuditError(parameter, f"must be a date or a datetime, got {type(value).__name__}")


def resolve_resident(session: Session, resident) -> int:
    """Return the database id of ``resident``.

    ``resident`` is its public id (e.g. ``R-0002268``, residents' external_id) or its
    database id (an int, or digits that are no public id; not checked to exist). Raises
    :class:`AuditError` for empty text or text that is neither.
    """
    if isinstance(resident, int) and not isinstance(resident, bool):
        return resident
    raw = str(resident).strip()
    if not raw:
        raise AuditError("resident", "must not be empty")
    found = session.execute(
        text("SELECT id FROM residents WHERE external_id = :id"), {"id": raw}
    ).scalar_one_or_none()
    if found is not None:
        return found
    if raw.isascii() and raw.isdigit() and int(raw) < 2**63:
        return int(raw)
    raise AuditError("resident", f"no resident has the id {raw!r}")


def search_access(
    session: Session,
    *,
    username: str | None = None,
    resident: str | int | None = None,
    since: dt.date | dt.datetime | str | None = None,
    until: dt.date | dt.datetime | str | None = None,
    endpoint: str | None = None,
    user_id: int | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[dict]:
    """Return the audit rows matching every filter given, newest first.

    Parameters
    ----------
    session : Session
        The database session.
    username, endpoint : str, optional
        Match exactly.
    resident : str or int, optional
        A public or database id (:func:`resolve_resident`); matches rows that listed that
        resident.
    since, until : date, datetime or str, optional
        Inclusive bounds (:func:`parse_when`); ``until`` must not be before ``since``.
    user_id : int, optional
        The user's database id.
    limit : int or None, optional
        At most this many rows, 1 to :data:`MAX_SEARCH_LIMIT`; None for no limit.
    offset : int, optional
        Rows to skip first.

    Returns
    -------
    list of dict
        The table's columns, with ``address`` as text, ``resident_ids`` as the residents'
        public ids (``#<id>`` for a database id without a resident) and ``resident_db_ids``
        as the stored database ids.

    Raises
    ------
    AuditError
        If a parameter is out of range, holds a NUL character, or names no resident.
    """
    if limit is not None and not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise AuditError("limit", f"must be between 1 and {MAX_SEARCH_LIMIT}, got {limit}")
    if offset < 0:
        raise AuditError("offset", f"must be 0 or more, got {offset}")
    for name, value in (("username", username), ("resident", resident), ("endpoint", endpoint)):
        if isinstance(value, str) and "\x00" in value:
            raise AuditError(name, "must not contain a NUL character")
    start = parse_when("since", since)
    stop = parse_when("until", until, end=True)
    if start is not None and stop is not None and stop <= start:
        raise AuditError("until", "must not be before since")
    conditions, params = [], {"limit": limit, "offset": offset}
    if username:
        conditions.append("a.username = :username")
        params["username"] = username
    if user_id is not None:
        conditions.append("a.user_id = :user_id")
        params["user_id"] = user_id
    source = "access_audit"
    if resident is not None and resident != "":
        # The GIN index first: left to itself the planner walks the index on ``at`` newest
        # first and filters, reading the whole table for a resident seen rarely.
        source = """(WITH hits AS MATERIALIZED (SELECT * FROM access_audit
            WHERE resident_ids @> ARRAY[CAST(:resident AS bigint)]) SELECT * FROM hits)"""
        params["resident"] = resolve_resident(session, resident)
    if start is not None:
        conditions.append("a.at >= :since")
        params["since"] = start
    if stop is not None:
        conditions.append("a.at < :until")
        params["until"] = stop
    if endpoint:
        conditions.append("a.endpoint = :endpoint")
        params["endpoint"] = endpoint
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    rows = session.execute(
        text(f"""SELECT a.id, a.at, a.user_id, a.username, a.role, host(a.address) AS address,
                a.method, a.endpoint, a.path, a.status, a.resident_count, a.detail,
                a.resident_ids AS resident_db_ids,
                ARRAY(SELECT coalesce(r.external_id, '#' || u.id)
                      FROM unnest(a.resident_ids) WITH ORDINALITY AS u(id, n)
                      LEFT JOIN residents r ON r.id = u.id
                      ORDER BY u.n) AS resident_ids
            FROM {source} a {where}
            ORDER BY a.at DESC, a.id DESC
            LIMIT :limit OFFSET :offset"""),
        params,
    ).mappings()
    return [dict(row) for row in rows]


def prune_access(session: Session, *, older_than_days: int, retention_days: int) -> int:
    """Delete the audit rows older than ``older_than_days`` days; return how many.

    Refuses (:class:`AuditError`) when ``older_than_days`` is less than the retention setting
    ``retention_days`` or than :data:`MIN_RETENTION_DAYS`, or more than
    :data:`MAX_PRUNE_DAYS`, and when the retention setting itself is below that minimum. The
    table's trigger refuses younger rows in any case.
    """
    if retention_days < MIN_RETENTION_DAYS:
        raise AuditError(
            "retention_days",
            f"the retention is {retention_days} days; the minimum is {MIN_RETENTION_DAYS} "
            "days (two years)",
        )
    if older_than_days > MAX_PRUNE_DAYS:
        raise AuditError(
            "older_than_days", f"must be at most {MAX_PRUNE_DAYS} days, got {older_than_days}"
        )
    if older_than_days < retention_days:
        raise AuditError(
            "older_than_days",
            f"{older_than_days} days is younger than the retention of {retention_days} days: "
            "audit rows are kept at least that long",
        )
    return session.execute(
        text("DELETE FROM access_audit WHERE at < now() - make_interval(days => :days)"),
        {"days": older_than_days},
    ).rowcount


_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def separate_owner_sql(owner: str, app: str) -> list[str]:
    """Return the SQL statements that close the gap the trigger leaves.

    They are run once by a superuser, after the migrations: the table and its guard belong
    to role ``owner`` (e.g. the role that runs migrations), and role ``app`` (the web
    service's) may only read and append, and delete what the trigger lets through (prune).
    Then ``app`` can neither UPDATE nor TRUNCATE (no privilege) nor disable or drop the
    trigger (not the owner). docs/audit.md. Raises :class:`AuditError` unless both are plain
    role names.
    """
    for name in (owner, app):
        if not _ROLE_NAME.fullmatch(name):
            raise AuditError("role", f"{name!r} is not a plain role name (a-z, 0-9, _)")
    return [
        f"ALTER TABLE access_audit OWNER TO {owner}",
        f"ALTER FUNCTION access_audit_guard() OWNER TO {owner}",
        f"REVOKE ALL ON access_audit FROM {app}",
        f"GRANT SELECT, INSERT, DELETE ON access_audit TO {app}",
        f"GRANT USAGE ON SEQUENCE access_audit_id_seq TO {app}",
    ]


def resident_db_ids(session: Session, external_ids) -> list[int]:
    """Return the database ids of the residents with these external ids, sorted.

    Unknown external ids are left out.

    Parameters
    ----------
    session : Session
        The audit's own session.
    external_ids : iterable of str
        Pseudonymous resident ids as a response showed them.

    Returns
    -------
    list of int
        The residents' database ids.
    """
    rows = session.execute(
        text("SELECT id FROM residents WHERE external_id = ANY(:ids)"),
        {"ids": sorted(external_ids)},
    ).scalars()
    return sorted(rows)
