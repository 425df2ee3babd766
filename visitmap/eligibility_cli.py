"""``visitmap eligibility``: benefit pre-screening (issue 14, docs/eligibility.md).

``visitmap eligibility screen`` prints, per household likely eligible and not receiving, the
programme and the rule that decided it; ``--refresh`` screens every household first and
stores the results; ``--format csv`` prints every column for programs; ``--summary`` prints
the counts per dong and programme instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys

import click

_CSV_COLUMNS = (
    "area_code",
    "area_name",
    "resident_id",
    "household_size",
    "programme",
    "reason_ko",
    "reason_en",
    "screened_on",
)


def _date(value: str | None) -> dt.date:
    from geo.settings import today_in_seoul

    if value is None:
        return today_in_seoul()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of"
        ) from error


@click.group()
def eligibility() -> None:
    """Benefit pre-screening (수급 가능성 사전 발굴)."""


@eligibility.command("screen")
@click.option("--area", help="Only this dong (its 10-digit code, e.g. 1141052000).")
@click.option("--programme", help="Only this programme (a catalogue code, e.g. basic_pension).")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv"]),
    default="table",
    show_default=True,
)
@click.option("--refresh", is_flag=True, help="Screen every household and store the results first.")
@click.option("--summary", "as_summary", is_flag=True, help="Counts per dong and programme.")
@click.option("--as-of", help="The day to screen for with --refresh (default: today, Seoul).")
@click.option("--limit", default=100_000, show_default=True, help="At most this many rows.")
def screen(area, programme, output, refresh, as_summary, as_of, limit) -> None:
    """Print who is likely eligible and not receiving, with the deciding rule."""
    from geo.db import make_engine, session_scope
    from geo.scope import Scope
    from geo.settings import load_settings
    from visitmap.errors import VisitmapError
    from visitmap.usecases.eligibility import refresh as refresh_all
    from visitmap.usecases.eligibility import summary, unreached

    day = _date(as_of)
    engine = make_engine(load_settings().database_url)
    try:
        if refresh:
            with session_scope(engine) as session:
                done = refresh_all(session, as_of=day)
            click.echo(
                f"screened {done.households} household(s) for {day} with {done.catalogue_version}: "
                f"{done.rows} row(s) stored, {done.unreached_households} household(s) likely "
                "eligible and not receiving",
                err=True,
            )
        scope = Scope.of_areas([area]) if area else Scope.everything()
        with session_scope(engine) as session:
            try:
                if as_summary:
                    rows = summary(session, scope)
                else:
                    rows = unreached(
                        session, scope, area_code=area, programme=programme, limit=limit
                    )
            except VisitmapError as error:
                field = getattr(error, "field", None) or "area"
                raise click.BadParameter(str(error), param_hint=f"--{field}") from error
    finally:
        engine.dispose()
    columns = list(rows.columns) if as_summary else list(_CSV_COLUMNS)
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows[columns].itertuples(index=False):
            writer.writerow(["" if v is None else v for v in row])
        return
    if rows.empty:
        click.echo("nobody found (해당 없음); --refresh screens the households first")
        return
    shown = rows[columns if as_summary else ["area_name", "resident_id", "programme", "reason_ko"]]
    click.echo(shown.to_string(index=False))
