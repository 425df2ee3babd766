"""The plan a coordinator would make by hand: a greedy nearest-neighbour day.

Same inputs, rules (working hours, break, availability windows, service times, travel) and
output as :func:`routing.plan.plan_day`, so the two can be compared side by side. No search:

* whoever is free earliest picks next (visitors in the given order on ties);
* ``pick="nearest"`` (default): the candidate whose visit can *start soonest* from where the
  visitor stands — walking time plus any wait for an availability window, so without
  windows it is simply the nearest — ties to the shorter walk, then the more urgent;
* ``pick="priority"``: the highest tier first and, within it, the soonest start (nearest),
  then the most overdue; a candidate the visitor would have to wait for (availability window,
  break) only when no candidate can be started on arrival — nobody stands at a door for
  hours while other residents are free;
* a candidate is only picked if the visitor can still get back to the base by the end of the
  day; a visitor who can pick nobody goes back and is done.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

import pandas as pd

from routing.day_problem import DayProblem, first_start, prepare_day
from routing.plan_result import DayPlan, build_day_plan
from routing.plan_settings import DEFAULT_SETTINGS, PlanningError, PlanSettings
from routing.schedule import explain_drops


def _next_pick(
    problem: DayProblem,
    location: int,
    clock: int,
    remaining: set[int],
    pick: Literal["nearest", "priority"],
) -> tuple[int, int] | None:
    # (candidate, start) of the visitor's next visit, or None when nothing fits any more.
    best_key, best = None, None
    for candidate in remaining:
        start = first_start(
            problem.windows[candidate], clock + problem.seconds[location][candidate + 1]
        )
        if start is None:
            continue
        end = start + problem.service[candidate] + problem.seconds[candidate + 1][0]
        if end > problem.working_seconds:
            continue
        walk = problem.metres[location][candidate + 1]
        tier, *urgency = problem.priority(candidate)
        less_urgent = tuple(-value for value in urgency)
        if pick == "nearest":
            key = (start, walk, -tier, *less_urgent, candidate)
        else:
            waits = start > clock + problem.seconds[location][candidate + 1]
            key = (waits, -tier, start, walk, *less_urgent, candidate)
        if best_key is None or key < best_key:
            best_key, best = key, (candidate, start)
    return best


def greedy_nearest_neighbour_plan(
    base: Sequence[float],
    visitors: Sequence[str],
    candidates: pd.DataFrame,
    *,
    settings: PlanSettings = DEFAULT_SETTINGS,
    pick: Literal["nearest", "priority"] = "nearest",
) -> DayPlan:
    """Plan a team's day greedily (see the module notes for the rule).

    Parameters are those of :func:`routing.plan.plan_day` plus ``pick``. The solver time
    limit and seed in ``settings`` are not used. Dropped visits get the same reasons as in
    :func:`~routing.plan.plan_day`; ``not_chosen`` marks visits that would have fitted or
    could have replaced a less urgent one — the greedy rule's misses.
    """
    if pick not in ("nearest", "priority"):
        raise PlanningError(f"pick must be 'nearest' or 'priority', got {pick!r}")
    started = time.perf_counter()
    problem = prepare_day(base, visitors, candidates, settings)
    remaining = set(problem.eligible)
    routes: list[list[int]] = [[] for _ in problem.visitors]
    location = [0] * len(routes)
    clock = [0] * len(routes)
    active = set(range(len(routes)))
    while active and remaining:
        visitor = min(active, key=lambda v: (clock[v], v))
        choice = _next_pick(problem, location[visitor], clock[visitor], remaining, pick)
        if choice is None:
            active.discard(visitor)
            continue
        candidate, start = choice
        routes[visitor].append(candidate)
        remaining.discard(candidate)
        location[visitor] = candidate + 1
        clock[visitor] = start + problem.service[candidate]
    reasons = explain_drops(problem, routes, remaining | set(problem.prescreen))
    return build_day_plan(
        problem,
        routes,
        reasons,
        method=f"greedy-{pick}",
        solver_seconds=0.0,
        planning_seconds=time.perf_counter() - started,
    )
