"""A team's day planned from the database and stored: the glue between :mod:`geo` (teams,
score runs, stored plans) and the planning core :func:`routing.plan.plan_day`.

Candidates are the team's residents (in its dongs and in the caller's scope) who are due or
overdue on the day in the latest score run; visitors are the team's active members; the base
is the team's base facility. Planning the same team and day again stores a new version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.route_plans import store_plan, team_candidates
from geo.scope import Scope
from geo.score_runs import latest_run_id
from geo.teams import TeamNotFound
from routing.plan import DayPlan, DroppedVisit, DropReason, PlanSettings, plan_day
from routing.plan_settings import DEFAULT_SETTINGS


class PlanRequestError(ValueError):
    """The team cannot be planned as it stands (no base, no active member, nothing scored);
    ``field`` names what is missing (HTTP 400)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class StoredDayPlan:
    """A planned and stored day: the database ids and the planner's result.

    ``visitors`` maps the planner's visitor labels (member external ids) to member names.
    """

    plan_id: int
    version: int
    team_id: str
    plan_date: dt.date
    run_id: int
    candidates: int
    plan: DayPlan
    visitors: dict[str, str]


def _team_for_planning(session: Session, team_id: str) -> dict:
    team = (
        session.execute(
            text("""SELECT t.id, t.name, t.base_facility_id, ST_X(f.geom) AS lon,
                           ST_Y(f.geom) AS lat
                    FROM visit_teams t LEFT JOIN facilities f ON f.id = t.base_facility_id
                    WHERE t.external_id = :t"""),
            {"t": team_id},
        )
        .mappings()
        .one_or_none()
    )
    if team is None:
        raise TeamNotFound(f"team {team_id!r} does not exist")
    if team["base_facility_id"] is None:
        raise PlanRequestError("team", f"team {team_id!r} has no base facility")
    return dict(team)


def settings_record(settings: PlanSettings) -> dict:
    """The settings as JSON-ready values (times as ``HH:MM``), stored with each plan."""
    return {
        key: value.strftime("%H:%M") if isinstance(value, dt.time) else value
        for key, value in dataclasses.asdict(settings).items()
    }


#: Most candidates handed to the planner (the most urgent ones; see :func:`plan_capped`). A
#: day holds 10-15 visits per visitor, and preparing 2,000 candidates alone takes seconds.
MAX_CANDIDATES = 400
_DAY_FULL = {DropReason.DAY_FULL_LOWEST_PRIORITY, DropReason.DAY_FULL_NO_ROOM}


def plan_capped(
    base: tuple[float, float],
    visitors: list[str],
    candidates: pd.DataFrame,
    *,
    settings: PlanSettings,
    max_candidates: int = MAX_CANDIDATES,
) -> DayPlan:
    """:func:`~routing.plan.plan_day` over the ``max_candidates`` most urgent candidates
    (``candidates`` sorted most urgent first).

    When that day is full (some candidate was dropped for lack of room), every candidate
    left out ranks at or below every planned visit, so it is reported as dropped
    ``day_full_lowest_priority``. Otherwise (a large team, or most candidates out of reach)
    all candidates are planned.
    """
    columns = ["resident_id", "lon", "lat", "tier", "days_overdue"]
    table = candidates[columns].assign(
        available_from=candidates["available_from"],
        available_until=candidates["available_until"],
    )
    if len(table) <= max_candidates:
        return plan_day(base, visitors, table, settings=settings)
    head, rest = table.iloc[:max_candidates], table.iloc[max_candidates:]
    plan = plan_day(base, visitors, head, settings=settings)
    if not any(visit.reason in _DAY_FULL for visit in plan.dropped):
        return plan_day(base, visitors, table, settings=settings)
    extra = tuple(
        DroppedVisit(
            resident_id=row.resident_id,
            tier=int(row.tier),
            days_overdue=int(row.days_overdue),
            reason=DropReason.DAY_FULL_LOWEST_PRIORITY,
        )
        for row in rest.itertuples(index=False)
    )
    return dataclasses.replace(plan, dropped=plan.dropped + extra)


