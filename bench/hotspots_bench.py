"""Benchmark: the time of the risk hot spots (Getis-Ord Gi*, docs/hotspots.md).

Without a database, on synthetic residents spread evenly over Seodaemun-gu's bounding box
(risk scores from a beta distribution, raised inside a planted disc of 500 m; tier high for the
top 1 %)::

    .venv/bin/python bench/hotspots_bench.py --residents 20000 [--permutations 9999] \\
        [--spread 3.5]

prints the seconds of each phase (points -> H3 cells and unit values, neighbours, Gi* with its
permutations and the FDR) and how many hot cells were found, and how many of them lie within
the planted disc (or a cell's width beyond it). Against a loaded and scored database (the
published run), timing :func:`geo.hotspots.compute_hotspots` for both units, rolled back::

    VISITMAP_DATABASE_URL=... .venv/bin/python bench/hotspots_bench.py --database

``--tiny`` runs 2,000 synthetic residents with 999 permutations (tests/bench/test_benches.py).
"""

from __future__ import annotations

import argparse
import math
import time

import h3
import numpy as np

from blindspots.hotspots import PERMUTATIONS, gi_star, h3_cells, h3_neighbours, unit_values

#: Seodaemun-gu's bounding box (lon, lat) and the planted disc's centre (around 신촌).
BBOX = (126.905, 37.550, 126.970, 37.605)
PLANT = (126.937, 37.560)
PLANT_M = 500.0


def _metres(lon, lat):
    dx = (np.asarray(lon) - PLANT[0]) * 111_320 * math.cos(math.radians(PLANT[1]))
    dy = (np.asarray(lat) - PLANT[1]) * 110_540
    return np.hypot(dx, dy)


def synthetic(n: int, seed: int = 0, spread: float = 1.0):
    """Return ``lat, lon, scores, tiers`` of ``n`` synthetic residents (tier 2 = top 1 %).

    ``spread`` widens the box around the planted disc (3.5: about Seoul's area in cells).
    """
    rng = np.random.default_rng(seed)
    half_lon, half_lat = spread * (BBOX[2] - BBOX[0]) / 2, spread * (BBOX[3] - BBOX[1]) / 2
    lon = rng.uniform(PLANT[0] - half_lon, PLANT[0] + half_lon, n)
    lat = rng.uniform(PLANT[1] - half_lat, PLANT[1] + half_lat, n)
    planted = _metres(lon, lat) <= PLANT_M
    scores = rng.beta(np.where(planted, 3.0, 2.0), 8.0)
    tiers = np.where(scores >= np.quantile(scores, 0.99), 2, 0)
    return lat, lon, scores, tiers


def run_synthetic(n: int, permutations: int, spread: float = 1.0) -> None:
    """Time each phase on ``n`` synthetic residents and print the figures."""
    lat, lon, scores, tiers = synthetic(n, spread=spread)
    t0 = time.perf_counter()
    values = unit_values(h3_cells(lat, lon), scores, tiers)
    t1 = time.perf_counter()
    nb = h3_neighbours(list(values.index))
    t2 = time.perf_counter()
    frame = gi_star(values["value"], nb, permutations=permutations).frame
    t3 = time.perf_counter()
    hot = frame.index[frame["cluster"] == "hot"]
    centres = np.array([h3.cell_to_latlng(c) for c in hot]).reshape(-1, 2)
    near = int((_metres(centres[:, 1], centres[:, 0]) <= PLANT_M + 350).sum())
    print(f"residents: {n}; cells: {len(values)}; permutations: {permutations}")
    print(f"cells {t1 - t0:.3f} s; neighbours {t2 - t1:.3f} s; gi* {t3 - t2:.3f} s")
    cold = int((frame["cluster"] == "cold").sum())
    print(f"hot cells: {len(hot)}; in the planted disc: {near}; cold cells: {cold}")
    print(f"total {t3 - t0:.3f} s")


def run_database(permutations: int) -> None:
    """Time compute_hotspots of the published run on the configured database, rolled back."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from geo.db import make_engine
    from geo.hotspots import compute_hotspots
    from geo.score_runs import published_run_id
    from geo.settings import load_settings

    engine = make_engine(load_settings().database_url)
    with engine.connect() as connection, Session(bind=connection) as session:
        run_id = published_run_id(session)
        if run_id is None:
            raise SystemExit("no published score run")
        scored = session.execute(
            text("SELECT count(*) FROM resident_scores WHERE run_id = :r"), {"r": run_id}
        ).scalar()
        done = compute_hotspots(session, run_id, permutations=permutations)
        print(f"run {run_id}: residents scored: {scored}; permutations: {permutations}")
        print(f"units {done.cells}; hot {done.hot}; cold {done.cold}")
        print(f"total {done.seconds:.3f} s")
        session.rollback()
    engine.dispose()


def main() -> None:
    """Parse the arguments and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--permutations", type=int, default=PERMUTATIONS)
    parser.add_argument("--spread", type=float, default=1.0, help="Widen the box (3.5: Seoul).")
    parser.add_argument("--database", action="store_true", help="Time the published run.")
    parser.add_argument("--tiny", action="store_true", help="2,000 residents, 999 permutations.")
    args = parser.parse_args()
    if args.tiny:
        run_synthetic(2000, 999)
    elif args.database:
        run_database(args.permutations)
    else:
        run_synthetic(args.residents, args.permutations, args.spread)


if __name__ == "__main__":
    main()
