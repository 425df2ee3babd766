"""The day plan handed back to callers: routes with timed stops, dropped visits, totals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from routing.day_problem import DayProblem, DropReason
from routing.schedule import route_times


@dataclass(frozen=True)
class PlannedStop:
    """One visit in a route.

    Times are times of day. ``arrival`` is when the visitor gets to the door (equal to
    ``start`` when there is no wait; at the first stop the visitor leaves the base late enough
    not to wait), ``departure`` the end of the visit. ``travel_metres`` is the leg from the
    previous stop (or the base) and ``wait_minutes`` the wait before ``start``.
    """

    resident_id: str
    tier: int
    days_overdue: int
    arrival: dt.time
    start: dt.time
    departure: dt.time
    travel_metres: int
    wait_minutes: float


@dataclass(frozen=True)
class VisitorRoute:
    """One visitor's day: leave the base, visit ``stops`` in order, return to the base.

    Attributes
    ----------
    visitor : str
    stops : tuple of PlannedStop
    leave_base, back_at_base : datetime.time
    travel_metres : int
        Whole route including the walk back to the base (metres).
    travel_minutes, service_minutes, wait_minutes : float
        Time walking (or driving), visiting, and waiting for availability windows; the lunch
        break is in none of them.
    """

    visitor: str
    stops: tuple[PlannedStop, ...]
    leave_base: dt.time
    back_at_base: dt.time
    travel_metres: int
    travel_minutes: float
    service_minutes: float
    wait_minutes: float

    @property
    def work_minutes(self) -> float:
        """Travel plus service (minutes); waiting and the break are not work."""
        return self.travel_minutes + self.service_minutes

    @property
    def visits(self) -> int:
        """Return the number of stops."""
        return len(self.stops)


@dataclass(frozen=True)
class DroppedVisit:
    """A candidate left out of the plan, and why."""

    resident_id: str
    tier: int
    days_overdue: int
    reason: DropReason

    @property
    def message_ko(self) -> str:
        """Return the reason in Korean."""
        return self.reason.message_ko

    @property
    def message_en(self) -> str:
        """Return the reason in English."""
        return self.reason.message_en


@dataclass(frozen=True)
class DayPlan:
    """A team's plan for the day.

    Attributes
    ----------
    routes : tuple of VisitorRoute
        One per visitor, in the order the visitors were given (possibly without stops).
    dropped : tuple of DroppedVisit
        Every candidate not planned, most urgent first.
    method : str
        ``"pyvrp"`` or ``"greedy-nearest"`` / ``"greedy-priority"``.
    solver_seconds : float
        Time spent inside the solver (seconds; 0 for the greedy plans).
    planning_seconds : float
        Wall-clock time of the whole call (seconds).
    repairs : int
        Changes made by the priority repair after the solver (insertions and swaps).
    """

    routes: tuple[VisitorRoute, ...]
    dropped: tuple[DroppedVisit, ...]
    method: str
    solver_seconds: float
    planning_seconds: float
    repairs: int = 0

    @property
    def visits(self) -> int:
        """Planned visits, all visitors."""
        return sum(route.visits for route in self.routes)

    @property
    def travel_metres(self) -> int:
        """Travel of all visitors (metres)."""
        return sum(route.travel_metres for route in self.routes)

    @property
    def work_minutes_by_visitor(self) -> dict[str, float]:
        """Return each visitor's work (travel plus service, minutes), by visitor name."""
        return {route.visitor: route.work_minutes for route in self.routes}

    @property
    def work_spread_minutes(self) -> float:
        """Busiest minus least busy visitor's work (minutes)."""
        work = [route.work_minutes for route in self.routes]
        return max(work) - min(work)

    @property
    def dropped_by_reason(self) -> dict[DropReason, int]:
        """Return the number of dropped candidates for each reason that occurs."""
        counts: dict[DropReason, int] = {}
        for visit in self.dropped:
            counts[visit.reason] = counts.get(visit.reason, 0) + 1
        return counts

    def stops_frame(self) -> pd.DataFrame:
        """All stops as a table: visitor, order (1-based) and the :class:`PlannedStop` fields."""
        records = [
            {"visitor": route.visitor, "order": order, **vars(stop)}
            for route in self.routes
            for order, stop in enumerate(route.stops, start=1)
        ]
        columns = ["visitor", "order", *PlannedStop.__dataclass_fields__]
        return pd.DataFrame.from_records(records, columns=columns)


def visitor_route(problem: DayProblem, visitor: str, route: list[int]) -> VisitorRoute:
    """Time a feasible route (earliest schedule) and describe it.

    The visitor leaves the base as late as possible without waiting at the first stop, then
    starts every visit as early as possible.
    """
    settings = problem.settings
    times = route_times(problem, route)
    if times is None:
        raise AssertionError(f"route of {visitor} is not feasible: {route}")
    to_wall = settings.to_wall_clock
    stops, location, travel_seconds, wait_seconds = [], 0, 0, 0
    for position, candidate in enumerate(route):
        row = problem.candidates[candidate]
        arrival, start = times.arrivals[position], times.starts[position]
        leg_seconds = problem.seconds[location][candidate + 1]
        travel_seconds += leg_seconds
        if position:  # the wait at the first stop is spent at the base instead
            wait_seconds += start - arrival
        stops.append(
            PlannedStop(
                resident_id=row.resident_id,
                tier=row.tier,
                days_overdue=row.days_overdue,
                arrival=to_wall(arrival, side="end")
                if position and arrival < start
                else to_wall(start, side="start"),
                start=to_wall(start, side="start"),
                departure=to_wall(start + problem.service[candidate], side="end"),
                travel_metres=problem.metres[location][candidate + 1],
                wait_minutes=(start - arrival) / 60 if position else 0.0,
            )
        )
        location = candidate + 1
    back = times.departures[-1] + problem.seconds[location][0]
    travel_seconds += problem.seconds[location][0]
    leave = times.starts[0] - problem.seconds[0][route[0] + 1] if route else 0
    travel_metres = sum(
        problem.metres[a][b]
        for a, b in zip([0, *(c + 1 for c in route)], [*(c + 1 for c in route), 0], strict=True)
    )
    return VisitorRoute(
        visitor=visitor,
        stops=tuple(stops),
        leave_base=to_wall(leave, side="start"),
        back_at_base=to_wall(back, side="end"),
        travel_metres=travel_metres,
        travel_minutes=travel_seconds / 60,
        service_minutes=sum(problem.service[c] for c in route) / 60,
        wait_minutes=wait_seconds / 60,
    )


def build_day_plan(
    problem: DayProblem,
    routes: list[list[int]],
    reasons: dict[int, DropReason],
    *,
    method: str,
    solver_seconds: float,
    planning_seconds: float,
    repairs: int = 0,
) -> DayPlan:
    """Assemble the :class:`DayPlan` (route ``k`` goes to visitor ``k``)."""
    dropped = sorted(reasons, key=lambda c: (problem.priority(c), -c), reverse=True)
    return DayPlan(
        routes=tuple(
            visitor_route(problem, visitor, route)
            for visitor, route in zip(problem.visitors, routes, strict=True)
        ),
        dropped=tuple(
            DroppedVisit(
                resident_id=problem.candidates[c].resident_id,
                tier=problem.candidates[c].tier,
                days_overdue=problem.candidates[c].days_overdue,
                reason=reasons[c],
            )
            for c in dropped
        ),
        method=method,
        solver_seconds=solver_seconds,
        planning_seconds=planning_seconds,
        repairs=repairs,
    )
