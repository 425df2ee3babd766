"""Mapbox vector tiles of the residents of a score run, made by PostGIS (ST_AsMVT).

Up to :data:`AREA_ZOOM_MAX` a tile holds one point per dong (layer ``areas``) with its counts by
tier and overdue state, read from the run's per-dong counts (geo.mapdata.aggregates): its size
and cost do not grow with the number of residents. From :data:`RESIDENT_ZOOM_MIN` on, a tile
holds the residents themselves (layer ``residents``): tier code and overdue flag, and from
:data:`RESIDENT_ID_ZOOM` on their pseudonymous id.

From issue 15 the published run's resident tiles come from its tile layer
(geo.mapdata.tile_points): one feature per point where residents live, with their counts. The
full join of households, residents and scores (:func:`resident_tile_sql`) answers what the layer
cannot: a run without one, the crisis-signal and unreached filters, a per-resident scope.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.mapdata.aggregates import area_counts_sql, area_filter_sql, counts_are_exact_on
from geo.mapdata.filters import NO_FILTERS, MapQueryError, ResidentFilters, overdue_sql
from geo.mapdata.queries import area_summaries
from geo.mapdata.tile_points import has_tile_points, layer_answers, point_tile_sql
from geo.scope import Scope
from visitmap.vocab import TIER_NAMES

AREA_ZOOM_MAX = 13
RESIDENT_ZOOM_MIN = AREA_ZOOM_MAX + 1
#: Residents carry their id (for the panel) from this zoom on; at zoom 14 a dense Seoul tile
#: with ids reached 480 KB, without them it stays under the 250 KB budget.
RESIDENT_ID_ZOOM = 15
MAX_ZOOM = 20
EXTENT = 4096
BUFFER = 64


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the (x, y) of the zoom ``z`` Web Mercator tile holding (lon, lat) in degrees."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


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
    """Return the residents layer's query and its parameters.

    The query answers one row: the tile (layer ``residents``: tier, overdue flag and, with
    ``with_ids``, the resident's id) and the number of residents in it. The caller binds
    :z, :x, :y and :run_id.

    Parameters
    ----------
    scope : Scope
        The caller's scope.
    filters : ResidentFilters
        Which residents.
    today : date
        The day overdue is judged on.
    with_ids : bool, optional
        Give each resident's id.

    Returns
    -------
    tuple of (str, dict)
        The query and its parameters.
    """
    where, params = filters.sql(today=today)
    scope_where, scope_params = scope.sql()
    params |= scope_params | {"today": today}
    sql = f"""
    SELECT ST_AsMVT(t, 'residents', {EXTENT}, 'geom'), count(*) FROM (
        SELECT {"r.external_id AS id, " if with_ids else ""}s.tier,
               {overdue_sql()} AS overdue,
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


def area_tile_sql(
    scope: Scope,
    filters: ResidentFilters,
    *,
    today: dt.date,
    hidden_cells: list[str] | None = None,
    from_counts: bool = True,
) -> tuple[str, dict]:
    """Return the per-dong layer's query and its parameters.

    The query answers one row: the tile (layer ``areas``: a point per dong with its counts
    per tier name and ``overdue_`` tier name) and the number of dongs in it. The caller binds
    :z, :x, :y and :run_id.

    Parameters
    ----------
    scope : Scope
        The caller's scope.
    filters : ResidentFilters
        Which residents are counted; its dongs limit the dongs shown.
    today : date
        The day overdue is judged on.
    hidden_cells : list of str, optional
        An analyst's view: counts left out of the tile (null), as ``code/tier`` or
        ``code/overdue_tier`` (tier names).
    from_counts : bool, default=True
        Whether the run's due-date counts answer for ``today``
        (:func:`geo.mapdata.aggregates.counts_are_exact_on`); else the counts are made live.

    Returns
    -------
    tuple of (str, dict)
        The query and its parameters.
    """
    counts, params = area_counts_sql(filters, today=today, scope=scope, from_counts=from_counts)
    # the scope's residents are in the counts; its dongs here
    scope_where, scope_params = Scope(scope.area_codes).sql()
    area_where, area_params = area_filter_sql(filters)
    params |= scope_params | area_params
    columns = ", ".join(
        f"coalesce(sum(c.residents) FILTER (WHERE c.tier = {t}), 0)::int AS {name}, "
        f"coalesce(sum(c.residents) FILTER (WHERE c.tier = {t} AND c.overdue), 0)::int "
        f"AS overdue_{name}"
        for t, name in TIER_NAMES.items()
    )

    def shown(column: str) -> str:
        if hidden_cells is None:
            return f"p.{column}"
        hidden = f"(a.code || '/{column}') = ANY(:hidden_cells)"
        return f"CASE WHEN {hidden} THEN NULL ELSE p.{column} END AS {column}"

    if hidden_cells is not None:
        params["hidden_cells"] = hidden_cells

    names = ", ".join(f"{shown(name)}, {shown('overdue_' + name)}" for name in TIER_NAMES.values())
    sql = f"""
    WITH counts AS ({counts}),
    -- one row per dong first: joined to the areas per row, the planner looped over the
    -- counts once per dong (~300 ms at z8 on the Seoul demo)
    per_area AS MATERIALIZED (
        SELECT c.area_id, {columns} FROM counts c GROUP BY c.area_id
    )
    SELECT ST_AsMVT(t, 'areas', {EXTENT}, 'geom'), count(*) FROM (
        SELECT a.code, a.name, {names},
               ST_AsMVTGeom(ST_Transform(a.label_point, 3857), ST_TileEnvelope(:z, :x, :y),
                            {EXTENT}, {BUFFER}) AS geom
        FROM per_area p JOIN areas a ON a.id = p.area_id
        WHERE ST_Transform(a.label_point, 3857)
                && ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}){scope_where}{area_where}
    ) t"""
    return sql, params


def _hidden_cells(session, scope, run_id, today, filters) -> list[str]:
    """Return the per-dong counts an analyst may not see.

    They are those of geo.analyst_export.protected_cells, as /api/areas leaves them out,
    given as ``code/tier`` and ``code/overdue_tier`` (tier names).
    """
    rows = area_summaries(
        session, scope, run_id=run_id, today=today, filters=filters, suppress_small=True
    )
    hidden = []
    for row in rows:
        for prefix, key in (("", "tier_counts"), ("overdue_", "overdue_counts")):
            hidden += [f"{row['code']}/{prefix}{t}" for t, n in row[key].items() if n is None]
    return hidden


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
    with_count: bool = False,
    suppress_small: bool = False,
    has_layer: bool | None = None,
) -> bytes | tuple[bytes, int]:
    """Return the tile (z, x, y) of ``run_id`` for a caller with ``scope``.

    Per-dong counts up to zoom 13, residents from zoom 14 (module docstring).

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        The caller's scope; an empty one gets an empty tile.
    run_id : int
        The score run.
    z, x, y : int
        The tile, in the Web Mercator pyramid (zoom 0 to :data:`MAX_ZOOM`).
    today : date
        The day overdue is judged on.
    filters : ResidentFilters, optional
        Which residents.
    with_count : bool, optional
        Also return the number of features (dongs or residents) in the tile.
    suppress_small : bool, optional
        An analyst's view: per-dong counts an analyst may not see are left out.
    has_layer : bool, optional
        Whether the run has its tile layer, when the caller knows (else it is looked up).

    Returns
    -------
    bytes or tuple of (bytes, int)
        The Mapbox vector tile (empty bytes for an empty tile), with its count when
        ``with_count``.

    Raises
    ------
    MapQueryError
        If (z, x, y) is no tile.
    """
    check_tile(z, x, y)
    if scope.is_empty:
        return (b"", 0) if with_count else b""
    if z <= AREA_ZOOM_MAX:
        hidden = _hidden_cells(session, scope, run_id, today, filters) if suppress_small else None
        exact = counts_are_exact_on(session, run_id, today)
        sql, params = area_tile_sql(
            scope, filters, today=today, hidden_cells=hidden, from_counts=exact
        )
    elif layer_answers(scope, filters) and (
        has_layer if has_layer is not None else has_tile_points(session, run_id)
    ):
        sql, params = point_tile_sql(
            scope,
            filters,
            today=today,
            with_ids=z >= RESIDENT_ID_ZOOM,
            extent=EXTENT,
            buffer=BUFFER,
        )
    else:
        sql, params = resident_tile_sql(scope, filters, today=today, with_ids=z >= RESIDENT_ID_ZOOM)
    tile, count = session.execute(
        text(sql), params | {"z": z, "x": x, "y": y, "run_id": run_id}
    ).one()
    body = bytes(tile or b"")
    return (body, int(count)) if with_count else body
