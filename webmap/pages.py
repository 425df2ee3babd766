"""HTML pages. Views are thin: parse the request, call geo, render."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, g, jsonify, render_template

from geo.accounts import scope_for
from geo.analyst_export import small
from geo.db import ping
from geo.queries import area_counts
from geo.scope import Scope
from webmap.auth import current_account
from webmap.db import get_session
from webmap.params import today

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
    """Show households, residents (65 and over, living alone) and facilities per dong.

    For an analyst, counts from 1 to 4 are hidden, and with them their column's total.
    """
    rows = area_counts(get_session(), aggregate_scope(), as_of_year=today().year)
    columns = ("households", "residents", "residents_65plus", "living_alone_65plus", "facilities")
    totals = {c: sum(getattr(r, c) for r in rows) for c in columns}
    if suppress_small_counts():  # counts 1-4 left out, and then the column's total too
        hidden = {c for r in rows for c in columns[:4] if small(getattr(r, c))}
        rows = [replace(r, **{c: "-" for c in columns[:4] if small(getattr(r, c))}) for r in rows]
        totals |= {c: "-" for c in hidden}
    return render_template("overview.html", rows=rows, totals=totals)


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
