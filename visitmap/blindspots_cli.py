"""``visitmap blindspots``: welfare blind spots (복지사각지대), issue 14.

``visitmap blindspots hotspots`` prints the risk hot spots (Getis-Ord Gi*, docs/hotspots.md)
of a score run (default: the published run); ``--refresh`` computes and stores them first.
Other commands of the group (the combined blind-spot list) are attached by the lead.
"""

from __future__ import annotations

import csv
import sys

import click

from visitmap.vocab import HOTSPOT_CLUSTERS, HOTSPOT_UNITS

_CSV_COLUMNS = (
    "cell", "area_code", "residents", "high", "value", "z", "p_sim", "q_value", "cluster",
)  # fmt: skip


@click.group()
def blindspots() -> None:
    """Welfare blind spots (복지사각지대): risk hot spots and the people they miss."""


@blindspots.command("hotspots")
@click.option("--run", "run_id", type=int, help="Score run id (default: the published run).")
@click.option(
    "--unit", type=click.Choice(list(HOTSPOT_UNITS)), default="h3_9", show_default=True,
    help="H3 resolution-9 cells or dongs (행정동).",
)  # fmt: skip
@click.option("--refresh", is_flag=True, help="Compute and store the hot spots first.")
@click.option(
    "--format", "output", type=click.Choice(["table", "csv"]), default="table",
    show_default=True, help="Hot and cold units as a table, or every unit as CSV.",
)  # fmt: skip
@click.option("--permutations", type=int, default=None, help="Permutations (default 999).")
def hotspots(run_id, unit, refresh, output, permutations) -> None:
    """Print the risk hot spots (위험 밀집 지역) of a score run."""
    from blindspots.hotspots import HotspotParams
    from geo.db import make_engine, session_scope
    from geo.hotspots import compute_hotspots
    from geo.scope import Scope
    from geo.settings import load_settings
    from visitmap.errors import VisitmapError
    from visitmap.usecases.hotspots import hotspot_cells

    params = HotspotParams() if permutations is None else HotspotParams(permutations=permutations)
    engine = make_engine(load_settings().database_url)
    try:
        with session_scope(engine) as session:
            try:
                if refresh:
                    done = compute_hotspots(session, run_id=run_id, unit=unit, params=params)
                    click.echo(
                        f"run {done.run_id} {unit}: {done.cells} units, {done.hot} hot, "
                        f"{done.cold} cold in {done.seconds:.2f} s",
                        err=True,
                    )
                rows = hotspot_cells(session, Scope.everything(), run_id=run_id, unit=unit)
            except VisitmapError as error:
                field = getattr(error, "field", None) or "run"
                raise click.BadParameter(str(error), param_hint=f"--{field}") from error
    finally:
        engine.dispose()
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for r in rows.itertuples(index=False):
            writer.writerow(["" if getattr(r, c) is None else getattr(r, c) for c in _CSV_COLUMNS])
        return
    if rows.empty:
        click.echo("no hot spot stored (저장된 핫스팟 없음); --refresh computes them")
        return
    shown = rows[rows.cluster != "none"].sort_values("z", ascending=False)
    click.echo(f"{'cluster':8} {'cell':16} {'dong':10} {'res':>5} {'high':>5} {'share':>6} "
               f"{'z':>6} {'q':>6}")  # fmt: skip
    for r in shown.itertuples(index=False):
        click.echo(
            f"{r.cluster:8} {r.cell:16} {r.area_code:10} {r.residents:5d} {r.high:5d} "
            f"{r.value:6.1%} {r.z:6.2f} {r.q_value:6.3f}"
        )
    counts = rows.cluster.value_counts()
    click.echo(
        f"{len(rows)} units: "
        + ", ".join(f"{counts.get(k, 0)} {k} ({HOTSPOT_CLUSTERS[k][0]})" for k in HOTSPOT_CLUSTERS)
    )
