"""The generic VRPTW entry point: Solomon files, PyVRP solving, feasibility checks, `solve` CLI."""

from __future__ import annotations

import csv
import itertools
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from routing.solomon import (
    OBJECTIVES,
    SolomonFormatError,
    SolomonInfeasibleError,
    parse_solomon,
    read_solomon,
    route_distance,
    route_violations,
    solution_as_json,
    solve_solomon,
)
from visitmap.solve_cli import OBJECTIVE_CHOICES, solve

ROOT = Path(__file__).resolve().parents[2]
SOLOMON = ROOT / "data" / "solomon"
CAPACITIES = {"C1": 200, "C2": 700, "R1": 200, "R2": 1000, "RC1": 200, "RC2": 1000}


def instance_text(vehicles: int, capacity: int, rows: list[tuple], name: str = "TINY") -> str:
    """A Solomon-format file; rows are (number, x, y, demand, ready, due, service), depot first."""
    lines = [
        name,
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        f"  {vehicles}         {capacity}",
        "",
        "CUSTOMER",
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME",
        " ",
    ]
    lines += ["".join(f"{value:>10}" for value in row) for row in rows]
    return "\n".join(lines) + "\n"


# Depot at the origin; customer 3 (0, 10) opens at 100, after 7 (10, 0) and 9 (-6, 4) close at
# 50, so 3 comes last on its route. Enumerating every solution: the best is 0-7-9-3-0 =
# 10 + sqrt(272) + sqrt(72) + 10 = 44.98, the next one 0-7-0 plus 0-9-3-0 = 45.70; without the
# windows 0-7-3-9-0 (39.84) would win.
FORCED_ORDER = instance_text(
    3,
    10,
    [
        (0, 0, 0, 0, 0, 1000, 0),
        (7, 10, 0, 1, 0, 50, 0),
        (3, 0, 10, 1, 100, 1000, 0),
        (9, -6, 4, 1, 0, 50, 0),
    ],
)
FORCED_ORDER_DISTANCE = 20 + math.sqrt(272) + math.sqrt(72)

# Two customers whose demands (6 + 6) exceed one vehicle's capacity (10): two out-and-back
# routes of 20 each.
CAPACITY_SPLIT = instance_text(
    2, 10, [(0, 0, 0, 0, 0, 1000, 0), (1, 10, 0, 6, 0, 1000, 0), (2, 0, 10, 6, 0, 1000, 0)]
)


@pytest.fixture
def forced(tmp_path: Path):
    path = tmp_path / "forced.txt"
    path.write_text(FORCED_ORDER)
    return path


def test_reads_a_real_instance():
    instance = read_solomon(SOLOMON / "C101.txt")

    assert instance.name == "C101"
    assert (instance.vehicle_count, instance.capacity) == (25, 200)
    depot = instance.depot
    assert (depot.number, depot.x, depot.y, depot.demand) == (0, 40, 50, 0)
    assert (depot.ready, depot.due, depot.service) == (0, 1236, 0)
    assert len(instance.customers) == 100
    first = instance.customers[0]
    assert (first.number, first.x, first.y, first.demand) == (1, 45, 68, 10)
    assert (first.ready, first.due, first.service) == (912, 967, 90)
    assert instance.customer(100).due == 726


def test_every_shipped_instance_parses_and_has_a_best_known_row():
    with open(SOLOMON / "best_known.csv", newline="", encoding="utf-8") as fh:
        best_known = {row["instance"]: row for row in csv.DictReader(fh)}
    files = sorted(SOLOMON.glob("*.txt"))

    assert len(files) == 56
    assert {path.stem for path in files} == set(best_known)
    for path in files:
        instance = read_solomon(path)
        assert instance.name == path.stem
        assert [c.number for c in instance.customers] == list(range(1, 101))
        assert instance.vehicle_count == 25
        assert instance.capacity == CAPACITIES[path.stem[:-2]]
        assert int(best_known[path.stem]["vehicles"]) <= instance.vehicle_count


