"""Hot spots of a score run in the database: compute and store them, read them in scope.

:func:`compute_hotspots` reads the run's residents (household point, dong, tier), analyses the
mean risk score on H3 cells and on dongs with :mod:`blindspots.hotspots`, and replaces
the run's rows of ``hotspot_cells``. :func:`hotspot_features` gives the map layer its cells
as GeoJSON features, only cells whose centre lies in the caller's dongs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.weights import Queen
from sqlalchemy import text
from sqlalchemy.orm import Session

from blindspots.hotspots import (
    PERMUTATIONS,
    gi_star,
    h3_boundary_wkt,
    h3_cells,
    h3_neighbours,
    unit_values,
)
from geo.scope import Scope
from visitmap.errors import FieldError, NotFound
from visitmap.vocab import HOTSPOT_UNITS


class HotspotQueryError(FieldError):
    """A bad unit in a hot-spot query."""


@dataclass(frozen=True)
class HotspotRun:
    """What one computation stored."""

    run_id: int
    cells: dict[str, int]
    hot: dict[str, int]
    cold: dict[str, int]
    seconds: float


def _residents(session: Session, run_id: int) -> pd.DataFrame:
    result = session.execute(
        text("""
        SELECT ST_Y(h.geom) AS lat, ST_X(h.geom) AS lon, a.code AS area_code, s.score, s.tier
        FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = h.area_id
        WHERE s.run_id = :run"""),
        {"run": run_id},
    )
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _dong_neighbours(session: Session, codes) -> dict[str, list[str]]:
    result = session.execute(
        text("SELECT code, ST_AsBinary(geom) FROM areas WHERE code = ANY(:codes) ORDER BY code"),
        {"codes": list(codes)},
    ).all()
    if len(result) < 2:
        return {}
    frame = gpd.GeoDataFrame(
        {"code": [r[0] for r in result]},
        geometry=shapely.from_wkb([bytes(r[1]) for r in result]),
        crs="EPSG:4326",
    )
    weights = Queen.from_dataframe(frame, ids="code", use_index=False, silence_warnings=True)
    return {code: list(weights.neighbors[code]) for code in frame["code"]}


def compute_hotspots(
    session: Session, run_id: int, *, permutations: int = PERMUTATIONS, seed: int = 0
) -> HotspotRun:
    """Analyse run ``run_id`` on H3 cells and dongs and replace its ``hotspot_cells`` rows."""
    started = time.perf_counter()
    if (
        session.execute(text("SELECT 1 FROM score_runs WHERE id = :r"), {"r": run_id}).first()
        is None
    ):
        raise NotFound(f"no score run {run_id}")
    residents = _residents(session, run_id)
    session.execute(text("DELETE FROM hotspot_cells WHERE run_id = :r"), {"r": run_id})
    cells, hot, cold = {}, {}, {}
    if residents.empty:
        return HotspotRun(run_id, {}, {}, {}, time.perf_counter() - started)
    units = {
        "h3_9": h3_cells(residents["lat"], residents["lon"]),
        "dong": residents["area_code"].astype(str).to_numpy(),
    }
    for unit, labels in units.items():
        values = unit_values(labels, residents["score"].to_numpy(), residents["tier"].to_numpy())
        neighbours = (
            h3_neighbours(list(values.index))
            if unit == "h3_9"
            else _dong_neighbours(session, values.index)
        )
        result = gi_star(values["value"], neighbours, permutations=permutations, seed=seed).frame
        result = result.join(values[["residents", "high"]])
        rows = [
            {
                "run": run_id,
                "unit": unit,
                "cell": cell,
                "residents": int(row.residents),
                "high": int(row.high),
                "value": float(row.value),
                "z": None if np.isnan(row.z) else float(row.z),
                "p": None if np.isnan(row.p_sim) else float(row.p_sim),
                "q": None if np.isnan(row.q_value) else float(row.q_value),
                "cluster": row.cluster,
                "wkt": h3_boundary_wkt(cell) if unit == "h3_9" else None,
            }
            for cell, row in result.iterrows()
        ]
        if rows:
            session.execute(
                text("""
                INSERT INTO hotspot_cells (run_id, unit, cell, residents, high, value, z, p_sim,
                                           q_value, cluster, geom)
                SELECT :run, :unit, :cell, :residents, :high, :value, :z, :p, :q, :cluster,
                       coalesce(ST_GeomFromText(CAST(:wkt AS text), 4326),
                                (SELECT ST_Multi(geom) FROM areas WHERE code = :cell))"""),
                rows,
            )
        cells[unit] = len(rows)
        hot[unit] = int((result["cluster"] == "hot").sum())
        cold[unit] = int((result["cluster"] == "cold").sum())
    return HotspotRun(run_id, cells, hot, cold, time.perf_counter() - started)


def check_unit(unit: str) -> None:
    """Raise :class:`HotspotQueryError` unless ``unit`` is one of HOTSPOT_UNITS."""
    if unit not in HOTSPOT_UNITS:
        raise HotspotQueryError(
            f"unknown unit {unit!r} (known: {', '.join(HOTSPOT_UNITS)})", field="unit"
        )


def hotspot_features(
    session: Session, run_id: int, unit: str, scope: Scope, *, only_significant: bool = True
) -> list[dict]:
    """Return the run's cells of ``unit`` in scope as GeoJSON features (hot and cold ones)."""
    check_unit(unit)
    where, params = scope.sql("a.code", resident=None)
    significant = " AND hc.cluster <> 'none'" if only_significant else ""
    rows = session.execute(
        text(f"""
        SELECT hc.cell, hc.residents, hc.high, hc.value, hc.z, hc.q_value, hc.cluster,
               ST_AsGeoJSON(hc.geom, 6) AS geometry, a.code AS area_code
        FROM hotspot_cells hc
        JOIN areas a ON ST_Intersects(a.geom, ST_PointOnSurface(hc.geom))
        WHERE hc.run_id = :run AND hc.unit = :unit{significant}{where}
        ORDER BY hc.z DESC NULLS LAST"""),
        {"run": run_id, "unit": unit, **params},
    ).mappings()
    return [
        {
            "type": "Feature",
            "geometry": json.loads(row["geometry"]),
            "properties": {
                "cell": row["cell"],
                "area_code": row["area_code"],
                "residents": row["residents"],
                "high": row["high"],
                "mean_score": round(row["value"], 4),
                "z": None if row["z"] is None else round(row["z"], 3),
                "q": None if row["q_value"] is None else round(row["q_value"], 4),
                "cluster": row["cluster"],
            },
        }
        for row in rows
    ]


def hot_cells_of_run(session: Session, run_id: int) -> pd.DataFrame:
    """Return the run's hot H3 cells (cell, z, q) for the blind-spot list."""
    result = session.execute(
        text("""SELECT cell, z, q_value FROM hotspot_cells
                WHERE run_id = :r AND unit = 'h3_9' AND cluster = 'hot'"""),
        {"r": run_id},
    )
    return pd.DataFrame(result.all(), columns=["cell", "z", "q_value"])
