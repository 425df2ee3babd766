"""``visitmap support``: the shared support warnings and the linkage of resident rows.

``visitmap support warnings`` prints the stored warnings (docs/support_warnings.md), one row
each with its level, kind, dong, resident and records; ``--refresh`` computes them all first
(and stores them, replacing the table). ``visitmap support link`` links resident rows into
persons and stores the links.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys

import click

from visitmap.vocab import WARNING_KINDS, WARNING_LEVELS

_TABLE_COLUMNS = ("level", "kind", "area", "resident", "records", "providers", "since")
_CSV_COLUMNS = (
    "level",
    "kind",
    "area",
    "area_name",
    "resident",
    "household",
    "records",
    "providers",
    "minor_category",
    "since",
    "need",
    "sponsorship",
    "detail",
)


def _engine():
    from geo.db import make_engine
    from geo.settings import load_settings

    return make_engine(load_settings().database_url)


def _today(value: str | None) -> dt.date:
    from geo.settings import today_in_seoul

    if value is None:
        return today_in_seoul()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--today"
        ) from error


@click.group()
def support() -> None:
    """Shared support records: warnings (중복·누락 경고) and linked residents."""


@support.command("warnings")
@click.option("--area", help="Only this dong (its 10-digit code, e.g. 1141052000).")
@click.option("--level", type=click.Choice(sorted(WARNING_LEVELS)), help="Only this level.")
@click.option("--kind", type=click.Choice(list(WARNING_KINDS)), help="Only this kind.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv"]),
    default="table",
    show_default=True,
    help="A table for people, CSV (every column) for programs.",
)
@click.option("--refresh", is_flag=True, help="Compute and store all warnings first.")
@click.option("--today", help="The day to compute for with --refresh (default: today, Seoul).")
def warnings(area, level, kind, output, refresh, today) -> None:
    """Print the stored warnings: level, kind, dong, resident, records (one row each)."""
    from geo.db import session_scope
    from geo.support_warnings import compute_all, list_warnings
    from visitmap.errors import VisitmapError

    day = _today(today)
    engine = _engine()
    try:
        if refresh:
            with session_scope(engine) as session:
                done = compute_all(session, day)
            took = sum(done.seconds.values())
            click.echo(
                f"computed {done.total} warning(s) for {day} in {took:.2f} s "
                f"({done.links} linked resident rows)",
                err=True,
            )
        with session_scope(engine) as session:
            try:
                rows = list_warnings(session, area=area, level=level, kind=kind)
            except VisitmapError as error:
                field = getattr(error, "field", None) or "area"
                raise click.BadParameter(str(error), param_hint=f"--{field}") from error
    finally:
        engine.dispose()
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for row in rows.itertuples(index=False):
            writer.writerow(
                ["" if v is None else v for v in (getattr(row, c) for c in _CSV_COLUMNS)]
            )
        return
    if rows.empty:
        click.echo("no warning stored (경고 없음); --refresh computes them")
        return
    cells = [
        [
            WARNING_LEVELS[r.level][0] + f" {r.level}",
            r.kind,
            f"{r.area_name} {r.area}",
            r.resident or (f"household {r.household}" if r.household else "-"),
            r.records or (r.need and f"need {r.need}") or (r.sponsorship or "-"),
            r.providers or "-",
            str(r.since or "-"),
        ]
        for r in rows.itertuples(index=False)
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(_TABLE_COLUMNS)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(_TABLE_COLUMNS, widths, strict=True)))
    for cell in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip())
    counts = rows["level"].value_counts()
    summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in WARNING_LEVELS if counts.get(k, 0))
    click.echo(f"{len(rows)} warning(s): {summary}")


@support.command("link")
def link() -> None:
    """Link resident rows that are one person (same rrn HMAC, or name + birth year + address)."""
    from geo.db import session_scope
    from geo.support_warnings import refresh_links

    engine = _engine()
    try:
        with session_scope(engine) as session:
            linked = refresh_links(session)
    finally:
        engine.dispose()
    click.echo(f"{linked} resident row(s) linked into persons (resident_links replaced)")
