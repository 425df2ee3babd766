"""GET requests write nothing to the map's data: the aggregates are built when a run is
stored, so the first view of a new day (which once built that day's counts) changes no row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from geo.db import make_engine
from geo.mapdata.tiles import tile_of
from tests.webmap.conftest import AS_OF, app_for

MAP_TABLES = ("score_runs", "resident_scores", "run_area_due_counts", "run_high_cells")


def _state(url: str) -> dict:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            state = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in MAP_TABLES
            }
            state["due_sum"] = conn.execute(
                text("SELECT coalesce(sum(residents), 0) FROM run_area_due_counts")
            ).scalar_one()
            state["published"] = conn.execute(  # reading never publishes a run
                text("SELECT array_agg((id, published_at, published_by)) FROM score_runs")
            ).scalar_one()
            state["tables"] = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
            )
        return state
    finally:
        engine.dispose()


def test_the_first_views_of_a_new_day_write_nothing(map_database):
    url = map_database["url"]
    before = _state(url)
    assert before["run_area_due_counts"] > 0 and before["run_high_cells"] > 0
    later = (AS_OF + dt.timedelta(days=40)).isoformat()  # a day nobody has viewed yet
    x, y = tile_of(126.9368, 37.5791, 12)
    with app_for(url, TODAY=later) as app, app.test_client() as client:
        run = map_database["run_id"]
        paths = ("/", "/overview", "/api/areas", f"/tiles/residents/12/{x}/{y}.pbf")
        for path in (*paths, f"/?run={run}", "/api/score-runs"):
            response = client.get(path)
            assert response.status_code == 200, path
        areas = client.get("/api/areas").get_json()
    assert areas["counted_on"] == later
    assert sum(a["overdue_counts"]["low"] for a in areas["areas"]) > 0
    assert _state(url) == before
