"""The resident tiles' layer and the tile cache (issue 15), against a real PostGIS.

Its own database (the tests publish runs and record visits): a 2,500-resident demo scored
three times (tests.webmap.conftest.build_scored_demo).
"""

from __future__ import annotations

import uuid

import mapbox_vector_tile
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import session_scope
from geo.mapdata.filters import NO_FILTERS, ResidentFilters
from geo.mapdata.tile_points import build_tile_points, has_tile_points, point_tile_sql
from geo.mapdata.tiles import BUFFER, EXTENT, resident_tile_sql, tile_of
from geo.scope import Scope
from tests.webmap.conftest import AS_OF, app_for, scored_scratch_demo, sql_rows
from webmap.tile_cache import TileCache, tiles_holding

pytestmark = pytest.mark.db

LAYER_SQL = """SELECT area_id, ST_AsText(geom), n_low, n_medium, n_high, ids_low, ids_medium,
    ids_high, dues_low, dues_medium, dues_high, min_due_low, min_due_medium, min_due_high
    FROM run_tile_points WHERE run_id = :run ORDER BY 1, 2"""


@pytest.fixture(scope="module")
def tiles_db(engine, database_url, tmp_path_factory):
    with scored_scratch_demo(database_url, tmp_path_factory, "visitmap_test_tiles") as db:
        yield db


@pytest.fixture(scope="module")
def tiles_app(tiles_db):
    with app_for(tiles_db["url"]) as app:
        yield app


def _rows(db, sql, **params):
    return sql_rows(db["url"], sql, **params)


def _busiest_tiles(db, z, limit=4):
    """The z-tiles holding the most residents of the published run, busiest first."""
    return [
        tuple(row[:2])
        for row in _rows(
            db,
            """SELECT x, y, sum(n_low + n_medium + n_high) FROM (
                SELECT floor((ST_X(geom) + 20037508.342789244) / (40075016.68557849 / 2 ^ :z))
                    ::int AS x,
                floor((20037508.342789244 - ST_Y(geom)) / (40075016.68557849 / 2 ^ :z))::int AS y,
                n_low, n_medium, n_high FROM run_tile_points WHERE run_id = :run) p
            GROUP BY 1, 2 ORDER BY 3 DESC LIMIT :limit""",
            z=z,
            run=db["run_id"],
            limit=limit,
        )
    ]


def test_publishing_writes_the_layer_of_the_run_only(tiles_db):
    with Session(tiles_db["engine"]) as session:
        assert has_tile_points(session, tiles_db["run_id"])
        parts = session.execute(
            text("""SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'run_tile_points'::regclass""")
        ).scalars()
        assert list(parts) == [f"run_tile_points_run_{tiles_db['run_id']}"]


def test_layer_holds_every_resident_of_the_run_once_per_point(tiles_db):
    run = tiles_db["run_id"]
    # per point and tier, the residents from the full join, ids in score order
    expected = {
        (row[0], row[1], row[2]): (row[3], list(row[4]), list(row[5]))
        for row in _rows(
            tiles_db,
            """SELECT h.area_id, ST_AsText(ST_Transform(h.geom, 3857)), s.tier, count(*),
                array_agg(r.external_id ORDER BY s.score DESC, r.id),
                array_agg(s.next_due_on ORDER BY s.score DESC, r.id)
            FROM resident_scores s JOIN residents r ON r.id = s.resident_id
            JOIN households h ON h.id = r.household_id
            WHERE s.run_id = :run AND r.status = 'active' GROUP BY 1, 2, 3""",
            run=run,
        )
    }
    got = {}
    layer = _rows(tiles_db, LAYER_SQL, run=run)
    for row in layer:
        for tier in range(3):
            n, ids, dues, least = row[2 + tier], row[5 + tier], row[8 + tier], row[11 + tier]
            if n:
                got[(row[0], row[1], tier)] = (n, list(ids), list(dues))
                assert least == min(dues)
            else:
                assert ids is None and dues is None and least is None
    assert got == expected
    assert len({(row[0], row[1]) for row in layer}) == len(layer)  # one row per point
    assert len(layer) < sum(n for n, _, _ in expected.values())  # residents share points


