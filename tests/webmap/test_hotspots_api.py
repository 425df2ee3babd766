"""GET /api/hotspots: GeoJSON of the published run's units, in the caller's scope."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geo.db import session_scope
from geo.hotspots import compute_hotspots
from tests.webmap.conftest import app_for

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def app(map_database):
    with session_scope(map_database["engine"]) as session:
        for unit in ("h3_9", "dong"):
            compute_hotspots(session, unit=unit)
    with app_for(map_database["url"]) as app:
        yield app


def test_leader_sees_every_cell_and_dong_leader_only_theirs(app, map_database):
    everything = app.test_client().get("/api/hotspots").get_json()
    assert everything["type"] == "FeatureCollection" and everything["unit"] == "h3_9"
    assert everything["run_id"] == map_database["run_id"]
    with session_scope(map_database["engine"]) as session:
        stored = session.execute(
            text("SELECT count(*) FROM hotspot_cells WHERE run_id = :r AND unit = 'h3_9'"),
            {"r": map_database["run_id"]},
        ).scalar()
    assert len(everything["features"]) == stored > 0
    first = everything["features"][0]
    assert first["geometry"]["type"] == "MultiPolygon"
    assert first["properties"]["cluster"] in {"hot", "cold", "none"}
    dong = app.test_client(role="dong").get("/api/hotspots").get_json()
    codes = {f["properties"]["area_code"] for f in dong["features"]}
    assert len(codes) == 1 and 0 < len(dong["features"]) < len(everything["features"])
    dongs = app.test_client(role="dong").get("/api/hotspots?unit=dong").get_json()
    assert [f["properties"]["cell"] for f in dongs["features"]] == list(codes)


def test_analyst_sees_no_small_counts_and_errors_name_the_field(app):
    rows = app.test_client(role="analyst").get("/api/hotspots").get_json()["features"]
    assert rows and all(
        f["properties"]["residents"] is None or f["properties"]["residents"] >= 5 for f in rows
    )
    bad = app.test_client().get("/api/hotspots?unit=hex")
    assert bad.status_code == 400 and "unit" in bad.get_json()["message"]
    assert app.test_client(role=None).get("/api/hotspots").status_code == 401


def test_map_page_has_the_layer_and_its_legend_in_korean_and_english(app):
    ko = app.test_client().get("/?lang=ko").get_data(as_text=True)
    assert "위험 밀집 지역" in ko and 'id="hotspot-layer-toggle"' in ko
    assert "hotspot_layer.js" in ko and "Gi*:" in ko and "FDR:" in ko
    en = app.test_client().get("/?lang=en").get_data(as_text=True)
    assert "Risk hot spots" in en and "one in twenty" in en
    with app.test_client().get("/static/hotspot_layer.js") as js:
        assert js.status_code == 200 and b"textContent" in js.data
        assert b"innerHTML" not in js.data
