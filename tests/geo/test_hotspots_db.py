"""Hot spots of a stored score run in PostGIS: a planted cluster of high-tier residents is
found, rows are replaced not added, and callers see only cells in their dongs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from geo.hotspots import compute_hotspots, list_cells
from geo.scope import Scope
from scoring.config import default_config
from tests.conftest import TEST_RRN_KEY
from visitmap.errors import FieldError, NotFound
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


def _plant(db, run_id, lng, lat, metres):
    """Make everyone within ``metres`` of the point high tier and everyone else low."""
    db.execute(
        text("""UPDATE resident_scores s SET tier = CASE WHEN ST_DWithin(h.geom::geography,
                ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :m) THEN 2 ELSE
                (CASE WHEN s.resident_id % 10 = 0 THEN 2 ELSE 0 END) END
                FROM residents r JOIN households h ON h.id = r.household_id
                WHERE r.id = s.resident_id AND s.run_id = :run"""),
        {"x": lng, "y": lat, "m": metres, "run": run_id},
    )


def test_planted_cluster_is_hot_and_rows_are_replaced(run):
    db, run_id = run
    x, y = db.execute(
        text("SELECT ST_X(label_point), ST_Y(label_point) FROM areas WHERE code = :c"),
        {"c": CHEONYEON},
    ).one()
    _plant(db, run_id, x, y, 400)
    first = compute_hotspots(db, unit="h3_9")
    again = compute_hotspots(db, unit="h3_9")
    assert first.run_id == run_id and first.cells == again.cells > 0
    stored = db.execute(
        text(
            "SELECT count(*), sum(residents) FROM hotspot_cells WHERE run_id = :r AND unit='h3_9'"
        ),
        {"r": run_id},
    ).one()
    total = db.execute(
        text("SELECT count(*) FROM resident_scores WHERE run_id = :r"), {"r": run_id}
    ).scalar()
    assert stored == (first.cells, total)
    hot = db.execute(
        text("""SELECT count(*) FILTER (WHERE ST_DWithin(ST_Centroid(geom)::geography,
                ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 900)), count(*)
                FROM hotspot_cells WHERE run_id = :r AND unit = 'h3_9' AND cluster = 'hot'"""),
        {"x": x, "y": y, "r": run_id},
    ).one()
    assert hot[0] >= 3 and hot[0] == hot[1]


def test_scope_keeps_cells_whose_centre_is_in_the_callers_dongs(run):
    db, run_id = run
    compute_hotspots(db, unit="h3_9")
    compute_hotspots(db, unit="dong")
    everything = list_cells(db, Scope.everything(), unit="h3_9")
    mine = list_cells(db, Scope.of_areas([CHEONYEON]), unit="h3_9")
    assert 0 < len(mine) < len(everything)
    assert set(mine.area_code) == {CHEONYEON}
    dongs = list_cells(db, Scope.of_areas([CHEONYEON]), unit="dong")
    assert list(dongs.cell) == [CHEONYEON]
    assert list_cells(db, Scope.everything().only_residents([1]), unit="h3_9").empty
    assert list_cells(db, Scope.nothing(), unit="h3_9").empty


def test_bad_unit_and_missing_run_raise(run):
    db, run_id = run
    with pytest.raises(FieldError) as err:
        compute_hotspots(db, unit="hex")
    assert err.value.field == "unit"
    with pytest.raises(NotFound):
        compute_hotspots(db, run_id=run_id + 1000)
    assert db.execute(text("SELECT count(*) FROM hotspot_cells")).scalar() == 0
