"""``visitmap blindspots``: hot spots and the blind-spot list (issue 14).

``visitmap blindspots hotspots --refresh`` analyses the published run (Gi* on H3 cells and
dongs, docs/hotspots.md) and stores it; without ``--refresh`` it prints the stored cells.
``visitmap blindspots refresh`` recomputes the blind-spot list and ``list`` prints it
(docs/blind_spots.md).
"""

from __future__ import annotations

import csv
import sys

import click


def _engine():
    from geo.db import make_engine
    from geo.settings import load_settings

    return make_engine(load_settings().database_url)


@click.group()
def blindspots() -> None:
    """Blind spots (복지사각지대): hot spots, coverage gaps and the combined list."""


@blindspots.command("hotspots")
@click.option("--run", "run_id", type=int, help="A score run (default: the published one).")
@click.option("--unit", type=click.Choice(["h3_9", "dong"]), default="h3_9", show_default=True)
@click.option("--refresh", is_flag=True, help="Analyse the run and store its cells first.")
@click.option("--all", "show_all", is_flag=True, help="Print every cell, not only hot and cold.")
@click.option("--format", "output", type=click.Choice(["table", "csv"]), default="table")
def hotspots(run_id, unit, refresh, show_all, output) -> None:
    """Print the run's hot and cold spots: cell, residents, high tier, z, q."""
    from geo.db import session_scope
    from geo.hotspots import hotspot_features
    from geo.scope import Scope
    from visitmap.errors import VisitmapError
    from visitmap.usecases.hotspots import refresh_hotspots, run_or_published

    engine = _engine()
    try:
        with session_scope(engine) as session:
            try:
                run = run_or_published(session, run_id)
                if refresh:
                    done = refresh_hotspots(session, run)
                    click.echo(
                        f"run {done.run_id}: "
                        + "; ".join(
                            f"{u} {done.cells[u]} cells, {done.hot[u]} hot, {done.cold[u]} cold"
                            for u in done.cells
                        )
                        + f" ({done.seconds:.1f} s)",
                        err=True,
                    )
                features = hotspot_features(
                    session, run, unit, Scope.everything(), only_significant=not show_all
                )
            except VisitmapError as error:
                raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()
    columns = ("cell", "area_code", "cluster", "residents", "high", "mean_score", "z", "q")
    rows = [[f["properties"][c] for c in columns] for f in features]
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return
    if not rows:
        click.echo("no hot or cold spot (유의한 밀집 없음)")
        return
    for row in [list(columns), *rows]:
        click.echo("  ".join(str(v) for v in row))


@blindspots.command("refresh")
@click.option("--as-of", help="The day to compute for (default: today, Seoul).")
@click.option("--run", "run_id", type=int, help="A score run (default: the published one).")
def refresh(as_of, run_id) -> None:
    """Compute the blind-spot list from the run, the screening and the hot spots; store it."""
    import datetime as dt

    from geo.db import session_scope
    from geo.settings import today_in_seoul
    from visitmap.errors import VisitmapError
    from visitmap.usecases.blind_spots import refresh_blind_spots

    day = dt.date.fromisoformat(as_of) if as_of else today_in_seoul()
    engine = _engine()
    try:
        with session_scope(engine) as session:
            try:
                done = refresh_blind_spots(session, as_of=day, run_id=run_id)
            except VisitmapError as error:
                raise click.ClickException(str(error)) from error
    finally:
        engine.dispose()
    reasons = ", ".join(f"{code} {n}" for code, n in done.by_reason.items())
    click.echo(
        f"run {done.run_id}, {day}: {done.people} of {done.residents} residents on the list "
        f"({reasons}) in {done.seconds:.1f} s"
    )


@blindspots.command("list")
@click.option("--area", help="Only this dong (its 10-digit code).")
@click.option(
    "--reason",
    type=click.Choice(["eligible_unreached", "hotspot", "far_from_help", "no_contact"]),
    help="Only people with this reason.",
)
@click.option("--limit", default=100_000, show_default=True)
@click.option("--format", "output", type=click.Choice(["table", "csv"]), default="table")
def list_(area, reason, limit, output) -> None:
    """Print the stored blind-spot list: resident, dong, tier, reasons and their facts."""
    import json

    from geo.blind_spots import people
    from geo.db import session_scope
    from geo.scope import Scope

    engine = _engine()
    try:
        with session_scope(engine) as session:
            rows = people(session, Scope.everything(), area_code=area, reason=reason, limit=limit)
    finally:
        engine.dispose()
    columns = ("resident_id", "area_code", "area_name", "tier", "reasons", "detail")
    cells = [
        [r["resident_id"], r["area_code"], r["area_name"], r["tier"], ";".join(r["reasons"]),
         json.dumps(r["detail"], ensure_ascii=False)]
        for r in rows
    ]  # fmt: skip
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(cells)
        return
    if not cells:
        click.echo("nobody on the list (해당 없음); `visitmap blindspots refresh` computes it")
        return
    for row in [list(columns), *cells]:
        click.echo("  ".join(str(v) for v in row))
