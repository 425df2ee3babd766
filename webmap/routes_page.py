"""The route page ``/routes?team=T&date=D``: a team's plan for a day on a map.

The map has numbered stops and one line per visitor; the page adds the ordered list,
dropped visits, a print layout (``?print=1`` or the browser's print), CSV and GPX exports,
and a link from each stop to the visit form.

Folium draws the map with the vendored Leaflet (works offline). Free text (resident, member,
team and facility names, addresses) never goes into the map's script: folium puts tooltips
inside JavaScript template literals, where HTML escaping does not stop ``${...}``. The map's
tooltips hold only numbers, times, tier labels and translated fixed words ("Visitor 2",
"Base"); names reach the page only through Jinja's autoescaping in the list.

Length: the route page's form, map, list and exports share the page's parsing and rendering.
"""

from __future__ import annotations

import datetime as dt
import html
from urllib.parse import urlencode

import folium
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext

from geo.route_plans import latest_plan_id, load_plan
from geo.teams import TeamNotFound, get_team, list_teams, member_record
from routing.day_problem import DropReason
from routing.plan_settings import PlanSettings
from routing.settings_input import SettingsInputError, plan_settings_from
from visitmap.usecases.planning import (
    PlanRequestError,
    PlanScopeError,
    plan_team_day,
    settings_record,
)
from visitmap.vocab import overdue_words
from webmap import style
from webmap.access_log import plan_residents, shown
from webmap.auth import current_account
from webmap.db import get_session
from webmap.map_page import SEODAEMUN_CENTRE, leaflet_map
from webmap.pages import request_scope, team_in_reach
from webmap.params import today
from webmap.route_export import plan_csv, plan_gpx
from webmap.safe_html import TextTooltip

bp = Blueprint("routes", __name__)

