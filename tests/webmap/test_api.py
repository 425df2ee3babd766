"""The JSON API and the vector tiles against a real PostGIS holding a scored demo."""

from __future__ import annotations

import re

import mapbox_vector_tile
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.mapdata.filters import ResidentFilters
from geo.mapdata.queries import resident_panel, residents_in_box
from geo.mapdata.tiles import residents_tile, tile_of
from geo.scope import Scope
from tests.webmap.conftest import AS_OF, XSS_NAME, XSS_NOTE
from visitmap.vocab import VISIT_STATES, overdue_words

pytestmark = pytest.mark.db

SEODAEMUN_BBOX = "126.88,37.54,126.98,37.61"


def _db_count(map_database, where: str = "", params: dict | None = None) -> int:
    with Session(map_database["engine"]) as session:
        return session.execute(
            text(f"""SELECT count(*) FROM resident_scores s
                JOIN residents r ON r.id = s.resident_id
                JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
                WHERE s.run_id = :run AND r.status = 'active' {where}"""),
            {"run": map_database["run_id"]} | (params or {}),
        ).scalar_one()


def test_residents_in_a_box_are_geojson_paged_and_complete(map_client, map_database):
    first = map_client.get(f"/api/residents?bbox={SEODAEMUN_BBOX}&limit=1000")
    assert first.status_code == 200 and first.mimetype == "application/geo+json"
    page = first.get_json()
    assert page["type"] == "FeatureCollection"
    assert page["total"] == _db_count(map_database) > 2000
    assert len(page["features"]) == 1000 and page["next_offset"] == 1000
    ids = [f["id"] for f in page["features"]]
    scores = [f["properties"]["score"] for f in page["features"]]
    assert scores == sorted(scores, reverse=True)
    seen = set(ids)
    offset = page["next_offset"]
    while offset is not None:
        more = map_client.get(f"/api/residents?bbox={SEODAEMUN_BBOX}&limit=1000&offset={offset}")
        data = more.get_json()
        seen |= {f["id"] for f in data["features"]}
        offset = data["next_offset"]
    assert len(seen) == page["total"]
    # no free text in the list: names and notes only in one resident's record
    assert XSS_NAME not in first.get_data(as_text=True)


def test_tier_and_overdue_filters(map_client, map_database):
    high = map_client.get(f"/api/residents?bbox={SEODAEMUN_BBOX}&tier=high&limit=5000")
    features = high.get_json()["features"]
    assert features and {f["properties"]["tier_name"] for f in features} == {"high"}
    assert len(features) == _db_count(map_database, "AND s.tier = 2")
    overdue = map_client.get(
        f"/api/residents?bbox={SEODAEMUN_BBOX}&tier=medium,high&overdue=true&limit=5000"
    ).get_json()
    assert overdue["total"] == _db_count(
        map_database, "AND s.tier IN (1, 2) AND s.next_due_on < :today", {"today": AS_OF}
    )
    assert all(f["properties"]["days_overdue"] > 0 for f in overdue["features"])


