"""JSON API of the visit teams (``/api/teams``) and their day plans (``/api/routes``).

Views parse the request, call one function of :mod:`geo.teams`, :mod:`geo.route_plans` or
:mod:`visitmap.usecases.planning`, and serialise. Errors (:mod:`webmap.errors`): 400 ``{"error":
"invalid_parameter", "parameter", "message"}``, 403 ``forbidden`` (planning a team whose dongs
the caller's scope does not all cover), 404 ``not_found``, 409 ``conflict``; nothing is
written on error.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, request

from geo.route_plans import latest_plan_id, load_plan
from geo.teams import (
    TeamNotFound,
    add_member,
    assign_areas,
    create_team,
    get_team,
    list_teams,
    set_member_active,
)
from routing.plan import PlanningError
from routing.settings_input import FIELDS as SETTING_FIELDS
from routing.settings_input import plan_settings_from
from visitmap.errors import FieldError, NotFound
from visitmap.usecases.planning import plan_team_day
from webmap.access_log import plan_residents, shown
from webmap.auth import current_account
from webmap.db import get_session
from webmap.openapi import api_spec, responses
from webmap.pages import request_scope, team_in_reach
from webmap.route_export import plan_json
from webmap.schemas.requests import (
    MemberCreate,
    MemberUpdate,
    RoutePlanBody,
    RoutesQuery,
    TeamAreas,
    TeamCreate,
)
from webmap.schemas.responses import NewMember, Plan, Team, Teams

bp = Blueprint("teams_api", __name__, url_prefix="/api")


class BadRequest(FieldError):
    """A request parameter or body field is invalid (HTTP 400)."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message, field=parameter)
        self.parameter = parameter


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("body", "must be a JSON object")
    return body


def _check_codes(codes) -> None:
    """Refuse dong codes outside the caller's scope, unless the caller is an admin.

    A leader gives a team only dongs of their own. Anything but a list, and any code that is
    not a string, is left for the store to refuse.

    Raises
    ------
    BadRequest
        Naming ``area_codes`` and the dongs outside the caller's areas.
    """
    account = current_account()
    if account is None or account.has("admin") or not isinstance(codes, list):
        return
    scope = request_scope()
    outside = sorted(c for c in codes if isinstance(c, str) and not scope.allows(c))
    if outside:
        raise BadRequest("area_codes", f"outside your areas: {', '.join(outside)}")


