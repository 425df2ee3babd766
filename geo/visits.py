"""Visits in PostGIS: check, write and read back submitted visits.

Check and write a submitted visit and the needs it found (:func:`insert_visit`), read one
back as the confirmation shows it (:func:`visit_summary`), and the rows the visit form
needs. The use-case that also rescores the resident is
:func:`visitmap.usecases.visits.record_visit`. A retried submit with the same idempotency key
writes nothing new; the same key with a different payload is refused. Every function that
reads a resident or a visit takes the caller's scope. Rules and limits: docs/visits.md.

Length: one module because the checks of a visit (:func:`insert_visit`) and the rows they
read (resident, member, plan) are one rule set; split, each half would import the other.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.scope import Scope
from geo.score_runs import published_run_id
from geo.settings import SEOUL
from visitmap.errors import Conflict, FieldError
from visitmap.vocab import NEED_CATEGORIES, TIER_NAMES, VISIT_OUTCOMES

#: Longest visit note, characters.
NOTES_MAX_CHARS = 2000
#: Longest free-text visitor name, characters.
VISITOR_MAX_CHARS = 100
#: How far a visit time may lie ahead of the server's clock (a tablet's clock may be fast).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
#: ``needs.source`` of needs found by a visit without a team.
FORM_SOURCE = "visit form"


class VisitError(FieldError):
    """The visit cannot be recorded; nothing was written.

    ``problems`` lists (field, message); ``field`` is the first problem's field.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.problems))
        self.field = self.problems[0][0] if self.problems else None


class IdempotencyConflict(Conflict, VisitError):
    """The idempotency key was used before for a different visit."""


@dataclass(frozen=True)
class VisitInput:
    """One visit as submitted.

    ``resident_id`` is the resident's external id; ``visited_at`` None means now;
    ``member_id`` is a team member's external id (else ``visitor_name`` names the visitor);
    ``plan_id`` a route plan's id (its team becomes the visit's team).
    """

    resident_id: str
    outcome: str
    idempotency_key: str
    visited_at: dt.datetime | None = None
    needs: tuple[str, ...] = ()
    notes: str | None = None
    next_visit_on: dt.date | None = None
    member_id: str | None = None
    visitor_name: str | None = None
    plan_id: int | None = None


#: Largest route plan id (``route_plans.id`` is a 32-bit integer).
PLAN_ID_MAX = 2**31 - 1
#: Text fields: each must be a string (or absent/null); the form sends every one as text.
TEXT_FIELDS = (
    "resident",
    "outcome",
    "idempotency_key",
    "visited_at",
    "notes",
    "next_visit_on",
    "member",
    "visitor_name",
)
#: Earliest visit date accepted (older dates are typing mistakes; the scores' date
#: arithmetic also needs dates in a sane range).
EARLIEST_VISIT = dt.date(2000, 1, 1)
#: How far after the visit the form's next visit date may lie, days.
NEXT_VISIT_MAX_DAYS = 5 * 366


def resident_row(session: Session, scope: Scope, external_id: str, *, lock: bool = False):
    """Return the resident ``external_id`` with its dong, or None if unknown or out of scope.

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        The caller's scope.
    external_id : str
        The resident's external id.
    lock : bool, optional
        Lock the resident's row (``FOR UPDATE``) until the transaction ends.

    Returns
    -------
    mapping or None
        ``id`` (database id), ``external_id``, ``name``, ``status``, ``unreachable_since``,
        ``area_id``, ``area_code``, ``area_name``.
    """
    if "\x00" in external_id:  # PostgreSQL text cannot hold it: no such resident
        return None
    scope_sql, params = scope.sql()
    return (
        session.execute(
            text(f"""
        SELECT r.id, r.external_id, r.name, r.status, r.unreachable_since, a.id AS area_id,
               a.code AS area_code, a.name AS area_name
        FROM residents r JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = h.area_id
        WHERE r.external_id = :rid{scope_sql}{" FOR UPDATE OF r" if lock else ""}"""),
            params | {"rid": external_id},
        )
        .mappings()
        .one_or_none()
    )


def resident_in_scope(session: Session, scope: Scope, external_id: str) -> bool:
    """Return whether the resident ``external_id`` exists and is in ``scope``."""
    return isinstance(external_id, str) and resident_row(session, scope, external_id) is not None


