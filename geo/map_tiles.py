"""Mapbox vector tiles of the residents of a score run, made by PostGIS (ST_AsMVT).

Up to :data:`AREA_ZOOM_MAX` a tile holds one point per dong (layer ``areas``) with its counts by
tier and overdue state, read from the cached per-dong counts (geo.map_data): its size and cost
do not grow with the number of residents. From :data:`RESIDENT_ZOOM_MIN` on, a tile holds the
residents themselves (layer ``residents``): tier code and overdue flag, and from
:data:`RESIDENT_ID_ZOOM` on their pseudonymous id.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.map_data import (
    NO_FILTERS,
    MapQueryError,
    ResidentFilters,
    ensure_run_aggregates,
    scope_sql,
)
from geo.scope import Scope
from geo.score_runs import TIER_NAMES

AREA_ZOOM_MAX = 13
RESIDENT_ZOOM_MIN = AREA_ZOOM_MAX + 1
#: Residents carry their id (for the panel) from this zoom on; at zoom 14 a dense Seoul tile
#: with ids reached 480 KB, without them it stays under the 250 KB budget.
RESIDENT_ID_ZOOM = 15
MAX_ZOOM = 20
EXTENT = 4096
BUFFER = 64


def check_tile(z: int, x: int, y: int) -> None:
    """Raise :class:`MapQueryError` unless (z, x, y) is a tile of the Web Mercator pyramid."""
    if not 0 <= z <= MAX_ZOOM:
        raise MapQueryError("z", f"zoom must be between 0 and {MAX_ZOOM}")
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < 2**z:
            raise MapQueryError(name, f"must be between 0 and {2**z - 1} at zoom {z}")


def resident_tile_sql(
    scope: Scope, filters: ResidentFilters, *, today: dt.date, with_ids: bool = True
) -> tuple[str, dict]:
    """The residents layer's query (parameters :z, :x, :y, :run_id bound by the caller)."""
    where, params = filters.sql(today=today)
    scope_where, scope_params = scope_sql(scope)
    params |= scope_params | {"today": today}
    sql = f"""
    SELECT ST_AsMVT(t, 'residents', {EXTENT}, 'geom') FROM (
        SELECT {"r.external_id AS id, " if with_ids else ""}s.tier,
               s.next_due_on < :today AS overdue,
               ST_AsMVTGeom(ST_Transform(h.geom, 3857), ST_TileEnvelope(:z, :x, :y),
                            {EXTENT}, {BUFFER}) AS geom
        FROM households h
        JOIN residents r ON r.household_id = h.id
        JOIN resident_scores s ON s.run_id = :run_id AND s.resident_id = r.id
        JOIN areas a ON a.id = h.area_id
        WHERE ST_Transform(h.geom, 3857)
                && ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT})
          AND r.status = 'active'{scope_where}{where}
        ORDER BY s.tier, s.score
    ) t"""
    return sql, params


def area_tile_sql(scope: Scope, filters: ResidentFilters, *, today: dt.date) -> tuple[str, dict]:
    """The per-dong layer's query (parameters :z, :x, :y, :run_id bound by the caller)."""
    scope_where, params = scope_sql(scope)
    params["today"] = today
    if filters.only_tier_and_overdue:
        counts = """SELECT c.area_id, c.tier, c.overdue, c.residents FROM run_area_counts c
            WHERE c.run_id = :run_id AND c.counted_on = :today"""
    else:
        where, extra = filters.sql(today=today)
        params |= extra
        counts = f"""SELECT h.area_id, s.tier, s.next_due_on < :today AS overdue,
                count(*) AS residents
            FROM resident_scores s JOIN residents r ON r.id = s.resident_id
            JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
            WHERE s.run_id = :run_id{where} GROUP BY 1, 2, 3"""
    tiers = sorted(filters.tiers) if filters.tiers is not None else sorted(TIER_NAMES)
    overdue = {True: " AND c.overdue", False: " AND NOT c.overdue", None: ""}[filters.overdue]
    columns = ", ".join(
        f"coalesce(sum(c.residents) FILTER (WHERE c.tier = {t}{overdue}), 0)::int AS {name}, "
        f"coalesce(sum(c.residents) FILTER (WHERE c.tier = {t} AND c.overdue), 0)::int "
        f"AS overdue_{name}"
        for t, name in TIER_NAMES.items()
        if t in tiers
    )
    area_where = ""
    if filters.area_codes is not None:
        area_where = " AND a.code = ANY(:filter_areas)"
        params["filter_areas"] = sorted(filters.area_codes)
    sql = f"""
    WITH counts AS MATERIALIZED ({counts})
    SELECT ST_AsMVT(t, 'areas', {EXTENT}, 'geom') FROM (
        SELECT a.code, a.name, {columns},
               ST_AsMVTGeom(ST_Transform(a.label_point, 3857), ST_TileEnvelope(:z, :x, :y),
                            {EXTENT}, {BUFFER}) AS geom
        FROM areas a JOIN counts c ON c.area_id = a.id
        WHERE ST_Transform(a.label_point, 3857)
                && ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}){scope_where}{area_where}
        GROUP BY a.id
    ) t"""
    return sql, params


def residents_tile(
    session: Session,
    scope: Scope,
    *,
    run_id: int,
    z: int,
    x: int,
    y: int,
    today: dt.date,
    filters: ResidentFilters = NO_FILTERS,
) -> bytes:
    """The tile (z, x, y) of ``run_id`` for a caller with ``scope``: per-dong counts up to
    zoom 13, residents from zoom 14 (module docstring). Empty tiles are empty bytes."""
    check_tile(z, x, y)
    if z <= AREA_ZOOM_MAX:
        if filters.only_tier_and_overdue:
            ensure_run_aggregates(session, run_id, counted_on=today)
        sql, params = area_tile_sql(scope, filters, today=today)
    else:
        sql, params = resident_tile_sql(scope, filters, today=today, with_ids=z >= RESIDENT_ID_ZOOM)
    tile = session.execute(text(sql), params | {"z": z, "x": x, "y": y, "run_id": run_id})
    return bytes(tile.scalar_one() or b"")
