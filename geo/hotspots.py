"""Risk hot spots of a score run in PostGIS: compute, store in hotspot_cells, read in scope.

Inputs are the run's residents (resident_scores) at their household's point; the unit is the
H3 resolution-9 cell of that point (``h3_9``) or the household's dong (``dong``). The
statistics are :mod:`blindspots.hotspots`; dong neighbours are queen contiguity computed by
PostGIS (``ST_Intersects`` of the outlines: a shared edge or corner), which is what
``libpysal.weights.Queen`` computes from the same polygons, without loading them into Python.

Scope: a cell belongs to the dong that contains its centre (or, for a cell at the edge of the
district whose centre lies outside every dong, the nearest dong); it is shown to a caller when
that dong is one of the caller's (a dong row when the dong is). A per-resident scope sees no
cell (cells are aggregates of people).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import h3
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from blindspots.hotspots import HotspotParams, gi_star, h3_neighbours
from geo.scope import Scope
from geo.score_runs import PUBLISHED_RUN_SQL
from visitmap.errors import FieldError, NotFound
from visitmap.vocab import HOTSPOT_UNITS

H3_RES = 9
HIGH_TIER = 2


@dataclass(frozen=True)
class HotspotSummary:
    """What :func:`compute_hotspots` stored."""

    run_id: int
    unit: str
    cells: int
    hot: int
    cold: int
    seconds: float


def check_unit(unit: str) -> str:
    """Return ``unit`` or raise FieldError naming the field ``unit``."""
    if unit not in HOTSPOT_UNITS:
        raise FieldError(
            f"unit: '{unit}'은(는) 알 수 없는 단위입니다 ({', '.join(HOTSPOT_UNITS)}) / "
            f"unknown unit '{unit}'",
            field="unit",
        )
    return unit


def resolve_run(session: Session, run_id: int | None) -> int:
    """Return ``run_id`` if it exists, else the published run; NotFound when there is none."""
    if run_id is None:
        found = session.execute(text(f"SELECT {PUBLISHED_RUN_SQL}")).scalar()
        if found is None:
            raise NotFound("게시된 점수 실행이 없습니다 / no published score run")
        return int(found)
    if session.execute(text("SELECT 1 FROM score_runs WHERE id = :i"), {"i": run_id}).first():
        return int(run_id)
    raise NotFound(f"점수 실행 {run_id}이(가) 없습니다 / score run {run_id} not found")


def load_points(session: Session, run_id: int) -> pd.DataFrame:
    """Return the run's residents: ``lat, lng, area_code, high`` (high = tier is high)."""
    rows = session.execute(
        text("""
        SELECT ST_Y(h.geom) AS lat, ST_X(h.geom) AS lng, a.code AS area_code,
               (s.tier = :high) AS high
        FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = h.area_id
        WHERE s.run_id = :run"""),
        {"run": run_id, "high": HIGH_TIER},
    ).all()
    return pd.DataFrame(rows, columns=["lat", "lng", "area_code", "high"])


def dong_neighbours(session: Session) -> dict[str, list[str]]:
    """Return queen-contiguity neighbours of every dong (outlines touch at an edge or corner)."""
    nb: dict[str, list[str]] = {
        c: [] for (c,) in session.execute(text("SELECT code FROM areas")).all()
    }
    for a, b in session.execute(
        text("""SELECT x.code, y.code FROM areas x JOIN areas y
                ON x.id < y.id AND ST_Intersects(x.geom, y.geom)""")
    ).all():
        nb[a].append(b)
        nb[b].append(a)
    return nb


def _h3_wkt(cell: str) -> str:
    ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return "MULTIPOLYGON(((" + ", ".join(f"{x:.7f} {y:.7f}" for x, y in ring) + ")))"