def route_plan(session: Session, plan_id: int) -> dict | None:
    """Return a stored route plan's team and day, or None if there is none."""
    row = (
        session.execute(
            text("""
        SELECT p.id, p.plan_date, t.id AS team_db_id, t.external_id AS team_id,
               t.name AS team_name
        FROM route_plans p JOIN visit_teams t ON t.id = p.team_id WHERE p.id = :id"""),
            {"id": plan_id},
        )
        .mappings()
        .one_or_none()
    )
    return None if row is None else dict(row)


def eligible_members(
    session: Session, *, area_id: int | None, plan: dict | None, member_id: str | None = None
) -> list[dict]:
    """Return the active team members who may record a visit (docs/visits.md).

    They are of ``plan``'s team when a route plan is given (:func:`route_plan`), else of the
    teams covering the dong ``area_id`` (database id); only ``member_id`` (an external id)
    when given. Ordered by team name, name and id; each is a dict of ``id`` (database id),
    ``external_id``, ``name``, ``role``, ``team_id`` (database id) and ``team_name``.
    """
    if plan is not None:
        where, params = "m.team_id = :team", {"team": plan["team_db_id"]}
    else:
        where = """EXISTS (SELECT 1 FROM team_areas ta
            WHERE ta.team_id = m.team_id AND ta.area_id = :area)"""
        params = {"area": area_id}
    if member_id is not None:
        where += " AND m.external_id = :member"
        params["member"] = member_id
    rows = session.execute(
        text(f"""
        SELECT m.id, m.external_id, m.name, m.role, m.team_id, t.name AS team_name
        FROM visit_team_members m JOIN visit_teams t ON t.id = m.team_id
        WHERE m.active AND {where} ORDER BY t.name, m.name, m.external_id"""),
        params,
    ).mappings()
    return [dict(row) for row in rows]


def _check(session: Session, scope: Scope, visit: VisitInput, now: dt.datetime):
    """Return every problem of ``visit`` (list of (field, message)) and the rows it names."""
    problems = []
    resident = (
        resident_row(session, scope, visit.resident_id, lock=True) if visit.resident_id else None
    )
    if resident is None:
        problems.append(("resident", f"no resident {visit.resident_id!r} in your areas"))
    if visit.outcome not in VISIT_OUTCOMES:
        problems.append(
            ("outcome", f"unknown outcome {visit.outcome!r} (one of {', '.join(VISIT_OUTCOMES)})")
        )
    unknown = [n for n in visit.needs if n not in NEED_CATEGORIES]
    if unknown:
        problems.append(
            (
                "needs",
                f"unknown need category {unknown[0]!r} (one of {', '.join(NEED_CATEGORIES)})",
            )
        )
    if visit.notes is not None and len(visit.notes) > NOTES_MAX_CHARS:
        problems.append(
            ("notes", f"too long: {len(visit.notes)} characters (at most {NOTES_MAX_CHARS})")
        )
    try:
        key = str(uuid.UUID(visit.idempotency_key))
    except ValueError:
        key = None
        problems.append(("idempotency_key", "must be a UUID (the form makes one)"))
    visited_at = visit.visited_at or now
    if visited_at > now + FUTURE_TOLERANCE:
        problems.append(("visited_at", "is in the future"))
        visited_at = now  # the dates below stay in range
    visit_date = visited_at.astimezone(SEOUL).date()
    if visit.next_visit_on is not None and visit.next_visit_on < visit_date:
        problems.append(("next_visit_on", f"is before the visit ({visit_date.isoformat()})"))
    elif (
        visit.next_visit_on is not None
        and (visit.next_visit_on - visit_date).days > NEXT_VISIT_MAX_DAYS
    ):
        problems.append(("next_visit_on", f"more than {NEXT_VISIT_MAX_DAYS} days after the visit"))
    plan = None
    if visit.plan_id is not None:
        plan = route_plan(session, visit.plan_id)
        if plan is None:
            problems.append(("plan", f"no route plan {visit.plan_id}"))
    member = None
    if visit.member_id is not None:
        if plan is None and visit.plan_id is not None:
            pass  # the plan's problem is reported; its team is unknown
        elif plan is None and resident is None:
            pass  # the resident's problem is reported; its dong is unknown
        else:
            found = eligible_members(
                session,
                area_id=None if resident is None else resident["area_id"],
                plan=plan,
                member_id=visit.member_id,
            )
            member = found[0] if found else None
            if member is None:
                where = (
                    f"the route plan's team ({plan['team_name']})"
                    if plan is not None
                    else f"a team covering {resident['area_name']}"
                )
                problems.append(
                    ("member", f"{visit.member_id!r} is not an active member of {where}")
                )
    elif visit.visitor_name is None:
        problems.append(("visitor_name", "required when no team member is chosen"))
    elif len(visit.visitor_name) > VISITOR_MAX_CHARS:
        problems.append(("visitor_name", f"too long (at most {VISITOR_MAX_CHARS} characters)"))
    return problems, resident, member, plan, key, visited_at


