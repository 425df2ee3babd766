"""HTML pages. Views are thin: parse the request, call geo, render."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from geo.queries import area_counts
from geo.scope import Scope
from webmap.db import get_session
from webmap.params import today

bp = Blueprint("pages", __name__)


def request_scope() -> Scope:
    """The caller's scope. Accounts come later; until then every caller sees all areas."""
    return Scope.everything()


@bp.get("/overview")
def overview():
    rows = area_counts(get_session(), request_scope(), as_of_year=today().year)
    totals = {
        "households": sum(r.households for r in rows),
        "residents": sum(r.residents for r in rows),
        "residents_65plus": sum(r.residents_65plus for r in rows),
        "living_alone_65plus": sum(r.living_alone_65plus for r in rows),
        "facilities": sum(r.facilities for r in rows),
    }
    return render_template("overview.html", rows=rows, totals=totals)


@bp.get("/healthz")
def healthz():
    get_session().execute(text("SELECT 1"))
    return jsonify(status="ok")
