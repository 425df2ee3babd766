"""What a recorded visit changes besides the visit itself, in PostGIS.

The resident's unreachable state, and the resident's row of the latest score run (read,
locked, written back with its log in score_updates and the map's aggregates adjusted).
The visit states on a day are read by :func:`geo.visit_states.visit_states_of` (also
importable from here, the name the issue 12 plan gave).

All run inside the caller's transaction; the use-case that composes them is
:func:`visitmap.usecases.visits.record_visit`. See docs/visits.md for the rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.mapdata.aggregates import adjust_run_aggregates
from geo.mapdata.tile_points import refresh_tile_point
from geo.scope import Scope
from geo.score_runs import pack_vectors, published_run_id
from geo.visit_states import visit_states_of  # noqa: F401  (re-exported)
from scoring.features import CONTACT_OUTCOMES
from visitmap.vocab import TIER_NAMES

#: Outcomes in which the visitor did not find the resident.
NOT_FOUND_OUTCOMES = ("not_home", "unreachable")
#: Outcomes in which the visitor found the resident (met them, or they answered and refused):
#: each ends a run of not-found visits and clears the unreachable mark.
FOUND_OUTCOMES = CONTACT_OUTCOMES


def _misses_sql(only: str = "") -> str:
    """Return the CTEs ``last_found`` and ``misses`` (a ``WITH`` clause) for the caller's statement.

    ``misses`` has, per resident, the not-found visits after the last visit that found them
    (by visit time, then id), numbered from 1: resident_id, day (Korean date), n. ``only``
    narrows the visits (an SQL condition on ``v``, starting with `` AND``).
    """
    found = ", ".join(f"'{o}'" for o in FOUND_OUTCOMES)
    not_found = ", ".join(f"'{o}'" for o in NOT_FOUND_OUTCOMES)
    return f"""
    WITH last_found AS (
        SELECT DISTINCT ON (v.resident_id) v.resident_id, v.visited_at, v.id
        FROM visits v WHERE v.outcome IN ({found}){only}
        ORDER BY v.resident_id, v.visited_at DESC, v.id DESC),
    misses AS (
        SELECT v.resident_id, (v.visited_at AT TIME ZONE 'Asia/Seoul')::date AS day,
               row_number() OVER (PARTITION BY v.resident_id ORDER BY v.visited_at, v.id) AS n
        FROM visits v LEFT JOIN last_found f ON f.resident_id = v.resident_id
        WHERE v.outcome IN ({not_found}){only}
          AND (f.resident_id IS NULL OR (v.visited_at, v.id) > (f.visited_at, f.id)))"""


def refresh_unreachable(session: Session, *, after: int, resident_db_ids=None) -> int:
    """Set or clear ``residents.unreachable_since`` from the visits.

    The mark is the Korean date of the ``after``-th not-found visit since the last visit
    that found the resident, or NULL when there are fewer.

    Parameters
    ----------
    session : Session
        The transaction to write in (not committed here).
    after : int
        Not-found visits in a row that make a resident unreachable.
    resident_db_ids : iterable of int, optional
        Only these residents (database ids); None for everyone (e.g. after a visits import).

    Returns
    -------
    int
        The number of residents whose mark changed (one statement).
    """
    params: dict = {"after": int(after)}
    only = only_residents = ""
    if resident_db_ids is not None:
        params["ids"] = [int(i) for i in resident_db_ids]
        only = " AND v.resident_id = ANY(:ids)"
        only_residents = " AND r.id = ANY(:ids)"
    changed = session.execute(
        text(f"""{_misses_sql(only)},
        marks AS (SELECT resident_id, day FROM misses WHERE n = :after)
        UPDATE residents r SET unreachable_since = m.day
        FROM (SELECT r.id, marks.day FROM residents r
              LEFT JOIN marks ON marks.resident_id = r.id WHERE true{only_residents}) m
        WHERE r.id = m.id AND r.unreachable_since IS DISTINCT FROM m.day"""),
        params,
    )
    return changed.rowcount


def unreachable_residents(
    session: Session, scope: Scope, *, run_id: int | None = None
) -> list[dict]:
    """Return the residents in ``scope`` marked unreachable, longest first.

    Each is a dict: id, dong (code and name), tier and next due date in ``run_id`` (None if
    not scored there), since, attempts (not-found visits since the last visit that found
    them) and the last attempt's date; dates as ISO text.

    No names: like the map's lists, the list carries pseudonymous ids only.
    """
    scope_sql, params = scope.sql()
    marked = (
        " AND v.resident_id IN (SELECT r.id FROM residents r JOIN households h"
        " ON h.id = r.household_id JOIN areas a ON a.id = h.area_id"
        f" WHERE r.unreachable_since IS NOT NULL{scope_sql})"
    )
    rows = session.execute(
        text(f"""{_misses_sql(marked)}
        SELECT r.external_id, a.code, a.name, r.unreachable_since, s.tier, s.next_due_on,
               count(m.n) AS attempts, max(m.day) AS last_attempt_on
        FROM residents r JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = h.area_id
        LEFT JOIN misses m ON m.resident_id = r.id
        LEFT JOIN resident_scores s ON s.run_id = :run_id AND s.resident_id = r.id
        WHERE r.unreachable_since IS NOT NULL{scope_sql}
        GROUP BY r.external_id, a.code, a.name, r.unreachable_since, s.tier, s.next_due_on
        ORDER BY r.unreachable_since, r.external_id"""),
        params | {"run_id": run_id},
    ).mappings()
    return [
        {
            "resident_id": row["external_id"],
            "area_code": row["code"],
            "area_name": row["name"],
            "tier": None if row["tier"] is None else int(row["tier"]),
            "tier_name": None if row["tier"] is None else TIER_NAMES[int(row["tier"])],
            "next_due_on": None if row["next_due_on"] is None else row["next_due_on"].isoformat(),
            "unreachable_since": row["unreachable_since"].isoformat(),
            "attempts": int(row["attempts"]),
            "last_attempt_on": None
            if row["last_attempt_on"] is None
            else row["last_attempt_on"].isoformat(),
        }
        for row in rows
    ]


@dataclass(frozen=True)
class ScoreChange:
    """A resident's row of a score run before and after a visit rescored it."""

    run_id: int
    method: str
    old_score: float
    new_score: float
    old_tier: int
    new_tier: int
    old_next_due_on: dt.date
    new_next_due_on: dt.date
    #: The day the resident entered ``new_tier`` (the visit's day when the tier moved);
    #: None leaves the stored day as it is.
    new_tier_since: dt.date | None = None


