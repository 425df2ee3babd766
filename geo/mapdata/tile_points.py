"""The published run's residents in the shape the resident tiles need (issue 15).

One row per point where residents live (``run_tile_points``, migration 0018): members of a
household share their household's point, and households at one address share it too. A row
carries the point in Web Mercator (EPSG:3857, so a tile needs no transform), its dong, and per
tier (low, medium, high) the number of residents, their ids and next due dates in score order
(highest first) and the earliest due date. A resident tile from zoom 14 then reads only the
points in it: one feature per point with its counts, in place of one per resident joined from
households, residents and resident_scores (the busiest z14 tile of the 1M Seoul demo held 14,428
residents on 2,198 points).

The rows of a run are its own partition (``run_tile_points_run_<id>``), written in space order
(geohash) when the run is published (:func:`build_tile_points`) and kept only for the published
run. A recorded visit rescores one resident: :func:`refresh_tile_point` rewrites that resident's
point and logs it in ``tile_changes`` for the tile caches (webmap.tile_cache).

What the layer cannot answer, the tiles ask the full join (geo.mapdata.tiles): a run without a
layer (a draft a leader looks at), the crisis-signal and unreached filters, and a scope limited
to some residents (a visitor's). Residents whose status changes after publication (moved away)
stay in the layer until the next publication.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.mapdata.filters import ResidentFilters
from geo.scope import Scope
from visitmap.vocab import TIER_NAMES

#: Tier codes and names, low to high.
TIERS = tuple(sorted(TIER_NAMES.items()))


def partition_name(run_id: int) -> str:
    """Return the name of run ``run_id``'s partition of run_tile_points."""
    return f"run_tile_points_run_{int(run_id)}"


def _aggregate_columns() -> str:
    """Return the select list that makes a row's per-tier columns from residents ``s``, ``r``."""
    parts = []
    for code, name in TIERS:
        when = f"FILTER (WHERE s.tier = {code})"
        order = "ORDER BY s.score DESC, r.id"
        parts += [
            f"count(*) {when}::int AS n_{name}",
            f"array_agg(r.external_id {order}) {when} AS ids_{name}",
            f"array_agg(s.next_due_on {order}) {when} AS dues_{name}",
            f"min(s.next_due_on) {when} AS min_due_{name}",
        ]
    return ",\n           ".join(parts)


#: The rows of run :run_id from its resident scores, one per (dong, point); the caller adds a
#: condition on households ``h`` (after WHERE, starting with AND) and an ORDER BY.
POINTS_SELECT = f"""
    SELECT CAST(:run_id AS int) AS run_id, h.area_id, ST_Transform(h.geom, 3857) AS geom,
           {_aggregate_columns()}
    FROM resident_scores s
    JOIN residents r ON r.id = s.resident_id
    JOIN households h ON h.id = r.household_id
    WHERE s.run_id = :run_id AND r.status = 'active' {{where}}
    GROUP BY h.area_id, h.geom"""


def has_tile_points(session: Session, run_id: int) -> bool:
    """Return whether run ``run_id`` has its tile layer (a partition of run_tile_points)."""
    return bool(
        session.execute(
            text("SELECT to_regclass(:name) IS NOT NULL"), {"name": partition_name(run_id)}
        ).scalar()
    )


def build_tile_points(session: Session, run_id: int, *, keep_others: bool = False) -> int:
    """Write run ``run_id``'s tile layer as its own partition, and drop the other runs' layers.

    The partition is filled in space order (geohash of the point) before its index is built
    and it is attached, so that a tile's points sit on few pages. Building a layer that exists
    rebuilds it.

    Parameters
    ----------
    session : Session
        The publishing transaction.
    run_id : int
        The run, whose resident scores are stored.
    keep_others : bool, optional
        Keep the layers of other runs (by default only the published run has one).

    Returns
    -------
    int
        The number of points written.
    """
    run_id = int(run_id)
    name = partition_name(run_id)
    others = session.execute(
        text("""SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'run_tile_points'::regclass""")
    ).scalars()
    for other in list(others):
        if other == name or not keep_others:
            session.execute(text(f"DROP TABLE {other}"))
    session.execute(text(f"CREATE TABLE {name} (LIKE run_tile_points INCLUDING DEFAULTS)"))
    session.execute(
        text(f"""INSERT INTO {name}
        {POINTS_SELECT.format(where="")}
        ORDER BY ST_GeoHash(h.geom, 9)"""),
        {"run_id": run_id},
    )
    session.execute(text(f"ALTER TABLE {name} ADD CHECK (run_id = {run_id})"))
    session.execute(
        text(f"ALTER TABLE run_tile_points ATTACH PARTITION {name} FOR VALUES IN ({run_id})")
    )
    session.execute(text(f"ANALYZE {name}"))
    return int(session.execute(text(f"SELECT count(*) FROM {name}")).scalar())


def refresh_tile_point(session: Session, run_id: int, resident_db_id: int) -> bool:
    """Rewrite the tile layer's row of one resident's point, after a visit rescored them.

    Logs the point in ``tile_changes`` so that cached tiles holding it are dropped.

    Parameters
    ----------
    session : Session
        The visit's transaction (after the resident's resident_scores row was updated).
    run_id : int
        The run whose row of the resident changed.
    resident_db_id : int
        The resident's database id.

    Returns
    -------
    bool
        False when the run has no tile layer (nothing to do).
    """
    if not has_tile_points(session, run_id):
        return False
    point = session.execute(
        text("""SELECT h.area_id, h.geom FROM residents r
        JOIN households h ON h.id = r.household_id WHERE r.id = :rid"""),
        {"rid": int(resident_db_id)},
    ).one()
    params = {"run_id": int(run_id), "area_id": point[0], "geom": point[1]}
    session.execute(
        text("""DELETE FROM run_tile_points WHERE run_id = :run_id AND area_id = :area_id
        AND geom ~= ST_Transform(CAST(:geom AS geometry), 3857)"""),
        params,
    )
    at_point = "AND h.area_id = :area_id AND h.geom ~= CAST(:geom AS geometry)"
    session.execute(
        text(f"INSERT INTO run_tile_points {POINTS_SELECT.format(where=at_point)}"), params
    )
    session.execute(
        text("""INSERT INTO tile_changes (run_id, area_id, geom)
        VALUES (:run_id, :area_id, ST_Transform(CAST(:geom AS geometry), 3857))"""),
        params,
    )
    return True