def test_a_small_box_holds_only_residents_inside_it(map_client):
    box = (126.930, 37.560, 126.940, 37.570)
    data = map_client.get(
        "/api/residents?bbox=" + ",".join(map(str, box)) + "&limit=5000"
    ).get_json()
    assert data["features"]
    for feature in data["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "bbox"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=127,37,126,38", "bbox"),
        (f"bbox={SEODAEMUN_BBOX}&tier=purple", "tier"),
        (f"bbox={SEODAEMUN_BBOX}&overdue=maybe", "overdue"),
        (f"bbox={SEODAEMUN_BBOX}&limit=0", "limit"),
        (f"bbox={SEODAEMUN_BBOX}&limit=ten", "limit"),
        (f"bbox={SEODAEMUN_BBOX}&offset=-1", "offset"),
        (f"bbox={SEODAEMUN_BBOX}&signal=lottery", "signal"),
        (f"bbox={SEODAEMUN_BBOX}&area=11410", "area"),
        (f"bbox={SEODAEMUN_BBOX}&run=abc", "run"),
    ],
)
def test_invalid_parameters_get_400_naming_the_parameter(map_client, query, parameter):
    response = map_client.get(f"/api/residents?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_parameter" and body["parameter"] == parameter
    assert body["message"].startswith(parameter)


def test_unknown_ids_and_runs_get_404(map_client, map_database):
    assert map_client.get("/api/residents/R-9999999").status_code == 404
    assert map_client.get("/api/residents/R-9999999").get_json()["error"] == "not_found"
    missing_run = map_client.get(f"/api/residents?bbox={SEODAEMUN_BBOX}&run=999999")
    assert missing_run.status_code == 404
    assert map_client.get("/api/nothing-here").get_json()["error"] == "not_found"


def test_resident_record_has_reasons_visits_and_text_as_given(map_client, map_database):
    rid = map_database["xss_id"]
    data = map_client.get(f"/api/residents/{rid}").get_json()
    assert data["resident_id"] == rid and data["tier_name"] == "high"
    assert 1 <= len(data["reasons_ko"]) <= 3 and len(data["reasons_en"]) == len(data["reasons_ko"])
    assert data["name"] == XSS_NAME  # JSON carries the text; the page renders it as text
    assert data["last_visit"]["notes"] == XSS_NOTE
    assert data["last_visit"]["visited_on"] == "2026-10-30"
    assert data["next_due_on"] and data["days_overdue"] >= 0
    assert isinstance(data["open_needs"], list) and isinstance(data["recent_support"], list)
    # the panel's state in words agrees with its due date
    state = data["visit_state"]
    assert state["state"] in VISIT_STATES
    assert state["state_ko"] == VISIT_STATES[state["state"]][0]
    if state["state"] == "overdue":
        assert data["days_overdue"] > 0
        assert overdue_words(data["days_overdue"])[0] in state["words_ko"]
    assert "일 동안" not in " ".join(data["reasons_ko"]) or all(
        int(r.split("일")[0].replace(",", "")) <= 800 for r in data["reasons_ko"] if "일 동안" in r
    )


def test_areas_have_per_tier_counts_that_add_up(map_client, map_database):
    data = map_client.get("/api/areas").get_json()
    assert data["run_id"] == map_database["run_id"]
    assert len(data["areas"]) == 14
    total = {"low": 0, "medium": 0, "high": 0}
    for area in data["areas"]:
        for tier, n in area["tier_counts"].items():
            total[tier] += n
            assert area["overdue_counts"][tier] <= n
    runs = map_client.get("/api/score-runs").get_json()["runs"]
    assert runs[0]["id"] == map_database["run_id"]
    assert total == runs[0]["tier_counts"]
    only_high = map_client.get("/api/areas?tier=high").get_json()["areas"]
    assert sum(a["residents_shown"] for a in only_high) == total["high"]


def test_openapi_documents_every_api_route(map_app, map_client):
    document = map_client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)  # <int:z> -> {z}
        for rule in map_app.url_map.iter_rules()
        if rule.rule.startswith(("/api/", "/tiles/")) and rule.rule != "/api/openapi.json"
    }
    assert routes == set(document["paths"])


