"""``/api/analyst``: pseudonymised per-resident rows and suppressed counts for analysts.

Leaders may use it too, for their own dongs. Nothing here names a person: no audit row is
written.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from geo.analyst_export import analyst_aggregates, analyst_residents
from webmap.db import get_session
from webmap.openapi import api_spec, responses
from webmap.pages import aggregate_scope
from webmap.params import today
from webmap.schemas.requests import AnalystAggregatesQuery, AnalystResidentsQuery
from webmap.schemas.responses import Aggregates, AnalystResidents

bp = Blueprint("analyst_api", __name__, url_prefix="/api/analyst")


def _json_ready(frame):
    return [
        {k: (None if v != v or v is None else (v.isoformat() if hasattr(v, "isoformat") else v))
         for k, v in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]  # fmt: skip


@bp.get("/residents")
@api_spec.validate(resp=responses(AnalystResidents), tags=["analysts"])
def residents(query: AnalystResidentsQuery):
    """Pseudonymised residents of a score run (analysts; leaders: their dongs).

    One row per scored resident under a keyed pseudonym: dong, birth year, sex, household
    size, features, score, tier, next due date, visits and outcome. No name, address,
    registration number, exact date of birth, coordinate or free text. docs/analysts.md.
    """
    limit, offset = query.limit, query.offset
    frame = analyst_residents(
        get_session(),
        aggregate_scope(),
        pseudonym_key=current_app.config["PSEUDONYM_KEY"],
        run_id=query.run,
    )
    if query.format == "csv":
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
@api_spec.validate(resp=responses(Aggregates), tags=["analysts"])
def aggregates(query: AnalystAggregatesQuery):
    """Residents per dong and tier (and age band), counts from 1 to 4 suppressed."""
    frame = analyst_aggregates(
        get_session(),
        aggregate_scope(),
        run_id=query.run,
        by_age=query.by_age == "true",
        as_of_year=today().year,
    )
    return jsonify(rows=_json_ready(frame), suppressed_below=5)
