"""Plan every team of a district for one day, and account for every due high-tier resident.

Issue 15: one command (``visitmap routes plan --all-teams --date D``) and one page
(``/routes/district``) plan each team in the caller's scope as
:func:`visitmap.usecases.planning.plan_team_day` does (a new stored version per team), in one
process, giving the solver ``solver_seconds`` for the whole district split evenly between the
teams (at most each team's own time limit, at least :data:`MIN_TEAM_SECONDS`). Then every
high-tier resident due on the day in the published run is either placed in a team's plan or its
drop is explained: the planner's reason (day full, no room in the time window ...), the team
that could not be planned and why, or no team covers the resident's dong.

The same accounting is made again from the teams' newest stored plans for a day
(:func:`stored_outcomes`), so the page can show it after a redirect, and later, when visits have
moved who is due.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.scope import Scope
from geo.score_runs import published_run_id
from routing.day_problem import DropReason
from routing.plan import PlanSettings
from routing.plan_settings import DEFAULT_SETTINGS
from visitmap.usecases.planning import PlanRequestError, StoredDayPlan, plan_team_day

#: The solver's time for a whole district by default (seconds, shared by its teams).
DISTRICT_SOLVER_SECONDS = 20.0
#: Each team gets at least this much solver time, however many teams there are.
MIN_TEAM_SECONDS = 0.5

#: Why a due high-tier resident is in no plan when the planner did not say: (Korean, English).
NO_TEAM = ("담당 팀이 없는 동", "no team covers the dong")
TEAM_FAILED = ("팀 계획 불가", "the team could not be planned")
#: ... when the accounting is made from stored plans (:func:`stored_outcomes`).
NO_PLAN = ("이날 팀 계획 없음", "the team has no plan for the day")
NOT_IN_PLAN = (
    "팀 계획에 없음(계획 뒤 방문 대상이 됨)",
    "not in the team's plan (due since it was made)",
)


@dataclass(frozen=True)
class HighTierOutcome:
    """What became of one due high-tier resident: placed with a team, or dropped and why."""

    resident_id: str
    area_code: str
    team_id: str | None
    placed: bool
    reason_ko: str | None = None
    reason_en: str | None = None


@dataclass(frozen=True)
class TeamDay:
    """One team's part of the district's day: its stored plan, or why it has none."""

    team_id: str
    team_name: str
    stored: StoredDayPlan | None
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class DistrictDay:
    """The district's day: the teams' plans and every due high-tier resident's outcome."""

    day: dt.date
    run_id: int
    solver_seconds_per_team: float
    teams: list[TeamDay]
    high_tier: list[HighTierOutcome]
    seconds: float

    @property
    def visits(self) -> int:
        """Visits planned, all teams."""
        return sum(t.stored.plan.visits for t in self.teams if t.stored is not None)

    @property
    def placed(self) -> int:
        """Due high-tier residents placed in a plan."""
        return sum(o.placed for o in self.high_tier)

    def dropped_by_reason(self) -> list[tuple[str, str, int]]:
        """(Korean, English, residents) per reason a due high-tier resident is in no plan."""
        counts = Counter((o.reason_ko, o.reason_en) for o in self.high_tier if not o.placed)
        return [(ko, en, n) for (ko, en), n in counts.most_common()]


def district_teams(session: Session, scope: Scope) -> list[tuple[str, str]]:
    """Return (external id, name) of the teams whose dongs are all in ``scope``, by id.

    A plan is a team's plan for everyone, so only a caller who sees all of a team's
    residents plans it (as :func:`visitmap.usecases.planning.check_scope_covers_team`).
    """
    rows = session.execute(
        text("""SELECT t.external_id, t.name, array_agg(a.code) AS codes FROM visit_teams t
        JOIN team_areas ta ON ta.team_id = t.id JOIN areas a ON a.id = ta.area_id
        GROUP BY t.id ORDER BY t.external_id""")
    ).all()
    return [
        (row.external_id, row.name)
        for row in rows
        if scope.area_codes is None or set(row.codes) <= scope.area_codes
    ]


