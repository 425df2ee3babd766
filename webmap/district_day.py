"""A whole district's day on one page (issue 15): ``/routes/district?date=D``.

GET shows, for each team in the leader's areas, its newest plan for the day (visits, due
candidates, solver seconds, link to the route page) and, once any team has a plan, every
high-tier resident due that day in the published run: placed with a team or why not
(visitmap.usecases.district_day.stored_outcomes). POST plans every team at once (the solver's
time shared between the teams, a new version per team) and redirects to the GET (303), so that
reloading the page shows the plans again rather than making new ones. The residents it names
are audited and are the caller's own.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections import Counter

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from geo.route_plans import latest_plan_id, load_plan
from visitmap.usecases.district_day import district_teams, plan_district_day, stored_outcomes
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


def _stored_plans(session, scope, day: dt.date) -> tuple[list[dict], dict[str, dict | None]]:
    """Each team in scope with its newest plan for ``day`` (visits, plan id), if any.

    Returns the template's rows and each team's plan (``load_plan``'s data, or None).
    """
    rows, plans = [], {}
    for team_id, name in district_teams(session, scope):
        plan_id = latest_plan_id(session, team_id, day)
        plan = load_plan(session, scope, plan_id) if plan_id else None
        plans[team_id] = plan
        rows.append(
            {
                "team_id": team_id,
                "name": name,
                "plan_id": plan_id,
                "visits": sum(len(r["stops"]) for r in plan["routes"]) if plan else None,
                "candidates": plan["candidates"] if plan else None,
                "seconds": plan["planning_seconds"] if plan else None,
            }
        )
    return rows, plans


def _accounting(session, scope, day: dt.date, teams: list[dict], plans: dict) -> dict:
    """Return the template's summary, reasons and not-placed residents, from the stored plans."""
    if not any(plan is not None for plan in plans.values()):
        return {"summary": None, "reasons": [], "dropped": []}
    outcomes = stored_outcomes(session, scope, day, plans) or []
    left = [o for o in outcomes if not o.placed]
    shown(o.resident_id for o in left)  # the page names these; the placed are only counted
    ko = str(get_locale()) == "ko"
    counts = Counter(o.reason_ko if ko else o.reason_en for o in left)
    return {
        "summary": {
            "teams": sum(t["plan_id"] is not None for t in teams),
            "visits": sum(t["visits"] or 0 for t in teams),
            "due": len(outcomes),
            "placed": len(outcomes) - len(left),
        },
        "reasons": counts.most_common(),
        "dropped": [
            {
                "resident_id": o.resident_id,
                "area_code": o.area_code,
                "team_id": o.team_id,
                "reason": o.reason_ko if ko else o.reason_en,
            }
            for o in left
        ],
    }


@bp.get("/routes/district")
def district_page():
    """Show every team's newest plan for the day, its high-tier accounting, and the button."""
    session = get_session()
    day = _day(request.args.get("date"))
    if day is None:
        error = gettext("The date must be YYYY-MM-DD.")
        page = render_template("district_day.html", day=None, teams=[], summary=None, error=error)
        return page, 400
    scope = request_scope()
    teams, plans = _stored_plans(session, scope, day)
    return render_template(
        "district_day.html", day=day, teams=teams, error=None,
        **_accounting(session, scope, day, teams, plans),
    )  # fmt: skip


@bp.post("/routes/district")
def plan_district():
    """Plan every team of the caller's areas for the form's day, then show it (303 to the GET)."""
    session = get_session()
    raw = request.form.get("date")
    day = _day(raw) if raw else None  # the form always names the day it plans
    if day is None:
        abort(400)
    account = current_account()
    try:
        plan_district_day(
            session, request_scope(), day,
            created_by=account.username if account else getpass.getuser(),
        )  # fmt: skip
    except PlanRequestError as exc:
        session.rollback()
        return render_template(
            "district_day.html", day=day, teams=[], summary=None, error=exc.message
        ), 400
    session.commit()
    target = url_for(
        "district_day.district_page", date=day.isoformat(), lang=request.args.get("lang")
    )
    return redirect(target, code=303)
