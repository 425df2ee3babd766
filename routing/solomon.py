"""Generic VRPTW solving for instances in M. M. Solomon's (1987) text format.

The format (the 56 standard 100-customer instances are in ``data/solomon/``)::

    C101

    VEHICLE
    NUMBER     CAPACITY
      25         200

    CUSTOMER
    CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

        0      40         50          0          0       1236          0
        1      45         68         10        912        967         90
        ...

The first customer row is the depot: its ready time and due date are the planning horizon
(vehicles leave at or after the ready time and must be back by the due date). Every vehicle has
the same capacity, and at most NUMBER of them may be used. Distances are Euclidean and are
**not rounded**; the travel time over an arc equals its distance, so distances and times share
one unit (the instance's unit). Service at a customer must *start* between its ready time and its
due date; a vehicle that arrives early waits.

Objective
---------
The published best-known solutions (SINTEF's TOP list) are *hierarchical*: fewest vehicles
first, then least distance. The quality goal of this entry point, though, is the gap in
*distance*, and the fleet size in the file is an upper bound (25 vehicles on every standard
instance), not a cost. So by default (``objective="distance"``) we minimise the total distance
among solutions that use at most ``vehicle_count`` vehicles, with no charge per vehicle: this is
the objective the distance gap measures, and the one a planner who pays for kilometres rather
than vans wants. It often uses more vehicles than the best-known solution, especially on the
long-horizon series 2 (C2, R2, RC2), where one more vehicle can save a lot of distance, so the
distance can then be *below* the best-known distance (a negative gap) without contradicting
it. ``objective="vehicles"`` approximates the literature's ordering instead (fewer vehicles
first, distance breaks ties); use it to compare like with like against the best-known table.
It runs in two phases: the first :data:`FLEET_SHARE` of the time limit searches with a charge
per vehicle larger than any possible difference in distance, and the rest minimises distance
with the fleet that phase found, starting from its solution (one search with the charge alone
spends most of its time on removing routes and leaves the distance several per cent worse).

Integer data
------------
PyVRP works on integers, so distances and times are multiplied by :data:`SCALE` (1000, i.e.
1/1000 of the instance's unit). The *distance* of an arc is rounded to the nearest integer (an
error of at most 0.0005 units per arc in the objective); its *travel time* is rounded **up**, and
ready times, due dates and service times of the standard instances are integers, so they scale
exactly. A schedule that fits the windows with the rounded-up times therefore also fits them
with the exact ones. The reported distance is recomputed from the routes with unrounded float
Euclidean distances, and every solution is checked against the unrounded data (capacity, time
windows, each customer exactly once, at most ``vehicle_count`` routes) before it is returned.

Length: the benchmark format's reader, checker and solver wrapper belong together (docs/solver.md);
nothing in the service imports it.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pyvrp import Client, Depot, Location, ProblemData, Solution, VehicleType
from pyvrp import solve as pyvrp_solve
from pyvrp.exceptions import PenaltyBoundWarning

from visitmap.errors import FieldError, VisitmapError

SCALE = 1000
"""Integer units per instance unit of distance and time handed to PyVRP."""

TIME_TOLERANCE = 1e-6
"""Slack (instance time units) allowed when checking windows with floating-point arithmetic."""

FLEET_SHARE = 0.5
"""Share of the time limit spent on reducing the fleet with ``objective="vehicles"``."""

Objective = Literal["distance", "vehicles"]
OBJECTIVES: tuple[Objective, ...] = ("distance", "vehicles")

_FIELDS = (
    "customer number",
    "x coordinate",
    "y coordinate",
    "demand",
    "ready time",
    "due date",
    "service time",
)


class SolomonFormatError(FieldError):
    """A Solomon instance file that cannot be read.

    Parameters
    ----------
    source
        The file (or other source) being read.
    line
        1-based line number of the offending line.
    field
        The field or section at fault, e.g. ``"due date"`` or ``"VEHICLE heading"``.
    problem
        What is wrong, in words.
    """

    def __init__(self, source: str, line: int, field: str, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        super().__init__(f"{source}, line {line}, {field}: {problem}")
        self.field, self.message = field, problem


class SolomonInfeasibleError(VisitmapError, RuntimeError):
    """The solver found no solution that satisfies every constraint in the time limit."""


@dataclass(frozen=True)
class Customer:
    """One row of the CUSTOMER section (the first row, the depot, uses the same record).

    Attributes
    ----------
    number
        Customer number as in the file (the depot is normally 0).
    x, y
        Coordinates (instance distance units).
    demand
        Load delivered to the customer (capacity units; 0 for the depot).
    ready
        Earliest start of service (instance time units); for the depot, the earliest departure.
    due
        Latest start of service (instance time units); for the depot, the latest return.
    service
        Service duration (instance time units).
    """

    number: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class SolomonInstance:
    """A VRPTW instance read from a Solomon-format file.

    Attributes
    ----------
    name
        Instance name (first line of the file), e.g. ``"C101"``.
    vehicle_count
        Maximum number of vehicles (routes) that may be used.
    capacity
        Capacity of every vehicle (same units as the demands).
    depot
        The depot (first customer row).
    customers
        The customers, in file order.
    """

    name: str
    vehicle_count: int
    capacity: int
    depot: Customer
    customers: tuple[Customer, ...]

    def customer(self, number: int) -> Customer:
        """Return the customer with this number (as in the file).

        Raises
        ------
        KeyError
            If no customer has that number.
        """
        for customer in self.customers:
            if customer.number == number:
                return customer
        raise KeyError(number)


@dataclass(frozen=True)
class SolomonSolution:
    """A feasible solution of a :class:`SolomonInstance`.

    Attributes
    ----------
    instance_name
        Name of the solved instance.
    routes
        One tuple of customer numbers (as in the file, depot excluded) per vehicle, in visiting
        order. Every route starts and ends at the depot.
    distance
        Total distance (instance units) with unrounded Euclidean distances.
    runtime_s
        Wall-clock time spent in :func:`solve_solomon` (seconds).
    objective
        The objective the solution was optimised for (see the module docstring).
    """

    instance_name: str
    routes: tuple[tuple[int, ...], ...]
    distance: float
    runtime_s: float
    objective: Objective = "distance"

    @property
    def vehicles(self) -> int:
        """Number of vehicles used (non-empty routes)."""
        return len(self.routes)


def read_solomon(path: str | os.PathLike[str]) -> SolomonInstance:
    """Read a VRPTW instance in Solomon's text format.

    Parameters
    ----------
    path
        The instance file.

    Returns
    -------
    SolomonInstance
        The instance.

    Raises
    ------
    SolomonFormatError
        If the file does not follow the format; the message names the file, the line and the
        field.
    OSError
        If the file cannot be read.
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return parse_solomon(text, source=str(path))


