"""Timing of a visitor's route, cheapest feasible insertion, and the priority repair.

A route is a list of candidate indices in visit order; it leaves the base at the start of the
working day and must be back by its end. Visitors may wait before a visit (for a start
window) but never rush: a route is *feasible* when every visit starts inside one of its start
windows and the base is reached by the end of the day.

Because waiting is allowed, the start times from which the rest of a route is still feasible
form, at each stop, the admissible starts up to a *latest start*. With the earliest departure
before a gap and the latest start after it, inserting a visit into the gap is checked in
constant time (the classic forward/backward time-window bookkeeping, extended to start
windows made of up to two intervals).
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.day_problem import DayProblem, DropReason, first_start, last_start


@dataclass(frozen=True)
class RouteTimes:
    """Earliest and latest timing of a feasible route (working-clock seconds).

    Attributes
    ----------
    arrivals, starts : list of int
        Earliest arrival and visit start at each stop.
    departures : list of int
        ``departures[k]``: earliest time the visitor can leave position ``k`` towards the next
        stop, position 0 being the base (0) and position ``k`` the end of stop ``k - 1``.
    latest : list of int
        ``latest[k]``: latest arrival at stop ``k`` from which the rest of the route is still
        feasible; ``latest[len(route)]`` is the end of the working day (back at the base).
    """

    arrivals: list[int]
    starts: list[int]
    departures: list[int]
    latest: list[int]


def route_times(problem: DayProblem, route: list[int]) -> RouteTimes | None:
    """Return the timing of ``route``, or None when the route is not feasible.

    The forward pass starts every visit as early as possible; the backward pass gives each
    stop's latest start (see :class:`RouteTimes`).
    """
    seconds, service, windows = problem.seconds, problem.service, problem.windows
    arrivals, starts, departures = [], [], [0]
    location, clock = 0, 0
    for stop in route:
        arrival = clock + seconds[location][stop + 1]
        start = first_start(windows[stop], arrival)
        if start is None:
            return None
        arrivals.append(arrival)
        starts.append(start)
        clock = start + service[stop]
        departures.append(clock)
        location = stop + 1
    if clock + seconds[location][0] > problem.working_seconds:
        return None
    latest = [0] * len(route) + [problem.working_seconds]
    deadline, following = problem.working_seconds, 0
    for position in range(len(route) - 1, -1, -1):
        stop = route[position]
        start = last_start(windows[stop], deadline - seconds[stop + 1][following] - service[stop])
        if start is None:  # pragma: no cover - the forward pass succeeded
            return None
        latest[position] = deadline = start
        following = stop + 1
    return RouteTimes(arrivals=arrivals, starts=starts, departures=departures, latest=latest)


def best_insertion(
    problem: DayProblem, route: list[int], times: RouteTimes, candidate: int
) -> tuple[int, int] | None:
    """Cheapest feasible place for ``candidate`` in ``route``.

    Returns
    -------
    (int, int) or None
        Added travel (metres) and the position to insert at, or None when it fits nowhere.
    """
    metres, seconds = problem.metres, problem.seconds
    location = candidate + 1
    windows, service = problem.windows[candidate], problem.service[candidate]
    best = None
    for position in range(len(route) + 1):
        before = route[position - 1] + 1 if position else 0
        after = route[position] + 1 if position < len(route) else 0
        start = first_start(windows, times.departures[position] + seconds[before][location])
        if start is None:
            continue
        if start + service + seconds[location][after] > times.latest[position]:
            continue
        added = metres[before][location] + metres[location][after] - metres[before][after]
        if best is None or added < best[0]:
            best = (added, position)
    return best


def _route_end(times: RouteTimes, problem: DayProblem, route: list[int]) -> int:
    last = route[-1] + 1 if route else 0
    return times.departures[-1] + problem.seconds[last][0]


def _insert_dropped(problem: DayProblem, routes: list[list[int]], dropped: set[int]) -> int:
    # Insert every dropped visit that fits somewhere, most urgent first, where it adds the
    # least travel (ties: the route that ends earliest).
    times = [route_times(problem, route) for route in routes]
    inserted = 0
    for candidate in sorted(dropped, key=lambda c: (problem.priority(c), -c), reverse=True):
        best = None
        for index, (route, timing) in enumerate(zip(routes, times, strict=True)):
            if timing is None:  # pragma: no cover - routes handed in are feasible
                continue
            place = best_insertion(problem, route, timing, candidate)
            if place is not None:
                key = (place[0], _route_end(timing, problem, route), index)
                if best is None or key < best[0]:
                    best = (key, index, place[1])
        if best is not None:
            _, index, position = best
            routes[index].insert(position, candidate)
            times[index] = route_times(problem, routes[index])
            dropped.discard(candidate)
            inserted += 1
    return inserted


def _swap_one(problem: DayProblem, routes: list[list[int]], dropped: set[int]) -> bool:
    # Replace the least urgent planned visit that some more urgent dropped visit can take the
    # place of (in the same route); the most urgent such dropped visit wins.
    by_urgency = sorted(dropped, key=lambda c: (problem.priority(c), -c), reverse=True)
    planned = sorted(
        (
            (problem.priority(stop), -stop, index, position)
            for index, route in enumerate(routes)
            for position, stop in enumerate(route)
        ),
    )
    for priority, _, index, position in planned:
        more_urgent = [c for c in by_urgency if problem.priority(c) > priority]
        if not more_urgent:
            return False
        reduced = routes[index][:position] + routes[index][position + 1 :]
        timing = route_times(problem, reduced)
        if timing is None:
            continue
        for candidate in more_urgent:
            place = best_insertion(problem, reduced, timing, candidate)
            if place is not None:
                removed = routes[index][position]
                reduced.insert(place[1], candidate)
                routes[index] = reduced
                dropped.discard(candidate)
                dropped.add(removed)
                return True
    return False


def repair_priorities(problem: DayProblem, routes: list[list[int]], dropped: set[int]) -> int:
    """Make the plan *priority-stable*, in place; returns the number of changes made.

    Afterwards no dropped visit fits anywhere as the routes stand, and no dropped visit can
    take the place of a planned visit of lower priority in the same route (one-for-one).
    Each change either adds a visit or replaces a visit by a more urgent one, so the loop
    ends.
    """
    changes = _insert_dropped(problem, routes, dropped)
    while _swap_one(problem, routes, dropped):
        changes += 1 + _insert_dropped(problem, routes, dropped)
    return changes


def explain_drops(
    problem: DayProblem, routes: list[list[int]], dropped: set[int]
) -> dict[int, DropReason]:
    """Return a truthful reason for every dropped candidate.

    Candidates that cannot be visited on their own keep their prescreen reason. For the rest:
    ``NOT_CHOSEN`` when it would fit into a route as it stands, ``DAY_FULL_LOWEST_PRIORITY``
    when no planned visit has a lower priority, ``NOT_CHOSEN`` when it could take the place of
    a lower-priority planned visit in that visit's route, else ``DAY_FULL_NO_ROOM``.
    """
    reasons = {c: problem.prescreen[c] for c in dropped if c in problem.prescreen}
    open_ = [c for c in dropped if c not in problem.prescreen]
    if not open_:
        return reasons
    times = [route_times(problem, route) for route in routes]
    reduced_routes = []  # (priority of the removed visit, reduced route, its timing)
    for route in routes:
        for position, stop in enumerate(route):
            reduced = route[:position] + route[position + 1 :]
            reduced_routes.append((problem.priority(stop), reduced, route_times(problem, reduced)))
    lowest_planned = min((item[0] for item in reduced_routes), default=None)
    for candidate in open_:
        priority = problem.priority(candidate)
        if any(
            timing is not None and best_insertion(problem, route, timing, candidate) is not None
            for route, timing in zip(routes, times, strict=True)
        ):
            reasons[candidate] = DropReason.NOT_CHOSEN
        elif lowest_planned is None or lowest_planned >= priority:
            reasons[candidate] = DropReason.DAY_FULL_LOWEST_PRIORITY
        elif any(
            removed < priority
            and timing is not None
            and best_insertion(problem, reduced, timing, candidate) is not None
            for removed, reduced, timing in reduced_routes
        ):
            reasons[candidate] = DropReason.NOT_CHOSEN
        else:
            reasons[candidate] = DropReason.DAY_FULL_NO_ROOM
    return reasons
