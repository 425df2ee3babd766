"""The visit form, its confirmation, the unreachable list, and their JSON API.

Views are thin: parse the request, call :mod:`visitmap.usecases.visits` or :mod:`geo.visits`
with the caller's scope, commit or roll back, render (Korean first; every text through
Flask-Babel).
"""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request
from flask import url_for as flask_url_for
from flask_babel import get_locale, gettext

from geo.score_runs import published_run_id
from geo.settings import SEOUL
from geo.visit_scores import unreachable_residents
from geo.visits import (
    NOTES_MAX_CHARS,
    PLAN_ID_MAX,
    IdempotencyConflict,
    VisitError,
    resident_in_scope,
    route_plan,
    visit_summary,
)
from visitmap.errors import NotFound
from visitmap.usecases.visits import record_visit, visit_form, visit_input_from_mapping
from visitmap.vocab import NEED_CATEGORIES, VISIT_OUTCOMES
from webmap import style
from webmap.access_log import shown
from webmap.db import get_session
from webmap.errors import error_page
from webmap.openapi import api_spec, invalid_request_listing, responses
from webmap.pages import request_scope
from webmap.schemas.requests import VisitBody, VisitHeaders
from webmap.schemas.responses import Unreachable, VisitSummary

bp = Blueprint("visits", __name__)

#: the form's field names, as the messages name them
FIELD_LABELS = {
    "resident": lambda: gettext("Resident id"),
    "outcome": lambda: gettext("Outcome"),
    "needs": lambda: gettext("Needs found"),
    "notes": lambda: gettext("Notes"),
    "next_visit_on": lambda: gettext("Next visit date"),
    "member": lambda: gettext("Visitor"),
    "visitor_name": lambda: gettext("Visitor name"),
    "visited_at": lambda: gettext("Visit time"),
    "idempotency_key": lambda: gettext("Form key"),
    "plan": lambda: gettext("Route plan"),
}
FIELD_MESSAGES = {
    "resident": lambda: gettext("No such resident in your areas."),
    "outcome": lambda: gettext("Choose one of the outcomes."),
    "needs": lambda: gettext("Unknown need category."),
    "notes": lambda: gettext("Too long (at most %(n)s characters).", n=NOTES_MAX_CHARS),
    "next_visit_on": lambda: gettext("Must be a date on or after the visit."),
    "member": lambda: gettext("Choose a member of the team."),
    "visitor_name": lambda: gettext("Enter the visitor's name or choose a team member."),
    "visited_at": lambda: gettext("Must be a date and time, not in the future."),
    "idempotency_key": lambda: gettext("This form is no longer valid: reload the page."),
    "plan": lambda: gettext("Unknown route plan."),
}


def _locale_index() -> int:
    return 0 if str(get_locale()) == "ko" else 1


def _labels(vocabulary) -> dict[str, str]:
    index = _locale_index()
    return {code: labels[index] for code, labels in vocabulary.items()}


def _parse_plan(raw: str | None) -> int | None:
    """Return a route plan id from a URL or form value; None if absent or not a plan id."""
    if raw and raw.isascii() and raw.isdigit() and 0 < int(raw) <= PLAN_ID_MAX:
        return int(raw)
    return None


def _plan_id() -> int | None:
    raw = request.args.get("plan") or None
    if raw is None:
        return None
    plan_id = _parse_plan(raw)
    if plan_id is None:
        abort(404)
    return plan_id


def _now_local() -> str:
    return dt.datetime.now(SEOUL).strftime("%Y-%m-%dT%H:%M")