def rescoring_run(session: Session):
    """Return the published score run with what rescoring one resident needs, or None.

    Parameters
    ----------
    session : Session
        Any session.

    Returns
    -------
    mapping or None
        id, method, parameters, as_of, previous_run_id and feature_names.
    """
    run_id = published_run_id(session)
    if run_id is None:
        return None
    return (
        session.execute(
            text("""
        SELECT id, method, parameters, as_of, previous_run_id, feature_names
        FROM score_runs WHERE id = :id"""),
            {"id": run_id},
        )
        .mappings()
        .one()
    )


def lock_score_row(session: Session, run_id: int, resident_db_id: int):
    """Return a resident's row of a run, locked until the transaction ends, or None.

    Parameters
    ----------
    session : Session
        The visit's transaction.
    run_id : int
        The run.
    resident_db_id : int
        The resident's database id.

    Returns
    -------
    mapping or None
        score, tier, next_due_on, tier_since (None if not kept) and contributions (packed).
    """
    return (
        session.execute(
            text("""
        SELECT score, tier, next_due_on, tier_since, contributions FROM resident_scores
        WHERE run_id = :run_id AND resident_id = :rid FOR UPDATE"""),
            {"run_id": run_id, "rid": resident_db_id},
        )
        .mappings()
        .one_or_none()
    )


def save_score_change(
    session: Session,
    change: ScoreChange,
    resident_db_id: int,
    *,
    visit_id: int,
    features: np.ndarray,
    contributions: np.ndarray,
) -> None:
    """Write a rescored row, log the change in score_updates and adjust the map's aggregates.

    Parameters
    ----------
    session : Session
        The visit's transaction.
    change : ScoreChange
        The row before and after.
    resident_db_id : int
        The resident's database id.
    visit_id : int
        The visit that caused the change.
    features, contributions : ndarray
        The new feature values and contributions (one row each).
    """
    session.execute(
        text("""
        UPDATE resident_scores SET score = :score, tier = :tier, next_due_on = :due,
               features = CAST(:features AS bytea), contributions = CAST(:contributions AS bytea),
               tier_since = coalesce(CAST(:since AS date), tier_since)
        WHERE run_id = :run_id AND resident_id = :rid"""),
        {
            "since": change.new_tier_since,
            "score": change.new_score,
            "tier": change.new_tier,
            "due": change.new_next_due_on,
            "features": pack_vectors(np.asarray(features))[0].as_py(),
            "contributions": pack_vectors(np.asarray(contributions))[0].as_py(),
            "run_id": change.run_id,
            "rid": resident_db_id,
        },
    )
    session.execute(
        text("""
        INSERT INTO score_updates (run_id, resident_id, visit_id, old_score, new_score,
            old_tier, new_tier, old_next_due_on, new_next_due_on)
        VALUES (:run_id, :rid, :visit_id, :old_score, :new_score, :old_tier, :new_tier,
            :old_due, :new_due)"""),
        {
            "run_id": change.run_id,
            "rid": resident_db_id,
            "visit_id": visit_id,
            "old_score": change.old_score,
            "new_score": change.new_score,
            "old_tier": change.old_tier,
            "new_tier": change.new_tier,
            "old_due": change.old_next_due_on,
            "new_due": change.new_next_due_on,
        },
    )
    adjust_run_aggregates(
        session,
        change.run_id,
        resident_db_id,
        old_tier=change.old_tier,
        old_next_due_on=change.old_next_due_on,
        new_tier=change.new_tier,
        new_next_due_on=change.new_next_due_on,
    )
    refresh_tile_point(session, change.run_id, resident_db_id)
