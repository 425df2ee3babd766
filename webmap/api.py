"""JSON API (``/api``) and vector tiles (``/tiles``).

Views parse the request, call one function of :mod:`geo.mapdata.queries` or
:mod:`geo.mapdata.tiles` with the caller's scope, and serialise the answer.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from geo.mapdata.queries import area_summaries, list_runs, resident_panel, residents_in_box
from geo.mapdata.tile_points import has_tile_points, layer_answers
from geo.mapdata.tiles import (
    AREA_ZOOM_MAX,
    BUFFER,
    EXTENT,
    MAX_ZOOM,
    RESIDENT_ID_ZOOM,
    RESIDENT_ZOOM_MIN,
    residents_tile,
)
from visitmap.errors import NotFound
from visitmap.usecases.scoring_runs import publish_score_run
from webmap.access_log import shown
from webmap.auth import current_account
from webmap.db import get_session
from webmap.openapi import api_spec, openapi_document, responses
from webmap.pages import aggregate_scope, request_scope, suppress_small_counts
from webmap.params import parse_run, today
from webmap.schemas.requests import MapQuery, ResidentsQuery, RunQuery, ScoreRunsQuery
from webmap.schemas.responses import (
    Areas,
    PublishedRun,
    ResidentPage,
    ResidentPanel,
    ScoreRuns,
)
from webmap.tile_cache import CachedTile, TileCache, cache_state, etag_of

api = Blueprint("api", __name__, url_prefix="/api")
tiles = Blueprint("tiles", __name__, url_prefix="/tiles")


@api.get("/openapi.json")
def openapi():
    """Serve the OpenAPI document of the API (generated: :mod:`webmap.openapi`)."""
    return jsonify(openapi_document())


@api.get("/residents")
@api_spec.validate(resp=responses(ResidentPage, 404), tags=["map"])
def residents(query: ResidentsQuery):
    """Residents in a bounding box (GeoJSON, paged, highest score first)."""
    session = get_session()
    bbox, filters, limit, offset = query.bbox, query.filters(), query.limit, query.offset
    run_id = parse_run(session, query.run)
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
@api_spec.validate(
    resp=responses(ResidentPanel, 404),
    tags=["map"],
    path_parameter_descriptions={"resident_id": "Pseudonymous resident id."},
)
def resident(resident_id: str, query: RunQuery):
    """One resident's panel: tier, score, reasons, visits, needs, support."""
    session = get_session()
    run_id = parse_run(session, query.run)
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
@api_spec.validate(resp=responses(Areas, 404), tags=["map"])
def areas(query: MapQuery):
    """Dongs with residents scored, counts per tier and overdue."""
    session = get_session()
    filters = query.filters()
    run_id = parse_run(session, query.run)
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
    return jsonify(run_id=run_id, counted_on=today().isoformat(), areas=rows)


@api.get("/score-runs")
@api_spec.validate(resp=responses(ScoreRuns), tags=["map"])
def score_runs(query: ScoreRunsQuery):
    """Score runs, newest first."""
    return jsonify(runs=list_runs(get_session(), limit=query.limit))


@api.post("/score-runs/<int:run_id>/publish")
@api_spec.validate(
    resp=responses(PublishedRun, 404),
    tags=["map"],
    path_parameter_descriptions={"run_id": "Score run id."},
)
def publish_run(run_id: int):
    """Publish a score run: the map, the planner and the field pages use it from now on.

    Leaders and admins only. Publishing the published run changes nothing (``changed``
    false); publishing an earlier run puts it back. Residents visited since the run was
    stored are rescored in it first (docs/publishing.md).
    """
    session = get_session()
    result = publish_score_run(
        session,
        run_id,
        by=current_account().username,
        follow_up=current_app.config["VISITMAP_SETTINGS"].follow_up(),
    )
    session.commit()
    publication = result.publication
    return jsonify(
        run_id=publication.run_id,
        published_at=publication.published_at.isoformat(),
        published_by=publication.published_by,
        previous_run_id=publication.previous_run_id,
        changed=publication.changed,
        caught_up=result.caught_up,
    )


def init_tile_cache(app: Flask) -> None:
    """Give the app its tile cache (``TILE_CACHE_MB``; webmap.tile_cache)."""
    app.extensions["visitmap_tile_cache"] = TileCache(
        int(app.config["TILE_CACHE_MB"] * 2**20),
        resident_zoom_min=RESIDENT_ZOOM_MIN,
        max_zoom=MAX_ZOOM,
        margin=BUFFER / EXTENT,
    )


def tile_cache() -> TileCache:
    """Return the app's tile cache."""
    return current_app.extensions["visitmap_tile_cache"]


@tiles.get("/residents/<int:z>/<int:x>/<int:y>.pbf")
@api_spec.validate(
    resp=responses({200: None, 304: (None, "Not modified: the tile named in If-None-Match")}, 404),
    tags=["map"],
    path_parameter_descriptions={"z": "Zoom", "x": "Column", "y": "Row"},
)
def resident_tile(z: int, x: int, y: int, query: MapQuery):
    """Mapbox vector tile: per-dong counts to z13, from z14 a feature per point where people live.

    The tile may be empty. It carries an ETag: a request naming it in ``If-None-Match`` gets 304
    (no body). Only the caller's own browser may keep it, and it asks again before using it.
    """
    session = get_session()
    filters = query.filters()
    cache = tile_cache()
    published, change = cache_state(session)  # one query: the published run, the tile changes
    run_id = parse_run(session, query.run, published=published)
    entry = CachedTile(b"", 0, etag_of(b""))
    if run_id is not None:
        scope = aggregate_scope() if z <= AREA_ZOOM_MAX else request_scope()
        suppress = suppress_small_counts()
        key = None
        cache.sync(session, published, change)
        if cache.enabled and run_id == published and layer_answers(scope, filters):
            key = (run_id, z, x, y, scope, filters, today(), suppress)
        cached = cache.get(key) if key is not None else None
        if cached is not None:
            entry = cached
        else:
            has_layer = None  # the published run's layer is looked up once per publication
            if run_id == published and cache.layer_run == run_id:
                has_layer = True
            elif run_id == published and has_tile_points(session, run_id):
                cache.layer_run, has_layer = run_id, True
            body, count = residents_tile(
                session,
                scope,
                run_id=run_id,
                z=z,
                x=x,
                y=y,
                today=today(),
                filters=filters,
                with_count=True,
                suppress_small=suppress,
                has_layer=has_layer,
            )
            entry = (
                cache.put(key, body, count, change)
                if key is not None
                else CachedTile(body, count, etag_of(body))
            )
        if z >= RESIDENT_ID_ZOOM:  # the tile carries residents' ids: one audit row per tile
            shown(count=entry.count, detail={"tile": [z, x, y]})
    if request.if_none_match.contains(entry.etag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(entry.body, mimetype="application/vnd.mapbox-vector-tile")
    response.headers["ETag"] = entry.etag
    # scope-dependent: only the user's own browser may keep it, and it asks again (a 304 when
    # nothing changed) so that a recorded visit shows at once
    response.headers["Cache-Control"] = "private, no-cache"
    return response