def _replace_line(text: str, line: int, new: str) -> str:
    lines = text.split("\n")
    lines[line - 1] = new
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("change", "line", "field"),
    [
        (lambda t: "", 1, "name"),
        (lambda t: t.replace("VEHICLE", "VEHICLES"), 3, "VEHICLE heading"),
        (lambda t: t.replace("  3         10", "  3         ten"), 5, "vehicle capacity"),
        (lambda t: t.replace("  3         10", "  3"), 5, "vehicle number"),
        (lambda t: _replace_line(t, 11, "7 10 0 1 0 soon 0"), 11, "due date"),
        (lambda t: _replace_line(t, 11, "7 10 0 1 0 50"), 11, "customer row"),
        (lambda t: _replace_line(t, 11, "7 10 0 1 60 50 0"), 11, "due date"),
        (lambda t: _replace_line(t, 12, "7 0 10 1 100 1000 0"), 12, "customer number"),
        (lambda t: _replace_line(t, 12, "3 0 10 11 100 1000 0"), 12, "demand"),
        (lambda t: _replace_line(t, 12, "3 0 10 1.5 100 1000 0"), 12, "demand"),
        (lambda t: t.split("CUSTOMER")[0], 6, "CUSTOMER heading"),
    ],
)
def test_malformed_files_name_the_line_and_field(tmp_path: Path, change, line, field):
    path = tmp_path / "bad.txt"
    path.write_text(change(FORCED_ORDER))

    with pytest.raises(SolomonFormatError) as info:
        read_solomon(path)

    error = info.value
    assert isinstance(error, ValueError)
    assert (error.line, error.field) == (line, field)
    assert str(error).startswith(f"{path}, line {line}, {field}: ")


def test_the_forced_order_optimum_by_enumeration():
    instance = parse_solomon(FORCED_ORDER)
    costs = {}
    for order in itertools.permutations([7, 3, 9]):
        for cuts in itertools.product([False, True], repeat=2):
            routes, route = [], [order[0]]
            for number, cut in zip(order[1:], cuts, strict=True):
                if cut:
                    routes.append(route)
                    route = []
                route.append(number)
            routes.append(route)
            if not route_violations(instance, routes):
                costs[tuple(sorted(map(tuple, routes)))] = route_distance(instance, routes)

    ranked = sorted(costs.items(), key=lambda item: item[1])
    assert ranked[0] == (((7, 9, 3),), pytest.approx(FORCED_ORDER_DISTANCE))
    assert ranked[1][1] > FORCED_ORDER_DISTANCE + 0.5


def test_a_window_forces_the_order_and_the_optimum_is_found(forced: Path):
    instance = read_solomon(forced)

    solution = solve_solomon(instance, time_limit_s=0.3)

    assert solution.routes == ((7, 9, 3),)
    assert solution.vehicles == 1
    assert solution.distance == pytest.approx(FORCED_ORDER_DISTANCE, abs=1e-9)
    assert solution_as_json(solution) == {
        "vehicles": 1,
        "distance": round(FORCED_ORDER_DISTANCE, 6),
        "routes": [[7, 9, 3]],
    }


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_capacity_splits_the_customers_over_two_vehicles(objective):
    instance = parse_solomon(CAPACITY_SPLIT)

    solution = solve_solomon(instance, time_limit_s=0.3, objective=objective)

    assert sorted(solution.routes) == [(1,), (2,)]
    assert solution.distance == pytest.approx(40.0)
    assert solution.objective == objective