def parse_solomon(text: str, *, source: str = "<string>") -> SolomonInstance:
    """Parse the text of a Solomon-format instance (see :func:`read_solomon`).

    Parameters
    ----------
    text
        The whole file content.
    source
        Name used for the file in error messages.

    Returns
    -------
    SolomonInstance
        The instance.

    Raises
    ------
    SolomonFormatError
        If the text does not follow the format.
    """
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
    filled = [(number, line) for number, line in lines if line]
    last_line = lines[-1][0] if lines else 1

    def expect(position: int, field: str, what: str) -> tuple[int, str]:
        if position >= len(filled):
            raise SolomonFormatError(source, last_line, field, f"file ends before {what}")
        return filled[position]

    name_line, name = expect(0, "name", "the instance name")
    line, heading = expect(1, "VEHICLE heading", "the VEHICLE section")
    if heading.upper() != "VEHICLE":
        raise SolomonFormatError(
            source, line, "VEHICLE heading", f"expected 'VEHICLE', found {heading!r}"
        )
    line, header = expect(2, "vehicle header", "the vehicle column header")
    if not header.upper().startswith("NUMBER"):
        raise SolomonFormatError(
            source, line, "vehicle header", f"expected 'NUMBER CAPACITY', found {header!r}"
        )
    line, values = expect(3, "vehicle number", "the vehicle number and capacity")
    tokens = values.split()
    if len(tokens) != 2:
        raise SolomonFormatError(
            source,
            line,
            "vehicle number",
            f"expected 2 values (number, capacity), found {len(tokens)}",
        )
    vehicle_count = _positive_int(tokens[0], source, line, "vehicle number")
    capacity = _positive_int(tokens[1], source, line, "vehicle capacity")

    line, heading = expect(4, "CUSTOMER heading", "the CUSTOMER section")
    if heading.upper() != "CUSTOMER":
        raise SolomonFormatError(
            source, line, "CUSTOMER heading", f"expected 'CUSTOMER', found {heading!r}"
        )
    line, header = expect(5, "customer header", "the customer column header")
    if not header.upper().startswith("CUST"):
        raise SolomonFormatError(
            source,
            line,
            "customer header",
            f"expected the 'CUST NO. XCOORD. ...' header, found {header!r}",
        )

    rows = filled[6:]
    if not rows:
        raise SolomonFormatError(source, last_line, "customer rows", "no depot or customer rows")
    records: list[Customer] = []
    seen: dict[int, int] = {}
    for line, row in rows:
        record = _customer_row(row, source, line)
        if record.number in seen:
            raise SolomonFormatError(
                source,
                line,
                "customer number",
                f"customer {record.number} appears twice (first on line {seen[record.number]})",
            )
        seen[record.number] = line
        if not records and record.demand != 0:
            raise SolomonFormatError(
                source,
                line,
                "demand",
                f"the depot (first row) must have demand 0, found {record.demand}",
            )
        if record.demand > capacity:
            raise SolomonFormatError(
                source,
                line,
                "demand",
                f"demand {record.demand} exceeds the vehicle capacity {capacity}",
            )
        records.append(record)
    if len(records) < 2:
        raise SolomonFormatError(
            source, last_line, "customer rows", "no customers after the depot row"
        )
    return SolomonInstance(
        name=name,
        vehicle_count=vehicle_count,
        capacity=capacity,
        depot=records[0],
        customers=tuple(records[1:]),
    )