@pytest.mark.parametrize(
    "filters",
    [
        NO_FILTERS,
        ResidentFilters(tiers=frozenset({2})),
        ResidentFilters(tiers=frozenset({0, 1})),
        ResidentFilters(overdue=True),
        ResidentFilters(overdue=False, tiers=frozenset({1, 2})),
    ],
    ids=["all", "high", "low+medium", "overdue", "on-time medium+high"],
)
def test_layer_tiles_show_the_residents_the_full_join_shows(tiles_db, filters):
    """Per point: the residents, the top tier, its overdue mark and top id of the old tiles."""
    scope = Scope.everything()
    with Session(tiles_db["engine"]) as session:
        for z in (14, 16):
            for x, y in _busiest_tiles(tiles_db, z, limit=3):
                params = {"z": z, "x": x, "y": y, "run_id": tiles_db["run_id"]}
                sql, p = point_tile_sql(
                    scope, filters, today=AS_OF, with_ids=True, extent=EXTENT, buffer=BUFFER
                )
                tile, count = session.execute(text(sql), p | params).one()
                old_sql, old_p = resident_tile_sql(scope, filters, today=AS_OF, with_ids=True)
                old_tile, old_count = session.execute(text(old_sql), old_p | params).one()
                assert count == old_count
                points = {}
                for f in mapbox_vector_tile.decode(bytes(old_tile or b"")).get(
                    "residents", {"features": []}
                )["features"]:
                    # the old tile is in tier, score order: the last at a point is its top
                    points.setdefault(tuple(f["geometry"]["coordinates"]), []).append(
                        f["properties"]
                    )
                new = mapbox_vector_tile.decode(bytes(tile or b"")).get(
                    "residents", {"features": []}
                )["features"]
                assert len(new) == len(points)
                for f in new:
                    props, old = f["properties"], points[tuple(f["geometry"]["coordinates"])]
                    top = max(p["tier"] for p in old)
                    assert props["n"] == len(old)
                    assert props["tier"] == top
                    assert props["overdue"] == any(p["overdue"] for p in old if p["tier"] == top)
                    # one of the top tier (which one, by score, test_layer_holds_...)
                    assert props["id"] in {p["id"] for p in old if p["tier"] == top}


def test_a_dong_scope_gets_only_its_dong_from_the_layer(tiles_db):
    with Session(tiles_db["engine"]) as session:
        x, y = _busiest_tiles(tiles_db, 14, limit=1)[0]
        codes = session.execute(
            text("""SELECT DISTINCT a.code FROM run_tile_points p JOIN areas a ON a.id = p.area_id
            WHERE p.run_id = :run AND p.geom && ST_TileEnvelope(14, :x, :y)"""),
            {"run": tiles_db["run_id"], "x": x, "y": y},
        ).scalars()
        one = sorted(codes)[0]
        params = {"z": 14, "x": x, "y": y, "run_id": tiles_db["run_id"]}
        counts = []
        for scope in (Scope.everything(), Scope.of_areas({one})):
            sql, p = point_tile_sql(
                scope, NO_FILTERS, today=AS_OF, with_ids=False, extent=EXTENT, buffer=BUFFER
            )
            counts.append(session.execute(text(sql), p | params).one()[1])
            old_sql, old_p = resident_tile_sql(scope, NO_FILTERS, today=AS_OF, with_ids=False)
            assert counts[-1] == session.execute(text(old_sql), old_p | params).one()[1]
        assert 0 < counts[1] <= counts[0]


def _tile(client, z, x, y, query="", **headers):
    return client.get(f"/tiles/residents/{z}/{x}/{y}.pbf{query}", headers=headers)


