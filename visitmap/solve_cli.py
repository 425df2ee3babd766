"""``visitmap solve``: solve a VRPTW instance in Solomon's text format and print JSON.

Registered on the ``visitmap`` group with ``main.add_command(solve)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

# Kept literal so that ``visitmap --help`` does not import PyVRP; a test checks it against
# routing.solomon.OBJECTIVES.
OBJECTIVE_CHOICES = ("distance", "vehicles")


@click.command("solve")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--time-limit",
    "time_limit",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Wall-clock budget in seconds, model building included.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed of the search.")
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVE_CHOICES),
    default="distance",
    show_default=True,
    help="distance: least distance with at most the file's fleet; "
    "vehicles: fewest vehicles first, then least distance.",
)
def solve(file: Path, time_limit: float, seed: int, objective: str) -> None:
    """Solve the VRPTW instance FILE (Solomon's text format) and print the best solution.

    Prints one line of JSON: {"vehicles": n, "distance": d, "routes": [[customer numbers in
    visiting order], ...]}, with customer numbers as in FILE and the depot left out. Distances
    are unrounded Euclidean; see docs/solver.md.
    """
    from routing.solomon import (
        SolomonFormatError,
        SolomonInfeasibleError,
        read_solomon,
        solution_as_json,
        solve_solomon,
    )

    try:
        instance = read_solomon(file)
    except SolomonFormatError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        solution = solve_solomon(instance, time_limit_s=time_limit, seed=seed, objective=objective)
    except SolomonInfeasibleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(solution_as_json(solution)))
