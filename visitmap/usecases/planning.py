"""Plan a team's day: read the team and its due residents, plan, store the plan.

The team and its residents come from the data layer (:mod:`geo`), the plan from the planning
core (:func:`routing.plan.plan_day`). Candidates are the team's residents (in its dongs; the
caller's scope must cover them all) who are due or overdue on the day in the latest score
run (or the run given); visitors are the team's active members; the base is the team's base
facility. Planning the same team and day again stores a new version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from geo.route_plans import store_plan, team_candidates
from geo.scope import Scope
from geo.score_runs import published_run_id
from geo.teams import TeamNotFound, active_members, team_record
from routing.day_problem import first_start, start_windows
from routing.plan import DayPlan, DroppedVisit, DropReason, PlanSettings, plan_day
from routing.plan_settings import DEFAULT_SETTINGS
from routing.travel import project_lonlat
from visitmap.errors import FieldError, Forbidden


class PlanRequestError(FieldError):
    """The team cannot be planned as it stands, or a setting is invalid (HTTP 400).

    As it stands: no base, no active member, nothing scored. ``field`` names the offending
    field and ``kind`` says what is wrong, for translated messages (:data:`PLAN_ERROR_KINDS`).
    """

    def __init__(self, field: str, message: str, *, kind: str = "invalid"):
        super().__init__(message, field=field)
        self.kind = kind


class PlanScopeError(Forbidden, PlanRequestError):
    """The caller's scope does not cover all of the team's dongs (HTTP 403).

    A plan is the team's plan for everyone, so it may only be made by someone who sees all
    its residents.
    """


#: ``PlanRequestError.kind`` values: no base facility, no active member, no score run, the
#: caller's scope does not cover the team, an invalid setting.
PLAN_ERROR_KINDS = ("no_base", "no_member", "no_run", "scope", "invalid")


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
    settings: PlanSettings = DEFAULT_SETTINGS


def _team_for_planning(session: Session, team_id: str) -> dict:
    team = team_record(session, team_id)
    if team is None:
        raise TeamNotFound(f"team {team_id!r} does not exist")
    if team["base_facility_pk"] is None:
        raise PlanRequestError("team", f"team {team_id!r} has no base facility", kind="no_base")
    return team


def check_scope_covers_team(scope: Scope, team_id: str, area_codes) -> None:
    """Raise :class:`PlanScopeError` unless ``scope`` covers every dong in ``area_codes``.

    ``area_codes`` are the team's dong codes; ``team_id`` only names the team in the message.
    """
    outside = sorted(code for code in area_codes if not scope.allows(code))
    if outside:
        raise PlanScopeError(
            "team",
            f"your areas do not cover all dongs of team {team_id!r} (not {', '.join(outside)}): "
            "a plan is the whole team's plan",
            kind="scope",
        )


def settings_record(settings: PlanSettings) -> dict:
    """Return the settings as JSON-ready values (times as ``HH:MM``), as stored with a plan."""
    return {
        key: value.strftime("%H:%M") if isinstance(value, dt.time) else value
        for key, value in dataclasses.asdict(settings).items()
    }


#: Candidates handed to the planner that could each be visited alone (the most urgent ones;
#: see :func:`plan_capped`). A day holds 10-15 visits per visitor, and preparing 2,000
#: candidates alone takes seconds.
MAX_CANDIDATES = 400


def visitable_alone(
    base: tuple[float, float], candidates: pd.DataFrame, settings: PlanSettings
) -> np.ndarray:
    """Return which candidates one visitor could visit on their own.

    A candidate is visitable alone when a visitor can go from the base and back within the
    working hours, visiting inside the candidate's availability window: the planner's own
    "too far" and "window unreachable" checks, against the base only (linear in the
    candidates). A candidate not due yet (``days_overdue`` below 0) is never visitable.

    Parameters
    ----------
    base : tuple of float
        The base's ``(lon, lat)``, degrees.
    candidates : pandas.DataFrame
        Columns ``lon``, ``lat`` (degrees), ``tier``, ``days_overdue`` (days),
        ``available_from`` and ``available_until`` (times of day, ``HH:MM`` text, or null).
    settings : PlanSettings
        Working hours, break, service minutes, travel speed and detour factor.

    Returns
    -------
    numpy.ndarray of bool
        One value per candidate, in order.
    """
    lons = np.concatenate([[base[0]], candidates["lon"].to_numpy(dtype=float)])
    lats = np.concatenate([[base[1]], candidates["lat"].to_numpy(dtype=float)])
    x, y = project_lonlat(lons, lats)
    straight = np.hypot(x[1:] - x[0], y[1:] - y[0])
    travelled = straight * settings.travel_detour_factor
    seconds = np.maximum(
        np.ceil(travelled / (settings.travel_speed_kmh / 3.6) - 1e-6).astype(np.int64), 0
    )
    end = settings.working_seconds
    fits = np.zeros(len(candidates), dtype=bool)
    rows = zip(
        candidates["tier"],
        candidates["available_from"],
        candidates["available_until"],
        seconds.tolist(),
        strict=True,
    )
    for i, (tier, available_from, available_until, travel) in enumerate(rows):
        service = settings.service_seconds(int(tier))
        available = None
        has_from = available_from is not None and not pd.isna(available_from)
        has_until = available_until is not None and not pd.isna(available_until)
        if isinstance(available_from, str):
            available_from = dt.time.fromisoformat(available_from)
        if isinstance(available_until, str):
            available_until = dt.time.fromisoformat(available_until)
        if has_from or has_until:
            available = (
                settings.to_working_clock(available_from) if has_from else 0,
                settings.to_working_clock(available_until) if has_until else end,
            )
        windows = start_windows(settings, service, available)
        start = first_start(windows, travel)
        fits[i] = start is not None and start + service + travel <= end
    return fits & (candidates["days_overdue"].to_numpy() >= 0)  # not due: never planned


def team_capacity(visitors: int, settings: PlanSettings) -> int:
    """Return an upper bound on the visits ``visitors`` visitors can make in a day.

    Every visit takes at least the shortest service time, so a visitor makes at most the
    working time (the break left out) divided by it.
    """
    shortest = min(settings.service_seconds(tier) for tier in range(3))
    return visitors * (settings.working_seconds // shortest)


def plan_capped(
    base: tuple[float, float],
    visitors: list[str],
    candidates: pd.DataFrame,
    *,
    settings: PlanSettings,
    max_candidates: int = MAX_CANDIDATES,
) -> DayPlan:
    """Plan the day with :func:`~routing.plan.plan_day` once, over the most urgent candidates.

    ``candidates`` come sorted most urgent first (as :func:`geo.route_plans.team_candidates`
    returns them, with the ``state`` the planner ranks by). The head handed to the planner is
    the shortest prefix of ``candidates`` holding ``max(max_candidates, capacity + 1)``
    candidates that could each be visited alone (:func:`visitable_alone`; ``capacity`` is
    :func:`team_capacity`); when there are not so many, every candidate is handed to the
    planner. When candidates are left out, the head holds more visitable candidates than the
    team can possibly visit, so the day is full and every candidate left out ranks below every
    planned visit: they are reported as dropped ``day_full_lowest_priority``. Candidates that
    cannot be visited alone do not count towards the cap (they are dropped with their own reason
    when in the head), so a dong full of unreachable residents cannot starve the plan.
    """
    columns = ["resident_id", "lon", "lat", "tier", "days_overdue"]
    columns += ["state"] if "state" in candidates.columns else []
    table = candidates[columns].assign(
        available_from=candidates["available_from"],
        available_until=candidates["available_until"],
    )
    wanted = max(max_candidates, team_capacity(len(visitors), settings) + 1)
    if len(table) <= wanted:
        return plan_day(base, visitors, table, settings=settings)
    fits = visitable_alone(base, table, settings)
    reached = np.flatnonzero(np.cumsum(fits) >= wanted)
    if not len(reached) or reached[0] + 1 == len(table):
        return plan_day(base, visitors, table, settings=settings)
    head, rest = table.iloc[: reached[0] + 1], table.iloc[reached[0] + 1 :]
    plan = plan_day(base, visitors, head, settings=settings)
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
    session : Session
        The caller's transaction; the plan is stored in it.
    scope : Scope
        The caller's scope; it must cover all of the team's dongs (PlanScopeError), since
        the stored plan becomes the team's plan for everyone.
    team_id : str
        The team's external id.
    day : date
        The day to plan.
    created_by : str
        Who asked for the plan (stored with it).
    settings : PlanSettings, optional
        Working hours, service minutes and travel (default: the defaults); stored with the
        plan.
    run_id : int, optional
        Score run whose tiers and due dates are used (default: the latest).

    Returns
    -------
    StoredDayPlan
        The stored plan's id and version, with the planner's result.

    Raises
    ------
    TeamNotFound
        Unknown team.
    PlanRequestError
        No base facility, no active member, or nothing scored yet; PlanScopeError when the
        scope does not cover all of the team's dongs.
    """
    team = _team_for_planning(session, team_id)
    check_scope_covers_team(scope, team_id, team["area_codes"])
    members = active_members(session, team["id"])
    if not members:
        raise PlanRequestError("team", f"team {team_id!r} has no active member", kind="no_member")
    run_id = run_id if run_id is not None else published_run_id(session)
    if run_id is None:
        raise PlanRequestError(
            "run", "no score run yet (run `visitmap score` first)", kind="no_run"
        )
    candidates = team_candidates(session, scope, team_pk=team["id"], run_id=run_id, day=day)
    base = (float(team["base_lon"]), float(team["base_lat"]))
    plan = plan_capped(base, [m["external_id"] for m in members], candidates, settings=settings)
    pk_of_resident = dict(zip(candidates["resident_id"], candidates["resident_pk"], strict=True))
    pk_of_member = {m["external_id"]: m["id"] for m in members}
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
        base_facility_pk=team["base_facility_pk"],
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
        visitors={m["external_id"]: m["name"] for m in members},
        settings=settings,
    )


def plan_summary_lines(stored: StoredDayPlan) -> list[str]:
    """Return a readable summary of a stored plan for the command line, one line per item.

    The plan's totals and settings; per visitor the stops, the km travelled and the times
    of leaving and coming back to the base; the dropped visits by reason (Korean and
    English), the most frequent reason first.
    """
    plan = stored.plan
    lines = [
        f"plan {stored.plan_id} (team {stored.team_id}, {stored.plan_date}, "
        f"version {stored.version}, score run {stored.run_id}): "
        f"{plan.visits} visits of {stored.candidates} due candidates, "
        f"{plan.planning_seconds:.1f} s"
    ]
    s = stored.settings
    pause = f"{s.break_start:%H:%M}-{s.break_end:%H:%M}" if s.break_start else "none"
    lines.append(
        f"  settings: {s.day_start:%H:%M}-{s.day_end:%H:%M}, break {pause}, service "
        f"high {s.service_minutes_by_tier[2]} / medium {s.service_minutes_by_tier[1]} / low "
        f"{s.service_minutes_by_tier[0]} min, {s.travel_mode} {s.travel_speed_kmh:g} km/h "
        f"x{s.travel_detour_factor:g}"
    )
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