def _positive_int(token: str, source: str, line: int, field: str) -> int:
    try:
        value = int(token)
    except ValueError:
        raise SolomonFormatError(
            source, line, field, f"expected a whole number, found {token!r}"
        ) from None
    if value < 1:
        raise SolomonFormatError(source, line, field, f"must be at least 1, found {value}")
    return value


def _customer_row(row: str, source: str, line: int) -> Customer:
    tokens = row.split()
    if len(tokens) != len(_FIELDS):
        raise SolomonFormatError(
            source,
            line,
            "customer row",
            f"expected {len(_FIELDS)} values ({', '.join(_FIELDS)}), found {len(tokens)}",
        )
    values: list[float] = []
    for field, token in zip(_FIELDS, tokens, strict=True):
        try:
            value = float(token)
        except ValueError:
            raise SolomonFormatError(
                source, line, field, f"expected a number, found {token!r}"
            ) from None
        if not math.isfinite(value):
            raise SolomonFormatError(
                source, line, field, f"expected a finite number, found {token!r}"
            )
        if field not in ("x coordinate", "y coordinate") and value < 0:
            raise SolomonFormatError(source, line, field, f"must not be negative, found {token}")
        if field in ("customer number", "demand") and not value.is_integer():
            raise SolomonFormatError(
                source, line, field, f"expected a whole number, found {token!r}"
            )
        values.append(value)
    number, x, y, demand, ready, due, service = values
    if due < ready:
        raise SolomonFormatError(
            source, line, "due date", f"due date {tokens[5]} is before the ready time {tokens[4]}"
        )
    return Customer(
        number=int(number), x=x, y=y, demand=int(demand), ready=ready, due=due, service=service
    )


def euclidean(a: Customer, b: Customer) -> float:
    """Unrounded Euclidean distance (and travel time) between two customers (instance units)."""
    return math.hypot(a.x - b.x, a.y - b.y)


def route_distance(instance: SolomonInstance, routes: Sequence[Sequence[int]]) -> float:
    """Total distance of routes given as customer numbers, depot to depot (instance units).

    Parameters
    ----------
    instance
        The instance the routes belong to.
    routes
        Customer numbers per route, depot excluded; empty routes count 0.

    Returns
    -------
    float
        The sum of unrounded Euclidean arc lengths.
    """
    by_number = {customer.number: customer for customer in instance.customers}
    total = 0.0
    for route in routes:
        stops = [instance.depot, *(by_number[number] for number in route), instance.depot]
        if len(stops) > 2:
            total += sum(euclidean(a, b) for a, b in zip(stops, stops[1:], strict=False))
    return total


