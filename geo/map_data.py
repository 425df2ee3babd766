"""What the map shows, read from PostGIS: score runs, per-dong tier counts, heat cells, residents
in a box, one resident's panel. Every function that returns residents, or counts derived from
them, takes the caller's :class:`~geo.scope.Scope`.

The low-zoom layers, the choropleth and ``/api/areas`` read cached aggregates
(``run_area_counts``, ``run_high_cells``) built once per score run and day by
:func:`ensure_run_aggregates`, so their cost does not grow with the number of residents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.scope import Scope
from geo.score_runs import TIER_NAMES, latest_run_id, resident_explanation
from geo.vocab import (
    CRISIS_SIGNAL_KINDS,
    NEED_CATEGORIES,
    NEED_STATUSES,
    PROVIDER_SECTORS,
    VISIT_OUTCOMES,
)
from visitmap.errors import FieldError

#: Side of the heatmap's grid cells, metres (EPSG:5179).
HEAT_CELL_M = 250
#: Signals younger than this count for the crisis-signal filter, days (as the 12-month feature).
SIGNAL_FILTER_DAYS = 365
#: The 250 m heat cell (x, y) of household ``h`` in EPSG:5179 metres (bind :cell =
#: :data:`HEAT_CELL_M`): the one definition used to build and to adjust run_high_cells.
HEAT_CELL_SQL = (
    "floor(ST_X(ST_Transform(h.geom, 5179)) / :cell)::int, "
    "floor(ST_Y(ST_Transform(h.geom, 5179)) / :cell)::int"
)
#: First key of the transaction-level advisory lock that orders the building and the
#: adjusting of one run's cached aggregates (the second key is the run id).
AGGREGATES_LOCK = 50805


def overdue_sql(due: str = "s.next_due_on", day: str = ":today") -> str:
    """The overdue rule as SQL: a resident is overdue on ``day`` when its next due date is
    before it (due that very day is not overdue). Used by the filters, the cached counts,
    their adjustment after a visit and the tiles."""
    return f"({due} < {day})"


class MapQueryError(FieldError):
    """A map query's parameter is invalid; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message, field=parameter)
        self.parameter = parameter


@dataclass(frozen=True)
class ResidentFilters:
    """Filters of the map and the API. ``None`` = no filter.

    area_codes: dongs (10-digit codes); tiers: tier codes (0 low, 1 medium, 2 high);
    overdue: True = only residents past their next due date, False = only those not;
    signal_kind: only residents with a crisis signal of this kind (resident or household)
    in the last 365 days.
    """

    area_codes: frozenset[str] | None = None
    tiers: frozenset[int] | None = None
    overdue: bool | None = None
    signal_kind: str | None = None

    def __post_init__(self):
        if self.tiers is not None and not self.tiers <= set(TIER_NAMES):
            raise MapQueryError("tier", f"unknown tier code in {sorted(self.tiers)}")
        if self.signal_kind is not None and self.signal_kind not in CRISIS_SIGNAL_KINDS:
            raise MapQueryError(
                "signal",
                f"unknown crisis signal kind {self.signal_kind!r} "
                f"(one of {', '.join(CRISIS_SIGNAL_KINDS)})",
            )

    def sql(self, *, today: dt.date) -> tuple[str, dict]:
        """Conditions on ``s`` (resident_scores), ``r`` (residents), ``h`` (households) and
        ``a`` (areas), each starting with `` AND``, and their parameters."""
        parts, params = [], {}
        if self.area_codes is not None:
            parts.append("a.code = ANY(:filter_areas)")
            params["filter_areas"] = sorted(self.area_codes)
        if self.tiers is not None:
            parts.append("s.tier = ANY(:filter_tiers)")
            params["filter_tiers"] = sorted(self.tiers)
        if self.overdue is not None:
            parts.append(("" if self.overdue else "NOT ") + overdue_sql())
            params["today"] = today
        if self.signal_kind is not None:
            parts.append(
                """EXISTS (SELECT 1 FROM crisis_signals cs
                WHERE (cs.resident_id = r.id OR cs.household_id = r.household_id)
                  AND cs.kind = :filter_signal
                  AND cs.observed_on > CAST(:today AS date) - :signal_days
                  AND cs.observed_on <= :today)"""
            )
            params |= {
                "filter_signal": self.signal_kind,
                "today": today,
                "signal_days": SIGNAL_FILTER_DAYS,
            }
        return "".join(f" AND {p}" for p in parts), params

    @property
    def only_tier_and_overdue(self) -> bool:
        """True when the cached per-dong counts can answer these filters."""
        return self.signal_kind is None