def _render_form(context, values, *, errors=(), conflict=False, status=200):
    tier = None
    explanation = context["resident"]["explanation"]
    if explanation is not None:
        tier = style.TIER_LABELS[explanation["tier"]][_locale_index()]
    messages = [
        (field, FIELD_LABELS.get(field, lambda f=field: f)(), FIELD_MESSAGES[field]())
        for field in dict.fromkeys(f for f, _ in errors)
        if field in FIELD_MESSAGES
    ]
    plan = context.get("plan")
    body = render_template(
        "visit_form.html",
        ctx=context,
        values=values,
        tier_label=tier,
        reasons=None
        if explanation is None
        else explanation["reasons_ko" if _locale_index() == 0 else "reasons_en"],
        outcomes=_labels(VISIT_OUTCOMES),
        needs=_labels(NEED_CATEGORIES),
        notes_max=NOTES_MAX_CHARS,
        now_local=_now_local(),
        errors=messages,
        field_errors={field: message for field, _label, message in messages},
        conflict=conflict,
        back_url=back_url(plan, values.get("from")),
        locale=str(get_locale()),
    )
    return body, status


def back_url(plan: dict | None, came_from: str | None) -> str | None:
    """Return where the form and its confirmation lead back to: the route it came from.

    ``came_from == "today"``: the visitor's own day (``/routes/today``); else the route page
    of the plan's team and day; None without a plan.
    """
    lang = {"lang": "en"} if str(get_locale()) == "en" else {}
    if came_from == "today":
        day = {"date": plan["plan_date"].isoformat()} if plan else {}
        return flask_url_for("routes.my_day", **day, **lang)
    if plan is None:
        return None
    return flask_url_for(
        "routes.route_page", team=plan["team_id"], date=plan["plan_date"].isoformat(), **lang
    )


def _came_from(raw: str | None) -> str:
    return "today" if raw == "today" else ""


def _not_found(message_ko: str, message_en: str):
    """Return the localized 404 page (:func:`webmap.errors.error_page`) with this message."""
    english = str(get_locale()) == "en"
    return error_page(404, message=message_en if english else message_ko)


@bp.get("/visits/new")
def new_visit():
    """Show the visit form for ``?resident=`` (404 outside the caller's areas).

    ``?plan=`` ties the visit to a route plan and chooses the planned visitor; a malformed
    plan id is a 404. An unknown resident renders the localized 404 page
    (``templates/error.html``). ``?from=today`` leads back to the visitor's own day
    (``/routes/today``) instead of the team's route page.
    """
    resident_id = request.args.get("resident", "")
    plan_id = _plan_id()
    context = visit_form(get_session(), request_scope(), resident_id, plan_id=plan_id)
    if context is None:
        return _not_found(
            "이 주민을 찾을 수 없습니다. 주민 번호를 확인하거나 방문 경로에서 다시 여세요.",
            "No such resident in your areas. Check the resident id, or open the form again "
            "from the route.",
        )
    shown([resident_id])
    values = {
        "idempotency_key": str(uuid.uuid4()),
        "visited_at": _now_local(),
        "member": context["planned_member"],
        "needs": [],
        "plan": "" if plan_id is None else str(plan_id),
        "from": _came_from(request.args.get("from")),
    }
    return _render_form(context, values)


def _settings():
    settings = current_app.config["VISITMAP_SETTINGS"]
    return {
        "unreachable_after": settings.unreachable_after,
        "retry_days": settings.unreachable_retry_days,
        "attempt_gap_days": settings.attempt_gap_days,
    }


@bp.post("/visits")
def submit_visit():
    """Record the visit the form posted and rescore the resident, then show the confirmation.

    Invalid fields show the form again naming them (400); a form key already used for a
    different visit shows it with a conflict (409). Nothing is written on error. A visit
    recorded redirects (303) to its confirmation.
    """
    session = get_session()
    scope = request_scope()
    values = {key: request.form.get(key, "") for key in request.form}
    values["needs"] = request.form.getlist("needs")
    try:
        visit = visit_input_from_mapping(values)
        summary = record_visit(session, scope, visit, **_settings())
    except VisitError as error:
        session.rollback()
        context = visit_form(
            session, scope, values.get("resident", ""), plan_id=_parse_plan(values.get("plan"))
        )
        if context is None:
            abort(404)
        shown([values.get("resident", "")])
        conflict = isinstance(error, IdempotencyConflict)
        return _render_form(
            context,
            values,
            errors=[] if conflict else error.problems,
            conflict=conflict,
            status=409 if conflict else 400,
        )
    session.commit()
    query = {"plan": visit.plan_id} if visit.plan_id is not None else {}
    if _came_from(values.get("from")):
        query["from"] = "today"
    if str(get_locale()) == "en":
        query["lang"] = "en"
    target = flask_url_for("visits.visit_done", visit_id=summary["visit_id"], **query)
    return redirect(target, code=303)


