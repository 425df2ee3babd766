"""Visit teams (찾아가는 복지팀): their members, the dongs they cover and their base.

Read and written by the ``visitmap teams`` command and ``/api/teams``; the ``teams`` import
kind loads the same tables from a file. Every write checks everything first and raises
:class:`TeamError` (naming the field) before writing anything; the caller's transaction
commits. Teams carry no resident data, so reading them takes no scope; the residents a team
plans for are filtered by the caller's scope where they are read (:mod:`geo.route_plans`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from visitmap.errors import Conflict, FieldError, NotFound

#: The importers' id rule (geo.importers.base.ID_PATTERN): letters, digits, _ . : -
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}")
#: Member ids: the id rule without ``:`` (the import's members cell separates id, name and
#: role with ``:`` and members with ``|``).
MEMBER_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
#: Characters a member's name or role may not hold: the members cell's separators.
MEMBER_TEXT_FORBIDDEN = (":", "|")
AREA_CODE_RE = re.compile(r"[0-9]{10}")
MAX_NAME = 200
#: The facility kind a team's base must have: the dong community centre (주민센터).
BASE_FACILITY_KIND = "community_centre"


class TeamError(FieldError):
    """Invalid input for a team write; ``field`` names the offending field (HTTP 400)."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field)


class TeamNotFound(NotFound):
    """The team or member named does not exist (HTTP 404)."""


class TeamConflict(Conflict, TeamError):
    """The id to create exists already (HTTP 409)."""


def _check_id(field: str, value) -> str:
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise TeamError(field, f"must be an id (letters, digits, _ . : -), got {value!r}")
    return value


