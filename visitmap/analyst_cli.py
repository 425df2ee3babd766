"""``visitmap export analyst``: files for analysts, without residents' personal data.

The pseudonymised per-resident file and the suppressed counts (:mod:`geo.analyst_export`,
docs/analysts.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from visitmap.db_session import cli_session


@click.group()
def export() -> None:
    """Export data for people who may not see residents' personal data."""


@export.command("analyst")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Residents file.")
@click.option("--aggregates", type=click.Path(path_type=Path), help="Counts per dong and tier.")
@click.option("--by-age", is_flag=True, help="Count per age band too.")
@click.option("--run", "run_id", type=int, help="Score run (default: the published run).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
def analyst(out: Path, aggregates: Path | None, by_age: bool, run_id: int | None, fmt: str):
    """Write the scored residents under a keyed pseudonym, and optionally their counts.

    The --out file has one row per resident of the score run, under a keyed pseudonym (no
    name, address, registration number, exact birth date, coordinate or note). The
    --aggregates file counts them per dong and tier (and age band with --by-age), with every
    count from 1 to 4 suppressed.
    """
    from geo.analyst_export import (
        ExportError,
        analyst_aggregates,
        analyst_residents,
        load_pseudonym_key,
    )
    from geo.scope import Scope
    from geo.settings import load_settings, today_in_seoul

    settings = load_settings()
    try:
        key = load_pseudonym_key(settings.var_dir)
        with cli_session() as session:
            rows = analyst_residents(session, Scope.everything(), pseudonym_key=key, run_id=run_id)
            counts = (
                analyst_aggregates(
                    session,
                    Scope.everything(),
                    run_id=run_id,
                    by_age=by_age,
                    as_of_year=today_in_seoul().year,
                )
                if aggregates
                else None
            )
    except ExportError as exc:
        raise click.ClickException(f"--{exc.parameter}: {exc.message}") from None
    for frame, path in ((rows, out), (counts, aggregates)):
        if frame is None:
            continue
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, encoding="utf-8")
    click.echo(f"{len(rows)} residents -> {out}")
    if counts is not None:
        click.echo(f"{len(counts)} rows of counts -> {aggregates}")
