"""Benchmark: the generic VRPTW solver on the 56 Solomon 100-customer instances, beside OR-Tools.

    .venv/bin/python bench/solomon_bench.py [--time-limit 5] [--instances C101,R2]
        [--solvers pyvrp,pyvrp-vehicles,ortools] [--csv results.csv]
    .venv/bin/python bench/solomon_bench.py --from-csv results.csv   # reprint saved runs
    .venv/bin/python bench/solomon_bench.py --tiny   # C101, pyvrp, 0.5 s: does it still run?

Each solver gets the same wall-clock budget per instance (model building included) and one
run per instance (seed 1), one instance after another. Solvers:

- ``pyvrp``: ``routing.solomon.solve_solomon`` as ``visitmap solve`` runs it (least distance
  with at most the instance's 25 vehicles);
- ``pyvrp-vehicles``: the same with ``objective="vehicles"`` (fewest vehicles first, the
  ordering of the best-known solutions);
- ``ortools``: Google OR-Tools routing (``pip install ortools``), guided local search from a
  parallel-cheapest-insertion start, on the same integer data (distances x1000 rounded, travel
  times x1000 rounded up) and the same objective as ``pyvrp`` (least distance, at most 25
  vehicles).

Every solution is checked with ``routing.solomon.route_violations`` (unrounded data) and its
distance recomputed with unrounded Euclidean distances. The gap is
``100 * (distance - best-known distance) / best-known distance``; the best-known solutions
(``data/solomon/best_known.csv``) minimise vehicles first, so a solver that uses more vehicles
can have a negative gap; the summary therefore also gives the mean gap over the instances where
a solver used exactly the best-known number of vehicles (like for like). Instances a solver
could not solve feasibly are listed and left out of its means.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from routing.solomon import (
    SCALE,
    SolomonInfeasibleError,
    SolomonInstance,
    read_solomon,
    route_distance,
    route_violations,
    solve_solomon,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "solomon"
SOLVERS = ("pyvrp", "pyvrp-vehicles", "ortools")
TINY = {"instances": "C101", "solvers": "pyvrp", "time_limit": 0.5}


@dataclass(frozen=True)
class Run:
    solver: str
    instance: str
    vehicles: int | None
    distance: float | None
    runtime_s: float
    problem: str = ""


def family(name: str) -> str:
    return name[:-2]


def load_best_known() -> dict[str, tuple[int, float]]:
    with open(DATA / "best_known.csv", newline="", encoding="utf-8") as fh:
        return {
            row["instance"]: (int(row["vehicles"]), float(row["distance"]))
            for row in csv.DictReader(fh)
        }


def run_pyvrp(
    instance: SolomonInstance, time_limit_s: float, objective: str
) -> tuple[list[list[int]], float]:
    started = time.perf_counter()
    solution = solve_solomon(instance, time_limit_s=time_limit_s, seed=1, objective=objective)
    return [list(route) for route in solution.routes], time.perf_counter() - started


def run_ortools(instance: SolomonInstance, time_limit_s: float) -> tuple[list[list[int]], float]:
    try:
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit("OR-Tools is not installed: .venv/bin/pip install ortools") from exc

    started = time.perf_counter()
    nodes = [instance.depot, *instance.customers]
    xy = np.array([(node.x, node.y) for node in nodes], dtype=float)
    exact = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1)) * SCALE
    distance = np.rint(exact).astype(np.int64)
    travel = np.ceil(exact - 1e-6).astype(np.int64)
    np.fill_diagonal(distance, 0)
    np.fill_diagonal(travel, 0)
    service = np.array([math.ceil(node.service * SCALE - 1e-6) for node in nodes], dtype=np.int64)
    transit = travel + service[:, None]  # time from the start of service at a to arrival at b
    ready = [math.ceil(node.ready * SCALE - 1e-6) for node in nodes]
    due = [math.floor(node.due * SCALE + 1e-6) for node in nodes]

    manager = pywrapcp.RoutingIndexManager(len(nodes), instance.vehicle_count, 0)
    model = pywrapcp.RoutingModel(manager)
    arc_cost = model.RegisterTransitMatrix(distance.tolist())
    model.SetArcCostEvaluatorOfAllVehicles(arc_cost)
    horizon = due[0]
    model.AddDimension(
        model.RegisterTransitMatrix(transit.tolist()), horizon, horizon, False, "Time"
    )
    time_dimension = model.GetDimensionOrDie("Time")
    for node in range(1, len(nodes)):
        time_dimension.CumulVar(manager.NodeToIndex(node)).SetRange(ready[node], due[node])
    for vehicle in range(instance.vehicle_count):
        time_dimension.CumulVar(model.Start(vehicle)).SetRange(ready[0], due[0])
        time_dimension.CumulVar(model.End(vehicle)).SetRange(ready[0], due[0])
    demand = model.RegisterUnaryTransitVector([node.demand for node in nodes])
    model.AddDimensionWithVehicleCapacity(
        demand, 0, [instance.capacity] * instance.vehicle_count, True, "Load"
    )

    params = pywrapcp.DefaultRoutingSearchParameters()
    # PATH_CHEAPEST_ARC (OR-Tools' usual default) finds no first solution in 5 s on tight-window
    # instances such as R101 and RC105; parallel cheapest insertion did on those tried.
    strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.first_solution_strategy = strategy
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    remaining_ms = max(1, int((time_limit_s - (time.perf_counter() - started)) * 1000))
    params.time_limit.FromMilliseconds(remaining_ms)
    assignment = model.SolveWithParameters(params)
    runtime = time.perf_counter() - started
    if assignment is None:
        raise SolomonInfeasibleError(f"{instance.name}: OR-Tools found no solution")
    routes = []
    for vehicle in range(instance.vehicle_count):
        index = assignment.Value(model.NextVar(model.Start(vehicle)))
        route = []
        while not model.IsEnd(index):
            route.append(nodes[manager.IndexToNode(index)].number)
            index = assignment.Value(model.NextVar(index))
        if route:
            routes.append(route)
    return routes, runtime


def run_one(solver: str, instance: SolomonInstance, time_limit_s: float) -> Run:
    runners: dict[str, Callable[[], tuple[list[list[int]], float]]] = {
        "pyvrp": lambda: run_pyvrp(instance, time_limit_s, "distance"),
        "pyvrp-vehicles": lambda: run_pyvrp(instance, time_limit_s, "vehicles"),
        "ortools": lambda: run_ortools(instance, time_limit_s),
    }
    started = time.perf_counter()
    try:
        routes, runtime = runners[solver]()
    except SolomonInfeasibleError as exc:
        return Run(solver, instance.name, None, None, time.perf_counter() - started, str(exc))
    problems = route_violations(instance, routes)
    if problems:
        return Run(solver, instance.name, None, None, runtime, "; ".join(problems))
    return Run(solver, instance.name, len(routes), route_distance(instance, routes), runtime)


def gap(run: Run, best: tuple[int, float]) -> float | None:
    if run.distance is None:
        return None
    return 100.0 * (run.distance - best[1]) / best[1]


def machine() -> str:
    versions = []
    for package in ("pyvrp", "ortools", "numpy"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs ({platform.processor() or 'unknown CPU'}), "
        f"Python {platform.python_version()}, " + ", ".join(versions)
    )


def print_table(
    solvers: list[str],
    names: list[str],
    runs: dict[tuple[str, str], Run],
    best_known: dict[str, tuple[int, float]],
) -> None:
    print(f"{'':<8} {'best-known':^16}" + "".join(f" | {solver:^24}" for solver in solvers))
    head = f"{'instance':<8} {'veh':>6} {'dist':>9}"
    head += f" | {'veh':>5} {'dist':>9} {'gap %':>8}" * len(solvers)
    print(head)
    print("-" * len(head))
    for name in names:
        best = best_known[name]
        line = f"{name:<8} {best[0]:>6} {best[1]:>9.2f}"
        for solver in solvers:
            run = runs[solver, name]
            if run.distance is None:
                line += f" | {'-':>5} {'failed':>9} {'':>8}"
            else:
                line += f" | {run.vehicles:>5} {run.distance:>9.2f} {gap(run, best):>+8.2f}"
        print(line)
    print()
    families = sorted({family(name) for name in names}, key=lambda f: (len(f), f))
    head = f"{'mean gap %':<15}" + "".join(f" {f:>7}" for f in families) + f" {'all':>7}"
    head += f" {'>BK veh':>8} {'=BK veh':>8} {'gap =veh':>9} {'<BK veh':>8} {'failed':>7}"
    head += f" {'mean s':>7}"
    print(head)
    print("-" * len(head))
    for solver in solvers:
        line = f"{solver:<15}"
        for group in [*families, None]:
            gaps = [
                gap(runs[solver, name], best_known[name])
                for name in names
                if group is None or family(name) == group
            ]
            gaps = [g for g in gaps if g is not None]
            line += f" {statistics.fmean(gaps):>+7.2f}" if gaps else f" {'-':>7}"
        done = [runs[solver, name] for name in names if runs[solver, name].vehicles is not None]
        more = sum(1 for run in done if run.vehicles > best_known[run.instance][0])
        fewer = sum(1 for run in done if run.vehicles < best_known[run.instance][0])
        same = [
            gap(run, best_known[run.instance])
            for run in done
            if run.vehicles == best_known[run.instance][0]
        ]
        same_gap = f"{statistics.fmean(same):>+9.2f}" if same else f"{'-':>9}"
        failed = len(names) - len(done)
        mean_s = statistics.fmean(runs[solver, name].runtime_s for name in names)
        line += f" {more:>8} {len(same):>8} {same_gap} {fewer:>8} {failed:>7} {mean_s:>7.2f}"
        print(line)
    for solver in solvers:
        for name in names:
            if runs[solver, name].problem:
                print(f"{solver} {name}: {runs[solver, name].problem}")


def print_saved(path: Path, best_known: dict[str, tuple[int, float]]) -> None:
    runs: dict[tuple[str, str], Run] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            runs[row["solver"], row["instance"]] = Run(
                row["solver"],
                row["instance"],
                int(row["vehicles"]) if row["vehicles"] else None,
                float(row["distance"]) if row["distance"] else None,
                float(row["runtime_s"]),
                row["problem"],
            )
    solvers = list(dict.fromkeys(solver for solver, _ in runs))
    names = [name for name in best_known if any((s, name) in runs for s in solvers)]
    print(f"# runs saved in {path}")
    print_table(solvers, names, runs, best_known)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument(
        "--solvers", default=",".join(SOLVERS), help=f"comma-separated, from {SOLVERS}"
    )
    parser.add_argument(
        "--instances",
        default="*",
        help="comma-separated names or patterns, e.g. C101,R2* (default all)",
    )
    parser.add_argument("--csv", type=Path, help="also write every run to this CSV file")
    parser.add_argument(
        "--from-csv", type=Path, help="print the tables of a run saved with --csv; solve nothing"
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="--instances {instances} --solvers {solvers} --time-limit {time_limit}".format(**TINY),
    )
    args = parser.parse_args()
    if args.tiny:
        vars(args).update(TINY)
    if args.from_csv:
        print_saved(args.from_csv, load_best_known())
        return
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    unknown = sorted(set(solvers) - set(SOLVERS))
    if unknown:
        parser.error(f"unknown solver(s) {unknown}; choose from {SOLVERS}")
    best_known = load_best_known()
    patterns = [p.strip().upper() for p in args.instances.split(",") if p.strip()]
    names = [
        name
        for name in best_known
        if any(
            fnmatch.fnmatchcase(name, p if any(c in p for c in "*?[") else p + "*")
            for p in patterns
        )
    ]
    if not names:
        parser.error(f"no instance matches {args.instances!r}")

    print(f"# machine: {machine()}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# {len(names)} instances x {len(solvers)} solvers x {args.time_limit:g} s", flush=True)
    instances = {name: read_solomon(DATA / f"{name}.txt") for name in names}
    runs: dict[tuple[str, str], Run] = {}
    for name in names:
        for solver in solvers:
            run = run_one(solver, instances[name], args.time_limit)
            runs[solver, name] = run
            shown = "failed" if run.distance is None else f"{run.vehicles:>3} {run.distance:9.2f}"
            print(
                f"  {solver:<15} {name:<6} {shown}  {run.runtime_s:5.2f} s",
                file=sys.stderr,
                flush=True,
            )
    print()
    print_table(solvers, names, runs, best_known)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                [
                    "solver",
                    "instance",
                    "vehicles",
                    "distance",
                    "runtime_s",
                    "bk_vehicles",
                    "bk_distance",
                    "gap_pct",
                    "problem",
                ]
            )
            for (solver, name), run in runs.items():
                best = best_known[name]
                g = gap(run, best)
                writer.writerow(
                    [
                        solver,
                        name,
                        run.vehicles if run.vehicles is not None else "",
                        f"{run.distance:.4f}" if run.distance is not None else "",
                        f"{run.runtime_s:.3f}",
                        best[0],
                        f"{best[1]:.2f}",
                        f"{g:.4f}" if g is not None else "",
                        run.problem,
                    ]
                )


if __name__ == "__main__":
    main()
