"""HTML pages and what every page's header needs.

Views are thin: parse the request, call geo, render. The one header navigation
(``templates/_nav.html``) takes its links from :func:`nav_links` and its language links from
:func:`lang_url`; the app factory makes both template globals.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale, gettext

from geo.accounts import scope_for
from geo.analyst_export import small
from geo.db import ping
from geo.mapdata.queries import area_summaries, list_runs
from geo.queries import area_counts
from geo.scope import Scope
from visitmap.usecases.support import may_record_support  # records (issue 13)
from visitmap.vocab import TIER_NAMES
from webmap import style
from webmap.auth import can, current_account
from webmap.db import get_session
from webmap.params import parse_run, today

bp = Blueprint("pages", __name__)


def request_scope() -> Scope:
    """Return the residents the signed-in caller may see individually.

    :func:`geo.accounts.scope_for`, computed once per request; nobody signed in sees nobody.
    """
    if "scope" not in g:
        account = current_account()
        g.scope = (
            Scope.nothing() if account is None else scope_for(get_session(), account, today=today())
        )
    return g.scope


def aggregate_scope() -> Scope:
    """Return the scope of counts per dong.

    The caller's own scope, except that an analyst (who sees no individual resident) sees
    the counts of every dong, small ones left out (:func:`suppress_small_counts`).
    """
    return Scope.everything() if suppress_small_counts() else request_scope()


@bp.get("/overview")
def overview():
    """Show per dong the residents scored per tier and those overdue, households and facilities.

    The risk figures are of the run the map shows (:func:`webmap.params.parse_run`), overdue as
    of today, in the caller's scope (:func:`aggregate_scope`). For an analyst, counts from 1
    to 4 are hidden (the map's rule, :func:`geo.analyst_export.suppress_area_summaries`), and
    with them their column's total.
    """
    session = get_session()
    scope = aggregate_scope()
    suppress = suppress_small_counts()
    rows = area_counts(session, scope, as_of_year=today().year)
    columns = ("households", "residents", "residents_65plus", "living_alone_65plus", "facilities")
    totals = {c: sum(getattr(r, c) for r in rows) for c in columns}
    if suppress:  # counts 1-4 left out, and then the column's total too
        hidden = {c for r in rows for c in columns[:4] if small(getattr(r, c))}
        rows = [replace(r, **{c: "-" for c in columns[:4] if small(getattr(r, c))}) for r in rows]
        totals |= {c: "-" for c in hidden}
    run_id = parse_run(session, None)
    risk = (
        area_summaries(session, scope, run_id=run_id, today=today(), suppress_small=suppress)
        if run_id
        else []
    )
    return render_template(
        "overview.html",
        rows=rows,
        totals=totals,
        risk=[_risk_row(s) for s in risk],
        risk_totals=_risk_totals(risk),
        tiers=_tier_columns(),
        run=_run_row(session, run_id),
        today=today(),
    )


def _tier_columns() -> list[tuple[str, str]]:
    """(tier name, label in the request's language), high tier first."""
    ko = str(get_locale()) == "ko"
    return [(TIER_NAMES[c], style.TIER_LABELS[c][0 if ko else 1]) for c in sorted(TIER_NAMES)[::-1]]


def _risk_row(summary: dict) -> dict:
    """One dong's risk figures for the page: None (a hidden count) becomes "-"."""
    shown = {k: "-" if v is None else v for k, v in summary.items()}
    shown["tier_counts"] = {t: "-" if n is None else n for t, n in summary["tier_counts"].items()}
    overdue = summary["overdue_counts"]
    shown["overdue_counts"] = {t: "-" if n is None else n for t, n in overdue.items()}
    shown["overdue_total"] = "-" if None in overdue.values() else sum(overdue.values())
    return shown


def _risk_totals(summaries: list[dict]) -> dict:
    """Column totals of the risk figures; "-" for a column with a hidden count."""

    def total(values) -> int | str:
        values = list(values)
        return "-" if None in values else sum(values)

    tiers = list(TIER_NAMES.values())
    return {
        "residents_scored": total(s["residents_scored"] for s in summaries),
        "tier_counts": {t: total(s["tier_counts"][t] for s in summaries) for t in tiers},
        "overdue_counts": {t: total(s["overdue_counts"][t] for s in summaries) for t in tiers},
        "overdue_total": total(n for s in summaries for n in s["overdue_counts"].values()),
    }


def _run_row(session, run_id: int | None) -> dict | None:
    """Return the score run shown (a row of :func:`geo.mapdata.queries.list_runs`), or None."""
    if run_id is None:
        return None
    return next((r for r in list_runs(session, limit=200) if r["id"] == run_id), {"id": run_id})


STATIC = Path(__file__).resolve().parent / "static"


@bp.get("/favicon.ico")
def favicon():
    """Serve the icon where browsers look for it without a link (public, cached for a day)."""
    response = send_from_directory(STATIC, "favicon.ico", mimetype="image/x-icon", max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/healthz")
def healthz():
    """Answer ``{"status": "ok"}`` when the database answers (public, for monitoring)."""
    ping(get_session())
    return jsonify(status="ok")


def suppress_small_counts() -> bool:
    """Return whether the caller sees aggregates only.

    True for an analyst with no role that sees residents: every count from 1 to 4 is then
    left out of what they are shown (docs/analysts.md).
    """
    account = current_account()
    return bool(
        account and account.has("analyst") and not account.has("leader", "visitor", "agency")
    )


def team_in_reach(team_id: str, area_codes) -> bool:
    """Return whether the caller may see the team ``team_id`` (with dongs ``area_codes``).

    The same answer holds for its plans. An admin sees any team (teams are theirs to run;
    plans are not: :data:`webmap.access.ACCESS` keeps admins from the plan endpoints), a
    leader a team whose dongs are all in their scope, a visitor their own team. Anyone
    else, or a disabled account: no team.
    """
    account = current_account()
    if account is None or account.disabled:
        return False
    if account.has("leader"):
        scope = request_scope()
        if all(scope.allows(code) for code in area_codes):
            return True
    if account.has("visitor") and account.team_id == team_id:
        return True
    return account.has("admin")


#: The header's page links, in order: (endpoint, message id). A link is shown to those who may
#: open its page (:func:`nav_links`); an endpoint the app does not have is left out.
NAV_LINKS = (
    ("map.map_page", "Map"),
    ("pages.overview", "Counts per dong"),
    ("routes.my_day", "My visits today"),
    ("routes.route_page", "Visit routes"),
    ("visits.unreachable_page", "Unreachable residents"),
    ("audit.audit_page", "Access audit"),
    ("support_dashboard.dashboard_page", "Support overview"),  # issue 13, "dashboard"
    ("support.new_record", "Record support"),  # records (issue 13)
    ("resources.stock_page", "Resources"),  # issue 13, helper S
    ("blind_spots.blind_spots_page", "Blind spots"),  # issue 14
)


def _nav_label(message_id: str) -> str:
    # each id spelled out so that the translation check (tests/webmap/test_i18n.py) finds it
    return {
        "Map": gettext("Map"),
        "Counts per dong": gettext("Counts per dong"),
        "My visits today": gettext("My visits today"),
        "Visit routes": gettext("Visit routes"),
        "Unreachable residents": gettext("Unreachable residents"),
        "Access audit": gettext("Access audit"),
        "Record support": gettext("Record support"),  # records (issue 13)
        "Support overview": gettext("Support overview"),
        "Resources": gettext("Resources"),
        "Blind spots": gettext("Blind spots"),
    }[message_id]


def nav_links() -> list[dict]:
    """Return the header's page links for the signed-in caller.

    Each a dict: ``endpoint``, ``href``, ``label`` (in the request's language), ``current``
    (the page shown). Nobody signed in (the sign-in page, an error page) gets none: every page
    needs sign-in. The access audit is shown only to whom it shows something (a district-wide
    official or an admin, as :mod:`webmap.audit_page` decides).
    """
    account = current_account()
    if account is None or account.disabled:
        return []
    links = []
    for endpoint, message_id in NAV_LINKS:
        if endpoint not in current_app.view_functions or not can(endpoint):
            continue
        if endpoint == "audit.audit_page" and not (account.all_areas or account.has("admin")):
            continue
        if endpoint == "support.new_record" and not may_record_support(get_session(), account):
            continue  # records (issue 13): a visitor records support only as centre staff
        links.append(
            {
                "endpoint": endpoint,
                "href": url_for(endpoint),
                "label": _nav_label(message_id),
                "current": request.endpoint == endpoint,
            }
        )
    return links


def thousands(value) -> str:
    """Write a count with thousands separators (``19,629``); anything else (``-``) as it is."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def lang_url(locale: str) -> str:
    """Return this page's address in ``locale``: the same path and query, ``lang`` replaced.

    After a form was posted the query is dropped (the link is a GET of the same path). The path
    is quoted and starts with one slash: an unknown path such as ``//host/x`` cannot make the
    error page link to another site.
    """
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    if request.method != "GET":
        args = []
    path = "/" + quote(request.path.lstrip("/"))
    return f"{path}?{urlencode([*args, ('lang', locale)])}"
