"""Daily visit plan of a team: whom each visitor visits today, in which order, at what time.

Pure planning core (no database, no web): give the base, the visitors and the candidate table
(see :func:`plan_day`) and get a :class:`~routing.plan_result.DayPlan`. The model, what it
guarantees and the measured performance are in ``docs/route_planning.md``. In short:

* **Priority.** A candidate's priority is its tier, then its state (overdue by band of
  :func:`visitmap.vocab.overdue_band`, then first visit, then due). Tiers are planned
  strictly in order with PyVRP: first a prize-collecting run over the high tier alone, then
  the medium tier (and high-tier residents still unplanned) with every visit already planned
  made *required*, then the low tier likewise, each run warm-started from the previous plan.
  Within a run the prize
  of a visit grows by ``G = 2 * (longest leg in metres) + 2`` per priority level, more than
  any one-for-one exchange of visits can change the travel, so the objective always prefers
  a more urgent visit to a less urgent one when either fits. A deterministic repair then
  makes the final plan priority-stable whatever the heuristic found: no dropped visit fits
  anywhere, and none could take the place of a less urgent planned visit.
* **High tier early.** In the high tier's run, a high-tier visit gets start windows that end
  the visit by the break (mid-day without a break) wherever its availability and the walk
  from the base allow; the visits planned so keep those windows in every later run and in
  the balancing run, and the high-tier visits that did not fit the morning compete again,
  with their whole windows, in the next tier's run. The priority repair uses the whole
  windows, so no visit that fits the day is dropped to keep a high-tier visit early.
* **Balance.** A last run keeps the planned set fixed (all required) and penalises each
  visitor's route duration above the team mean (PyVRP's overtime cost), traded against
  travel at ``PlanSettings.balance_metres_per_minute``.
* **Working hours and break.** On the working clock of :mod:`routing.plan_settings`; a visit
  that could fall either side of the break is a mutually exclusive pair of PyVRP clients (one
  per start window).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence

import pandas as pd
import pyvrp
from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, Solution, VehicleType
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.PenaltyManager import PenaltyParams
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from routing.day_problem import DayProblem, DropReason, prepare_day
from routing.greedy import greedy_nearest_neighbour_plan
from routing.plan_result import DayPlan, DroppedVisit, PlannedStop, VisitorRoute, build_day_plan
from routing.plan_settings import DEFAULT_SETTINGS, PlanningError, PlanSettings
from routing.schedule import explain_drops, repair_priorities, route_times

__all__ = [
    "DayPlan",
    "DropReason",
    "DroppedVisit",
    "PlanSettings",
    "PlannedStop",
    "PlanningError",
    "VisitorRoute",
    "greedy_nearest_neighbour_plan",
    "plan_day",
]

#: Share of the time limit given to the balancing run (when there is more than one visitor).
BALANCE_TIME_SHARE = 0.25
#: Least time given to any solver run (seconds).
MIN_RUN_SECONDS = 0.05
#: A solver run also stops after this many iterations per client without a better plan
#: (small days finish well before the time limit; time left over goes to the next run).
STALL_ITERATIONS_PER_CLIENT = 20
MIN_STALL_ITERATIONS = 500
#: The tier whose visits are first planned to end by the break (or mid-day without one).
EARLY_TIER = 2
#: Cost units per metre in the balancing run, so that balance_metres_per_minute per minute of
#: overtime is an integer cost per second.
_BALANCE_DISTANCE_COST = 60


class _Model:
    """One PyVRP instance over a subset of the candidates, and the way back to candidates."""

    def __init__(
        self,
        problem: DayProblem,
        required: Sequence[int],
        optional: Sequence[int],
        vehicle_type: VehicleType,
    ):
        prizes = _prizes(problem, optional)
        max_prize = max(prizes.values(), default=0)
        self.problem = problem
        self.client_candidate: list[int] = []
        self.candidate_clients: dict[int, list[int]] = {}
        clients: list[Client] = []
        groups: list[ClientGroup] = []
        for candidate in [*required, *optional]:
            is_required = candidate not in prizes
            windows = problem.windows[candidate]
            group = None
            if len(windows) > 1:  # before or after the break: exactly one of the copies
                group = len(groups)
                groups.append(ClientGroup(required=is_required))
            indices = []
            for first, last in windows:
                indices.append(len(clients))
                if group is not None:
                    groups[group].add_client(len(clients))
                clients.append(
                    Client(
                        location=candidate + 1,
                        service_duration=problem.service[candidate],
                        tw_early=first,
                        tw_late=last,
                        prize=prizes.get(candidate, 0),
                        required=is_required and group is None,
                        group=group,
                        name=problem.candidates[candidate].resident_id,
                    )
                )
                self.client_candidate.append(candidate)
            self.candidate_clients[candidate] = indices
        self.data = ProblemData(
            locations=[Location(x=float(x), y=float(y)) for x, y in problem.xy],
            clients=clients,
            depots=[Depot(location=0, tw_early=0, tw_late=problem.working_seconds)],
            vehicle_types=[vehicle_type],
            distance_matrices=[problem.metres_matrix],
            duration_matrices=[problem.seconds_matrix],
            groups=groups,
        )
        # Let the lateness penalty rise above any prize, or the search could settle on
        # collecting prizes late rather than on feasible plans.
        self.params = pyvrp.SolveParams(
            penalty=PenaltyParams(max_penalty=max(100_000.0, 2.0 * max_prize))
        )

    def solution(self, routes: list[list[int]]) -> Solution:
        """Return the PyVRP solution of feasible candidate routes.

        A candidate with two start windows (before and after the break) has one client per
        window; the copy used is the one whose window holds the visit's start in the route's
        earliest schedule (:func:`~routing.schedule.route_times`).
        """
        visits = []
        for route in routes:
            if not route:
                continue
            times = route_times(self.problem, route)
            if times is None:  # pragma: no cover - only feasible routes are handed in
                raise AssertionError(f"infeasible warm start route {route}")
            clients = []
            for candidate, start in zip(route, times.starts, strict=True):
                for client in self.candidate_clients[candidate]:
                    window = self.data.client(client)
                    if window.tw_early <= start <= window.tw_late:
                        clients.append(client)
                        break
            visits.append(clients)
        return Solution(self.data, visits)

    def routes(self, solution: Solution) -> list[list[int]]:
        """Candidate routes of a PyVRP solution, padded with empty routes to one per visitor."""
        routes = [
            [self.client_candidate[activity.idx] for activity in route if activity.is_client()]
            for route in solution.routes()
        ]
        routes = [route for route in routes if route]
        return routes + [[] for _ in range(len(self.problem.visitors) - len(routes))]

    def improve(self, routes: list[list[int]], seconds: float) -> tuple[list[list[int]], float]:
        """Run PyVRP for ``seconds`` from ``routes``; the better plan and the time used."""
        warm_start = self.solution(routes)
        stall = max(MIN_STALL_ITERATIONS, STALL_ITERATIONS_PER_CLIENT * self.data.num_clients)
        with warnings.catch_warnings():
            # In a tightly packed day the search spends much of its time in infeasible plans
            # and PyVRP warns that its penalty is at the maximum. The warm start is feasible,
            # so the plan returned is feasible regardless; the warning is not actionable here.
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            result = pyvrp.solve(
                self.data,
                MultipleCriteria([MaxRuntime(seconds), NoImprovement(stall)]),
                seed=self.problem.settings.seed,
                collect_stats=False,
                display=False,
                params=self.params,
                initial_solution=warm_start,
            )
        best = result.best if result.best.is_feasible() else warm_start
        improved = self.routes(best)
        if any(route_times(self.problem, route) is None for route in improved):
            raise AssertionError("PyVRP returned a route the planner's timing rejects")
        return improved, result.runtime


def _prizes(problem: DayProblem, optional: Sequence[int]) -> dict[int, int]:
    # Prize G * (level + 1), levels counting distinct priorities upwards from 0. G exceeds the
    # largest change of travel that a one-for-one exchange of visits can cause (at most the
    # detour to the new visit, which is under two legs), so the optimum never drops a visit
    # for a less urgent one that takes its place; and every prize exceeds any detour, so a
    # visit that fits is worth making.
    step = 2 * int(problem.metres_matrix.max(initial=0)) + 2
    levels = {
        key: level for level, key in enumerate(sorted({problem.priority(c) for c in optional}))
    }
    return {c: step * (levels[problem.priority(c)] + 1) for c in optional}


def _vehicle_type(problem: DayProblem, **overrides) -> VehicleType:
    return VehicleType(
        num_available=len(problem.visitors),
        tw_early=0,
        tw_late=problem.working_seconds,
        **overrides,
    )


def _solve(problem: DayProblem) -> tuple[list[list[int]], set[int], float, int]:
    # Tier by tier (high first), repair, balance, repair. Returns the routes, the dropped
    # eligible candidates, the solver's time and the number of repairs. Each tier run gets the
    # time left over in proportion to its number of candidates; the high tier's visits keep
    # their early windows (where they got them) through the tier runs and the balancing.
    settings, full = problem.settings, problem
    routes: list[list[int]] = [[] for _ in problem.visitors]
    eligible = problem.eligible
    if not eligible:
        return routes, set(), 0.0, 0
    tiers = sorted({problem.candidates[c].tier for c in eligible}, reverse=True)
    balance = len(problem.visitors) > 1 and settings.balance_metres_per_minute > 0
    sizes = [sum(problem.candidates[c].tier >= tier for c in eligible) for tier in tiers]
    tiers_budget = settings.time_limit_seconds * (1 - BALANCE_TIME_SHARE if balance else 1)
    solver_seconds = 0.0
    for run, tier in enumerate(tiers):
        planned = {c for route in routes for c in route}
        # This tier, and the more urgent ones dropped so far (a new layout may make room).
        optional = [c for c in eligible if problem.candidates[c].tier >= tier and c not in planned]
        early: dict[int, tuple] = {}
        if tier == EARLY_TIER:  # the high tier first goes in the morning where it can
            early = {c: w for c in optional if (w := problem.early_windows(c)) is not None}
        run_problem = problem.with_windows(early) if early else problem
        model = _Model(run_problem, sorted(planned), optional, _vehicle_type(problem))
        seconds = (tiers_budget - solver_seconds) * sizes[run] / sum(sizes[run:])
        routes, used = model.improve(routes, max(MIN_RUN_SECONDS, seconds))
        solver_seconds += used
        if early:  # those planned keep their early windows in every later run and repair
            kept = {c for route in routes for c in route}
            problem = problem.with_windows({c: w for c, w in early.items() if c in kept})
    # The repair works with the whole windows: a visit that fits the day is never dropped
    # to keep a high-tier visit in the morning (it may move one to the afternoon instead).
    problem = full
    dropped = set(eligible) - {c for route in routes for c in route}
    repairs = repair_priorities(problem, routes, dropped)
    if balance and len(dropped) < len(eligible):
        seconds = max(MIN_RUN_SECONDS, settings.time_limit_seconds - solver_seconds)
        routes, used = _balance(_keep_early(problem, routes), routes, seconds)
        solver_seconds += used
        repairs += repair_priorities(problem, routes, dropped)
    return routes, dropped, solver_seconds, repairs


def _keep_early(problem: DayProblem, routes: list[list[int]]) -> DayProblem:
    # The problem with early windows for the high-tier visits that the routes make early,
    # so that the balancing run keeps them there.
    early = {}
    for route in routes:
        times = route_times(problem, route)
        for candidate, start in zip(route, times.starts if times else (), strict=False):
            if problem.candidates[candidate].tier != EARLY_TIER:
                continue
            windows = problem.early_windows(candidate)
            if windows and any(first <= start <= last for first, last in windows):
                early[candidate] = windows
    return problem.with_windows(early)


def _balance(
    problem: DayProblem, routes: list[list[int]], seconds: float
) -> tuple[list[list[int]], float]:
    # Fixed set of visits; each route's duration above the team mean costs
    # balance_metres_per_minute per minute, travel 60 per metre (both per second/metre).
    planned = [c for route in routes for c in route]
    model = _Model(problem, planned, [], _vehicle_type(problem))
    durations = [route.duration() for route in model.solution(routes).routes()]
    target = math.ceil(sum(durations) / len(problem.visitors))
    model.data = model.data.replace(
        vehicle_types=[
            _vehicle_type(
                problem,
                shift_duration=target,
                max_overtime=problem.working_seconds - target,
                unit_overtime_cost=problem.settings.balance_metres_per_minute,
                unit_distance_cost=_BALANCE_DISTANCE_COST,
            )
        ]
    )
    return model.improve(routes, seconds)


def plan_day(
    base: Sequence[float],
    visitors: Sequence[str],
    candidates: pd.DataFrame,
    *,
    settings: PlanSettings = DEFAULT_SETTINGS,
) -> DayPlan:
    """Plan a team's day with PyVRP.

    Parameters
    ----------
    base : (float, float)
        The base (community centre) as WGS84 ``(lon, lat)`` degrees; every route starts and
        ends there.
    visitors : sequence of str
        The team's visitors; one route each.
    candidates : pandas.DataFrame
        One row per resident: ``resident_id`` (str, unique), ``lon``, ``lat`` (WGS84
        degrees), ``tier`` (0 low, 1 medium, 2 high), ``days_overdue`` (int; negative = not yet
        due, such rows are reported as dropped ``not_due``), and optionally
        ``available_from`` / ``available_until`` (times of day as ``datetime.time`` or
        ``"HH:MM"``; missing = unknown = all day). The whole visit lies inside the window.
    settings : PlanSettings, keyword-only
        Working hours, break, service times, travel mode, balance weight, time limit, seed.

    Returns
    -------
    DayPlan
        One :class:`~routing.plan_result.VisitorRoute` per visitor and every other candidate
        as a :class:`~routing.plan_result.DroppedVisit` with its reason.

    Raises
    ------
    PlanningError
        For invalid inputs, naming the column and row of a bad candidate value.
    """
    started = time.perf_counter()
    problem = prepare_day(base, visitors, candidates, settings)
    routes, dropped, solver_seconds, repairs = _solve(problem)
    reasons = explain_drops(problem, routes, dropped | set(problem.prescreen))
    if DropReason.NOT_CHOSEN in reasons.values():  # pragma: no cover - the repair prevents it
        raise AssertionError("the priority repair left a visit that fits")
    return build_day_plan(
        problem,
        routes,
        reasons,
        method="pyvrp",
        solver_seconds=solver_seconds,
        planning_seconds=time.perf_counter() - started,
        repairs=repairs,
    )
