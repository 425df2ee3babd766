"""Benchmark: the high tier planned early in the day (issue 12), with and without the rule.

    VISITMAP_DATABASE_URL=... .venv/bin/python bench/high_tier_early_bench.py 2026-12-07 \\
        T-1141052000 T-1141056500 T-1141062000 T-1141070000

For each team: its candidates on the day in the latest score run
(:func:`geo.route_plans.team_candidates`), planned with
:func:`visitmap.usecases.planning.plan_capped` (3 s) twice: with the rule off
(``routing.plan.EARLY_TIER`` set to a tier that does not exist) and on. Prints the visits by
tier and how many high-tier visits end by 12:00. Nothing is stored. Figures in
docs/route_planning.md ("High tier early in the day").

    .venv/bin/python bench/high_tier_early_bench.py --tiny

plans one synthetic day of 20 candidates for 2 visitors (``route_plan_bench.synthetic_day``),
without a database, so that the suite runs this script (tests/bench/test_benches.py).
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from route_plan_bench import BASE, TINY_CANDIDATES, TINY_VISITORS, synthetic_day

import routing.plan as planner
from geo.db import make_engine, session_scope
from geo.route_plans import team_candidates
from geo.scope import Scope
from geo.score_runs import published_run_id
from geo.teams import active_members, team_record
from routing.plan_settings import PlanSettings
from visitmap.usecases.planning import plan_capped


def compare(team_id: str, base, members, candidates, settings: PlanSettings) -> None:
    """Plan ``candidates`` with the rule off and on; print one line each."""
    for early_tier, label in ((99, "off"), (2, "on")):
        planner.EARLY_TIER = early_tier
        try:
            plan = plan_capped(base, members, candidates, settings=settings)
        finally:
            planner.EARLY_TIER = 2
        stops = [stop for route in plan.routes for stop in route.stops]
        highs = [stop for stop in stops if stop.tier == 2]
        early = sum(stop.departure <= dt.time(12, 0) for stop in highs)
        by_tier = [sum(stop.tier == tier for stop in stops) for tier in (2, 1, 0)]
        print(
            f"{team_id} rule {label:3} candidates {len(candidates)} "
            f"(high {int((candidates.tier == 2).sum())}) visits {plan.visits} "
            f"high/medium/low {by_tier} high ending by 12:00 {early}/{len(highs)}"
        )


def tiny() -> None:
    """One synthetic day (20 candidates, 2 visitors, 0.5 s), no database."""
    candidates = synthetic_day(0, TINY_CANDIDATES)
    members = [f"V{k}" for k in range(TINY_VISITORS)]
    compare("synthetic", BASE, members, candidates, PlanSettings(time_limit_seconds=0.5))


def main(day: dt.date, teams: list[str]) -> None:
    """Print, per team, the plan with the rule off and on."""
    engine = make_engine(os.environ["VISITMAP_DATABASE_URL"])
    settings = PlanSettings(time_limit_seconds=3.0)
    with session_scope(engine) as session:
        run = published_run_id(session)
        for team_id in teams:
            team = team_record(session, team_id)
            members = [m["external_id"] for m in active_members(session, team["id"])]
            candidates = team_candidates(
                session, Scope.everything(), team_pk=team["id"], run_id=run, day=day
            )
            base = (float(team["base_lon"]), float(team["base_lat"]))
            compare(team_id, base, members, candidates, settings)


if __name__ == "__main__":
    if sys.argv[1:] == ["--tiny"]:
        tiny()
    else:
        main(dt.date.fromisoformat(sys.argv[1]), sys.argv[2:])
