"""Benchmark: one team's day planned with PyVRP beside the greedy plans a person would make.

    .venv/bin/python bench/route_plan_bench.py [--time-limit 3] [--seed 20261122] [--runs 1]
    .venv/bin/python bench/route_plan_bench.py --tiny   # 20 candidates, 2 visitors, 0.5 s

A synthetic but realistic day: the base is 연희동 주민센터 (Yeonhui-dong community centre,
Seodaemun-gu, Seoul); 150 due or overdue residents are scattered uniformly within 1.5 km of it
(fixed seed); tiers low/medium/high 45/35/20 %, days overdue mostly under two weeks with a
long tail; a quarter of them have an availability window (mornings only, afternoons only,
late afternoon, or a two-hour slot). Five visitors on foot with the default settings (09:00
-18:00, break 12:00-13:00, 20/30/40 min per low/medium/high visit, 4 km/h, detour 1.3).

Printed for each plan: planning time (s), visits by tier, walking distance (km) in total and
per visitor, work minutes (travel + service) per visitor and their spread, and the dropped
candidates by reason.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pandas as pd
from pyproj import Transformer

from geo.settings import today_in_seoul
from routing.plan import DayPlan, PlanSettings, greedy_nearest_neighbour_plan, plan_day

BASE = (126.931, 37.566)  # near 연희동 주민센터, 서울 서대문구 (lon, lat)
VISITORS = ["방문자1", "방문자2", "방문자3", "방문자4", "방문자5"]
RADIUS_METRES = 1500.0
CANDIDATES = 150
WINDOWS = [
    (None, "12:00"),  # mornings only
    ("13:00", None),  # afternoons only
    ("15:00", "18:00"),  # after a day job or day care
    ("10:00", "12:00"),
    ("14:00", "16:00"),
]


TINY_CANDIDATES, TINY_VISITORS, TINY_TIME_LIMIT = 20, 2, 0.5


def synthetic_day(seed: int, count: int = CANDIDATES) -> pd.DataFrame:
    """``count`` candidates around the base (see the module notes)."""
    rng = np.random.default_rng(seed)
    to_metric = Transformer.from_crs("EPSG:4326", "EPSG:5179", always_xy=True)
    base_x, base_y = to_metric.transform(*BASE)
    angle = rng.uniform(0, 2 * np.pi, count)
    radius = RADIUS_METRES * np.sqrt(rng.uniform(0, 1, count))  # uniform over the disc
    lon, lat = to_metric.transform(
        base_x + radius * np.cos(angle), base_y + radius * np.sin(angle), direction="INVERSE"
    )
    window = [
        WINDOWS[int(rng.integers(len(WINDOWS)))] if rng.uniform() < 0.25 else (None, None)
        for _ in range(count)
    ]
    return pd.DataFrame(
        {
            "resident_id": [f"R{k:03d}" for k in range(count)],
            "lon": lon,
            "lat": lat,
            "tier": rng.choice([0, 1, 2], count, p=[0.45, 0.35, 0.20]),
            "days_overdue": np.minimum(rng.geometric(1 / 10, count) - 1, 120),
            "available_from": [w[0] for w in window],
            "available_until": [w[1] for w in window],
        }
    )


def describe(plan: DayPlan) -> dict[str, str]:
    by_tier = [0, 0, 0]
    for route in plan.routes:
        for stop in route.stops:
            by_tier[stop.tier] += 1
    work = [route.work_minutes for route in plan.routes]
    return {
        "planning time (s)": f"{plan.planning_seconds:.2f}",
        "visits planned": str(plan.visits),
        "  high / medium / low": f"{by_tier[2]} / {by_tier[1]} / {by_tier[0]}",
        "walking km, total": f"{plan.travel_metres / 1000:.1f}",
        "walking km per visitor": " ".join(f"{r.travel_metres / 1000:.1f}" for r in plan.routes),
        "work min per visitor": " ".join(f"{w:.0f}" for w in work),
        "work spread (min)": f"{max(work) - min(work):.0f}",
        "walking min per visit": f"{sum(r.travel_minutes for r in plan.routes) / plan.visits:.1f}",
        **{
            f"dropped: {reason.value}": str(count)
            for reason, count in sorted(plan.dropped_by_reason.items())
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=PlanSettings().time_limit_seconds)
    parser.add_argument("--seed", type=int, default=20261122, help="seed of the synthetic day")
    parser.add_argument("--runs", type=int, default=1, help="PyVRP runs (solver seeds 0..)")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help=f"{TINY_CANDIDATES} candidates, {TINY_VISITORS} visitors, "
        f"--time-limit {TINY_TIME_LIMIT}",
    )
    args = parser.parse_args()
    visitors, count = VISITORS, CANDIDATES
    if args.tiny:
        visitors, count = VISITORS[:TINY_VISITORS], TINY_CANDIDATES
        args.time_limit = TINY_TIME_LIMIT
    candidates = synthetic_day(args.seed, count)
    tiers = " / ".join(str(int((candidates.tier == tier).sum())) for tier in (0, 1, 2))
    windowed = candidates.available_from.notna() | candidates.available_until.notna()
    print(
        f"{len(candidates)} candidates (low / medium / high {tiers}; {int(windowed.sum())} with "
        f"an availability window), {len(visitors)} visitors on foot, "
        f"solver time limit {args.time_limit} s\n"
    )
    columns = {}
    for run in range(args.runs):
        settings = dataclasses.replace(PlanSettings(), time_limit_seconds=args.time_limit, seed=run)
        columns[f"PyVRP (seed {run})"] = describe(
            plan_day(BASE, visitors, candidates, settings=settings)
        )
    for pick in ("nearest", "priority"):
        plan = greedy_nearest_neighbour_plan(BASE, visitors, candidates, pick=pick)
        columns[f"greedy {pick}"] = describe(plan)
    rows = list(dict.fromkeys(key for column in columns.values() for key in column))
    width = max(len(row) for row in rows)
    print(f"{'':<{width}}  " + "  ".join(f"{name:>24}" for name in columns))
    for row in rows:
        values = "  ".join(f"{column.get(row, '0'):>24}" for column in columns.values())
        print(f"{row:<{width}}  {values}")
    print(f"\nrun on {today_in_seoul().isoformat()}")


if __name__ == "__main__":
    main()