#: No filter: every resident of the run in scope.
NO_FILTERS = ResidentFilters()

#: aggregates this process has found built (or, for heat cells, found nothing to build):
#: (database, what, run id, day). Only "exists" is remembered, never counts: a visit adjusts
#: the rows themselves, and builds a run's missing heat cells (docs/visits.md).
_ENSURED: set[tuple[str, str, int, dt.date | None]] = set()


def list_runs(session: Session, *, limit: int = 50) -> list[dict]:
    """The newest score runs first: id, when, by whom, method, as_of, tier counts, metrics.

    Runs carry no resident data; their counts are city totals of the run's own scope.
    """
    rows = session.execute(
        text("""
        SELECT id, created_at, created_by, method, config_version, as_of, scope_codes,
               previous_run_id, input_counts, tier_counts, metrics
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
        }
        for row in rows
    ]


def _ensured_key(session: Session, what: str, run_id: int, day: dt.date | None) -> tuple:
    # .engine: the session may be bound to a connection (tests that roll back)
    return (session.get_bind().engine.url.render_as_string(True), what, run_id, day)


def ensure_area_counts(session: Session, run_id: int, *, counted_on: dt.date) -> None:
    """Build the cached per-dong counts of ``run_id`` for ``counted_on`` unless they exist.

    Idempotent (ON CONFLICT); the process remembers counts it found built, so later tiles
    skip the check.
    """
    key = _ensured_key(session, "counts", run_id, counted_on)
    if key in _ENSURED:
        return
    params = {"run_id": run_id, "counted_on": counted_on}
    check = text(
        "SELECT 1 FROM run_area_counts WHERE run_id = :run_id AND counted_on = :counted_on"
    )
    if session.execute(check, params).first() is not None:
        _ENSURED.add(key)
        return
    lock_run_aggregates(session, run_id)
    if session.execute(check, params).first() is not None:
        return  # built (and committed) by another transaction while this one waited
    overdue = overdue_sql("s.next_due_on", ":counted_on")
    session.execute(
        text(f"""
        INSERT INTO run_area_counts (run_id, counted_on, area_id, tier, overdue, residents)
        SELECT :run_id, :counted_on, h.area_id, s.tier, {overdue}, count(*)
        FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id
        WHERE s.run_id = :run_id
        GROUP BY h.area_id, s.tier, {overdue}
        ON CONFLICT DO NOTHING"""),
        params,
    )
    # fresh statistics, or the tile query's planner loops over the table per dong
    session.execute(text("ANALYZE run_area_counts"))


def ensure_heat_cells(session: Session, run_id: int) -> None:
    """Build the high-tier heat cells of ``run_id`` unless they exist (or it has no high)."""
    key = _ensured_key(session, "cells", run_id, None)
    if key in _ENSURED:
        return
    params = {"run_id": run_id}
    has_high = session.execute(
        text("SELECT 1 FROM resident_scores WHERE run_id = :run_id AND tier = 2 LIMIT 1"), params
    ).first()
    if _heat_cells_built(session, run_id) or has_high is None:
        _ENSURED.add(key)
        return
    lock_run_aggregates(session, run_id)
    if not _heat_cells_built(session, run_id):  # else built by another transaction meanwhile
        _build_heat_cells(session, run_id)
        session.execute(text("ANALYZE run_high_cells"))


def lock_run_aggregates(session: Session, run_id: int) -> None:
    """Take the run's aggregates lock for the rest of the transaction. Building a day's counts
    or the heat cells, and adjusting them after a visit, each take it first: a build then
    reads the scores of every visit committed before it, and a visit adjusts every row
    committed before it, so no visit is lost between the two (READ COMMITTED: each statement
    after the lock sees what committed before it)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(CAST(:space AS int), CAST(:run_id AS int))"),
        {"space": AGGREGATES_LOCK, "run_id": run_id},
    )


def _heat_cells_built(session: Session, run_id: int) -> bool:
    return (
        session.execute(
            text("SELECT 1 FROM run_high_cells WHERE run_id = :run_id LIMIT 1"),
            {"run_id": run_id},
        ).first()
        is not None
    )


def _build_heat_cells(session: Session, run_id: int) -> None:
    """Count the run's high-tier residents per heat cell (nothing if it has none)."""
    session.execute(
        text(f"""
        INSERT INTO run_high_cells (run_id, area_id, cell_x, cell_y, residents)
        SELECT :run_id, h.area_id, {HEAT_CELL_SQL}, count(*)
        FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id
        WHERE s.run_id = :run_id AND s.tier = 2
        GROUP BY 2, 3, 4
        ON CONFLICT DO NOTHING"""),
        {"run_id": run_id, "cell": HEAT_CELL_M},
    )


def ensure_run_aggregates(session: Session, run_id: int, *, counted_on: dt.date) -> None:
    """Both caches of a run (after ``visitmap score``, so the first map view is fast)."""
    ensure_area_counts(session, run_id, counted_on=counted_on)
    ensure_heat_cells(session, run_id)


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
    """Move one resident from its old tier and due date to the new ones in the cached
    aggregates of ``run_id`` (every day counted so far, and the heat cells), after a recorded
    visit rescored it (geo.visit_scores), so the map never shows the old state. Days not
    counted yet are counted later from the updated resident_scores. When the resident enters
    or leaves the high tier and the run has no heat cells (never built, or emptied by earlier
    visits), they are built here from the updated resident_scores, so that a process that
    remembered "nothing to build" (:data:`_ENSURED`) reads them. Takes the run's aggregates
    lock (:func:`lock_run_aggregates`)."""
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
    area_id = session.execute(
        text("""SELECT h.area_id FROM residents r JOIN households h ON h.id = r.household_id
        WHERE r.id = :rid"""),
        params,
    ).scalar_one()
    params["area_id"] = area_id
    old_overdue = overdue_sql("CAST(:old_due AS date)", "counted_on")
    new_overdue = overdue_sql("CAST(:new_due AS date)", "counted_on")
    session.execute(
        text(f"""
        WITH days AS (SELECT DISTINCT counted_on FROM run_area_counts WHERE run_id = :run_id),
        moves AS (
            SELECT counted_on, CAST(:old_tier AS smallint) AS tier, {old_overdue} AS overdue,
                   -1 AS delta FROM days
            UNION ALL
            SELECT counted_on, CAST(:new_tier AS smallint), {new_overdue}, 1 FROM days)
        INSERT INTO run_area_counts (run_id, counted_on, area_id, tier, overdue, residents)
        SELECT :run_id, counted_on, :area_id, tier, overdue, sum(delta) FROM moves
        GROUP BY counted_on, tier, overdue HAVING sum(delta) <> 0
        ON CONFLICT (run_id, counted_on, area_id, tier, overdue)
        DO UPDATE SET residents = run_area_counts.residents + EXCLUDED.residents"""),
        params,
    )
    session.execute(
        text("""DELETE FROM run_area_counts
        WHERE run_id = :run_id AND area_id = :area_id AND residents <= 0"""),
        params,
    )
    if old_tier == new_tier or 2 not in (old_tier, new_tier):
        return
    if not _heat_cells_built(session, run_id):
        _build_heat_cells(session, run_id)  # includes this resident's new tier
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
        text("DELETE FROM run_high_cells WHERE run_id = :run_id AND residents <= 0"), params
    )