def _tile(map_client, z, x, y, query=""):
    response = map_client.get(f"/tiles/residents/{z}/{x}/{y}.pbf{query}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.data)


def _in_tile(map_database, z, x, y, where="", what="count(*)"):
    with Session(map_database["engine"]) as session:
        return session.execute(
            text(f"""SELECT {what} FROM households h JOIN residents r ON r.household_id = h.id
                JOIN resident_scores s ON s.run_id = :run AND s.resident_id = r.id
                WHERE r.status = 'active' AND ST_Transform(h.geom, 3857)
                    && ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096){where}"""),
            {"run": map_database["run_id"], "z": z, "x": x, "y": y},
        ).scalar_one()


def test_high_zoom_tiles_hold_the_residents_of_the_tile(map_client, map_database):
    # the tile of the top-scored (high-tier) resident
    with Session(map_database["engine"]) as session:
        lon, lat = session.execute(
            text("""SELECT ST_X(h.geom), ST_Y(h.geom) FROM residents r
                JOIN households h ON h.id = r.household_id WHERE r.external_id = :id"""),
            {"id": map_database["xss_id"]},
        ).one()
    x, y = tile_of(lon, lat, 15)
    features = _tile(map_client, 15, x, y)["residents"]["features"]
    # one feature per point where residents live (issue 15), carrying how many live there
    points = "count(DISTINCT (h.area_id, h.geom))"
    assert len(features) == _in_tile(map_database, 15, x, y, what=points) > 0
    assert sum(f["properties"]["n"] for f in features) == _in_tile(map_database, 15, x, y)
    assert len(features) < _in_tile(map_database, 15, x, y)  # households share points
    assert {f["properties"]["tier"] for f in features} <= {0, 1, 2}
    for f in features:
        counts = [f["properties"].get(name, 0) for name in ("low", "medium", "high")]
        assert sum(counts) == f["properties"]["n"]
        assert f["properties"]["tier"] == max(t for t, n in enumerate(counts) if n)
    assert map_database["xss_id"] in {f["properties"]["id"] for f in features}
    only_high = _tile(map_client, 15, x, y, "?tier=high")["residents"]["features"]
    high = " AND s.tier = 2"
    assert len(only_high) == _in_tile(map_database, 15, x, y, high, what=points) >= 1
    assert sum(f["properties"]["n"] for f in only_high) == _in_tile(map_database, 15, x, y, high)
    assert {f["properties"]["tier"] for f in only_high} == {2}
    # at zoom 14 the residents come without ids (tile size)
    x14, y14 = tile_of(lon, lat, 14)
    assert all(
        "id" not in f["properties"]
        for f in _tile(map_client, 14, x14, y14)["residents"]["features"]
    )


def test_low_zoom_tiles_hold_counts_per_dong(map_client, map_database):
    x, y = tile_of(126.9368, 37.5791, 8)
    layers = _tile(map_client, 8, x, y)
    areas = layers["areas"]["features"]
    assert len(areas) == 14 and "residents" not in layers
    totals = sum(
        f["properties"]["low"] + f["properties"]["medium"] + f["properties"]["high"] for f in areas
    )
    assert totals == _db_count(map_database)


def test_tile_coordinates_are_checked(map_client):
    assert map_client.get("/tiles/residents/25/0/0.pbf").get_json()["parameter"] == "z"
    assert map_client.get("/tiles/residents/3/8/0.pbf").get_json()["parameter"] == "x"
    assert map_client.get("/tiles/residents/3/0/9.pbf").get_json()["parameter"] == "y"


def test_scope_limits_every_resident_query(map_database):
    """A caller scoped to one dong sees only that dong's residents, counts and records."""
    one = "1141069000"  # 남가좌1동
    scope = Scope.of_areas({one})
    with Session(map_database["engine"]) as session:
        box = residents_in_box(
            session,
            scope,
            run_id=map_database["run_id"],
            bbox=(126.88, 37.54, 126.98, 37.61),
            today=AS_OF,
            limit=5000,
        )
        assert box["features"] and {f["properties"]["area_code"] for f in box["features"]} == {one}
        outsider = session.execute(
            text("""SELECT r.external_id FROM residents r JOIN households h ON h.id = r.household_id
                JOIN areas a ON a.id = h.area_id WHERE a.code <> :one LIMIT 1"""),
            {"one": one},
        ).scalar_one()
        assert resident_panel(session, scope, outsider, today=AS_OF) is None
        assert resident_panel(session, Scope.everything(), outsider, today=AS_OF) is not None
        x, y = tile_of(126.9368, 37.5791, 10)
        tile = mapbox_vector_tile.decode(
            residents_tile(
                session,
                scope,
                run_id=map_database["run_id"],
                z=10,
                x=x,
                y=y,
                today=AS_OF,
                filters=ResidentFilters(),
            )
        )
        assert [f["properties"]["code"] for f in tile["areas"]["features"]] == [one]
        nobody = residents_tile(
            session,
            Scope.of_areas(set()),
            run_id=map_database["run_id"],
            z=10,
            x=x,
            y=y,
            today=AS_OF,
        )
        assert nobody == b""
