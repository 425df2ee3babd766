"""``visitmap visits``: the unreachable residents, and recording a visit from the shell."""

from __future__ import annotations

import json
import uuid

import click


@click.group()
def visits() -> None:
    """Record visits and list unreachable residents (docs/visits.md)."""


@visits.command("unreachable")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def unreachable(as_json: bool) -> None:
    """List residents marked unreachable: dong, tier, since, attempts, last attempt."""
    from geo.db import make_engine, session_scope
    from geo.scope import Scope
    from geo.score_runs import published_run_id
    from geo.settings import load_settings
    from geo.visit_scores import unreachable_residents

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            run_id = published_run_id(session)
            rows = unreachable_residents(session, Scope.everything(), run_id=run_id)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no resident is marked unreachable")
        return
    click.echo(f"{'resident':<14} {'dong':<12} {'tier':<7} {'since':<11} attempts  last attempt")
    for r in rows:
        click.echo(
            f"{r['resident_id']:<14} {r['area_name']:<12} {r['tier_name'] or '-':<7} "
            f"{r['unreachable_since']:<11} {r['attempts']:>8}  {r['last_attempt_on'] or '-'}"
        )
    click.echo(f"{len(rows)} resident(s)")


@visits.command("record")
@click.argument("resident")
@click.argument("outcome")
@click.option("--visitor", "visitor_name", help="Visitor's name (or --member).")
@click.option("--member", help="Team member's external id.")
@click.option("--at", "visited_at", help="Visit time, ISO 8601 (default now; Korean time).")
@click.option("--need", "needs", multiple=True, help="Need category found (repeatable).")
@click.option("--notes")
@click.option("--next", "next_visit_on", help="Next visit date (YYYY-MM-DD).")
@click.option("--key", "idempotency_key", help="Idempotency key (default: a new UUID).")
def record(
    resident,
    outcome,
    visitor_name,
    member,
    visited_at,
    needs,
    notes,
    next_visit_on,
    idempotency_key,
) -> None:
    """Record a visit to RESIDENT with OUTCOME, as the form does (one transaction)."""
    from geo.db import make_engine, session_scope
    from geo.scope import Scope
    from geo.settings import load_settings
    from geo.visits import VisitError
    from visitmap.usecases.visits import record_visit, visit_input_from_mapping

    settings = load_settings()
    values = {
        "resident": resident,
        "outcome": outcome,
        "visitor_name": visitor_name,
        "member": member,
        "visited_at": visited_at,
        "needs": list(needs),
        "notes": notes,
        "next_visit_on": next_visit_on,
        "idempotency_key": idempotency_key or str(uuid.uuid4()),
    }
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            summary = record_visit(
                session,
                Scope.everything(),
                visit_input_from_mapping(values),
                unreachable_after=settings.unreachable_after,
                retry_days=settings.unreachable_retry_days,
                attempt_gap_days=settings.attempt_gap_days,
            )
    except VisitError as error:
        for field, message in error.problems:
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from None
    finally:
        engine.dispose()
    verb = "already recorded" if summary["replayed"] else "recorded"
    click.echo(
        f"{verb} {summary['visit_id']}: next visit due {summary['next_due_on'] or '-'}"
        + (
            f", unreachable since {summary['unreachable_since']}"
            if summary["unreachable_since"]
            else ""
        )
    )