def test_route_violations_checks_against_the_unrounded_data():
    instance = parse_solomon(FORCED_ORDER)

    assert route_violations(instance, [[7, 9, 3]]) == []
    assert route_violations(instance, [[9, 7, 3]]) == []  # feasible, just longer
    assert route_distance(instance, [[9, 7, 3]]) == pytest.approx(
        math.sqrt(52) + math.sqrt(272) + math.sqrt(200) + 10
    )
    late = route_violations(instance, [[3, 7, 9]])
    assert "route 1: service at customer 7 starts at 114.1421, after its due date 50" in late
    assert route_violations(instance, [[7, 9]]) == ["customers not visited: [3]"]
    assert route_violations(instance, [[7, 9, 3], [9]]) == ["customers visited more than once: [9]"]
    assert route_violations(instance, [[7, 9, 3, 5]]) == [
        "route 1: customer 5 is not in the instance"
    ]
    split = parse_solomon(CAPACITY_SPLIT)
    assert route_violations(split, [[1, 2]]) == ["route 1: load 12 exceeds the capacity 10"]
    assert route_violations(split, [[1], [2], []]) == []
    one_vehicle = parse_solomon(CAPACITY_SPLIT.replace("  2         10", "  1         10"))
    assert route_violations(one_vehicle, [[1], [2]]) == ["2 routes, but at most 1 vehicles"]


def test_the_return_to_the_depot_is_checked():
    instance = parse_solomon(
        instance_text(1, 10, [(0, 0, 0, 0, 0, 25, 0), (1, 10, 0, 1, 0, 20, 10)])
    )

    assert route_violations(instance, [[1]]) == [
        "route 1: back at the depot at 30.0000, after its due date 25"
    ]
    with pytest.raises(SolomonInfeasibleError, match="TINY: no feasible solution"):
        solve_solomon(instance, time_limit_s=0.2)


def test_a_real_instance_is_solved_feasibly_in_a_second():
    instance = read_solomon(SOLOMON / "R101.txt")

    solution = solve_solomon(instance, time_limit_s=1.0, seed=3)

    assert route_violations(instance, solution.routes) == []
    assert sorted(n for route in solution.routes for n in route) == list(range(1, 101))
    assert solution.vehicles <= 25
    assert solution.distance == pytest.approx(route_distance(instance, solution.routes))
    # Best known 1650.80 with 19 vehicles (least distance with 20 or more is about 1643).
    assert 1600 < solution.distance < 1.1 * 1650.80
    assert solution.runtime_s < 2.0


def test_bad_arguments_are_refused(forced: Path):
    instance = read_solomon(forced)

    with pytest.raises(ValueError, match="time_limit_s must be positive"):
        solve_solomon(instance, time_limit_s=0)
    with pytest.raises(ValueError, match="objective must be one of"):
        solve_solomon(instance, time_limit_s=1, objective="cost")  # type: ignore[arg-type]


def test_cli_prints_the_solution_as_json(forced: Path):
    result = CliRunner().invoke(solve, [str(forced), "--time-limit", "0.3", "--seed", "2"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert list(payload) == ["vehicles", "distance", "routes"]
    assert payload["vehicles"] == len(payload["routes"]) == 1
    assert payload["routes"] == [[7, 9, 3]]
    assert payload["distance"] == pytest.approx(FORCED_ORDER_DISTANCE)


def test_cli_reports_a_malformed_file(tmp_path: Path):
    path = tmp_path / "bad.txt"
    path.write_text(_replace_line(FORCED_ORDER, 11, "7 10 0 1 0 soon 0"))

    result = CliRunner().invoke(solve, [str(path)])

    assert result.exit_code == 1
    assert f"{path}, line 11, due date: expected a number, found 'soon'" in result.output


def test_cli_objectives_match_the_solver():
    assert OBJECTIVE_CHOICES == OBJECTIVES


def test_visitmap_solve_is_registered_on_the_main_command():
    import json

    from click.testing import CliRunner

    from visitmap.cli import main

    result = CliRunner().invoke(
        main, ["solve", "data/solomon/C101.txt", "--time-limit", "0.5"], catch_exceptions=False
    )
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert set(answer) == {"vehicles", "distance", "routes"}
    assert sorted(c for route in answer["routes"] for c in route) == list(range(1, 101))