#: one colour per visitor's line and stop numbers (ColorBrewer Dark2, distinct from the tiers)
VISITOR_COLOURS = ("#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
#: planning from the page: the solver's time limit (seconds)
PAGE_TIME_LIMIT = 3.0
#: dropped visits listed on the page (most urgent first; all are in the JSON API)
MAX_DROPS_SHOWN = 100
BASE_SYMBOL = style.FACILITY_SYMBOLS["community_centre"]


#: the planner's refusals (PlanRequestError.kind) as translated sentences
PLAN_ERROR_MESSAGES = {
    "no_base": lambda: gettext("This team has no base facility: set its community centre first."),
    "no_member": lambda: gettext("This team has no active member to visit."),
    "no_run": lambda: gettext("Nothing is scored yet: run visitmap score first."),
    "scope": lambda: gettext(
        "Your areas do not cover all of this team's dongs, so you cannot plan its day."
    ),
    "invalid": lambda: gettext("The plan settings are invalid."),
}


#: the plan form's settings (routing.settings_input names) as translated field labels
SETTING_LABELS = {
    "travel_mode": lambda: gettext("Travel mode"),
    "day_start": lambda: gettext("Day starts"),
    "day_end": lambda: gettext("Day ends"),
    "break": lambda: gettext("Lunch break"),
    "speed_kmh": lambda: gettext("Speed (km/h)"),
    "service_minutes": lambda: gettext("Minutes per visit"),
}
#: what is wrong with a setting (SettingsInputError.kind) as translated sentences
SETTING_PROBLEMS = {
    "time": lambda: gettext("Enter a time as HH:MM."),
    "order": lambda: gettext("The day must end after it starts."),
    "break": lambda: gettext(
        "Give the break's start and end inside working hours, or choose no break."
    ),
    "service": lambda: gettext("Enter whole minutes from 1 to 480 for each tier."),
    "speed": lambda: gettext("Enter a speed above 0 and at most 100 km/h."),
    "mode": lambda: gettext("Choose on foot or by car."),
}
#: the form's service minute inputs, by tier name (the order shown: high first)
SERVICE_TIERS = (("high", 2), ("medium", 1), ("low", 0))


def settings_error_message(exc: SettingsInputError) -> str:
    """Return the invalid setting's label and what is wrong, in the page's language."""
    label = SETTING_LABELS.get(exc.field)
    problem = SETTING_PROBLEMS.get(exc.kind, PLAN_ERROR_MESSAGES["invalid"])()
    return f"{label()}: {problem}" if label else problem


def form_values(settings: dict | None) -> dict:
    """Return the plan form's values from stored settings; missing settings keep the defaults.

    ``settings`` as :func:`visitmap.usecases.planning.settings_record` writes them (times as
    ``HH:MM``), or None for the defaults. The values are strings but ``no_break``, a bool.
    """
    stored = settings_record(PlanSettings()) | (settings or {})
    minutes = list(stored["service_minutes_by_tier"])
    speed = stored.get("speed_kmh")
    return {
        "travel_mode": stored["travel_mode"],
        "day_start": stored["day_start"],
        "day_end": stored["day_end"],
        "no_break": stored["break_start"] is None,
        "break_start": stored["break_start"] or "",
        "break_end": stored["break_end"] or "",
        "speed_kmh": f"{speed:g}" if speed is not None else "",
        **{f"service_{name}": str(minutes[code]) for name, code in SERVICE_TIERS},
    }


def submitted_values(form) -> dict:
    """Return the plan form's values as submitted; None for a field left out of the request."""
    values = {
        key: form[key].strip() if key in form else None
        for key in form_values(None)
        if key != "no_break"
    }
    return values | {"no_break": bool(form.get("no_break"))}


def settings_from_form(values: dict) -> PlanSettings:
    """Make plan settings from the form's values, checked by the API's own parser.

    :func:`routing.settings_input.plan_settings_from` checks them. A field left out of the
    request keeps its default; an empty time is an error; both break times empty, or "no
    break" ticked, means no break. The solver gets :data:`PAGE_TIME_LIMIT` seconds.

    Raises
    ------
    routing.settings_input.SettingsInputError
        If a setting is invalid (its ``field`` and ``kind`` say which and what is wrong).
    """
    fields = {
        "time_limit_seconds": PAGE_TIME_LIMIT,
        "travel_mode": values["travel_mode"],
        "day_start": values["day_start"],
        "day_end": values["day_end"],
    }
    breaks = (values["break_start"] or "", values["break_end"] or "")
    if values["no_break"] or (values["break_start"] is not None and not any(breaks)):
        fields["break"] = None
    elif any(breaks):
        fields["break"] = "-".join(breaks)
    if values["speed_kmh"]:
        fields["speed_kmh"] = values["speed_kmh"]
    minutes = [f"{name}={values[f'service_{name}']}" for name, _code in SERVICE_TIERS
               if values[f"service_{name}"]]  # fmt: skip
    if minutes:
        fields["service_minutes"] = ",".join(minutes)
    return plan_settings_from(fields)


def plan_error_message(exc: PlanRequestError) -> str:
    """Return the planner's refusal in the page's language (the English detail stays in the API)."""
    return PLAN_ERROR_MESSAGES.get(exc.kind, PLAN_ERROR_MESSAGES["invalid"])()


def visitor_colour(index: int) -> str:
    """Return the colour of the visitor at ``index`` (from 0; the colours repeat)."""
    return VISITOR_COLOURS[index % len(VISITOR_COLOURS)]


def visit_form_url(resident_id: str, plan_id: int) -> str:
    """Return the URL of the tablet visit form for a stop (served by :mod:`webmap.visits`)."""
    return "/visits/new?" + urlencode({"resident": resident_id, "plan": plan_id})


def _parse_day(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def build_route_map(plan: dict, *, locale: str, basemap: dict) -> folium.Map:
    """Draw a plan on a folium map.

    The base, one line per visitor (base, stops, base) and a numbered marker per stop in the
    visitor's colour. Tooltips hold only numbers, times, tier labels and fixed words.

    Parameters
    ----------
    plan : dict
        A loaded plan (:func:`geo.route_plans.load_plan`).
    locale : {"ko", "en"}
        The language of the stops' tier labels.
    basemap : dict
        ``url`` and ``attribution`` of the base map's tiles.

    Returns
    -------
    folium.Map
    """
    base = (plan["base_lat"], plan["base_lon"])
    points = [base] + [(s["lat"], s["lon"]) for r in plan["routes"] for s in r["stops"]]
    fmap = leaflet_map(points[0] if points else SEODAEMUN_CENTRE, zoom_start=15, basemap=basemap)
    folium.Marker(
        location=base,
        icon=folium.DivIcon(
            html=f'<div class="route-base">{html.escape(BASE_SYMBOL)}</div>',
            icon_size=(26, 26),
            icon_anchor=(13, 13),
        ),
    ).add_child(TextTooltip(gettext("Base"))).add_to(fmap)
    for index, route in enumerate(plan["routes"]):
        colour = visitor_colour(index)
        stops = route["stops"]
        if stops:
            folium.PolyLine(
                [base, *((s["lat"], s["lon"]) for s in stops), base],
                color=colour,
                weight=4,
                opacity=0.8,
            ).add_child(TextTooltip(gettext("Visitor %(n)s", n=index + 1))).add_to(fmap)
        for stop in stops:
            tier = style.TIER_LABELS[stop["tier"]][0 if locale == "ko" else 1]
            folium.Marker(
                location=(stop["lat"], stop["lon"]),
                icon=folium.DivIcon(
                    html=(
                        f'<div class="route-stop" data-visitor="{index + 1}" '
                        f'data-order="{stop["order"]}" style="background:{colour}">'
                        f"{stop['order']}</div>"
                    ),
                    icon_size=(24, 24),
                    icon_anchor=(12, 12),
                ),
            ).add_child(TextTooltip(f"{stop['order']}. {stop['arrival']:%H:%M} · {tier}")).add_to(
                fmap
            )
    if len(points) > 1:
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))
    return fmap