def area_counts_sql(
    filters: ResidentFilters, *, today: dt.date, scope: Scope | None = None
) -> tuple[str, dict]:
    """Rows (area_id, tier, overdue, residents) of run :run_id matching ``filters``: from the
    cached counts (call :func:`ensure_area_counts` first), or counted live when a
    crisis-signal filter applies (residents with signals are few) or ``scope`` is limited to
    some residents (a visitor's or an agency's: few, and the cache cannot tell them apart).
    Dong filters and the scope's dongs are left to the caller, who joins ``areas a``."""
    params: dict = {"today": today}
    if not filters.only_tier_and_overdue or (scope is not None and scope.per_resident):
        where, extra = filters.sql(today=today)
        if scope is not None and scope.per_resident:
            where += " AND r.id = ANY(:scope_residents)"
            extra = extra | {"scope_residents": sorted(scope.resident_ids)}
        return (
            f"""SELECT h.area_id, s.tier, {overdue_sql()} AS overdue,
                count(*) AS residents
            FROM resident_scores s JOIN residents r ON r.id = s.resident_id
            JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
            WHERE s.run_id = :run_id{where} GROUP BY 1, 2, 3""",
            params | extra,
        )
    conditions = ""
    if filters.tiers is not None:
        conditions += " AND c.tier = ANY(:filter_tiers)"
        params["filter_tiers"] = sorted(filters.tiers)
    if filters.overdue is not None:
        conditions += " AND " + ("" if filters.overdue else "NOT ") + "c.overdue"
    return (
        f"""SELECT c.area_id, c.tier, c.overdue, c.residents FROM run_area_counts c
        WHERE c.run_id = :run_id AND c.counted_on = :today{conditions}""",
        params,
    )