def route_violations(instance: SolomonInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    """Check routes against the unrounded instance data.

    Checks that every customer is visited exactly once, no unknown customer appears, at most
    ``vehicle_count`` non-empty routes are used, no route exceeds the capacity, and every
    service starts by its due date and every vehicle is back at the depot by the depot's due
    date (with :data:`TIME_TOLERANCE` for floating-point error; vehicles leave the depot at its
    ready time and wait when early).

    Parameters
    ----------
    instance
        The instance.
    routes
        Customer numbers per route, depot excluded.

    Returns
    -------
    list of str
        One message per violation; empty when the routes are feasible.
    """
    problems: list[str] = []
    by_number = {customer.number: customer for customer in instance.customers}
    used = [route for route in routes if len(route) > 0]
    if len(used) > instance.vehicle_count:
        problems.append(f"{len(used)} routes, but at most {instance.vehicle_count} vehicles")
    visits: dict[int, int] = {}
    for index, route in enumerate(used, start=1):
        load = 0
        clock = instance.depot.ready
        here = instance.depot
        for number in route:
            visits[number] = visits.get(number, 0) + 1
            customer = by_number.get(number)
            if customer is None:
                problems.append(f"route {index}: customer {number} is not in the instance")
                continue
            load += customer.demand
            clock = max(clock + euclidean(here, customer), customer.ready)
            if clock > customer.due + TIME_TOLERANCE:
                problems.append(
                    f"route {index}: service at customer {number} starts at {clock:.4f}, "
                    f"after its due date {customer.due:g}"
                )
            clock += customer.service
            here = customer
        back = clock + euclidean(here, instance.depot)
        if back > instance.depot.due + TIME_TOLERANCE:
            problems.append(
                f"route {index}: back at the depot at {back:.4f}, "
                f"after its due date {instance.depot.due:g}"
            )
        if load > instance.capacity:
            problems.append(f"route {index}: load {load} exceeds the capacity {instance.capacity}")
    missing = sorted(set(by_number) - set(visits))
    if missing:
        problems.append(f"customers not visited: {missing}")
    repeated = sorted(number for number, count in visits.items() if count > 1)
    if repeated:
        problems.append(f"customers visited more than once: {repeated}")
    return problems


class _Deadline:
    """PyVRP stopping criterion: stop at a fixed wall-clock time (``time.perf_counter``)."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def __call__(self, best_cost: float) -> bool:
        return time.perf_counter() >= self._deadline


def _problem_data(
    instance: SolomonInstance, *, vehicles: int | None = None, charge_vehicles: bool = False
) -> ProblemData:
    """PyVRP data for the instance: at most ``vehicles`` (default: the instance's count)."""
    nodes = [instance.depot, *instance.customers]
    xy = np.array([(node.x, node.y) for node in nodes], dtype=float)
    exact = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1)) * SCALE
    distances = np.rint(exact).astype(np.int64)
    # Rounded up (less a hair for floating-point noise on exact integers) so that a schedule
    # that fits with these times also fits with the exact ones.
    durations = np.ceil(exact - 1e-6).astype(np.int64)
    np.fill_diagonal(distances, 0)
    np.fill_diagonal(durations, 0)

    def scaled(value: float, *, up: bool) -> int:
        exact_value = value * SCALE
        return math.ceil(exact_value - 1e-6) if up else math.floor(exact_value + 1e-6)

    depot = instance.depot
    horizon = (scaled(depot.ready, up=True), scaled(depot.due, up=False))
    fixed_cost = 0
    if charge_vehicles:
        # More than any difference in total distance: a solution has at most
        # 2 * len(customers) arcs, none longer than the longest one.
        fixed_cost = int(distances.max()) * 2 * len(instance.customers) + 1
    clients = [
        Client(
            location=index,
            delivery=[customer.demand],
            service_duration=scaled(customer.service, up=True),
            tw_early=scaled(customer.ready, up=True),
            tw_late=scaled(customer.due, up=False),
            name=str(customer.number),
        )
        for index, customer in enumerate(instance.customers, start=1)
    ]
    vehicle_type = VehicleType(
        num_available=instance.vehicle_count if vehicles is None else vehicles,
        capacity=[instance.capacity],
        fixed_cost=fixed_cost,
        tw_early=horizon[0],
        tw_late=horizon[1],
    )
    return ProblemData(
        locations=[Location(x=node.x, y=node.y, name=str(node.number)) for node in nodes],
        clients=clients,
        depots=[Depot(location=0, tw_early=horizon[0], tw_late=horizon[1], name=str(depot.number))],
        vehicle_types=[vehicle_type],
        distance_matrices=[distances],
        duration_matrices=[durations],
    )