def route_points(plan: dict, route: dict) -> dict:
    """Return what a visitor's small print map draws: base and stops, numbers only.

    ``{"base": [lat, lon], "stops": [[lat, lon, order, done], ...]}`` — no free text, so it
    may sit in a data attribute read by ``static/routes.js``.
    """
    return {
        "base": [plan["base_lat"], plan["base_lon"]],
        "stops": [
            [s["lat"], s["lon"], s["order"], s["state"] == "visited"] for s in route["stops"]
        ],
    }


def _query(**overrides) -> str:
    """Return the request's query string with some parameters replaced."""
    return urlencode({**request.args.to_dict(), **overrides})


def _drop_counts(plan: dict | None) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for drop in plan["dropped"] if plan else []:
        counts[drop["reason"]] = counts.get(drop["reason"], 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])


def _render(
    plan: dict | None,
    *,
    team: dict | None,
    day: dt.date | None,
    teams,
    error=None,
    form: dict | None = None,
    error_field: str | None = None,
):
    locale = str(get_locale())
    printing = request.args.get("print") == "1"
    tier_labels = {
        code: labels[0 if locale == "ko" else 1] for code, labels in style.TIER_LABELS.items()
    }
    context = {
        "plan": plan,
        "team": team,
        "day": day or today(),
        "teams": teams,
        "error": error,
        "locale": locale,
        "printing": printing,
        "tier_labels": tier_labels,
        "tier_colours": {code: colour for code, (_name, colour) in style.TIERS.items()},
        "visitor_colour": visitor_colour,
        "visit_form_url": visit_form_url,
        "reason_field": "reasons_ko" if locale == "ko" else "reasons_en",
        "reason_text": lambda code: getattr(DropReason(code), f"message_{locale}"),
        "drop_counts": _drop_counts(plan),
        "state_field": "state_ko" if locale == "ko" else "state_en",
        "overdue_text": lambda days: overdue_words(days)[0 if locale == "ko" else 1],
        "route_points": route_points,
        "basemap_url": current_app.config.get("BASEMAP_URL", ""),
        "basemap_attribution": current_app.config.get("BASEMAP_ATTRIBUTION", ""),
        "my_day_url": url_for("routes.my_day"),
        "max_drops": MAX_DROPS_SHOWN,
        "visits": sum(len(r["stops"]) for r in plan["routes"]) if plan else 0,
        "query": _query,
        "form": form_values(plan["settings"] if plan else None)
        | {key: value for key, value in (form or {}).items() if value is not None},
        "error_field": error_field,
        "service_tiers": SERVICE_TIERS,
        # issue 15: leaders plan the whole district's day from /routes/district
        "district_url": url_for("district_day.district_page", date=(day or today()).isoformat())
        if (account := current_account()) is not None and account.has("leader")
        else None,
    }
    body = render_template("routes.html", **context)
    if plan is None:
        return render_template("routes_page.html", body=body, locale=locale, head="")
    fmap = build_route_map(
        plan,
        locale=locale,
        basemap={
            "url": current_app.config.get("BASEMAP_URL", ""),
            "attribution": current_app.config.get("BASEMAP_ATTRIBUTION", ""),
        },
    )
    root = fmap.get_root()
    root.header.add_child(
        folium.Element(
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(gettext('Visit routes'))}</title>"
            + render_template("_head.html")
            + f'<link rel="stylesheet" href="{url_for("static", filename="routes.css")}">'
            f'<script src="{url_for("static", filename="routes.js")}" defer></script>'
        )
    )
    root.html.add_child(folium.Element(body))  # kept verbatim (webmap.safe_html)
    page = root.render()
    page = page.replace("<html>", f'<html lang="{locale}">', 1)
    if printing:
        page = page.replace("<body>", '<body class="print">', 1)
    return page


