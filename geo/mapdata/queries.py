"""What the map shows, read from PostGIS.

Score runs, per-dong tier counts, heat cells, residents in a box, one resident's panel.
Every function that returns residents, or counts derived from them, takes the caller's
:class:`~geo.scope.Scope`. Reads only: the per-dong counts and heat cells they use are built
when a run is stored (:mod:`geo.mapdata.aggregates`).

Length: one read function per thing the map shows; they share the scope and filter SQL.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.analyst_export import suppress_area_summaries
from geo.mapdata.aggregates import (
    HEAT_CELL_M,
    area_counts_sql,
    area_filter_sql,
    counts_are_exact_on,
)
from geo.mapdata.filters import NO_FILTERS, MapQueryError, ResidentFilters
from geo.scope import Scope
from geo.score_runs import published_run_id, resident_explanation
from geo.visit_states import visit_states_of
from visitmap.vocab import (
    NEED_CATEGORIES,
    NEED_STATUSES,
    PROVIDER_SECTORS,
    TIER_NAMES,
    VISIT_OUTCOMES,
)


def list_runs(session: Session, *, limit: int = 50, published: int | None = -1) -> list[dict]:
    """Return the newest ``limit`` score runs, newest first.

    ``published`` is the published run when the caller has just read it (saves a query).

    Each is a dict: id, when (``created_at``), by whom, method, configuration version,
    ``as_of``, the dongs scored, the previous run, input and tier counts, metrics, when and
    by whom it was last published (``published_at``, ``published_by``: None for a draft),
    ``is_published`` (published at least once) and ``is_current`` (the published run, the
    one the map, the planner and the field pages use); dates as ISO text. Runs carry no
    resident data; their counts are city totals of the run's own scope.
    """
    current = published_run_id(session) if published == -1 else published
    rows = session.execute(
        text("""
        SELECT id, created_at, created_by, method, config_version, as_of, scope_codes,
               previous_run_id, input_counts, tier_counts, metrics, published_at, published_by
        FROM score_runs ORDER BY id DESC LIMIT :limit"""),
        {"limit": limit},
    ).mappings()
    return [
        {
            "id": row["id"],
            "created_at": row["created_at"].isoformat(),
            "created_by": row["created_by"],
            "method": row["method"],
            "config_version": row["config_version"],
            "as_of": row["as_of"].isoformat(),
            "scope_codes": row["scope_codes"],
            "previous_run_id": row["previous_run_id"],
            "input_counts": row["input_counts"],
            "tier_counts": row["tier_counts"],
            "metrics": row["metrics"],
            "published_at": None
            if row["published_at"] is None
            else row["published_at"].isoformat(),
            "published_by": row["published_by"],
            "is_published": row["published_at"] is not None,
            "is_current": row["id"] == current,
        }
        for row in rows
    ]


def area_summaries(
    session: Session,
    scope: Scope,
    *,
    run_id: int,
    today: dt.date,
    filters: ResidentFilters = NO_FILTERS,
    with_geometry: bool = False,
    simplify_m: float = 10.0,
    suppress_small: bool = False,
) -> list[dict]:
    """Summarise each dong in ``scope`` for score run ``run_id``.

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        The caller's scope: its dongs are listed; under a per-resident scope the counts are
        of its residents only, counted live.
    run_id : int
        The score run counted.
    today : date
        The day overdue is judged on.
    filters : ResidentFilters, optional
        Which residents the tier counts count; its dongs limit the dongs listed.
    with_geometry : bool, optional
        Add each dong's boundary as GeoJSON text (``geometry``, EPSG:4326).
    simplify_m : float, optional
        Simplification tolerance of the boundary, metres.
    suppress_small : bool, optional
        An analyst's view: counts from 1 to 4 are left out
        (:func:`geo.analyst_export.suppress_area_summaries`).

    Returns
    -------
    list of dict
        Per dong, by code: ``code``, ``name``, ``district_name``, label point ``lon`` and
        ``lat``, ``residents_scored``, ``tier_counts`` and ``overdue_counts`` by tier name
        (residents matching ``filters``), ``residents_shown`` (their sum), ``high_per_1000``
        (high-tier residents shown per 1,000 scored; None when none is scored).
    """
    exact = counts_are_exact_on(session, run_id, today)
    counts_sql, params = area_counts_sql(filters, today=today, scope=scope, from_counts=exact)
    # the scope's residents are in the counts; its dongs here
    scope_where, scope_params = Scope(scope.area_codes).sql()
    scored_sql = (
        "SELECT area_id, sum(residents) AS residents FROM counts GROUP BY area_id"
        if scope.per_resident
        else "SELECT area_id, sum(residents) AS residents FROM run_area_due_counts "
        "WHERE run_id = :run_id GROUP BY area_id"
    )
    area_where, area_params = area_filter_sql(filters)
    params |= scope_params | area_params | {"run_id": run_id, "simplify": simplify_m}
    geometry = (
        ", ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology(ST_Transform(a.geom, 5179), "
        ":simplify), 4326), 6) AS geometry"
        if with_geometry
        else ""
    )
    per_tier = ", ".join(
        f"coalesce(sum(c.residents) FILTER (WHERE c.tier = {t}), 0) AS n_{t}, "
        f"coalesce(sum(c.residents) FILTER (WHERE c.tier = {t} AND c.overdue), 0) AS overdue_{t}"
        for t in TIER_NAMES
    )
    rows = session.execute(
        text(f"""
        WITH counts AS ({counts_sql}),
        scored AS ({scored_sql})
        SELECT a.code, a.name, a.district_name,
               ST_X(a.label_point) AS lon, ST_Y(a.label_point) AS lat,
               coalesce(max(sc.residents), 0) AS scored, {per_tier}{geometry}
        FROM areas a LEFT JOIN counts c ON c.area_id = a.id
        LEFT JOIN scored sc ON sc.area_id = a.id
        WHERE true{scope_where}{area_where}
        GROUP BY a.id ORDER BY a.code"""),
        params,
    ).mappings()
    out = []
    for row in rows:
        by_tier = {TIER_NAMES[t]: int(row[f"n_{t}"]) for t in TIER_NAMES}
        scored = int(row["scored"])
        summary = {
            "code": row["code"],
            "name": row["name"],
            "district_name": row["district_name"],
            "lon": float(row["lon"]),
            "lat": float(row["lat"]),
            "residents_scored": scored,
            "tier_counts": by_tier,
            "overdue_counts": {TIER_NAMES[t]: int(row[f"overdue_{t}"]) for t in TIER_NAMES},
            "residents_shown": sum(by_tier.values()),
            "high_per_1000": round(1000 * by_tier["high"] / scored, 2) if scored else None,
        }
        if with_geometry:
            summary["geometry"] = row["geometry"]
        out.append(summary)
    if suppress_small:
        out = suppress_area_summaries(out)
    return out


def area_outlines(session: Session, *, simplify_m: float = 15.0) -> dict[str, dict]:
    """Return every dong's simplified outline, for drawing (the map page keeps them per run).

    Parameters
    ----------
    session : Session
        Any session.
    simplify_m : float, optional
        Simplification tolerance, metres (EPSG:5179), as :func:`area_summaries` uses it
        (the map page: :data:`MAP_SIMPLIFY_M`).

    Returns
    -------
    dict
        By dong code: ``geometry`` (GeoJSON text, EPSG:4326, as :func:`area_summaries` gives
        it), ``geojson`` (the same, parsed) and ``bounds`` (west, south, east, north).
    """
    rows = session.execute(
        text("""
        SELECT code, ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology(
                   ST_Transform(geom, 5179), :simplify), 4326), 6) AS geometry
        FROM areas"""),
        {"simplify": simplify_m},
    ).all()
    outlines = {}
    for code, geometry in rows:
        geojson = json.loads(geometry)
        outlines[code] = {
            "geometry": geometry,
            "geojson": geojson,
            "bounds": shape(geojson).bounds,  # of the outline as drawn (6 decimals)
        }
    return outlines


def heat_points(
    session: Session, scope: Scope, *, run_id: int, min_residents: int = 1
) -> list[list[float]]:
    """Return the heatmap's cells: high-tier residents as [lat, lon, count] per cell centre.

    The cells are 250 m squares (:data:`~geo.mapdata.aggregates.HEAT_CELL_M`, EPSG:5179) of
    run ``run_id``'s aggregates in ``scope``'s dongs; a per-resident scope gets none (the
    cells cannot tell residents apart). Cells of fewer than ``min_residents`` are left out
    (an analyst's view: 5).
    """
    scope_where, params = scope.sql(resident=None)  # cached cells: no resident
    rows = session.execute(
        text(f"""
        SELECT ST_Y(p) AS lat, ST_X(p) AS lon, n FROM (
            SELECT ST_Transform(ST_SetSRID(ST_MakePoint((c.cell_x + 0.5) * :cell,
                       (c.cell_y + 0.5) * :cell), 5179), 4326) AS p, sum(c.residents) AS n
            FROM run_high_cells c JOIN areas a ON a.id = c.area_id
            WHERE c.run_id = :run_id{scope_where}
            GROUP BY c.cell_x, c.cell_y HAVING sum(c.residents) >= :min_residents) cells"""),
        params | {"run_id": run_id, "cell": HEAT_CELL_M, "min_residents": min_residents},
    ).all()
    return [[round(r.lat, 6), round(r.lon, 6), int(r.n)] for r in rows]


def residents_in_box(
    session: Session,
    scope: Scope,
    *,
    run_id: int,
    bbox: tuple[float, float, float, float],
    today: dt.date,
    filters: ResidentFilters = NO_FILTERS,
    limit: int = 500,
    offset: int = 0,
) -> dict:
    """Return the active residents of ``run_id`` in a box as a GeoJSON FeatureCollection.

    Properties are codes and numbers only (id, tier, score, next due date, overdue days); no
    names or notes: those are in :func:`resident_panel`.

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        The caller's scope.
    run_id : int
        The score run.
    bbox : tuple of float
        (min lon, min lat, max lon, max lat), degrees, EPSG:4326.
    today : date
        The day overdue is judged on.
    filters : ResidentFilters, optional
        Which residents.
    limit : int, optional
        Page size, 1 to 5000.
    offset : int, optional
        Matches to skip first, 0 or more.

    Returns
    -------
    dict
        The FeatureCollection of one page, ordered by score (highest first) then id, with
        ``run_id``, ``total`` (all matches), ``limit``, ``offset`` and ``next_offset`` (None
        on the last page).

    Raises
    ------
    MapQueryError
        If ``limit`` or ``offset`` is out of range.
    """
    if limit < 1 or limit > 5000:
        raise MapQueryError("limit", "must be between 1 and 5000")
    if offset < 0:
        raise MapQueryError("offset", "must be 0 or more")
    where, params = filters.sql(today=today)
    scope_where, scope_params = scope.sql()
    params |= scope_params | {
        "run_id": run_id,
        "today": today,
        "minlon": bbox[0],
        "minlat": bbox[1],
        "maxlon": bbox[2],
        "maxlat": bbox[3],
        "limit": limit,
        "offset": offset,
    }
    matching = f"""
        FROM households h
        JOIN residents r ON r.household_id = h.id
        JOIN resident_scores s ON s.run_id = :run_id AND s.resident_id = r.id
        JOIN areas a ON a.id = h.area_id
        WHERE h.geom && ST_MakeEnvelope(:minlon, :minlat, :maxlon, :maxlat, 4326)
          AND r.status = 'active'{scope_where}{where}"""
    rows = session.execute(
        text(f"""
        SELECT r.external_id, a.code, s.tier, s.score, s.next_due_on,
               ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat, count(*) OVER () AS total
        {matching}
        ORDER BY s.score DESC, r.external_id
        LIMIT :limit OFFSET :offset"""),
        params,
    ).all()
    # past the last page there is no row to carry the window count
    total = (
        int(rows[0].total)
        if rows
        else session.execute(text(f"SELECT count(*) {matching}"), params).scalar_one()
    )
    features = [
        {
            "type": "Feature",
            "id": row.external_id,
            "geometry": {"type": "Point", "coordinates": [round(row.lon, 6), round(row.lat, 6)]},
            "properties": {
                "id": row.external_id,
                "area_code": row.code,
                "tier": int(row.tier),
                "tier_name": TIER_NAMES[int(row.tier)],
                "score": round(float(row.score), 4),
                "next_due_on": row.next_due_on.isoformat(),
                "days_overdue": max(0, (today - row.next_due_on).days),
            },
        }
        for row in rows
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "run_id": run_id,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
    }


def resident_panel(
    session: Session,
    scope: Scope,
    resident_id: str,
    *,
    today: dt.date,
    run_id: int | None = None,
    recent_support: int = 5,
) -> dict | None:
    """Return everything the map's resident panel shows, or None if unknown or outside ``scope``.

    The panel is of score run ``run_id`` (default: the published run; None when there is no run),
    with days overdue judged on ``today`` and the ``recent_support`` newest support records.
    Pseudonymous id, name, dong, tier, score, the top three reasons (Korean and English),
    last visit (date, outcome, note), next due date and days overdue, open needs and the most
    recent support. Free text (name, note, support item) is returned as plain strings: the
    page renders it as text, never as HTML.
    """
    run_id = run_id if run_id is not None else published_run_id(session)
    explanation = (
        resident_explanation(session, scope, resident_id, run_id=run_id) if run_id else None
    )
    if explanation is None:
        return None
    person = (
        session.execute(
            text("""
        SELECT r.id, r.name, a.name AS area_name, r.birth_year, r.lives_alone, r.status
        FROM residents r JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = h.area_id WHERE r.external_id = :id"""),
            {"id": resident_id},
        )
        .mappings()
        .one()
    )
    last_visit = (
        session.execute(
            text("""
        SELECT (visited_at AT TIME ZONE 'Asia/Seoul')::date AS visited_on, outcome, visitor,
               notes
        FROM visits WHERE resident_id = :rid ORDER BY visited_at DESC LIMIT 1"""),
            {"rid": person["id"]},
        )
        .mappings()
        .one_or_none()
    )
    needs = session.execute(
        text("""
        SELECT category, status, identified_on FROM needs
        WHERE resident_id = :rid AND status IN ('open', 'in_progress')
        ORDER BY identified_on DESC"""),
        {"rid": person["id"]},
    ).mappings()
    support = session.execute(
        text("""
        SELECT sr.provided_on, sr.category, sr.item, sr.amount_krw, sr.quantity, sr.unit,
               p.name AS provider, p.sector
        FROM support_records sr JOIN providers p ON p.id = sr.provider_id
        WHERE sr.resident_id = :rid ORDER BY sr.provided_on DESC LIMIT :n"""),
        {"rid": person["id"], "n": recent_support},
    ).mappings()
    due = explanation["next_due_on"]
    state = visit_states_of(session, run_id, [resident_id], today).get(resident_id)
    return {
        **{k: v for k, v in explanation.items() if k != "contributions"},
        "next_due_on": due.isoformat(),
        "days_overdue": max(0, (today - due).days),
        "visit_state": None
        if state is None
        else {key: state[key] for key in ("state", "state_ko", "state_en", "words_ko", "words_en")},
        "name": person["name"],
        "area_name": person["area_name"],
        "age_years": today.year - person["birth_year"],
        "lives_alone": person["lives_alone"],
        "status": person["status"],
        "last_visit": None
        if last_visit is None
        else {
            "visited_on": last_visit["visited_on"].isoformat(),
            "outcome": last_visit["outcome"],
            "outcome_ko": VISIT_OUTCOMES[last_visit["outcome"]][0],
            "outcome_en": VISIT_OUTCOMES[last_visit["outcome"]][1],
            "visitor": last_visit["visitor"],
            "notes": last_visit["notes"],
        },
        "open_needs": [
            {
                "category": n["category"],
                "category_ko": NEED_CATEGORIES[n["category"]][0],
                "category_en": NEED_CATEGORIES[n["category"]][1],
                "status": n["status"],
                "status_ko": NEED_STATUSES[n["status"]][0],
                "status_en": NEED_STATUSES[n["status"]][1],
                "identified_on": n["identified_on"].isoformat(),
            }
            for n in needs
        ],
        "recent_support": [
            {
                "provided_on": s["provided_on"].isoformat(),
                "category": s["category"],
                "category_ko": NEED_CATEGORIES[s["category"]][0],
                "category_en": NEED_CATEGORIES[s["category"]][1],
                "item": s["item"],
                "amount_krw": s["amount_krw"],
                "quantity": s["quantity"],
                "unit": s["unit"],
                "provider": s["provider"],
                "sector": s["sector"],
                "sector_ko": PROVIDER_SECTORS[s["sector"]][0],
                "sector_en": PROVIDER_SECTORS[s["sector"]][1],
            }
            for s in support
        ],
    }


def facility_points(session: Session) -> list[dict]:
    """Every facility as the map draws it.

    Parameters
    ----------
    session : Session
        Any session.

    Returns
    -------
    list of dict
        ``kind``, ``name``, ``lon`` and ``lat``, in the table's order.
    """
    rows = session.execute(
        text("SELECT kind, name, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM facilities ORDER BY id")
    ).mappings()
    return [dict(row) for row in rows]


#: The map page's simplification of the dongs' outlines, metres.
MAP_SIMPLIFY_M = 15.0


@dataclass(frozen=True)
class MapData:
    """What the map page draws on the server side.

    Attributes
    ----------
    run_id : int or None
        The score run shown.
    areas : list of dict
        The dongs with their counts and outlines (:func:`area_summaries`).
    facilities : list of dict
        The facilities (:func:`facility_points`).
    heat : list of list of float
        The heatmap's cells (:func:`heat_points`).
    """

    run_id: int | None
    areas: list[dict]
    facilities: list[dict]
    heat: list[list[float]]


def map_data(
    session: Session,
    scope: Scope,
    *,
    run_id: int | None,
    today: dt.date,
    min_heat_residents: int = 1,
    suppress_small: bool = False,
    outlines: dict[str, dict] | None = None,
) -> MapData:
    """Read everything the map page draws on the server side.

    Parameters
    ----------
    session : Session
        Any session.
    scope : Scope
        The caller's scope (the page shows counts per dong, never a resident).
    run_id : int or None
        The score run shown; None when nothing has been scored (counts are then empty).
    today : date
        The day overdue is judged on.
    min_heat_residents : int, default=1
        Heat cells with fewer high-tier residents are left out (an analyst's view: 5).
    suppress_small : bool, default=False
        Leave out per-dong counts from 1 to 4 (an analyst's view).
    outlines : dict, optional
        Every dong's outline made before (:func:`area_outlines`, 15 m): its ``geometry``,
        ``geojson`` and ``bounds`` go into the dongs instead of simplifying them again (a
        dong missing from them: all are simplified again).

    Returns
    -------
    MapData
        The dongs, facilities and heat cells.
    """

    def summaries(with_geometry: bool) -> list[dict]:
        return area_summaries(
            session,
            scope,
            run_id=run_id or 0,
            today=today,
            with_geometry=with_geometry,
            simplify_m=MAP_SIMPLIFY_M,
            suppress_small=suppress_small,
        )

    areas = summaries(outlines is None)
    if outlines is not None:
        if all(area["code"] in outlines for area in areas):
            areas = [area | outlines[area["code"]] for area in areas]
        else:  # a dong imported since the outlines were made
            areas = summaries(True)
    heat = (
        heat_points(session, scope, run_id=run_id, min_residents=min_heat_residents)
        if run_id
        else []
    )
    return MapData(run_id, areas, facility_points(session), heat)
