"""JSON API (``/api``) and vector tiles (``/tiles``). Views parse the request, call one
function of :mod:`geo.map_data` or :mod:`geo.map_tiles` with the caller's scope, serialise."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from geo.map_data import (
    area_summaries,
    list_runs,
    resident_panel,
    residents_in_box,
)
from geo.map_tiles import AREA_ZOOM_MAX, RESIDENT_ID_ZOOM, residents_tile
from visitmap.errors import NotFound
from webmap.access_log import shown
from webmap.db import get_session
from webmap.openapi import openapi_document
from webmap.pages import aggregate_scope, request_scope, suppress_small_counts
from webmap.params import (
    parse_bbox,
    parse_filters,
    parse_int,
    parse_run,
    today,
)

api = Blueprint("api", __name__, url_prefix="/api")
tiles = Blueprint("tiles", __name__, url_prefix="/tiles")


@api.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@api.get("/residents")
def residents():
    session = get_session()
    bbox = parse_bbox()
    filters = parse_filters()
    limit = parse_int("limit", 500, minimum=1, maximum=5000)
    offset = parse_int("offset", 0, minimum=0, maximum=10**9)
    run_id = parse_run(session)
    if run_id is None:
        return jsonify(
            type="FeatureCollection",
            features=[],
            run_id=None,
            total=0,
            limit=limit,
            offset=offset,
            next_offset=None,
        )
    page = residents_in_box(
        session,
        request_scope(),
        run_id=run_id,
        bbox=bbox,
        today=today(),
        filters=filters,
        limit=limit,
        offset=offset,
    )
    shown(f["id"] for f in page["features"])
    response = jsonify(page)
    response.mimetype = "application/geo+json"
    return response


@api.get("/residents/<resident_id>")
def resident(resident_id: str):
    session = get_session()
    run_id = parse_run(session)
    panel = (
        resident_panel(session, request_scope(), resident_id, today=today(), run_id=run_id)
        if run_id is not None
        else None
    )
    if panel is None:
        raise NotFound(f"resident {resident_id!r} not found")
    shown([resident_id])
    return jsonify(panel)


@api.get("/areas")
def areas():
    session = get_session()
    filters = parse_filters()
    run_id = parse_run(session)
    rows = (
        area_summaries(
            session,
            aggregate_scope(),
            run_id=run_id,
            today=today(),
            filters=filters,
            suppress_small=suppress_small_counts(),
        )
        if run_id is not None
        else []
    )
    session.commit()  # keeps aggregates built on first use
    return jsonify(run_id=run_id, counted_on=today().isoformat(), areas=rows)


@api.get("/score-runs")
def score_runs():
    limit = parse_int("limit", 50, minimum=1, maximum=500)
    return jsonify(runs=list_runs(get_session(), limit=limit))


@tiles.get("/residents/<int:z>/<int:x>/<int:y>.pbf")
def resident_tile(z: int, x: int, y: int):
    session = get_session()
    filters = parse_filters()
    run_id = parse_run(session)
    body = b""
    if run_id is not None:
        body, count = residents_tile(
            session,
            aggregate_scope() if z <= AREA_ZOOM_MAX else request_scope(),
            run_id=run_id,
            z=z,
            x=x,
            y=y,
            today=today(),
            filters=filters,
            with_count=True,
            suppress_small=suppress_small_counts(),
        )
        if z >= RESIDENT_ID_ZOOM:  # the tile carries residents' ids: one audit row per tile
            shown(count=count, detail={"tile": [z, x, y]})
    session.commit()  # keeps aggregates built on first use
    response = Response(body, mimetype="application/vnd.mapbox-vector-tile")
    # scope-dependent: only the user's own browser may cache it
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
