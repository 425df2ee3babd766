"""``visitmap teams`` (visit teams, members, dongs) and ``visitmap routes`` (daily plans)."""

from __future__ import annotations

import datetime as dt

import click

from visitmap.db_session import cli_session


def _fail(exc: Exception):
    raise click.ClickException(str(exc)) from exc


@click.group()
def teams() -> None:
    """Manage the visit teams: members, dongs and base."""


@teams.command("list")
def teams_list() -> None:
    """List the teams: id, name, base, dongs, active members."""
    from geo.teams import list_teams

    with cli_session() as session:
        rows = list_teams(session)
    if not rows:
        click.echo("no teams")
    for row in rows:
        click.echo(
            f"{row['team_id']}  {row['name']}  base {row['base_facility_id'] or '-'}  "
            f"dongs {','.join(row['area_codes']) or '-'}  "
            f"members {row['active_members']} active / {row['members']}"
        )


@teams.command("show")
@click.argument("team_id")
def teams_show(team_id: str) -> None:
    """Show one team with its dongs and members."""
    from geo.teams import get_team

    with cli_session() as session:
        team = get_team(session, team_id)
    if team is None:
        raise click.ClickException(f"team {team_id!r} does not exist")
    click.echo(f"{team['team_id']}  {team['name']}")
    click.echo(f"  base: {team['base_facility_id'] or '-'} {team['base_name'] or ''}".rstrip())
    for area in team["areas"]:
        click.echo(f"  dong: {area['code']} {area['name']}")
    for member in team["members"]:
        state = "" if member["active"] else " (inactive)"
        click.echo(
            f"  member: {member['member_id']} {member['name']} {member['role'] or ''}"
            f"{state}".rstrip()
        )


@teams.command("create")
@click.argument("team_id")
@click.option("--name", required=True, help="Team name, e.g. 연희동 찾아가는 복지팀.")
@click.option("--base", "base_facility_id", help="Base facility id (the community centre).")
@click.option("--area", "area_codes", multiple=True, help="Dong code (10 digits); repeatable.")
def teams_create(team_id, name, base_facility_id, area_codes) -> None:
    """Create team TEAM_ID."""
    from geo.teams import TeamError, create_team

    try:
        with cli_session() as session:
            team = create_team(
                session,
                team_id=team_id,
                name=name,
                base_facility_id=base_facility_id,
                area_codes=list(area_codes),
            )
    except TeamError as exc:
        _fail(exc)
    click.echo(f"created team {team['team_id']} ({len(team['areas'])} dongs)")


@teams.command("add-member")
@click.argument("team_id")
@click.argument("member_id")
@click.option("--name", required=True)
@click.option("--role", help="e.g. 복지통장, 방문간호사, 복지담당.")
def teams_add_member(team_id, member_id, name, role) -> None:
    """Add member MEMBER_ID (a visitor) to team TEAM_ID."""
    from geo.teams import TeamError, TeamNotFound, add_member

    try:
        with cli_session() as session:
            add_member(session, team_id, member_id=member_id, name=name, role=role)
    except (TeamError, TeamNotFound) as exc:
        _fail(exc)
    click.echo(f"added {member_id} to team {team_id}")


@teams.command("deactivate-member")
@click.argument("member_id")
@click.option("--activate", is_flag=True, help="Make the member active again instead.")
def teams_deactivate_member(member_id, activate) -> None:
    """Stop planning visits for MEMBER_ID (or start again with --activate)."""
    from geo.teams import TeamError, TeamNotFound, set_member_active

    try:
        with cli_session() as session:
            set_member_active(session, member_id, activate)
    except (TeamError, TeamNotFound) as exc:
        _fail(exc)
    click.echo(f"{member_id} {'active' if activate else 'inactive'}")


@teams.command("assign")
@click.argument("team_id")
@click.argument("area_codes", nargs=-1, required=True)
@click.option("--replace", is_flag=True, help="The team covers exactly these dongs.")
def teams_assign(team_id, area_codes, replace) -> None:
    """Assign dongs (10-digit codes) to team TEAM_ID."""
    from geo.teams import TeamError, TeamNotFound, assign_areas

    try:
        with cli_session() as session:
            team = assign_areas(session, team_id, list(area_codes), replace=replace)
    except (TeamError, TeamNotFound) as exc:
        _fail(exc)
    click.echo(f"team {team_id} covers {', '.join(a['code'] for a in team['areas'])}")


@click.group()
def routes() -> None:
    """Plan the teams' daily visits."""