def _same_visit(session: Session, existing, visit: VisitInput, fields: dict) -> bool:
    """Return True if the stored visit is what ``visit`` would record (a retried submit)."""
    needs = session.execute(
        text("SELECT category FROM needs WHERE visit_id = :id ORDER BY category"),
        {"id": existing["id"]},
    ).scalars()
    stored = {k: existing[k] for k in fields if k != "visited_at"}
    wanted = {k: v for k, v in fields.items() if k != "visited_at"}
    same_time = visit.visited_at is None or existing["visited_at"] == fields["visited_at"]
    return stored == wanted and same_time and list(needs) == sorted(visit.needs)


@dataclass(frozen=True)
class InsertedVisit:
    """A visit :func:`insert_visit` wrote, or found written by the same idempotency key."""

    external_id: str
    visit_id: int
    resident_db_id: int
    visit_date: dt.date
    replayed: bool


def insert_visit(
    session: Session, scope: Scope, visit: VisitInput, *, now: dt.datetime
) -> InsertedVisit:
    """Check ``visit`` and write it and the needs it found, in the caller's transaction.

    Parameters
    ----------
    session : Session
        The caller's transaction.
    scope : Scope
        The caller's scope: a resident outside it is refused like an unknown one.
    visit : VisitInput
        The visit as submitted.
    now : datetime
        Aware; the clock for the future check.

    Returns
    -------
    InsertedVisit
        ``replayed`` when the idempotency key had recorded this very visit already.

    Raises
    ------
    VisitError
        Every problem, by field; nothing was written.
    IdempotencyConflict
        The key was used for a different visit.
    """
    problems, resident, member, plan, key, visited_at = _check(session, scope, visit, now)
    if problems:
        raise VisitError(problems)
    team_id = plan["team_db_id"] if plan else (member["team_id"] if member else None)
    fields = {
        "resident_id": resident["id"],
        "visited_at": visited_at,
        "visitor": member["name"] if member else visit.visitor_name,
        "outcome": visit.outcome,
        "notes": visit.notes,
        "team_id": team_id,
        "member_id": member["id"] if member else None,
        "next_visit_on": visit.next_visit_on,
    }
    columns = ", ".join(fields)
    visit_id = session.execute(
        text(f"""
        INSERT INTO visits (external_id, idempotency_key, recorded_at, {columns})
        VALUES (:external_id, :key, now(), {", ".join(":" + c for c in fields)})
        ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"""),
        fields | {"external_id": f"form-{key}", "key": key},
    ).scalar()
    if visit_id is None:  # the key was used (a concurrent retry waited for it to commit)
        existing = (
            session.execute(
                text(f"SELECT id, external_id, {columns} FROM visits WHERE idempotency_key = :k"),
                {"k": key},
            )
            .mappings()
            .one()
        )
        if not _same_visit(session, existing, visit, fields):
            raise IdempotencyConflict(
                [("idempotency_key", "already used for a different visit; reload the form")]
            )
        return InsertedVisit(
            existing["external_id"], existing["id"], resident["id"], visited_at.date(), True
        )
    visit_date = visited_at.astimezone(SEOUL).date()
    if visit.needs:
        team_name = plan["team_name"] if plan else (member["team_name"] if member else None)
        session.execute(
            text("""
            INSERT INTO needs (external_id, resident_id, category, status, identified_on,
                source, visit_id, entered_by)
            SELECT :prefix || c, :rid, c, 'open', :on, :source, :visit_id, :entered_by
            FROM unnest(CAST(:categories AS text[])) AS c"""),
            {
                "prefix": f"form-{key}-",
                "rid": resident["id"],
                "on": visit_date,
                "source": team_name or FORM_SOURCE,
                "visit_id": visit_id,
                "categories": list(visit.needs),
                # the visitor who recorded the visit (a form visit has no account of its own)
                "entered_by": member["name"] if member else visit.visitor_name,
            },
        )
    return InsertedVisit(f"form-{key}", visit_id, resident["id"], visit_date, False)