def plan_team_day(
    session: Session,
    scope: Scope,
    team_id: str,
    day: dt.date,
    *,
    created_by: str,
    settings: PlanSettings = DEFAULT_SETTINGS,
    run_id: int | None = None,
) -> StoredDayPlan:
    """Plan a team's ``day`` and store it (a new version); the caller commits.

    Parameters
    ----------
    scope : Scope
        Only residents in the caller's scope are candidates.
    team_id : str
        The team's external id.
    run_id : int, optional
        Score run whose tiers and due dates are used (default: the latest).

    Raises
    ------
    TeamNotFound
        Unknown team.
    PlanRequestError
        No base facility, no active member, or nothing scored yet.
    """
    team = _team_for_planning(session, team_id)
    members = session.execute(
        text("""SELECT id, external_id, name FROM visit_team_members
                WHERE team_id = :t AND active ORDER BY external_id"""),
        {"t": team["id"]},
    ).all()
    if not members:
        raise PlanRequestError("team", f"team {team_id!r} has no active member")
    run_id = run_id if run_id is not None else latest_run_id(session)
    if run_id is None:
        raise PlanRequestError("run", "no score run yet (run `visitmap score` first)")
    candidates = team_candidates(session, scope, team_pk=team["id"], run_id=run_id, day=day)
    base = (float(team["lon"]), float(team["lat"]))
    plan = plan_capped(base, [m.external_id for m in members], candidates, settings=settings)
    pk_of_resident = dict(zip(candidates["resident_id"], candidates["resident_pk"], strict=True))
    pk_of_member = {m.external_id: m.id for m in members}
    routes = [
        {
            "member_pk": pk_of_member[route.visitor],
            "leave_base": route.leave_base,
            "back_at_base": route.back_at_base,
            "travel_metres": route.travel_metres,
            "travel_minutes": route.travel_minutes,
            "service_minutes": route.service_minutes,
            "wait_minutes": route.wait_minutes,
            "stops": [
                {
                    "resident_pk": int(pk_of_resident[stop.resident_id]),
                    "tier": stop.tier,
                    "days_overdue": stop.days_overdue,
                    "arrival": stop.arrival,
                    "start": stop.start,
                    "departure": stop.departure,
                    "travel_metres": stop.travel_metres,
                    "wait_minutes": stop.wait_minutes,
                }
                for stop in route.stops
            ],
        }
        for route in plan.routes
    ]
    drops = [
        {
            "resident_pk": int(pk_of_resident[visit.resident_id]),
            "tier": visit.tier,
            "days_overdue": visit.days_overdue,
            "reason": str(visit.reason),
        }
        for visit in plan.dropped
    ]
    plan_id, version = store_plan(
        session,
        team_pk=team["id"],
        plan_date=day,
        created_by=created_by,
        run_id=run_id,
        method=plan.method,
        settings=settings_record(settings),
        base_facility_pk=team["base_facility_id"],
        base_lonlat=base,
        candidates=len(candidates),
        planning_seconds=plan.planning_seconds,
        routes=routes,
        drops=drops,
    )
    return StoredDayPlan(
        plan_id=plan_id,
        version=version,
        team_id=team_id,
        plan_date=day,
        run_id=run_id,
        candidates=len(candidates),
        plan=plan,
        visitors={m.external_id: m.name for m in members},
    )


def plan_summary_lines(stored: StoredDayPlan) -> list[str]:
    """A readable summary for the command line: per visitor the stops, walking km and the
    time back at the base; the dropped visits by reason (Korean and English)."""
    plan = stored.plan
    lines = [
        f"plan {stored.plan_id} (team {stored.team_id}, {stored.plan_date}, "
        f"version {stored.version}, score run {stored.run_id}): "
        f"{plan.visits} visits of {stored.candidates} due candidates, "
        f"{plan.planning_seconds:.1f} s"
    ]
    for route in plan.routes:
        name = stored.visitors.get(route.visitor, route.visitor)
        if route.stops:
            lines.append(
                f"  {name} ({route.visitor}): {route.visits} stops, "
                f"{route.travel_metres / 1000:.1f} km, "
                f"{route.leave_base:%H:%M}-{route.back_at_base:%H:%M}"
            )
        else:
            lines.append(f"  {name} ({route.visitor}): no stops")
    lines.append(f"  dropped: {len(plan.dropped)}")
    for reason, n in sorted(plan.dropped_by_reason.items(), key=lambda item: -item[1]):
        lines.append(f"    {n} {reason.message_ko} ({reason.message_en})")
    return lines