def _check_name(field: str, value, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise TeamError(field, "must be a non-empty text")
    if len(value) > MAX_NAME:
        raise TeamError(field, f"must be at most {MAX_NAME} characters, got {len(value)}")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise TeamError(field, "must not contain control characters")
    return value.strip()


def check_member(member_id, name, role=None) -> tuple[str, str, str | None]:
    """Check a member against the one rule used by :func:`add_member` and the ``teams`` import.

    The rule: an id of letters, digits, ``_ . -`` (no ``:``), a non-empty name and an
    optional role (empty means none) of at most :data:`MAX_NAME` characters, without control
    characters, ``:`` or ``|``.

    Returns
    -------
    tuple of (str, str, str or None)
        ``(member_id, name, role)``, name and role stripped.

    Raises
    ------
    TeamError
        Naming ``member_id``, ``name`` or ``role``.
    """
    if not isinstance(member_id, str) or not MEMBER_ID_RE.fullmatch(member_id):
        raise TeamError(
            "member_id", f"must be an id (letters, digits, _ . -; no ':'), got {member_id!r}"
        )
    name = _check_name("name", name)
    role = _check_name("role", role or None, required=False)
    for field, value in (("name", name), ("role", role)):
        if value is not None and any(ch in value for ch in MEMBER_TEXT_FORBIDDEN):
            raise TeamError(field, "must not contain ':' or '|'")
    return member_id, name, role


def check_base_facility(session: Session, base_facility_id) -> int:
    """Return the database id of a team's base, given as a facility's external id.

    The facility must exist and be of kind ``community_centre``; otherwise TeamError naming
    ``base_facility_id``.
    """
    _check_id("base_facility_id", base_facility_id)
    row = session.execute(
        text("SELECT id, kind FROM facilities WHERE external_id = :f"), {"f": base_facility_id}
    ).one_or_none()
    if row is None:
        raise TeamError("base_facility_id", f"unknown facility {base_facility_id!r}")
    if row.kind != BASE_FACILITY_KIND:
        raise TeamError(
            "base_facility_id",
            f"facility {base_facility_id!r} is a {row.kind}, not a community centre "
            "(a team's base is its dong community centre)",
        )
    return row.id


def _team_pk(session: Session, team_id: str) -> int:
    pk = session.execute(
        text("SELECT id FROM visit_teams WHERE external_id = :t"), {"t": team_id}
    ).scalar()
    if pk is None:
        raise TeamNotFound(f"team {team_id!r} does not exist")
    return pk


def _area_ids(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """Return the area ids of ``codes`` by code.

    Raises TeamError naming ``area_codes`` for a malformed, repeated or unknown code.
    """
    if isinstance(codes, str) or not isinstance(codes, Iterable):
        raise TeamError("area_codes", "must be a list of 10-digit dong codes")
    codes = list(codes)
    for code in codes:
        if not isinstance(code, str) or not AREA_CODE_RE.fullmatch(code):
            raise TeamError("area_codes", f"{code!r} is not a 10-digit dong code")
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise TeamError("area_codes", f"{repeated[0]!r} is given twice")
    found = dict(
        session.execute(
            text("SELECT code, id FROM areas WHERE code = ANY(:codes)"), {"codes": codes}
        ).all()
    )
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise TeamError("area_codes", f"unknown area {unknown[0]!r} (import the areas first)")
    return found


def list_teams(session: Session) -> list[dict]:
    """Return every team with its base, dong codes and member counts, by team id."""
    rows = session.execute(
        text("""
        SELECT t.external_id AS team_id, t.name, f.external_id AS base_facility_id,
               f.name AS base_name,
               array_remove(array(SELECT a.code FROM team_areas ta JOIN areas a
                   ON a.id = ta.area_id WHERE ta.team_id = t.id ORDER BY a.code), NULL)
                   AS area_codes,
               (SELECT count(*) FROM visit_team_members m WHERE m.team_id = t.id AND m.active)
                   AS active_members,
               (SELECT count(*) FROM visit_team_members m WHERE m.team_id = t.id) AS members
        FROM visit_teams t LEFT JOIN facilities f ON f.id = t.base_facility_id
        ORDER BY t.external_id""")
    ).mappings()
    return [dict(row) | {"area_codes": list(row["area_codes"])} for row in rows]


def team_record(session: Session, team_id: str) -> dict | None:
    """Return one team's own row, or None if unknown.

    Parameters
    ----------
    session : Session
        Any session.
    team_id : str
        The team's external id.

    Returns
    -------
    dict or None
        ``id`` (database id), ``team_id``, ``name``, the base facility (``base_facility_pk``,
        ``base_facility_id``, ``base_name``, ``base_lon``, ``base_lat``; None without a base)
        and ``area_codes`` (the team's dongs).
    """
    row = (
        session.execute(
            text("""
        SELECT t.id, t.external_id AS team_id, t.name, t.base_facility_id AS base_facility_pk,
               f.external_id AS base_facility_id, f.name AS base_name,
               ST_X(f.geom) AS base_lon, ST_Y(f.geom) AS base_lat,
               array(SELECT a.code FROM team_areas ta JOIN areas a ON a.id = ta.area_id
                     WHERE ta.team_id = t.id ORDER BY a.code) AS area_codes
        FROM visit_teams t LEFT JOIN facilities f ON f.id = t.base_facility_id
        WHERE t.external_id = :t"""),
            {"t": team_id},
        )
        .mappings()
        .one_or_none()
    )
    return None if row is None else dict(row)


def active_members(session: Session, team_db_id: int) -> list[dict]:
    """Return a team's active members, ordered by external id.

    Parameters
    ----------
    session : Session
        Any session.
    team_db_id : int
        The team's database id.

    Returns
    -------
    list of dict
        ``id`` (database id), ``external_id``, ``name``.
    """
    rows = session.execute(
        text("""SELECT id, external_id, name FROM visit_team_members
                WHERE team_id = :t AND active ORDER BY external_id"""),
        {"t": team_db_id},
    ).mappings()
    return [dict(row) for row in rows]


def get_team(session: Session, team_id: str) -> dict | None:
    """Return one team as the API shows it, or None if unknown.

    The team's id, name, base (id, name, lon, lat), dongs (code, name) and members (all,
    active and inactive, by member id).
    """
    team = team_record(session, team_id)
    if team is None:
        return None
    areas = session.execute(
        text("""SELECT a.code, a.name FROM team_areas ta JOIN areas a ON a.id = ta.area_id
                WHERE ta.team_id = :id ORDER BY a.code"""),
        {"id": team["id"]},
    ).mappings()
    members = session.execute(
        text("""SELECT external_id AS member_id, name, role, active FROM visit_team_members
                WHERE team_id = :id ORDER BY external_id"""),
        {"id": team["id"]},
    ).mappings()
    shown = ("team_id", "name", "base_facility_id", "base_name", "base_lon", "base_lat")
    result = {k: team[k] for k in shown}
    return result | {"areas": [dict(a) for a in areas], "members": [dict(m) for m in members]}


def create_team(
    session: Session,
    *,
    team_id: str,
    name: str,
    base_facility_id: str | None = None,
    area_codes: Iterable[str] = (),
) -> dict:
    """Create a team with its dongs; return it as :func:`get_team` does.

    Parameters
    ----------
    session : Session
        The transaction to write in (not committed here).
    team_id : str
        The new team's external id.
    name : str
        The team's name.
    base_facility_id : str, optional
        The external id of its base, a community centre (:func:`check_base_facility`).
    area_codes : iterable of str, optional
        The dongs it covers (10-digit codes).

    Returns
    -------
    dict
        The team (:func:`get_team`).

    Raises
    ------
    TeamError
        If a value is invalid.
    TeamConflict
        If ``team_id`` exists.
    """
    _check_id("team_id", team_id)
    name = _check_name("name", name)
    base_pk = None
    if base_facility_id is not None:
        base_pk = check_base_facility(session, base_facility_id)
    areas = _area_ids(session, area_codes)
    exists = session.execute(
        text("SELECT 1 FROM visit_teams WHERE external_id = :t"), {"t": team_id}
    ).first()
    if exists:
        raise TeamConflict("team_id", f"team {team_id!r} exists already")
    pk = session.execute(
        text("""INSERT INTO visit_teams (external_id, name, base_facility_id)
                VALUES (:t, :name, :base) RETURNING id"""),
        {"t": team_id, "name": name, "base": base_pk},
    ).scalar_one()
    _insert_areas(session, pk, areas.values())
    return get_team(session, team_id)


def _insert_areas(session: Session, team_pk: int, area_ids: Iterable[int]) -> None:
    ids = sorted(area_ids)
    if ids:
        session.execute(
            text("""INSERT INTO team_areas (team_id, area_id)
                    SELECT :team, unnest(CAST(:ids AS int[])) ON CONFLICT DO NOTHING"""),
            {"team": team_pk, "ids": ids},
        )


def assign_areas(
    session: Session, team_id: str, area_codes: Iterable[str], *, replace: bool = False
) -> dict:
    """Add dongs to a team (``replace=True``: the team covers exactly these dongs).

    Returns the team as :func:`get_team` does; raises :class:`TeamNotFound` for an unknown
    team and :class:`TeamError` for a bad code.
    """
    pk = _team_pk(session, team_id)
    areas = _area_ids(session, area_codes)
    if replace:
        session.execute(text("DELETE FROM team_areas WHERE team_id = :team"), {"team": pk})
    _insert_areas(session, pk, areas.values())
    return get_team(session, team_id)


def add_member(
    session: Session, team_id: str, *, member_id: str, name: str, role: str | None = None
) -> dict:
    """Add an active member (a visitor) to a team; return the member.

    Raises :class:`TeamNotFound` for an unknown team, :class:`TeamError` for a member that
    breaks :func:`check_member`, and :class:`TeamConflict` if ``member_id`` exists (in any
    team: a member id stays with its team for good, since visits and plans name it; to move
    a person, deactivate the old member and add a new id). The ``teams`` import refuses to
    move a member to another team in the same way.
    """
    pk = _team_pk(session, team_id)
    member_id, name, role = check_member(member_id, name, role)
    exists = session.execute(
        text("""SELECT t.external_id FROM visit_team_members m JOIN visit_teams t
                ON t.id = m.team_id WHERE m.external_id = :m"""),
        {"m": member_id},
    ).scalar()
    if exists:
        raise TeamConflict("member_id", f"member {member_id!r} exists already (team {exists})")
    session.execute(
        text("""INSERT INTO visit_team_members (external_id, team_id, name, role, active)
                VALUES (:m, :team, :name, :role, true)"""),
        {"m": member_id, "team": pk, "name": name, "role": role},
    )
    return {"member_id": member_id, "team_id": team_id, "name": name, "role": role, "active": True}


def set_member_active(session: Session, member_id: str, active: bool) -> None:
    """Activate or deactivate a member; raise :class:`TeamNotFound` if there is none.

    Inactive members are not planned; their past visits and plans keep them.
    """
    _check_id("member_id", member_id)
    done = session.execute(
        text("UPDATE visit_team_members SET active = :active WHERE external_id = :m RETURNING id"),
        {"m": member_id, "active": active},
    ).first()
    if done is None:
        raise TeamNotFound(f"member {member_id!r} does not exist")


def member_record(session: Session, member_id: str) -> dict | None:
    """Return an active member with their team, or None (unknown or inactive).

    ``member_id``, ``name``, ``role``, ``team_id`` (external ids), ``team_name`` and
    ``area_codes`` (the team's dongs) — for the field day page, where a visitor picks
    themselves.
    """
    row = (
        session.execute(
            text("""
        SELECT m.external_id AS member_id, m.name, m.role, t.external_id AS team_id,
               t.name AS team_name,
               array(SELECT a.code FROM team_areas ta JOIN areas a ON a.id = ta.area_id
                     WHERE ta.team_id = t.id ORDER BY a.code) AS area_codes
        FROM visit_team_members m JOIN visit_teams t ON t.id = m.team_id
        WHERE m.external_id = :m AND m.active"""),
            {"m": member_id},
        )
        .mappings()
        .one_or_none()
    )
    return None if row is None else dict(row) | {"area_codes": list(row["area_codes"])}