def _client_visits(solution: Solution) -> list[list[int]]:
    """PyVRP client indices per non-empty route."""
    return [
        [activity.idx for activity in route if activity.is_client()]
        for route in solution.routes()
        if route.num_clients() > 0
    ]


def _search(
    data: ProblemData, deadline: float, seed: int, initial: Solution | None = None
) -> Solution:
    """Best solution PyVRP finds by ``deadline`` (a ``time.perf_counter`` value)."""
    result = pyvrp_solve(
        data,
        stop=_Deadline(deadline),
        seed=seed,
        collect_stats=False,
        display=False,
        initial_solution=initial,
    )
    return result.best


def solve_solomon(
    instance: SolomonInstance,
    *,
    time_limit_s: float,
    seed: int = 1,
    objective: Objective = "distance",
) -> SolomonSolution:
    """Solve a Solomon instance with PyVRP and return the best feasible solution found.

    Parameters
    ----------
    instance
        The instance.
    time_limit_s
        Wall-clock budget (seconds) for the whole call, model building included.
    seed
        Seed of PyVRP's random number generator; the same seed and budget give the same search,
        though the result can still differ between runs because the budget is wall-clock time.
    objective
        ``"distance"`` (default): least total distance using at most ``vehicle_count``
        vehicles. ``"vehicles"``: fewest vehicles first, then least distance (the ordering of
        the published best-known solutions), searched in two phases. See the module
        docstring.

    Returns
    -------
    SolomonSolution
        Routes with customer numbers as in the file and the unrounded total distance.

    Raises
    ------
    ValueError
        If ``time_limit_s`` is not positive or ``objective`` is unknown.
    SolomonInfeasibleError
        If no feasible solution was found in the time limit, or the best one breaks a
        constraint when checked with the unrounded data.
    """
    started = time.perf_counter()
    if not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be positive, got {time_limit_s!r}")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    deadline = started + time_limit_s
    data = _problem_data(instance)
    initial: Solution | None = None
    with warnings.catch_warnings():
        # PyVRP warns when its penalties hit their bound (no feasible solution in sight); an
        # infeasible result is reported below with SolomonInfeasibleError instead.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        if objective == "vehicles":
            fleet = _search(
                _problem_data(instance, charge_vehicles=True),
                started + FLEET_SHARE * time_limit_s,
                seed,
            )
            if fleet.is_feasible():
                data = _problem_data(instance, vehicles=fleet.num_routes())
                initial = Solution(data, _client_visits(fleet))
        best = _search(data, deadline, seed, initial)
    if not best.is_feasible():
        raise SolomonInfeasibleError(
            f"{instance.name}: no feasible solution found in {time_limit_s:g} s "
            f"({best.num_missing_clients()} customers unplanned, time warp "
            f"{best.time_warp() / SCALE:g}, excess load {best.excess_load()})"
        )
    numbers = [customer.number for customer in instance.customers]
    routes = tuple(tuple(numbers[index] for index in visits) for visits in _client_visits(best))
    problems = route_violations(instance, routes)
    if problems:
        raise SolomonInfeasibleError(
            f"{instance.name}: best solution is infeasible: {'; '.join(problems)}"
        )
    return SolomonSolution(
        instance_name=instance.name,
        routes=routes,
        distance=route_distance(instance, routes),
        runtime_s=time.perf_counter() - started,
        objective=objective,
    )


def solution_as_json(solution: SolomonSolution) -> dict[str, object]:
    """Return the JSON form printed by ``visitmap solve``.

    Parameters
    ----------
    solution
        A solution from :func:`solve_solomon`.

    Returns
    -------
    dict
        Exactly the keys ``vehicles`` (int), ``distance`` (float, instance units, rounded to 6
        decimals) and ``routes`` (list of lists of customer numbers as in the file, depot
        excluded).
    """
    return {
        "vehicles": solution.vehicles,
        "distance": round(solution.distance, 6),
        "routes": [list(route) for route in solution.routes],
    }
