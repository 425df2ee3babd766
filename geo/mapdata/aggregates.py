"""The map's aggregates of a score run.

Two counts: residents per dong, tier and due date, and high-tier residents per 250 m heat
cell. Both are built once, when the run is stored (:func:`build_run_aggregates`, called by
:func:`geo.score_runs.store_run`), and adjusted when a recorded visit rescores a resident
(:func:`adjust_run_aggregates`), so the low-zoom tiles, the choropleth, ``/api/areas`` and the
heatmap read them and never write. Counting by due date rather than by overdue state keeps
them valid on every day: a row is overdue on a day when its due date is before it
(:func:`geo.mapdata.filters.overdue_sql`).

Due dates before the run's ``as_of`` are counted on the day before it
(:func:`due_bucket_sql`): on every day from ``as_of`` on they are overdue whatever their exact
date, and a dong keeps a few hundred rows per tier instead of one per date back to the oldest
registration (71,497 rows became about 7,000 for 196,437 residents of the 200k demo). For a
day before the run's ``as_of`` the counts are made live from resident_scores instead
(:func:`counts_are_exact_on`, :func:`area_counts_sql`), so they are exact on every day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.mapdata.filters import ResidentFilters, overdue_sql
from geo.scope import Scope

#: Side of the heatmap's grid cells, metres (EPSG:5179).
HEAT_CELL_M = 250
#: The 250 m heat cell (x, y) of household ``h`` in EPSG:5179 metres (bind :cell =
#: :data:`HEAT_CELL_M`): the one definition used to build and to adjust run_high_cells.
HEAT_CELL_SQL = (
    "floor(ST_X(ST_Transform(h.geom, 5179)) / :cell)::int, "
    "floor(ST_Y(ST_Transform(h.geom, 5179)) / :cell)::int"
)
#: First key of the transaction-level advisory lock that orders the adjustments of one run's
#: aggregates (the second key is the run id).
AGGREGATES_LOCK = 50805

#: The date a due date ``due`` of run :run_id is counted on: itself, or the day before the
#: run's ``as_of`` when it is earlier (module docstring).
RUN_AS_OF_SQL = "(SELECT sr.as_of FROM score_runs sr WHERE sr.id = :run_id)"


def due_bucket_sql(due: str) -> str:
    """Return the SQL of the date a due date is counted on in ``run_area_due_counts``.

    Parameters
    ----------
    due : str
        An SQL date expression.

    Returns
    -------
    str
        ``greatest(due, as_of - 1)`` for run ``:run_id``.
    """
    return f"greatest({due}, {RUN_AS_OF_SQL} - 1)"


#: Per dong and tier of run :run_id, residents due on each date (the build's one statement).
BUILD_DUE_COUNTS_SQL = f"""
    INSERT INTO run_area_due_counts (run_id, area_id, tier, due_on, residents)
    SELECT :run_id, h.area_id, s.tier, {due_bucket_sql("s.next_due_on")}, count(*)
    FROM resident_scores s
    JOIN residents r ON r.id = s.resident_id
    JOIN households h ON h.id = r.household_id
    WHERE s.run_id = :run_id
    GROUP BY 2, 3, 4
    ON CONFLICT DO NOTHING"""

#: High-tier residents of run :run_id per heat cell and dong.
BUILD_HEAT_CELLS_SQL = f"""
    INSERT INTO run_high_cells (run_id, area_id, cell_x, cell_y, residents)
    SELECT :run_id, h.area_id, {HEAT_CELL_SQL}, count(*)
    FROM resident_scores s
    JOIN residents r ON r.id = s.resident_id
    JOIN households h ON h.id = r.household_id
    WHERE s.run_id = :run_id AND s.tier = 2
    GROUP BY 2, 3, 4
    ON CONFLICT DO NOTHING"""


def build_run_aggregates(session: Session, run_id: int) -> None:
    """Count a stored run's residents per dong, tier and due date, and its high tier per cell.

    Parameters
    ----------
    session : Session
        The transaction that stores the run.
    run_id : int
        The run, whose resident_scores are written.
    """
    params = {"run_id": int(run_id), "cell": HEAT_CELL_M}
    session.execute(text(BUILD_DUE_COUNTS_SQL), params)
    session.execute(text(BUILD_HEAT_CELLS_SQL), params)
    # fresh statistics, or the tile query's planner loops over the table per dong
    session.execute(text("ANALYZE run_area_due_counts"))
    session.execute(text("ANALYZE run_high_cells"))


def lock_run_aggregates(session: Session, run_id: int) -> None:
    """Take the run's aggregates lock for the rest of the transaction.

    Two visits adjusting the same run then apply their moves one after the other.

    Parameters
    ----------
    session : Session
        The visit's transaction.
    run_id : int
        The run whose aggregates it adjusts.
    """
    session.execute(
        text("SELECT pg_advisory_xact_lock(CAST(:space AS int), CAST(:run_id AS int))"),
        {"space": AGGREGATES_LOCK, "run_id": run_id},
    )


def adjust_run_aggregates(
    session: Session,
    run_id: int,
    resident_db_id: int,
    *,
    old_tier: int,
    old_next_due_on: dt.date,
    new_tier: int,
    new_next_due_on: dt.date,
) -> None:
    """Move one resident from its old tier and due date to the new ones in a run's aggregates.

    Called after a recorded visit rescored the resident, so the map never shows the old state.
    Takes the run's aggregates lock (:func:`lock_run_aggregates`).

    Parameters
    ----------
    session : Session
        The visit's transaction.
    run_id : int
        The run whose row of the resident was rescored.
    resident_db_id : int
        The resident's database id.
    old_tier, new_tier : int
        Tier codes before and after.
    old_next_due_on, new_next_due_on : date
        Due dates before and after.
    """
    if (old_tier, old_next_due_on) == (new_tier, new_next_due_on):
        return  # nothing moves
    params = {
        "run_id": run_id,
        "rid": resident_db_id,
        "old_tier": old_tier,
        "old_due": old_next_due_on,
        "new_tier": new_tier,
        "new_due": new_next_due_on,
        "cell": HEAT_CELL_M,
    }
    lock_run_aggregates(session, run_id)
    params["area_id"] = session.execute(
        text("""SELECT h.area_id FROM residents r JOIN households h ON h.id = r.household_id
        WHERE r.id = :rid"""),
        params,
    ).scalar_one()
    session.execute(
        text(f"""
        INSERT INTO run_area_due_counts (run_id, area_id, tier, due_on, residents)
        SELECT :run_id, :area_id, tier, {due_bucket_sql("due_on")}, sum(delta) FROM (
            VALUES (CAST(:old_tier AS smallint), CAST(:old_due AS date), -1),
                   (CAST(:new_tier AS smallint), CAST(:new_due AS date), 1)
        ) AS moves (tier, due_on, delta)
        GROUP BY 3, 4 HAVING sum(delta) <> 0
        ON CONFLICT (run_id, area_id, tier, due_on)
        DO UPDATE SET residents = run_area_due_counts.residents + EXCLUDED.residents"""),
        params,
    )
    session.execute(
        text("""DELETE FROM run_area_due_counts
        WHERE run_id = :run_id AND area_id = :area_id AND residents <= 0"""),
        params,
    )
    if old_tier == new_tier or 2 not in (old_tier, new_tier):
        return
    session.execute(
        text(f"""
        INSERT INTO run_high_cells (run_id, area_id, cell_x, cell_y, residents)
        SELECT :run_id, h.area_id, {HEAT_CELL_SQL}, CASE WHEN :new_tier = 2 THEN 1 ELSE -1 END
        FROM residents r JOIN households h ON h.id = r.household_id WHERE r.id = :rid
        ON CONFLICT (run_id, area_id, cell_x, cell_y)
        DO UPDATE SET residents = run_high_cells.residents + EXCLUDED.residents"""),
        params,
    )
    session.execute(
        text("""DELETE FROM run_high_cells
        WHERE run_id = :run_id AND area_id = :area_id AND residents <= 0"""),
        params,
    )


def _live_counts_sql(filters: ResidentFilters, today: dt.date, scope: Scope | None):
    """Return the per-dong counts made from resident_scores, and their parameters."""
    where, extra = filters.sql(today=today)
    if scope is not None and scope.per_resident:
        where += " AND r.id = ANY(:scope_residents)"
        extra = extra | {"scope_residents": sorted(scope.resident_ids)}
    sql = f"""SELECT h.area_id, s.tier, {overdue_sql()} AS overdue, count(*) AS residents
        FROM resident_scores s JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE s.run_id = :run_id{where} GROUP BY 1, 2, 3"""
    return sql, {"today": today} | extra


def run_as_of(session: Session, run_id: int) -> dt.date | None:
    """Return a stored score run's ``as_of`` day, or None when there is no such run.

    Parameters
    ----------
    session : Session
        Any session.
    run_id : int
        The run.

    Returns
    -------
    date or None
    """
    return session.execute(
        text("SELECT as_of FROM score_runs WHERE id = :run_id"), {"run_id": run_id}
    ).scalar()


def counts_are_exact_on(session: Session, run_id: int, today: dt.date) -> bool:
    """Tell whether a run's due-date counts answer for ``today``.

    They do from the run's ``as_of`` on; before it they put every earlier due date on the day
    before ``as_of`` (module docstring), and the counts must be made live.

    Parameters
    ----------
    session : Session
        Any session.
    run_id : int
        The run.
    today : date
        The day overdue is judged on.

    Returns
    -------
    bool
        False also when the run does not exist (the live counts then find nothing).
    """
    as_of = run_as_of(session, run_id)
    return as_of is not None and today >= as_of


def area_counts_sql(
    filters: ResidentFilters,
    *,
    today: dt.date,
    scope: Scope | None = None,
    from_counts: bool = True,
) -> tuple[str, dict]:
    """Return SQL for the rows (area_id, tier, overdue, residents) of run :run_id.

    Read from the run's due-date counts, or counted live from resident_scores when a
    crisis-signal filter applies (residents with signals are few), when ``scope`` is limited
    to some residents (a visitor's or an agency's: few, and the counts cannot tell them
    apart), or when ``from_counts`` is false: the caller passes
    :func:`counts_are_exact_on` (false for a day before the run's ``as_of``). Dong filters
    and the scope's dongs are left to the caller, who joins ``areas a``.

    Parameters
    ----------
    filters : ResidentFilters
        Tier, overdue and signal filters.
    today : date
        The day overdue is judged on.
    scope : Scope, optional
        The caller's scope, when it may be limited to some residents.
    from_counts : bool, default=True
        Whether the run's counts answer for ``today`` (:func:`counts_are_exact_on`).

    Returns
    -------
    tuple of (str, dict)
        The SELECT and its parameters (``:run_id`` is the caller's).
    """
    if (
        not from_counts
        or not filters.only_tier_and_overdue
        or (scope is not None and scope.per_resident)
    ):
        return _live_counts_sql(filters, today, scope)
    params: dict = {"today": today}
    conditions = ""
    if filters.tiers is not None:
        conditions += " AND c.tier = ANY(:filter_tiers)"
        params["filter_tiers"] = sorted(filters.tiers)
    overdue = overdue_sql("c.due_on", ":today")
    if filters.overdue is not None:
        conditions += " AND " + ("" if filters.overdue else "NOT ") + overdue
    return (
        f"""SELECT c.area_id, c.tier, {overdue} AS overdue, sum(c.residents) AS residents
        FROM run_area_due_counts c
        WHERE c.run_id = :run_id{conditions} GROUP BY 1, 2, 3""",
        params,
    )


def area_filter_sql(filters: ResidentFilters) -> tuple[str, dict]:
    """Return the dong filter on ``areas a``.

    Parameters
    ----------
    filters : ResidentFilters
        The filters; only their dongs are used.

    Returns
    -------
    tuple of (str, dict)
        A condition starting with `` AND`` (or empty) and its parameters.
    """
    if filters.area_codes is None:
        return "", {}
    return " AND a.code = ANY(:filter_areas)", {"filter_areas": sorted(filters.area_codes)}