def test_cached_tiles_carry_an_etag_and_answer_304(tiles_app, tiles_db):
    cache = tiles_app.extensions["visitmap_tile_cache"]
    x, y = _busiest_tiles(tiles_db, 14, limit=1)[0]
    with tiles_app.test_client() as client:
        first = _tile(client, 14, x, y)
        hits = cache.hits
        second = _tile(client, 14, x, y)
        assert cache.hits == hits + 1
        assert first.data == second.data and len(first.data) > 0
        assert first.headers["ETag"] == second.headers["ETag"]
        assert first.headers["Cache-Control"] == "private, no-cache"
        again = _tile(client, 14, x, y, **{"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        assert _tile(client, 14, x, y, **{"If-None-Match": '"other"'}).status_code == 200
    # the same tile for a caller scoped to one dong is kept apart
    with tiles_app.test_client(role="dong") as client:
        mine = _tile(client, 14, x, y)
        assert mine.status_code == 200 and mine.data != first.data


def test_a_visit_drops_the_tiles_holding_its_point_and_no_others(tiles_app, tiles_db):
    cache = tiles_app.extensions["visitmap_tile_cache"]
    rid, lon, lat = _rows(
        tiles_db,
        """SELECT r.external_id, ST_X(h.geom), ST_Y(h.geom) FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id JOIN households h ON h.id = r.household_id
        WHERE s.run_id = :run AND s.next_due_on < :day AND r.status = 'active'
        ORDER BY s.score DESC LIMIT 1""",
        run=tiles_db["run_id"],
        day=AS_OF,
    )[0]
    near = tile_of(lon, lat, 16)
    far = next(t for t in _busiest_tiles(tiles_db, 16, limit=20) if abs(t[0] - near[0]) > 2)
    with tiles_app.test_client() as client:
        before = {t: _tile(client, 16, *t, "?overdue=true").data for t in (near, far)}
        low = _tile(client, 10, *tile_of(lon, lat, 10)).data
        response = client.post(
            "/api/visits",
            json={"resident": rid, "outcome": "met", "visitor_name": "정",
                  "next_visit_on": "2027-03-01"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        assert response.status_code == 201
        hits = cache.hits
        assert _tile(client, 16, *far, "?overdue=true").data == before[far]
        assert cache.hits == hits + 1  # untouched: still cached
        after = _tile(client, 16, *near, "?overdue=true").data
        assert cache.hits == hits + 1  # dropped: made again
        assert after != before[near]
        assert _tile(client, 10, *tile_of(lon, lat, 10)).data != low  # the dong's counts moved
    with session_scope(tiles_db["engine"]) as session:
        kept = session.execute(text(LAYER_SQL), {"run": tiles_db["run_id"]}).all()
        build_tile_points(session, tiles_db["run_id"])  # from scratch
        assert session.execute(text(LAYER_SQL), {"run": tiles_db["run_id"]}).all() == kept


def test_publishing_another_run_clears_the_cache(tiles_app, tiles_db):
    cache = tiles_app.extensions["visitmap_tile_cache"]
    x, y = _busiest_tiles(tiles_db, 14, limit=1)[0]
    earlier = _rows(
        tiles_db, "SELECT min(id) FROM score_runs WHERE id <> :run", run=tiles_db["run_id"]
    )[0][0]
    with tiles_app.test_client() as client:
        now = _tile(client, 14, x, y).data
        assert len(cache) > 0
        assert client.post(f"/api/score-runs/{earlier}/publish").status_code == 200
        then = _tile(client, 14, x, y).data
        assert then != now
        assert {key[0] for key in cache._entries} == {earlier}
        assert client.post(f"/api/score-runs/{tiles_db['run_id']}/publish").status_code == 200
        assert _tile(client, 14, x, y).data == now
    with Session(tiles_db["engine"]) as session:
        assert has_tile_points(session, tiles_db["run_id"])
        assert not has_tile_points(session, earlier)


def test_tiles_holding_a_point_include_neighbours_within_the_buffer():
    size = 2 * 20037508.342789244 / 2**14
    x0 = -20037508.342789244 + 100 * size  # the left edge of column 100
    y0 = 20037508.342789244 - 50.5 * size  # mid row 50
    assert tiles_holding(x0 + size / 2, y0, zooms=[14], margin=0.01) == {(14, 100, 50)}
    assert tiles_holding(x0 + 1, y0, zooms=[14], margin=0.01) == {(14, 99, 50), (14, 100, 50)}


def test_the_cache_keeps_at_most_its_bytes_least_recently_used_out():
    cache = TileCache(250, resident_zoom_min=14, max_zoom=20, margin=0.01)
    cache._run_id = 1
    for i in range(5):
        cache.put((1, 14, i, 0), bytes(100), 1, 0)
    assert len(cache) == 2 and cache.get((1, 14, 4, 0)) is not None
    assert cache.get((1, 14, 0, 0)) is None
    assert cache.put((2, 14, 0, 0), b"x", 1, 0) and len(cache) == 2  # another run: not kept
    assert cache.put((1, 14, 9, 0), b"x", 1, change=7) and cache.get((1, 14, 9, 0)) is None
    off = TileCache(0, resident_zoom_min=14, max_zoom=20, margin=0.01)
    assert not off.enabled


def test_published_layer_is_rebuilt_by_the_command(tiles_db, monkeypatch):
    from click.testing import CliRunner

    from visitmap.cli import main

    monkeypatch.setenv("VISITMAP_DATABASE_URL", tiles_db["url"])
    runner = CliRunner()
    result = runner.invoke(main, ["runs", "tiles"])
    assert result.exit_code == 0 and "has its tile layer" in result.output
    result = runner.invoke(main, ["runs", "tiles", "--rebuild"])
    assert result.exit_code == 0 and "tile layer written" in result.output
