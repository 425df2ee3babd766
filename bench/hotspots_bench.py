"""Benchmark: the time of the risk hot spots (Getis-Ord Gi*, docs/hotspots.md).

Without a database, on synthetic residents spread over Seodaemun-gu (uniform points, 10 %
high tier, plus a planted disc of 500 m where half are high tier)::

    .venv/bin/python bench/hotspots_bench.py --residents 20000 [--permutations 999]

prints the seconds of each phase (points -> H3 cells, weights, Gi* with permutations, BH) and
how many hot cells were found and how many of them lie in the planted disc. Against a loaded
and scored database (the published run), timing :func:`geo.hotspots.compute_hotspots` for
both units, rolled back::

    VISITMAP_DATABASE_URL=... .venv/bin/python bench/hotspots_bench.py --database

``--tiny`` runs 2,000 synthetic residents with 99 permutations (tests/bench/test_benches.py).
"""

from __future__ import annotations

import argparse
import math
import time

import h3
import numpy as np
import pandas as pd

from blindspots.hotspots import HotspotParams, gi_star, h3_neighbours, points_to_cells

#: Seodaemun-gu's bounding box (lng, lat) and the planted disc's centre (around 신촌).
BBOX = (126.905, 37.550, 126.970, 37.605)
PLANT = (126.937, 37.560)
PLANT_M = 500.0


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """Return ``lat, lng, high, planted`` for ``n`` synthetic residents."""
    rng = np.random.default_rng(seed)
    lng = rng.uniform(BBOX[0], BBOX[2], n)
    lat = rng.uniform(BBOX[1], BBOX[3], n)
    dx = (lng - PLANT[0]) * 111_320 * math.cos(math.radians(PLANT[1]))
    dy = (lat - PLANT[1]) * 110_540
    planted = np.hypot(dx, dy) <= PLANT_M
    high = rng.random(n) < np.where(planted, 0.5, 0.1)
    return pd.DataFrame({"lat": lat, "lng": lng, "high": high, "planted": planted})


def run_synthetic(n: int, permutations: int) -> None:
    """Time each phase on ``n`` synthetic residents and print the figures."""
    frame = synthetic(n)
    t0 = time.perf_counter()
    frame["cell"] = points_to_cells(frame["lat"], frame["lng"])
    units = frame.groupby("cell").agg(residents=("high", "size"), high=("high", "sum"))
    units = units.reset_index()
    t1 = time.perf_counter()
    nb = h3_neighbours(units["cell"])
    t2 = time.perf_counter()
    out = gi_star(units, nb, HotspotParams(permutations=permutations))
    t3 = time.perf_counter()
    hot = out[out.cluster == "hot"]
    lat_lng = [h3.cell_to_latlng(c) for c in hot["cell"]]
    near = sum(
        math.hypot((b - PLANT[0]) * 111_320 * math.cos(math.radians(PLANT[1])),
                   (a - PLANT[1]) * 110_540) <= PLANT_M + 400
        for a, b in lat_lng
    )  # fmt: skip
    print(f"residents: {n}; cells: {len(units)}; permutations: {permutations}")
    print(f"cells {t1 - t0:.3f} s; weights {t2 - t1:.3f} s; gi* {t3 - t2:.3f} s")
    print(f"hot cells: {len(hot)}; in the planted disc: {near}; cold cells: "
          f"{int((out.cluster == 'cold').sum())}")  # fmt: skip
    print(f"total {t3 - t0:.3f} s")


def run_database(permutations: int) -> None:
    """Time compute_hotspots for both units on the configured database, rolled back."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from geo.db import make_engine
    from geo.hotspots import compute_hotspots
    from geo.settings import load_settings

    engine = make_engine(load_settings().database_url)
    with engine.connect() as connection, Session(bind=connection) as session:
        residents = session.execute(text("SELECT count(*) FROM residents")).scalar()
        print(f"residents: {residents}; permutations: {permutations}")
        for unit in ("h3_9", "dong"):
            done = compute_hotspots(
                session, unit=unit, params=HotspotParams(permutations=permutations)
            )
            print(f"{unit}: {done.cells} units, {done.hot} hot, {done.cold} cold, "
                  f"{done.seconds:.3f} s")  # fmt: skip
        session.rollback()
    engine.dispose()


def main() -> None:
    """Parse the arguments and run the bench."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--database", action="store_true")
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    if args.tiny:
        run_synthetic(2000, 99)
    elif args.database:
        run_database(args.permutations)
    else:
        run_synthetic(args.residents, args.permutations)


if __name__ == "__main__":
    main()