def _due_high_tier(session: Session, scope: Scope, run_id: int, day: dt.date) -> list:
    """Return the high-tier residents due on ``day`` in run ``run_id`` and scope, with teams."""
    scope_sql, scope_params = scope.sql("a.code")
    return session.execute(
        text(f"""
        SELECT r.external_id AS resident_id, a.code AS area_code,
               (SELECT array_agg(t.external_id ORDER BY t.external_id) FROM team_areas ta
                JOIN visit_teams t ON t.id = ta.team_id WHERE ta.area_id = a.id) AS teams
        FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = h.area_id
        WHERE s.run_id = :run AND s.tier = 2 AND s.next_due_on <= :day
          AND r.status = 'active'{scope_sql}
        ORDER BY r.external_id"""),
        {"run": run_id, "day": day} | scope_params,
    ).all()


def plan_district_day(
    session: Session,
    scope: Scope,
    day: dt.date,
    *,
    created_by: str,
    settings: PlanSettings = DEFAULT_SETTINGS,
    solver_seconds: float = DISTRICT_SOLVER_SECONDS,
    progress=None,
) -> DistrictDay:
    """Plan every team in ``scope`` for ``day`` and store the plans; the caller commits.

    Parameters
    ----------
    session : Session
        The caller's transaction; each team's plan is stored in it (a team that cannot be
        planned is rolled back to its savepoint and reported).
    scope : Scope
        The caller's scope: the teams whose dongs it covers are planned, and its due
        high-tier residents are accounted for.
    day : date
        The day.
    created_by : str
        Who plans (stored with each plan).
    settings : PlanSettings, optional
        The teams' settings; the solver's time limit of each team is
        ``solver_seconds / teams``, at most ``settings.time_limit_seconds``, at least
        :data:`MIN_TEAM_SECONDS`.
    solver_seconds : float, optional
        The solver's time for the whole district.
    progress : callable, optional
        Called with each :class:`TeamDay` as it is done.

    Returns
    -------
    DistrictDay

    Raises
    ------
    PlanRequestError
        Nothing is published yet (``kind="no_run"``), or no team is in scope.
    """
    started = time.perf_counter()
    run_id = published_run_id(session)
    if run_id is None:
        raise PlanRequestError(
            "run", "no score run yet (run `visitmap score` first)", kind="no_run"
        )
    teams = district_teams(session, scope)
    if not teams:
        raise PlanRequestError("team", "no team has all its dongs in your areas", kind="scope")
    per_team = max(MIN_TEAM_SECONDS, min(settings.time_limit_seconds, solver_seconds / len(teams)))
    team_settings = dataclasses.replace(settings, time_limit_seconds=per_team)
    done: list[TeamDay] = []
    for team_id, name in teams:
        began = time.perf_counter()
        try:
            with session.begin_nested():
                stored = plan_team_day(
                    session, scope, team_id, day, created_by=created_by, settings=team_settings,
                    run_id=run_id,
                )  # fmt: skip
            part = TeamDay(team_id, name, stored, time.perf_counter() - began)
        except PlanRequestError as exc:
            part = TeamDay(team_id, name, None, time.perf_counter() - began, error=exc.message)
        done.append(part)
        if progress is not None:
            progress(part)
    outcomes = _outcomes(_due_high_tier(session, scope, run_id, day), done)
    return DistrictDay(day, run_id, per_team, done, outcomes, time.perf_counter() - started)


def _outcomes(due, teams: list[TeamDay]) -> list[HighTierOutcome]:
    """Each due high-tier resident's outcome from the teams' plans (module docstring)."""
    placed: dict[str, str] = {}
    dropped: dict[str, tuple[str, str, str]] = {}
    failed = {t.team_id: t.error for t in teams if t.stored is None}
    for team in teams:
        if team.stored is None:
            continue
        for route in team.stored.plan.routes:
            for stop in route.stops:
                placed.setdefault(stop.resident_id, team.team_id)
        for visit in team.stored.plan.dropped:
            reason = visit.reason
            dropped.setdefault(
                visit.resident_id, (team.team_id, reason.message_ko, reason.message_en)
            )

    def why_not(covering: list[str]) -> tuple[str, str, str]:
        team_id = next((t for t in covering if t in failed), covering[0])
        return _not_ours(team_id, failed.get(team_id))

    return _resolve(due, placed, dropped, why_not)