@bp.get("/routes")
def route_page():
    """Show a team's newest plan for a day (default today), or the form to choose a team.

    A malformed date is a 400; a team the caller may not see is a 404.
    """
    session = get_session()
    scope = request_scope()
    team_id = request.args.get("team") or None
    raw_day = request.args.get("date")
    day = _parse_day(raw_day)
    teams = _teams_in_reach(session)
    if raw_day and day is None:
        return _render(None, team=None, day=None, teams=teams,
                       error=gettext("The date must be YYYY-MM-DD.")), 400  # fmt: skip
    if team_id is None:
        return _render(None, team=None, day=day, teams=teams)
    team = _team_in_reach(session, team_id)
    if team is None:
        return _render(None, team=None, day=day, teams=teams,
                       error=gettext("No such team.")), 404  # fmt: skip
    day = day or today()
    plan_id = latest_plan_id(session, team_id, day)
    plan = load_plan(session, scope, plan_id, with_reasons=True) if plan_id else None
    shown(plan_residents(plan))
    return _render(plan, team=team, day=day, teams=teams)


@bp.post("/routes/plan")
def plan_from_page():
    """Plan the team's day (a new version) with the form's settings, then show it.

    Invalid settings show the form again with the problem (400) and plan nothing; a
    planner's refusal shows its reason (403 outside the caller's areas, else 400). A plan
    made redirects (303) to the route page.
    """
    session = get_session()
    team_id = request.form.get("team", "")
    day = _parse_day(request.form.get("date"))
    if day is None:
        abort(400)
    values = submitted_values(request.form)
    if _team_in_reach(session, team_id) is None:
        abort(404)
    try:
        settings = settings_from_form(values)
    except SettingsInputError as exc:
        team = get_team(session, team_id)
        plan_id = latest_plan_id(session, team_id, day)
        plan = load_plan(session, request_scope(), plan_id, with_reasons=True) if plan_id else None
        shown(plan_residents(plan))
        page = _render(plan, team=team, day=day, teams=_teams_in_reach(session),
                       error=settings_error_message(exc), form=values,
                       error_field=exc.field)  # fmt: skip
        return page, 400
    try:
        plan_team_day(
            session,
            request_scope(),
            team_id,
            day,
            created_by=current_account().username,
            settings=settings,
        )
    except TeamNotFound:
        abort(404)
    except PlanRequestError as exc:
        session.rollback()
        teams = _teams_in_reach(session)
        team = get_team(session, team_id)
        status = 403 if isinstance(exc, PlanScopeError) else 400
        page = _render(None, team=team, day=day, teams=teams, error=plan_error_message(exc),
                       form=values)  # fmt: skip
        return page, status
    session.commit()
    lang = {"lang": request.args["lang"]} if request.args.get("lang") else {}
    return redirect(url_for("routes.route_page", team=team_id, date=day.isoformat(), **lang), 303)


def _plan_or_404(plan_id: int) -> dict:
    """Return the plan, if the caller may see its team (another team's plan is 404).

    Its residents are noted for the access audit.
    """
    session = get_session()
    plan = load_plan(session, request_scope(), plan_id, with_reasons=True)
    if plan is None or _team_in_reach(session, plan["team_id"]) is None:
        abort(404)
    shown(plan_residents(plan))
    return plan


def _team_in_reach(session, team_id: str) -> dict | None:
    team = get_team(session, team_id) if team_id else None
    if team is None or not team_in_reach(team_id, [a["code"] for a in team["areas"]]):
        return None
    return team


def _teams_in_reach(session) -> list[dict]:
    return [t for t in list_teams(session) if team_in_reach(t["team_id"], t["area_codes"])]


def _download(plan_id: int, body, mimetype: str, extension: str) -> Response:
    """Answer a plan as a file to save (never cached: it names residents)."""
    response = Response(body(_plan_or_404(plan_id)), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="route-plan-{plan_id}.{extension}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/routes/<int:plan_id>.csv")