def visit_summary(session: Session, scope: Scope, visit_external_id: str) -> dict | None:
    """Return a recorded visit as the confirmation shows it, or None if unknown or out of scope.

    The visit's resident, time (Korean), visitor, outcome, notes, needs and next visit date;
    its team; the score change it made (None if it rescored nothing); and the resident's
    unreachable mark and current tier and due date in the latest run. Dates as ISO text.
    """
    if "\x00" in visit_external_id:  # PostgreSQL text cannot hold it: no such visit
        return None
    scope_sql, params = scope.sql()
    row = (
        session.execute(
            text(f"""
        SELECT v.id, v.external_id, r.external_id AS resident_id, r.name, a.code AS area_code,
               a.name AS area_name, (v.visited_at AT TIME ZONE 'Asia/Seoul') AS visited_at_kst,
               v.visitor, v.outcome, v.notes, v.next_visit_on, r.unreachable_since,
               t.external_id AS team_id, t.name AS team_name, r.id AS resident_db_id
        FROM visits v JOIN residents r ON r.id = v.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        LEFT JOIN visit_teams t ON t.id = v.team_id
        WHERE v.external_id = :id{scope_sql}"""),
            params | {"id": visit_external_id},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        return None
    needs = session.execute(
        text("SELECT category FROM needs WHERE visit_id = :id ORDER BY category"),
        {"id": row["id"]},
    ).scalars()
    update = (
        session.execute(
            text("""SELECT run_id, old_score, new_score, old_tier, new_tier, old_next_due_on,
                   new_next_due_on FROM score_updates WHERE visit_id = :id"""),
            {"id": row["id"]},
        )
        .mappings()
        .one_or_none()
    )
    run_id = published_run_id(session)
    current = (
        session.execute(
            text("""SELECT tier, next_due_on FROM resident_scores
            WHERE run_id = :run AND resident_id = :rid"""),
            {"run": run_id, "rid": row["resident_db_id"]},
        )
        .mappings()
        .one_or_none()
        if run_id is not None
        else None
    )

    def iso(value):
        return None if value is None else value.isoformat()

    return {
        "visit_id": row["external_id"],
        "resident_id": row["resident_id"],
        "name": row["name"],
        "area_code": row["area_code"],
        "area_name": row["area_name"],
        "visited_at": row["visited_at_kst"].isoformat(timespec="minutes"),
        "visitor": row["visitor"],
        "outcome": row["outcome"],
        "notes": row["notes"],
        "needs": list(needs),
        "next_visit_on": iso(row["next_visit_on"]),
        "team_id": row["team_id"],
        "team_name": row["team_name"],
        "unreachable_since": iso(row["unreachable_since"]),
        "tier": None if current is None else int(current["tier"]),
        "tier_name": None if current is None else TIER_NAMES[int(current["tier"])],
        "next_due_on": None if current is None else current["next_due_on"].isoformat(),
        "score_update": None
        if update is None
        else {
            "run_id": update["run_id"],
            "old_score": update["old_score"],
            "new_score": update["new_score"],
            "old_tier": update["old_tier"],
            "new_tier": update["new_tier"],
            "old_next_due_on": update["old_next_due_on"].isoformat(),
            "new_next_due_on": update["new_next_due_on"].isoformat(),
        },
    }


def planned_member(session: Session, plan_id: int, resident_db_id: int) -> str | None:
    """Return the external id of the member a route plan gave this resident to, or None.

    Parameters
    ----------
    session : Session
        Any session.
    plan_id : int
        The route plan.
    resident_db_id : int
        The resident's database id.

    Returns
    -------
    str or None
        The member's external id.
    """
    return session.execute(
        text("""SELECT m.external_id FROM route_plan_stops s
        JOIN visit_team_members m ON m.id = s.member_id
        WHERE s.plan_id = :plan AND s.resident_id = :rid"""),
        {"plan": plan_id, "rid": resident_db_id},
    ).scalar()