def area_filter_sql(filters: ResidentFilters) -> tuple[str, dict]:
    """The dong filter on ``areas a``."""
    if filters.area_codes is None:
        return "", {}
    return " AND a.code = ANY(:filter_areas)", {"filter_areas": sorted(filters.area_codes)}


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
    """Per dong in ``scope``: code, names, residents scored, counts by tier of the residents
    matching ``filters`` (all and overdue), high-tier ones per 1,000 residents scored;
    optionally the boundary as GeoJSON (simplified by ``simplify_m`` metres). With
    ``suppress_small`` (an analyst's view), counts from 1 to 4 are left out
    (geo.analyst_export.suppress_area_summaries)."""
    ensure_area_counts(session, run_id, counted_on=today)
    counts_sql, params = area_counts_sql(filters, today=today, scope=scope)
    # the scope's residents are in the counts; its dongs here
    scope_where, scope_params = Scope(scope.area_codes).sql()
    scored_sql = (
        "SELECT area_id, sum(residents) AS residents FROM counts GROUP BY area_id"
        if scope.per_resident
        else "SELECT area_id, sum(residents) AS residents FROM run_area_counts "
        "WHERE run_id = :run_id AND counted_on = :today GROUP BY area_id"
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
        from geo.analyst_export import suppress_area_summaries

        out = suppress_area_summaries(out)
    return out


def heat_points(
    session: Session, scope: Scope, *, run_id: int, min_residents: int = 1
) -> list[list[float]]:
    """High-tier residents as [lat, lon, count] per 250 m cell centre, for the heatmap; cells
    of fewer than ``min_residents`` are left out (an analyst's view: 5)."""
    ensure_heat_cells(session, run_id)
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
    """Residents of ``run_id`` in ``bbox`` (min lon, min lat, max lon, max lat, EPSG:4326) as
    a GeoJSON FeatureCollection, ordered by score (highest first) then id, one page of
    ``limit`` from ``offset``; ``total`` counts all matches.

    Properties are codes and numbers only (id, tier, score, next due date, overdue days); no
    names or notes: those are in :func:`resident_panel`.
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
    """Everything the map's resident panel shows, or None if unknown or outside ``scope``.

    Pseudonymous id, name, dong, tier, score, the top three reasons (Korean and English),
    last visit (date, outcome, note), next due date and days overdue, open needs and the most
    recent support. Free text (name, note, support item) is returned as plain strings: the
    page renders it as text, never as HTML.
    """
    run_id = run_id if run_id is not None else latest_run_id(session)
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
    return {
        **{k: v for k, v in explanation.items() if k != "contributions"},
        "next_due_on": due.isoformat(),
        "days_overdue": max(0, (today - due).days),
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