@bp.get("/visits/<visit_id>")
def visit_done(visit_id: str):
    """Show a recorded visit and its score change (404 outside the caller's areas).

    ``?plan=`` adds a link back to the route (``&from=today``: to the visitor's own day).
    """
    session = get_session()
    summary = visit_summary(session, request_scope(), visit_id)
    if summary is None:
        abort(404)
    shown([summary["resident_id"]])
    plan_id = _plan_id()
    plan = route_plan(session, plan_id) if plan_id is not None else None
    index = _locale_index()
    return render_template(
        "visit_done.html",
        visit=summary,
        plan=plan,
        back_url=back_url(plan, _came_from(request.args.get("from"))),
        outcome=VISIT_OUTCOMES[summary["outcome"]][index],
        needs=[NEED_CATEGORIES[n][index] for n in summary["needs"]],
        tier_label=None if summary["tier"] is None else style.TIER_LABELS[summary["tier"]][index],
        locale=str(get_locale()),
    )


@bp.get("/unreachable")
def unreachable_page():
    """Show the residents marked unreachable in the caller's areas, longest unreachable first."""
    session = get_session()
    rows = unreachable_residents(session, request_scope(), run_id=published_run_id(session))
    shown(r["resident_id"] for r in rows)
    index = _locale_index()
    return render_template(
        "unreachable.html",
        rows=rows,
        tier_labels={
            name: style.TIER_LABELS[code][index] for code, (name, _) in style.TIERS.items()
        },
        locale=str(get_locale()),
    )


@bp.get("/api/unreachable")
@api_spec.validate(resp=responses(Unreachable), tags=["visits"])
def unreachable_api():
    """Residents marked unreachable in the caller's areas, longest unreachable first."""
    session = get_session()
    run_id = published_run_id(session)
    rows = unreachable_residents(session, request_scope(), run_id=run_id)
    shown(r["resident_id"] for r in rows)
    return jsonify(run_id=run_id, residents=rows)


@bp.post("/api/visits")
@api_spec.validate(
    json=VisitBody,
    headers=VisitHeaders,
    resp=responses(
        {
            201: (VisitSummary, "Recorded: the visit and the score change"),
            200: (VisitSummary, "Recorded before with this key (replayed)"),
        },
        404,
        409,
    ),
    before=invalid_request_listing,
    tags=["visits"],
)
def api_record_visit():
    """Record a visit (as the visit form does; docs/visits.md).

    The resident is rescored in the latest run at once. The key (``idempotency_key``, a UUID,
    or the ``Idempotency-Key`` header) makes a retry safe: a retry with the same key returns
    the same visit (200, ``replayed``); the same key with another payload is refused (409).
    Every field but ``needs`` (a list of codes) and ``plan`` (an integer id) is a string; a
    wrong type or an unknown field is a 400 naming it.
    """
    session = get_session()
    body = request.get_json(silent=True)  # a JSON object: the decorator refused any other
    header_key = request.headers.get("Idempotency-Key")
    if header_key is not None:
        if body.get("idempotency_key") not in (None, header_key):
            raise VisitError([("idempotency_key", "differs from the Idempotency-Key header")])
        body = body | {"idempotency_key": header_key}
    resident = body.get("resident")
    if isinstance(resident, str) and not resident_in_scope(session, request_scope(), resident):
        # unknown or outside the caller's scope alike: existence does not leak
        raise NotFound(f"no resident {resident!r}")
    # a VisitError (400) or IdempotencyConflict (409) rolls back and answers webmap.errors' body
    visit = visit_input_from_mapping(body)
    summary = record_visit(session, request_scope(), visit, **_settings())
    session.commit()
    shown([summary["resident_id"]])
    return jsonify(summary), 200 if summary["replayed"] else 201
