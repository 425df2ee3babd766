"""``/api/analyst``: pseudonymised per-resident rows and suppressed counts for analysts (and
leaders, for their own dongs). Nothing here names a person: no audit row is written."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from geo.analyst_export import ExportError, analyst_aggregates, analyst_residents
from webmap.db import get_session
from webmap.pages import aggregate_scope
from webmap.params import parse_int, today

bp = Blueprint("analyst_api", __name__, url_prefix="/api/analyst")


def _run_id() -> int | None:
    raw = request.args.get("run")
    return None if raw in (None, "") else parse_int("run", None, minimum=1, maximum=2**31 - 1)


def _json_ready(frame):
    return [
        {k: (None if v != v or v is None else (v.isoformat() if hasattr(v, "isoformat") else v))
         for k, v in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]  # fmt: skip


@bp.get("/residents")
def residents():
    limit = parse_int("limit", 1000, minimum=1, maximum=100_000)
    offset = parse_int("offset", 0, minimum=0, maximum=10**9)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ExportError("format", "json or csv")
    frame = analyst_residents(
        get_session(),
        aggregate_scope(),
        pseudonym_key=current_app.config["PSEUDONYM_KEY"],
        run_id=_run_id(),
    )
    if fmt == "csv":
        return Response(
            frame.to_csv(index=False),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="analyst-residents.csv"'},
        )
    page = frame.iloc[offset : offset + limit]
    following = offset + limit if offset + limit < len(frame) else None
    return jsonify(
        residents=_json_ready(page),
        total=len(frame),
        limit=limit,
        offset=offset,
        next_offset=following,
    )


@bp.get("/aggregates")
def aggregates():
    by_age = request.args.get("by_age", "false")
    if by_age not in ("true", "false"):
        raise ExportError("by_age", "true or false")
    frame = analyst_aggregates(
        get_session(),
        aggregate_scope(),
        run_id=_run_id(),
        by_age=by_age == "true",
        as_of_year=today().year,
    )
    return jsonify(rows=_json_ready(frame), suppressed_below=5)


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


_RUN = _query("run", "Score run id (default: the latest).", {"type": "integer", "minimum": 1})
_ERRORS = {
    "400": {"description": "A bad parameter: {error, parameter, message}."},
    "403": {"description": "The caller's role may not use this."},
}

#: the OpenAPI paths of this blueprint (merged into webmap.openapi's document)
ANALYST_PATHS = {
    "/api/analyst/residents": {
        "get": {
            "summary": "Pseudonymised residents of a score run (analysts; leaders: their dongs)",
            "description": (
                "One row per scored resident under a keyed pseudonym: dong, birth year, sex, "
                "household size, features, score, tier, next due date, visits and outcome. "
                "No name, address, registration number, exact date of birth, coordinate or "
                "free text. docs/analysts.md."
            ),
            "parameters": [
                _RUN,
                _query("limit", "Rows per page (JSON).", {"type": "integer", "maximum": 100000}),
                _query("offset", "First row (JSON).", {"type": "integer", "minimum": 0}),
                _query("format", "json (paged) or csv (all rows).", {"enum": ["json", "csv"]}),
            ],
            "responses": {"200": {"description": "Rows, total, paging."}, **_ERRORS},
        }
    },
    "/api/analyst/aggregates": {
        "get": {
            "summary": "Residents per dong and tier, counts from 1 to 4 suppressed",
            "parameters": [
                _RUN,
                _query("by_age", "Also per age band.", {"type": "boolean"}),
            ],
            "responses": {"200": {"description": "Rows per dong (and age band)."}, **_ERRORS},
        }
    },
}
