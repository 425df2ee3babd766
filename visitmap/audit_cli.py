"""``visitmap audit``: search the access audit, and prune rows past their retention."""

from __future__ import annotations

import click

from visitmap.db_session import cli_session


def _retention_days() -> int:
    """Return ``VISITMAP_AUDIT_RETENTION_DAYS`` as geo.settings reads it (at least 730)."""
    from geo.settings import load_settings

    return load_settings().audit_retention_days


@click.group()
def audit() -> None:
    """Search and prune the access audit (docs/audit.md).

    The audit records who was shown which residents' personal data: when, from which address
    and through which endpoint.
    """


@audit.command("search")
@click.option("--user", "username", help="User name, exactly (e.g. kim or token:NAME).")
@click.option("--resident", help="Resident: public id (e.g. R-0002268) or database id.")
@click.option("--since", help="From this date (YYYY-MM-DD, Korean day) or ISO time.")
@click.option("--until", help="Up to and including this date or ISO time.")
@click.option("--endpoint", help="Endpoint name, exactly (e.g. api.resident).")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(min=0),
    help="Newest rows to show; 0 = all.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv"]),
    default="table",
    show_default=True,
    help="csv: a header row, then one row per access (formula-safe cells).",
)
def audit_search(username, resident, since, until, endpoint, limit, output) -> None:
    """Print audit rows matching every filter given, newest first."""
    from geo.audit import AuditError, search_access
    from geo.settings import SEOUL
    from webmap.audit_export import audit_csv

    try:
        with cli_session() as session:
            rows = search_access(
                session,
                username=username,
                resident=resident,
                since=since,
                until=until,
                endpoint=endpoint,
                limit=limit or None,
            )
    except AuditError as exc:
        option = "--user" if exc.parameter == "username" else f"--{exc.parameter}"
        raise click.ClickException(f"{option}: {exc.message}") from exc
    if output == "csv":
        click.echo(audit_csv(rows).removeprefix("\ufeff"), nl=False)
        return
    if not rows:
        click.echo("no audit rows match")
        return
    for row in rows:
        residents = " ".join(row["resident_ids"][:10])
        more = len(row["resident_ids"]) - 10
        if more > 0:
            residents += f" (+{more})"
        click.echo(
            f"{row['at'].astimezone(SEOUL):%Y-%m-%d %H:%M:%S}  {row['username']}"
            f"{' (' + row['role'] + ')' if row['role'] else ''}  {row['address'] or '-'}  "
            f"{row['method'] or ''} {row['endpoint']} {row['status'] or '-'}  "
            f"residents {row['resident_count']}{': ' + residents if residents else ''}"
        )
    click.echo(f"{len(rows)} row(s)" + (f" (the newest {limit})" if len(rows) == limit else ""))


@audit.command("prune")
@click.option(
    "--older-than-days",
    required=True,
    type=int,
    help="Delete rows older than this many days (at least the retention).",
)
@click.option(
    "--retention-days",
    type=int,
    help="The retention (default VISITMAP_AUDIT_RETENTION_DAYS, at least 730).",
)
def audit_prune(older_than_days, retention_days) -> None:
    """Delete audit rows older than the retention; refuses anything younger."""
    from geo.audit import AuditError, prune_access

    retention = _retention_days() if retention_days is None else retention_days
    try:
        with cli_session() as session:
            deleted = prune_access(
                session, older_than_days=older_than_days, retention_days=retention
            )
    except AuditError as exc:
        option = "--" + exc.parameter.replace("_", "-")
        raise click.ClickException(f"{option}: {exc.message}") from exc
    click.echo(f"deleted {deleted} audit row(s) older than {older_than_days} days")