def route_csv(plan_id: int):
    """Download a plan as CSV, one row per stop (:func:`webmap.route_export.plan_csv`)."""
    return _download(plan_id, plan_csv, "text/csv", "csv")


@bp.get("/routes/<int:plan_id>.gpx")
def route_gpx(plan_id: int):
    """Download a plan as GPX 1.1, for devices (:func:`webmap.route_export.plan_gpx`)."""
    return _download(plan_id, plan_gpx, "application/gpx+xml", "gpx")


# -- the field day: "오늘 내 방문" -------------------------------------------------------------

#: The cookie that remembers who a visitor is on this device: ``username:member_id``, used only
#: while that account is signed in (a shared tablet does not hand one visitor's day to another).
ME_COOKIE = "vm_me"
ME_COOKIE_DAYS = 365


def _remembered_member() -> str | None:
    account = current_account()
    raw = request.cookies.get(ME_COOKIE, "")
    username, _sep, member_id = raw.rpartition(":")
    if account is None or not member_id or username != account.username:
        return None
    return member_id


def _account_member(session) -> str | None:
    """Return the member named as the account (display name), in the account's own team."""
    account = current_account()
    if account is None or not account.team_id:
        return None
    team = get_team(session, account.team_id)
    names = [
        m["member_id"]
        for m in (team or {}).get("members", [])
        if m["active"] and m["name"] == account.display_name
    ]
    return names[0] if len(names) == 1 else None


def _me(session) -> dict | None:
    """Return the member the visitor picked (or their account names), if within reach."""
    member_id = _remembered_member() or _account_member(session)
    member = member_record(session, member_id) if member_id else None
    if member is None or not team_in_reach(member["team_id"], member["area_codes"]):
        return None
    return member


@bp.get("/routes/today")
def my_day():
    """Show the field day page: the signed-in visitor's own stops for the day, in order.

    The visitor picks themselves once (remembered on the device for their account, see
    :data:`ME_COOKIE`); an account whose display name is a member of its team needs no
    pick. ``?date=YYYY-MM-DD`` shows another day; ``?pick=1`` shows the picker again.
    """
    session = get_session()
    locale = str(get_locale())
    raw_day = request.args.get("date")
    day = _parse_day(raw_day)
    if raw_day and day is None:
        abort(400)
    day = day or today()
    me = None if request.args.get("pick") == "1" else _me(session)
    context = {
        "locale": locale,
        "day": day,
        "me": me,
        "plan": None,
        "route": None,
        "state_field": "state_ko" if locale == "ko" else "state_en",
        "tier_labels": {
            code: labels[0 if locale == "ko" else 1] for code, labels in style.TIER_LABELS.items()
        },
        "tier_colours": {code: colour for code, (_name, colour) in style.TIERS.items()},
        "visit_form_url": visit_form_url,
    }
    if me is None:
        teams = [t for t in _teams_in_reach(session) if t["active_members"]]
        members = [
            (team, [m for m in get_team(session, team["team_id"])["members"] if m["active"]])
            for team in teams
        ]
        return render_template("my_day.html", teams=members, **context)
    plan_id = latest_plan_id(session, me["team_id"], day)
    plan = load_plan(session, request_scope(), plan_id) if plan_id else None
    route = next((r for r in (plan or {}).get("routes", []) if r["member_id"] == me["member_id"]),
                 None)  # fmt: skip
    if route is not None:
        shown({stop["resident_id"] for stop in route["stops"]})
    return render_template("my_day.html", teams=[], **context | {"plan": plan, "route": route})


@bp.post("/routes/today")
def my_day_pick():
    """Remember on this device which member the signed-in visitor is (or forget it)."""
    session = get_session()
    account = current_account()
    member_id = request.form.get("member", "")
    if not member_id:
        response = make_response(redirect(url_for("routes.my_day", pick=1, **_lang()), 303))
        response.delete_cookie(ME_COOKIE)
        return response
    response = make_response(redirect(url_for("routes.my_day", **_lang()), 303))
    member = member_record(session, member_id)
    if member is None or not team_in_reach(member["team_id"], member["area_codes"]):
        abort(404)
    response.set_cookie(
        ME_COOKIE,
        f"{account.username}:{member_id}",
        max_age=ME_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def _lang() -> dict:
    return {"lang": request.args["lang"]} if request.args.get("lang") else {}