def stored_outcomes(
    session: Session, scope: Scope, day: dt.date, plans: dict[str, dict | None]
) -> list[HighTierOutcome] | None:
    """Each due high-tier resident's outcome from the teams' newest stored plans for ``day``.

    Parameters
    ----------
    session : Session
        A read transaction.
    scope : Scope
        The caller's scope: its residents due on ``day`` in the published run are accounted for.
    day : date
        The day.
    plans : dict
        Each team of the district (external id) with its newest plan for the day as
        :func:`geo.route_plans.load_plan` returns it, or None when it has none.

    Returns
    -------
    list of HighTierOutcome, or None
        None when nothing is published. A resident in no plan: the planner's reason if a plan
        dropped them; no team for the dong; their team has no plan for the day; or their team's
        plan was made before they were due.
    """
    run_id = published_run_id(session)
    if run_id is None:
        return None
    placed: dict[str, str] = {}
    dropped: dict[str, tuple[str, str, str]] = {}
    for team_id, plan in plans.items():
        if plan is None:
            continue
        for route in plan["routes"]:
            for stop in route["stops"]:
                placed.setdefault(stop["resident_id"], team_id)
        for drop in plan["dropped"]:
            reason = DropReason(drop["reason"])
            dropped.setdefault(drop["resident_id"], (team_id, reason.message_ko, reason.message_en))

    def why_not(covering: list[str]) -> tuple[str, str, str]:
        ours = [t for t in covering if t in plans]
        if not ours:
            return _not_ours(covering[0])
        team_id = next((t for t in ours if plans[t] is None), ours[0])
        return (team_id, *NO_PLAN) if plans[team_id] is None else (team_id, *NOT_IN_PLAN)

    return _resolve(_due_high_tier(session, scope, run_id, day), placed, dropped, why_not)


def _not_ours(team_id: str, why: str | None = None) -> tuple[str, str, str]:
    """(team, Korean, English): the team could not be planned, or is not the caller's to plan."""
    why = why or "not in the district's teams"
    return team_id, f"{TEAM_FAILED[0]}: {why}", f"{TEAM_FAILED[1]}: {why}"


def _resolve(due, placed: dict, dropped: dict, why_not) -> list[HighTierOutcome]:
    """Each due resident: placed with a team, dropped with the planner's reason, or why not."""
    outcomes = []
    for row in due:
        rid, code, covering = row.resident_id, row.area_code, list(row.teams or [])
        if rid in placed:
            outcomes.append(HighTierOutcome(rid, code, placed[rid], True))
        elif rid in dropped:
            team_id, ko, en = dropped[rid]
            outcomes.append(HighTierOutcome(rid, code, team_id, False, ko, en))
        elif not covering:
            outcomes.append(HighTierOutcome(rid, code, None, False, *NO_TEAM))
        else:
            team_id, ko, en = why_not(covering)
            outcomes.append(HighTierOutcome(rid, code, team_id, False, ko, en))
    return outcomes


def district_summary_lines(result: DistrictDay) -> list[str]:
    """Return the command line's summary: a line per team, then the district and the drops."""
    lines = []
    for team in result.teams:
        if team.stored is None:
            lines.append(f"{team.team_id} {team.team_name}: not planned: {team.error}")
            continue
        plan = team.stored.plan
        stops = [s for r in plan.routes for s in r.stops]
        lines.append(
            f"{team.team_id} {team.team_name}: plan {team.stored.plan_id} v{team.stored.version}, "
            f"{plan.visits} visits of {team.stored.candidates} due "
            f"(high {sum(s.tier == 2 for s in stops)}), {team.seconds:.1f} s"
        )
    lines.append(
        f"district {result.day}: {len(result.teams)} teams, {result.visits} visits, "
        f"{result.solver_seconds_per_team:.2f} s solver per team, {result.seconds:.1f} s in all"
    )
    lines.append(
        f"high tier due: {len(result.high_tier)}, placed {result.placed}, "
        f"not placed {len(result.high_tier) - result.placed}"
    )
    for ko, en, n in result.dropped_by_reason():
        lines.append(f"  {n} {ko} ({en})")
    return lines
