"""A whole district's day on one page (issue 15): ``/routes/district?date=D``.

GET shows, for each team in the leader's areas, its newest plan for the day (visits, link to
the route page). POST plans every team at once (visitmap.usecases.district_day: the solver's
time shared between the teams, a new version per team) and shows the result: per team its
visits, and every high-tier resident due that day, placed with a team or why not. The
residents it names are audited and are the caller's own.
"""

from __future__ import annotations

import datetime as dt
import getpass

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale, gettext

from geo.route_plans import latest_plan_id, load_plan
from visitmap.usecases.district_day import district_teams, plan_district_day
from visitmap.usecases.planning import PlanRequestError
from webmap.access_log import shown
from webmap.auth import current_account
from webmap.db import get_session
from webmap.pages import request_scope
from webmap.params import today

bp = Blueprint("district_day", __name__)


def _day(raw: str | None) -> dt.date | None:
    if not raw:
        return today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _stored_plans(session, scope, day: dt.date) -> list[dict]:
    """Each team in scope with its newest plan for ``day`` (visits, plan id), if any."""
    rows = []
    for team_id, name in district_teams(session, scope):
        plan_id = latest_plan_id(session, team_id, day)
        plan = load_plan(session, scope, plan_id) if plan_id else None
        visits = sum(len(r["stops"]) for r in plan["routes"]) if plan else None
        rows.append({"team_id": team_id, "name": name, "plan_id": plan_id, "visits": visits})
    return rows


@bp.get("/routes/district")
def district_page():
    """Show every team's newest plan for the day, and the button that plans them all."""
    session = get_session()
    day = _day(request.args.get("date"))
    if day is None:
        return render_template(
            "district_day.html", day=None, teams=[], result=None,
            error=gettext("The date must be YYYY-MM-DD."),
        ), 400  # fmt: skip
    teams = _stored_plans(session, request_scope(), day)
    return render_template("district_day.html", day=day, teams=teams, result=None, error=None)


@bp.post("/routes/district")
def plan_district():
    """Plan every team of the caller's areas for the form's day, then show the outcome."""
    session = get_session()
    raw = request.form.get("date")
    day = _day(raw) if raw else None  # the form always names the day it plans
    if day is None:
        abort(400)
    account = current_account()
    try:
        result = plan_district_day(
            session, request_scope(), day,
            created_by=account.username if account else getpass.getuser(),
        )  # fmt: skip
    except PlanRequestError as exc:
        session.rollback()
        return render_template(
            "district_day.html", day=day, teams=[], result=None, error=exc.message
        ), 400
    session.commit()
    ko = str(get_locale()) == "ko"
    dropped = [
        {
            "resident_id": o.resident_id,
            "area_code": o.area_code,
            "team_id": o.team_id,
            "reason": o.reason_ko if ko else o.reason_en,
        }
        for o in result.high_tier
        if not o.placed
    ]
    shown(o.resident_id for o in result.high_tier)
    teams = [
        {
            "team_id": t.team_id,
            "name": t.team_name,
            "plan_id": t.stored.plan_id if t.stored else None,
            "visits": t.stored.plan.visits if t.stored else None,
            "candidates": t.stored.candidates if t.stored else None,
            "error": t.error,
            "seconds": t.seconds,
        }
        for t in result.teams
    ]
    reasons = [
        (ko_text if ko else en_text, n) for ko_text, en_text, n in result.dropped_by_reason()
    ]
    return render_template(
        "district_day.html", day=day, teams=teams, result=result, dropped=dropped,
        reasons=reasons, error=None,
    )  # fmt: skip
