"""Benchmark: the high tier planned early in the day (issue 12), with and without the rule.

    VISITMAP_DATABASE_URL=... .venv/bin/python bench/high_tier_early_bench.py 2026-12-07 \\
        T-1141052000 T-1141056500 T-1141062000 T-1141070000

For each team: its candidates on the day in the latest score run
(:func:`geo.route_plans.team_candidates`), planned with
:func:`visitmap.usecases.planning.plan_capped` (3 s) twice: with the rule off
(``routing.plan.EARLY_TIER`` set to a tier that does not exist) and on. Prints the visits by
tier and how many high-tier visits end by 12:00. Nothing is stored. Figures in
docs/route_planning.md ("High tier early in the day").
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import routing.plan as planner
from geo.db import make_engine, session_scope
from geo.route_plans import team_candidates
from geo.scope import Scope
from geo.score_runs import published_run_id
from geo.teams import active_members, team_record
from routing.plan_settings import PlanSettings
from visitmap.usecases.planning import plan_capped


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
            for early_tier, label in ((99, "off"), (2, "on")):
                planner.EARLY_TIER = early_tier
                plan = plan_capped(base, members, candidates, settings=settings)
                stops = [stop for route in plan.routes for stop in route.stops]
                highs = [stop for stop in stops if stop.tier == 2]
                early = sum(stop.departure <= dt.time(12, 0) for stop in highs)
                by_tier = [sum(stop.tier == tier for stop in stops) for tier in (2, 1, 0)]
                print(
                    f"{team_id} rule {label:3} candidates {len(candidates)} "
                    f"(high {int((candidates.tier == 2).sum())}) visits {plan.visits} "
                    f"high/medium/low {by_tier} high ending by 12:00 {early}/{len(highs)}"
                )
    planner.EARLY_TIER = 2


if __name__ == "__main__":
    main(dt.date.fromisoformat(sys.argv[1]), sys.argv[2:])
