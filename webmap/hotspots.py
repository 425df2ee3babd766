"""Risk hot spots (위험 밀집 지역) of the published score run as GeoJSON, for the map layer.

``GET /api/hotspots?unit=h3_9|dong`` gives the stored cells (:mod:`geo.hotspots`) whose centre
lies in the caller's dongs. Cells are aggregates: they name no resident, so nothing is
audited; a per-resident scope sees no cell, and an analyst (aggregates only) sees every dong
with the counts of units of 1 to 4 residents left out (docs/analysts.md).
"""

from __future__ import annotations

import json
import math

from flask import Blueprint, jsonify

from geo.hotspots import check_unit, resolve_run
from visitmap.usecases.hotspots import hotspot_cells
from webmap.db import get_session
from webmap.openapi import api_spec, responses
from webmap.pages import aggregate_scope, suppress_small_counts
from webmap.schemas.hotspots import HotspotCollection, HotspotQuery

bp = Blueprint("hotspots", __name__)


def _num(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@bp.get("/api/hotspots")
@api_spec.validate(resp=responses(HotspotCollection, 404), tags=["hotspots"])
def hotspots_api(query: HotspotQuery):
    """Give the published run's hot, cold and other units in scope as GeoJSON."""
    session = get_session()
    unit = check_unit(query.unit or "h3_9")
    run = resolve_run(session, None)
    cells = hotspot_cells(session, aggregate_scope(), run_id=run, unit=unit)
    small = suppress_small_counts()
    features = []
    for c in cells.itertuples(index=False):
        hide = small and 0 < c.residents < 5
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(c.geojson),
                "properties": {
                    "cell": c.cell,
                    "area_code": c.area_code,
                    "cluster": c.cluster,
                    "residents": None if hide else int(c.residents),
                    "high": None if hide or (small and 0 < c.high < 5) else int(c.high),
                    "value": float(c.value),
                    "z": _num(c.z),
                    "p_sim": _num(c.p_sim),
                    "q_value": _num(c.q_value),
                },
            }
        )
    stamp = cells.computed_at.max() if not cells.empty else None
    return jsonify(
        type="FeatureCollection",
        run_id=run,
        unit=unit,
        computed_at=None if stamp is None else stamp.isoformat(),
        features=features,
    )
