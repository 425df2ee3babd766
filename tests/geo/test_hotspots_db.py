"""Hot spots of a stored score run in PostGIS (helper H): a planted cluster of high scores is
found there and nowhere else, recomputing replaces the rows, a missing run stores nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from geo.hotspots import compute_hotspots
from geo.scope import Scope
from scoring.config import default_config
from tests.conftest import TEST_RRN_KEY
from visitmap.errors import NotFound
from visitmap.usecases.scoring_runs import score_residents

pytestmark = pytest.mark.db

AS_OF = dt.date(2026, 11, 1)
CHEONYEON = "1141052000"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_hot")
    generate_demo(out, seed=12, scale=2000, region="seodaemun", as_of=AS_OF)
    return out


@pytest.fixture
def run(db, demo_dir):
    load_demo_files(db, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    result = score_residents(
        db, Scope.everything(), method="weighted", config=default_config(), as_of=AS_OF,
        created_by="test", publish=True,
    )  # fmt: skip
    return db, result.stored.run_id


def test_planted_cluster_is_hot_only_there_and_rows_are_replaced(run):
    db, run_id = run
    x, y = db.execute(
        text("SELECT ST_X(label_point), ST_Y(label_point) FROM areas WHERE code = :c"),
        {"c": CHEONYEON},
    ).one()
    # everyone within 400 m of the dong's label point scores 0.9, everyone else a tenth of that
    db.execute(
        text("""UPDATE resident_scores s SET score = CASE WHEN ST_DWithin(h.geom::geography,
                ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 400) THEN 0.9
                ELSE 0.09 + (s.resident_id % 7) * 0.01 END
                FROM residents r JOIN households h ON h.id = r.household_id
                WHERE r.id = s.resident_id AND s.run_id = :run"""),
        {"x": x, "y": y, "run": run_id},
    )
    first = compute_hotspots(db, run_id)
    again = compute_hotspots(db, run_id)
    assert first.cells == again.cells and first.cells["h3_9"] > 0
    stored = db.execute(
        text("SELECT unit, count(*) FROM hotspot_cells WHERE run_id = :r GROUP BY unit"),
        {"r": run_id},
    ).all()
    assert dict(stored) == first.cells
    near, hot = db.execute(
        text("""SELECT count(*) FILTER (WHERE ST_DWithin(ST_Centroid(geom)::geography,
                ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 900)), count(*)
                FROM hotspot_cells WHERE run_id = :r AND unit = 'h3_9' AND cluster = 'hot'"""),
        {"x": x, "y": y, "r": run_id},
    ).one()
    assert near >= 3 and near == hot


def test_a_missing_run_stores_nothing(run):
    db, run_id = run
    with pytest.raises(NotFound):
        compute_hotspots(db, run_id + 1000)
    assert db.execute(text("SELECT count(*) FROM hotspot_cells")).scalar() == 0