def compute_hotspots(
    session: Session,
    *,
    run_id: int | None = None,
    unit: str = "h3_9",
    params: HotspotParams | None = None,
) -> HotspotSummary:
    """Compute the run's hot spots for ``unit`` and replace its rows of hotspot_cells."""
    started = time.perf_counter()
    check_unit(unit)
    run = resolve_run(session, run_id)
    points = load_points(session, run)
    if unit == "h3_9":
        points["cell"] = [
            h3.latlng_to_cell(a, b, H3_RES)
            for a, b in zip(points["lat"], points["lng"], strict=True)
        ]
    else:
        points["cell"] = points["area_code"]
    units = (
        points.groupby("cell").agg(residents=("high", "size"), high=("high", "sum")).reset_index()
    )
    nb = h3_neighbours(units["cell"]) if unit == "h3_9" else dong_neighbours(session)
    result = gi_star(units, nb, params)
    session.execute(
        text("DELETE FROM hotspot_cells WHERE run_id = :r AND unit = :u"), {"r": run, "u": unit}
    )
    rows = []
    for rec in result.itertuples(index=False):
        rows.append(
            {
                "r": run,
                "u": unit,
                "c": rec.cell,
                "n": int(rec.residents),
                "h": int(rec.high),
                "v": float(rec.value),
                "z": None if pd.isna(rec.z) else float(rec.z),
                "p": None if pd.isna(rec.p_sim) else float(rec.p_sim),
                "q": None if pd.isna(rec.q_value) else float(rec.q_value),
                "k": rec.cluster,
                "w": _h3_wkt(rec.cell) if unit == "h3_9" else None,
            }
        )
    if rows:
        geom = (
            "ST_GeomFromText(:w, 4326)"
            if unit == "h3_9"
            else "(SELECT geom FROM areas WHERE code = :c)"
        )
        session.execute(
            text(f"""INSERT INTO hotspot_cells
                (run_id, unit, cell, residents, high, value, z, p_sim, q_value, cluster, geom)
                VALUES (:r, :u, :c, :n, :h, :v, :z, :p, :q, :k, {geom})"""),
            rows,
        )
    return HotspotSummary(
        run,
        unit,
        len(rows),
        int((result.cluster == "hot").sum()),
        int((result.cluster == "cold").sum()),
        time.perf_counter() - started,
    )


def list_cells(
    session: Session, scope: Scope, *, run_id: int | None = None, unit: str = "h3_9"
) -> pd.DataFrame:
    """Return the stored cells of the run in scope (cell centre in a caller's dong).

    Columns: cell, area_code, residents, high, value, z, p_sim, q_value, cluster,
    computed_at, geojson (the outline as GeoJSON text).
    """
    check_unit(unit)
    run = resolve_run(session, run_id)
    where, params = scope.sql("a.code", resident=None)
    if scope.is_empty:
        where = " AND false"
    rows = session.execute(
        text(f"""
        SELECT c.cell, a.code AS area_code, c.residents, c.high, c.value, c.z, c.p_sim,
               c.q_value, c.cluster, c.computed_at, ST_AsGeoJSON(c.geom, 6) AS geojson
        FROM hotspot_cells c
        CROSS JOIN LATERAL (
            SELECT x.code FROM areas x
            WHERE c.unit = 'h3_9' OR x.code = c.cell
            ORDER BY (c.unit = 'dong' OR ST_Contains(x.geom, ST_Centroid(c.geom))) DESC,
                     x.geom <-> ST_Centroid(c.geom)
            LIMIT 1) a
        WHERE c.run_id = :run AND c.unit = :unit{where}
        ORDER BY c.cell"""),
        {"run": run, "unit": unit, **params},
    ).all()
    cols = [
        "cell", "area_code", "residents", "high", "value", "z", "p_sim", "q_value",
        "cluster", "computed_at", "geojson",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def computed_at(session: Session, run_id: int, unit: str) -> dt.datetime | None:
    """Return when the run's cells of ``unit`` were stored, or None if never."""
    return session.execute(
        text("SELECT max(computed_at) FROM hotspot_cells WHERE run_id = :r AND unit = :u"),
        {"r": run_id, "u": unit},
    ).scalar()