def _date(raw, parameter: str = "date") -> dt.date:
    if not raw:
        raise BadRequest(parameter, "required: YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise BadRequest(parameter, f"must be a date YYYY-MM-DD, got {raw!r}") from None


def _team(team_id: str) -> dict:
    """Return the team if the caller may see it (:func:`webmap.pages.team_in_reach`), else 404."""
    team = get_team(get_session(), team_id)
    if team is None or not team_in_reach(team_id, [a["code"] for a in team["areas"]]):
        raise TeamNotFound(f"team {team_id!r} does not exist")
    return team


TEAM = {"team_id": "Team id, e.g. T-1141061500."}


@bp.get("/teams")
@api_spec.validate(resp=responses(Teams), tags=["teams"])
def teams():
    """Visit teams: base, dong codes, member counts."""
    rows = list_teams(get_session())
    return jsonify(teams=[t for t in rows if team_in_reach(t["team_id"], t["area_codes"])])


@bp.post("/teams")
@api_spec.validate(json=TeamCreate, resp=responses(Team, 409, status=201), tags=["teams"])
def teams_create():
    """Create a team."""
    body = _body()
    session = get_session()
    _check_codes(body.get("area_codes", []))
    team = create_team(
        session,
        team_id=body.get("team_id"),
        name=body.get("name"),
        base_facility_id=body.get("base_facility_id"),
        area_codes=body.get("area_codes", []),
    )
    session.commit()
    return jsonify(team), 201


@bp.get("/teams/<team_id>")
@api_spec.validate(resp=responses(Team, 404), tags=["teams"], path_parameter_descriptions=TEAM)
def team(team_id: str):
    """One team with its dongs and members."""
    return jsonify(_team(team_id))


@bp.post("/teams/<team_id>/members")
@api_spec.validate(
    json=MemberCreate,
    resp=responses(NewMember, 404, 409, status=201),
    tags=["teams"],
    path_parameter_descriptions=TEAM,
)
def team_add_member(team_id: str):
    """Add an active member (a visitor)."""
    body = _body()
    session = get_session()
    _team(team_id)
    member = add_member(
        session, team_id, member_id=body.get("member_id"), name=body.get("name"),
        role=body.get("role"),
    )  # fmt: skip
    session.commit()
    return jsonify(member), 201


@bp.patch("/teams/<team_id>/members/<member_id>")
@api_spec.validate(
    json=MemberUpdate,
    resp=responses(Team, 404),
    tags=["teams"],
    path_parameter_descriptions=TEAM | {"member_id": "Member id."},
)
def team_member_update(team_id: str, member_id: str):
    """Activate or deactivate a member (inactive members are not planned)."""
    body = _body()
    active = body.get("active")
    if not isinstance(active, bool):
        raise BadRequest("active", "must be true or false")
    session = get_session()
    if member_id not in {m["member_id"] for m in _team(team_id)["members"]}:
        raise TeamNotFound(f"member {member_id!r} is not in team {team_id!r}")
    set_member_active(session, member_id, active)
    session.commit()
    return jsonify(_team(team_id))


@bp.route("/teams/<team_id>/areas", methods=["POST", "PUT"])
@api_spec.validate(
    json=TeamAreas,
    resp=responses(Team, 404),
    tags=["teams"],
    path_parameter_descriptions=TEAM,
)
def team_areas(team_id: str):
    """Add dongs to a team (POST), or make them its only dongs (PUT)."""
    body = _body()
    session = get_session()
    _team(team_id)
    _check_codes(body.get("area_codes"))
    team = assign_areas(session, team_id, body.get("area_codes"), replace=request.method == "PUT")
    session.commit()
    return jsonify(team)


@bp.get("/routes")
@api_spec.validate(resp=responses(Plan, 404), tags=["routes"])
def routes_latest(query: RoutesQuery):
    """Get the newest plan of a team for a day.

    Its routes and dropped visits as ``GET /api/routes/{plan_id}`` gives them; 404 when the
    team has no plan for the day.
    """
    team_id = query.team
    if not team_id:
        raise BadRequest("team", "required: a team id")
    day = _date(query.date)
    _team(team_id)
    plan_id = latest_plan_id(get_session(), team_id, day)
    if plan_id is None:
        raise NotFound(f"no plan for team {team_id!r} on {day.isoformat()}")
    return _stored_plan(plan_id)


@bp.get("/routes/<int:plan_id>")
@api_spec.validate(
    resp=responses(Plan, 404), tags=["routes"], path_parameter_descriptions={"plan_id": "Plan id."}
)
def routes_one(plan_id: int):
    """Get a stored plan.

    Routes per visitor with timed stops and top reasons, dropped visits with reasons
    (residents outside the caller's areas left out).
    """
    return _stored_plan(plan_id)


def _stored_plan(plan_id: int):
    plan = load_plan(get_session(), request_scope(), plan_id, with_reasons=True)
    if plan is None:
        raise NotFound(f"plan {plan_id} does not exist")
    _team(plan["team_id"])  # another team's plan: 404
    shown(plan_residents(plan))
    return jsonify(plan_json(plan))


@bp.post("/routes")
@api_spec.validate(json=RoutePlanBody, resp=responses(Plan, 404, status=201), tags=["routes"])
def routes_plan():
    """Plan a team's day (stored as a new version) and return it.

    Candidates: the team's residents due or overdue on the day in the latest score run (the
    caller's areas must cover all the team's dongs, else 403); visitors: the team's active
    members. The optional settings (``day_start``, ``day_end``, ``break``,
    ``service_minutes``, ``speed_kmh``, ``detour_factor``, ``travel_mode``,
    ``time_limit_seconds`` (default 3), ``seed``: :mod:`routing.settings_input`) are stored
    with the plan; an invalid one is a 400 naming it.
    """
    body = _body()
    team_id = body.get("team_id")
    if not isinstance(team_id, str) or not team_id:
        raise BadRequest("team_id", "required: a team id")
    day = _date(body.get("date"))
    _team(team_id)
    settings = plan_settings_from(
        {"time_limit_seconds": 3.0} | {k: body[k] for k in SETTING_FIELDS if k in body}
    )
    session = get_session()
    try:
        stored = plan_team_day(
            session,
            request_scope(),
            team_id,
            day,
            created_by=current_account().username,
            settings=settings,
        )
    except PlanningError as exc:
        raise BadRequest("candidates", str(exc)) from exc
    session.commit()
    plan = load_plan(session, request_scope(), stored.plan_id, with_reasons=True)
    shown(plan_residents(plan))
    return jsonify(plan_json(plan)), 201
