"""``visitmap runs``: list the score runs, and publish one (docs/publishing.md)."""

from __future__ import annotations

import click

from visitmap.db_session import cli_session


@click.group()
def runs() -> None:
    """List score runs and publish one (docs/publishing.md).

    A run is stored as a draft; the map, the planner, the field pages, the visit rescoring
    and the analysts' export use the published run.
    """


@runs.command("list")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 500), help="Newest runs."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def runs_list(limit: int, as_json: bool) -> None:
    """Print the newest runs: id, created, method, config version, as of, tiers, published."""
    import datetime as dt
    import json

    from geo.mapdata.queries import list_runs
    from geo.settings import SEOUL

    def korean(stamp: str) -> str:
        return dt.datetime.fromisoformat(stamp).astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")

    with cli_session() as session:
        rows = list_runs(session, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no score run yet (run `visitmap score`)")
        return
    click.echo(
        f"{'id':>5}  {'created (KST)':<16}  {'method':<8}  {'config':<14}  {'as of':<10}  "
        f"{'high':>6} {'medium':>7} {'low':>7}  published"
    )
    for row in rows:
        tiers = row["tier_counts"] or {}
        if row["is_current"]:
            state = f"PUBLISHED {korean(row['published_at'])} by {row['published_by']}"
        elif row["is_published"]:
            state = f"earlier ({korean(row['published_at'])} by {row['published_by']})"
        else:
            state = "draft"
        click.echo(
            f"{row['id']:>5}  {korean(row['created_at']):<16}  "
            f"{row['method']:<8}  {row['config_version'] or '-':<14}  {row['as_of']:<10}  "
            f"{tiers.get('high', 0):>6} {tiers.get('medium', 0):>7} {tiers.get('low', 0):>7}  "
            f"{state}"
        )


@runs.command("publish")
@click.argument("run_id", type=click.IntRange(min=1))
@click.option("--by", "published_by", default=None, help="Who publishes it (default: $USER).")
def runs_publish(run_id: int, published_by: str | None) -> None:
    """Publish run RUN_ID: the map, the planner and the field pages use it from now on.

    Publishing the published run changes nothing; publishing an earlier run puts it back.
    Residents visited since the run was stored are rescored in it first.
    """
    import getpass

    from geo.settings import load_settings
    from visitmap.errors import NotFound
    from visitmap.usecases.scoring_runs import publish_score_run

    try:
        with cli_session() as session:
            result = publish_score_run(
                session,
                run_id,
                by=published_by or getpass.getuser(),
                follow_up=load_settings().follow_up(),
            )
    except NotFound as exc:
        raise click.ClickException(str(exc)) from exc
    publication = result.publication
    if not publication.changed:
        click.echo(f"score run {run_id} is the published run already; nothing changed")
        return
    click.echo(
        f"published score run {run_id} (was: {publication.previous_run_id or 'none'}); "
        f"{result.caught_up} resident(s) rescored with visits recorded since it was stored"
    )


@runs.command("tiles")
@click.option("--rebuild", is_flag=True, help="Write the layer again even when it exists.")
def runs_tiles(rebuild: bool) -> None:
    """Write the published run's tile layer unless it has one (issue 15, docs/tiles.md).

    Publishing a run writes its layer; this is for a database whose run was published before
    the layer existed (``make demo`` runs it). Without a layer the resident tiles are made from
    the full join, much slower.
    """
    import time

    from geo.mapdata.tile_points import build_tile_points, has_tile_points
    from geo.score_runs import published_run_id

    with cli_session() as session:
        run_id = published_run_id(session)
        if run_id is None:
            raise click.ClickException(
                "no published run: publish one first (visitmap runs publish)"
            )
        if has_tile_points(session, run_id) and not rebuild:
            click.echo(f"run {run_id} has its tile layer")
            return
        started = time.perf_counter()
        points = build_tile_points(session, run_id)
    click.echo(
        f"run {run_id}: tile layer written, {points:,} points in "
        f"{time.perf_counter() - started:.1f} s"
    )