def layer_answers(scope: Scope, filters: ResidentFilters) -> bool:
    """Return whether the tile layer can answer a tile for ``scope`` and ``filters``.

    It knows each point's dong, tiers, ids and due dates: not crisis signals, eligibility or a
    per-resident scope.
    """
    return filters.only_tier_and_overdue and not scope.per_resident


def point_tile_sql(
    scope: Scope, filters: ResidentFilters, *, today: dt.date, with_ids: bool, extent: int,
    buffer: int,
) -> tuple[str, dict]:  # fmt: skip
    """Return the query of a resident tile from the tile layer, and its parameters.

    One feature per point: ``tier`` (the highest tier shown there), ``overdue`` (whether a
    resident of that tier there is overdue), ``n`` (residents shown there), ``low`` /
    ``medium`` / ``high`` (per tier, absent when none) and, with ``with_ids``, ``id`` (the
    id of the highest-scoring resident of that tier there, the one the old one-feature-per-
    resident tile drew on top). The query answers one row: the tile and the number of residents
    in it. The caller binds :z, :x, :y and :run_id.

    Parameters
    ----------
    scope : Scope
        The caller's scope (by dongs: :func:`layer_answers`).
    filters : ResidentFilters
        Dongs, tiers and overdue state (:func:`layer_answers`).
    today : date
        The day overdue is judged on.
    with_ids : bool
        Give the id of each point's top resident.
    extent, buffer : int
        The tile's extent and buffer (tile units).

    Returns
    -------
    tuple of (str, dict)
        The query and its parameters.
    """
    params: dict = {"today": today}
    where = ""
    if scope.area_codes is not None:
        where += " AND p.area_id = ANY(ARRAY(SELECT id FROM areas WHERE code = ANY(:scope_codes)))"
        params["scope_codes"] = sorted(scope.area_codes)
    if filters.area_codes is not None:
        where += " AND p.area_id = ANY(ARRAY(SELECT id FROM areas WHERE code = ANY(:filter_codes)))"
        params["filter_codes"] = sorted(filters.area_codes)
    shown = [(code, name) for code, name in TIERS if filters.tiers is None or code in filters.tiers]
    if not shown:
        return "SELECT NULL::bytea, 0", {}
    per_tier = []
    for _code, name in shown:
        if filters.overdue is None:
            n = f"p.n_{name}"
            late = f"coalesce(p.min_due_{name} < :today, false)"
            top = f"p.ids_{name}[1]"
        else:
            keep = "<" if filters.overdue else ">="
            n = f"(SELECT count(*) FROM unnest(p.dues_{name}) d WHERE d {keep} :today)::int"
            late = "true" if filters.overdue else "false"
            top = (
                f"(SELECT u.i FROM unnest(p.ids_{name}, p.dues_{name}) WITH ORDINALITY "
                f"AS u(i, d, k) WHERE u.d {keep} :today ORDER BY u.k LIMIT 1)"
            )
        per_tier.append((name, n, late, top))
    # the points that can hold a shown resident (the rest is left out before counting)
    if filters.overdue:
        where += " AND (" + " OR ".join(f"p.min_due_{name} < :today" for name, *_ in per_tier) + ")"
    else:
        where += " AND (" + " OR ".join(f"p.n_{name} > 0" for name, *_ in per_tier) + ")"
    counts = ", ".join(f"{n} AS n_{name}" for name, n, _, _ in per_tier)
    lates = ", ".join(f"{late} AS late_{name}" for name, _, late, _ in per_tier)
    tops = "".join(f", {top} AS top_{name}" for name, _, _, top in per_tier) if with_ids else ""
    high_first = list(reversed(per_tier))

    def pick(prefix: str) -> str:
        cases = " ".join(f"WHEN n_{name} > 0 THEN {prefix}_{name}" for name, *_ in high_first)
        return f"CASE {cases} END"

    tier_of = " ".join(
        f"WHEN n_{name} > 0 THEN {dict((n, c) for c, n in TIERS)[name]}" for name, *_ in high_first
    )
    total = " + ".join(f"n_{name}" for name, *_ in per_tier)
    sql = f"""
    WITH p AS (
        SELECT p.geom, {counts}, {lates}{tops}
        FROM run_tile_points p
        WHERE p.run_id = :run_id
          AND p.geom && ST_TileEnvelope(:z, :x, :y, margin => {buffer / extent}){where}
    )
    SELECT ST_AsMVT(t, 'residents', {extent}, 'geom'), coalesce(sum(t.n), 0) FROM (
        SELECT CASE {tier_of} END AS tier, {pick("late")} AS overdue,
               {f"{pick('top')} AS id, " if with_ids else ""}{total} AS n,
               {", ".join(f"nullif(n_{name}, 0) AS {name}" for name, *_ in per_tier)},
               ST_AsMVTGeom(p.geom, ST_TileEnvelope(:z, :x, :y), {extent}, {buffer}) AS geom
        FROM p WHERE {total} > 0
    ) t"""
    return sql, params