@routes.command("plan")
@click.option("--team", "team_id", default=None, help="Team id (or --all-teams).")
@click.option("--all-teams", is_flag=True, help="Every team: the whole district's day (issue 15).")
@click.option(
    "--solver-seconds",
    default=None,
    type=click.FloatRange(min=0.5),
    help="With --all-teams: the solver's time for the whole district, split between the "
    "teams [20].",
)
@click.option(
    "--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Day (YYYY-MM-DD)."
)
@click.option("--time-limit", default=3.0, show_default=True, type=float, help="Seconds.")
@click.option("--mode", default="foot", show_default=True, type=click.Choice(["foot", "car"]))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--start", "day_start", default=None, help="Working day start HH:MM [09:00].")
@click.option("--end", "day_end", default=None, help="Working day end HH:MM [18:00].")
@click.option(
    "--break", "break_", default=None, help="Lunch break HH:MM-HH:MM or none [12:00-13:00]."
)
@click.option(
    "--service-minutes",
    default=None,
    help="Minutes per visit by tier, e.g. high=40,medium=30,low=20 (the defaults).",
)
@click.option("--speed-kmh", default=None, type=float, help="Speed [foot 4, car 20].")
@click.option("--detour", "detour_factor", default=None, type=float,
              help="Detour factor over the straight line [foot 1.3, car 1.4].")  # fmt: skip
@click.option("--by", "created_by", default=None, help="Who plans (default: $USER).")
def routes_plan(
    team_id, all_teams, solver_seconds, day, time_limit, mode, seed, day_start, day_end, break_,
    service_minutes, speed_kmh, detour_factor, created_by,
) -> None:  # fmt: skip
    """Plan the --team's visits on --date, store the plan (a new version) and summarise it.

    Candidates are the team's residents who are due or overdue on the day in the latest
    score run. Values in [brackets] are the defaults; the settings used are stored with the
    plan. With --all-teams every team is planned (a new version each), the solver's time
    shared between them, and every due high-tier resident is accounted for: placed, or why
    not (docs/route_planning.md).
    """
    if (team_id is None) == (not all_teams):
        raise click.UsageError("give --team T or --all-teams (one of them)")
    if solver_seconds is not None and not all_teams:
        raise click.UsageError("--solver-seconds goes with --all-teams")
    import getpass

    from geo.scope import Scope
    from geo.teams import TeamNotFound
    from routing.plan import PlanningError
    from routing.settings_input import SettingsInputError, plan_settings_from
    from visitmap.usecases.planning import PlanRequestError, plan_summary_lines, plan_team_day

    fields = {
        "time_limit_seconds": time_limit,
        "travel_mode": mode,
        "seed": seed,
        "day_start": day_start,
        "day_end": day_end,
        "service_minutes": service_minutes,
        "speed_kmh": speed_kmh,
        "detour_factor": detour_factor,
    }
    if break_ is not None:
        fields["break"] = break_
    try:
        settings = plan_settings_from(fields)
    except SettingsInputError as exc:
        option = {
            "day_start": "--start",
            "day_end": "--end",
            "break": "--break",
            "service_minutes": "--service-minutes",
            "speed_kmh": "--speed-kmh",
            "detour_factor": "--detour",
            "time_limit_seconds": "--time-limit",
        }.get(exc.field, f"--{exc.field}")
        raise click.BadParameter(exc.message, param_hint=option) from exc
    if all_teams:
        from visitmap.usecases.district_day import (
            DISTRICT_SOLVER_SECONDS,
            district_summary_lines,
            plan_district_day,
        )

        def progress(part) -> None:
            state = f"{part.stored.plan.visits} visits" if part.stored else "not planned"
            click.echo(f"  {part.team_id}: {state}, {part.seconds:.1f} s", err=True)

        try:
            with cli_session() as session:
                result = plan_district_day(
                    session,
                    Scope.everything(),
                    day.date() if isinstance(day, dt.datetime) else day,
                    created_by=created_by or getpass.getuser(),
                    settings=settings,
                    solver_seconds=solver_seconds or DISTRICT_SOLVER_SECONDS,
                    progress=progress,
                )
        except PlanRequestError as exc:
            _fail(exc)
        for line in district_summary_lines(result):
            click.echo(line)
        return
    try:
        with cli_session() as session:
            stored = plan_team_day(
                session,
                Scope.everything(),
                team_id,
                day.date() if isinstance(day, dt.datetime) else day,
                created_by=created_by or getpass.getuser(),
                settings=settings,
            )
    except (TeamNotFound, PlanRequestError, PlanningError) as exc:
        _fail(exc)
    for line in plan_summary_lines(stored):
        click.echo(line)
