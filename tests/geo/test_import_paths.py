"""The fast paths of the residents import write what the plain paths write.

- a first load into empty tables (COPY straight into them; with many rows, the indexes,
  unique constraints and foreign keys dropped and made again), the staged path into an empty
  residents table and the staged path with rows stored give identical tables, and the
  indexes and constraints come back as they were;
- a re-import of the same file writes no row (no tuple moves), and a changed file updates
  only the changed rows;
- a file with a problem found against the database writes nothing and leaves the indexes;
- a plain GeoJSON read without GDAL gives the same strings and points as GDAL.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

import geo.importers.staging as staging
from geo.demo import generate_demo
from geo.importers import ImportValidationError, import_file
from geo.importers.reading import _plain_geojson, _read_geo
from geo.service_distances import (
    SERVICE_DISTANCE_COLUMNS,
    read_facility_points,
    service_distances,
)
from tests.conftest import TEST_RRN_KEY, count

pytestmark = pytest.mark.db

ROWS = 300

HOUSEHOLDS_DUMP = """
    SELECT external_id, area_id, size, monthly_income_krw, assets_krw, address,
           ST_AsEWKT(geom), nearest_community_centre_m, nearest_senior_or_welfare_m,
           receiving_programmes
    FROM households ORDER BY external_id"""
RESIDENTS_DUMP = """
    SELECT r.external_id, h.external_id, r.name, encode(r.rrn_hmac, 'hex'), r.birth_year,
           r.sex, r.lives_alone, r.has_disability, r.registered_on, r.status
    FROM residents r JOIN households h ON h.id = r.household_id ORDER BY r.external_id"""
SCHEMA = """
    SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
    WHERE indrelid IN ('households'::regclass, 'residents'::regclass)
    UNION ALL
    SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
    WHERE conrelid IN ('households'::regclass, 'residents'::regclass)
    ORDER BY 1, 2"""


@pytest.fixture(scope="module")
def residents_csv(tmp_path_factory) -> Path:
    """The demo generator's residents file for a few hundred Seodaemun residents."""
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out, seed=7, scale=ROWS, region="seodaemun", as_of=dt.date(2026, 11, 1))
    return out / "residents.csv"


def rows(session, sql: str) -> list[tuple]:
    return [tuple(r) for r in session.execute(text(sql)).all()]


def load(session, path: Path):
    return import_file(session, "residents", path, rrn_key=TEST_RRN_KEY, progress=False)


def test_first_load_and_row_path_give_identical_tables(db, residents_csv, tmp_path, monkeypatch):
    schema = rows(db, SCHEMA)
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 1)
    bulk = load(db, residents_csv)
    assert bulk.inserted == count(db, "residents") > 0
    after_bulk = rows(db, HOUSEHOLDS_DUMP), rows(db, RESIDENTS_DUMP)
    assert rows(db, SCHEMA) == schema  # every index and constraint made again, same definition

    db.execute(text("DELETE FROM residents"))
    db.execute(text("DELETE FROM households"))
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 10**9)
    plain = load(db, residents_csv)
    assert (plain.inserted, plain.updated, plain.extra) == (bulk.inserted, 0, bulk.extra)
    assert (rows(db, HOUSEHOLDS_DUMP), rows(db, RESIDENTS_DUMP)) == after_bulk
    assert rows(db, SCHEMA) == schema
    # ids ascend with the external ids, as the staged path's ordered insert gives them
    for table in ("households", "residents"):
        ids = [r[0] for r in rows(db, f"SELECT id FROM {table} ORDER BY external_id")]
        assert ids == sorted(ids)

    # households stored, residents not: the staged path, an ordered insert into residents
    db.execute(text("DELETE FROM residents"))
    staged = load(db, residents_csv)
    assert (staged.inserted, staged.updated) == (bulk.inserted, 0)
    assert staged.extra == {"households inserted": 0, "households updated": 0}
    assert (rows(db, HOUSEHOLDS_DUMP), rows(db, RESIDENTS_DUMP)) == after_bulk

    # a few rows stored already: compared, then the many new ones with the indexes rebuilt
    db.execute(text("DELETE FROM residents"))
    db.execute(text("DELETE FROM households"))
    frame = pd.read_csv(residents_csv, dtype=str, keep_default_na=False)
    head = tmp_path / "head.csv"
    frame.iloc[:10].to_csv(head, index=False)
    load(db, head)
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 1)
    rest = load(db, residents_csv)
    assert (rest.inserted, rest.updated) == (bulk.inserted - 10, 0)
    assert (rows(db, HOUSEHOLDS_DUMP), rows(db, RESIDENTS_DUMP)) == after_bulk
    assert rows(db, SCHEMA) == schema


def test_reimport_writes_no_row_and_a_change_updates_only_its_rows(
    db, residents_csv, tmp_path, monkeypatch
):
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 1)
    load(db, residents_csv)
    where = "SELECT external_id, ctid::text, xmax::text FROM {} ORDER BY external_id"
    before = rows(db, where.format("households")), rows(db, where.format("residents"))

    again = load(db, residents_csv)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, again.rows)
    assert again.extra == {"households inserted": 0, "households updated": 0}
    # not one tuple rewritten (an UPDATE moves it) nor locked (ON CONFLICT locks, sets xmax)
    assert (rows(db, where.format("households")), rows(db, where.format("residents"))) == before

    frame = pd.read_csv(residents_csv, dtype=str, keep_default_na=False)
    frame.loc[0, "name"] = "바뀐이름"
    household = frame.loc[5, "household_id"]
    frame.loc[frame["household_id"] == household, "monthly_income_krw"] = "1234567"
    moved = frame.loc[40, "household_id"]
    members = frame["household_id"] == moved
    frame.loc[members, "lon"] = "126.9196951"  # 남가좌1동, a facility's point
    frame.loc[members, "lat"] = "37.5732669"
    changed = tmp_path / "changed.csv"
    frame.to_csv(changed, index=False)
    result = load(db, changed)
    assert (result.inserted, result.updated) == (0, 1)
    assert result.extra == {"households inserted": 0, "households updated": 2}
    # the moved household's distances are computed for its new point, the others kept
    stored = db.execute(
        text(
            "SELECT nearest_community_centre_m, nearest_senior_or_welfare_m FROM households "
            "WHERE external_id = :h"
        ),
        {"h": moved},
    ).one()
    expected = service_distances(read_facility_points(db), [126.9196951], [37.5732669])
    assert list(stored) == [expected[c][0] for c in SERVICE_DISTANCE_COLUMNS]
    name = db.execute(
        text("SELECT name FROM residents WHERE external_id = :r"),
        {"r": frame.loc[0, "resident_id"]},
    ).scalar_one()
    assert name == "바뀐이름"


def test_a_problem_found_in_the_database_writes_nothing(db, residents_csv, tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 1)
    schema = rows(db, SCHEMA)
    frame = pd.read_csv(residents_csv, dtype=str, keep_default_na=False)
    first = frame.iloc[[0]].assign(resident_id="OTHER-1")  # the same number, another resident
    path = tmp_path / "one.csv"
    first.to_csv(path, index=False)
    load(db, path)
    with pytest.raises(ImportValidationError) as caught:
        load(db, residents_csv)
    assert "belongs to resident 'OTHER-1'" in str(caught.value)
    assert "2:rrn" in str(caught.value)  # file, row and column
    db.rollback()  # the savepoint of the failed import
    assert count(db, "residents") == 0
    assert rows(db, SCHEMA) == schema


def feature(props: dict, point: list | None) -> dict:
    geometry = None if point is None else {"type": "Point", "coordinates": point}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def test_plain_geojson_reads_as_gdal_does(tmp_path):
    features = [
        feature({"name": " 가 ", "size": 3, "share": 0.25, "note": None}, [126.94, 37.57]),
        feature({"name": "나", "size": 4.0, "share": 1, "note": "x"}, [126.95, 37.58]),
        feature({"size": None, "share": 2.5, "name": ""}, None),  # other order, a key missing
    ]
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    plain, plain_problems = _read_geo(path, "f.geojson", "point", None)
    gdal, gdal_problems = _read_geo(path, "f.geojson", "point", None, allow_plain=False)
    assert [str(p) for p in plain_problems] == [str(p) for p in gdal_problems]
    assert plain.frame.to_dict("list") == gdal.frame.to_dict("list")
    assert plain.frame["size"].tolist() == ["3", "4", ""]
    assert list(plain.row_numbers) == list(gdal.row_numbers)
    same = [
        (a is None and b is None) or bool(shapely.equals_exact(a, b, 0))
        for a, b in zip(plain.geometry, gdal.geometry, strict=True)
    ]
    assert same == [True, True, True]
    assert np.isclose(shapely.get_x(plain.geometry[0]), 126.94)


@pytest.mark.parametrize("value", ["2015/07/01", "2015-7-1", "9:00", "2015-07-01 10:00"])
def test_text_gdal_reads_as_a_date_or_time_goes_through_gdal(tmp_path, value):
    features = [feature({"when": value, "other": "2015-07-01"}, [126.94, 37.57])]
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    assert _plain_geojson(path.read_bytes()) is None
    plain, _ = _read_geo(path, "f.geojson", "point", None)
    gdal, _ = _read_geo(path, "f.geojson", "point", None, allow_plain=False)
    assert plain.frame.to_dict("list") == gdal.frame.to_dict("list")


def test_iso_dates_stay_on_the_plain_path(tmp_path):
    features = [feature({"when": "2015-07-01", "note": "2015년 7월"}, [126.94, 37.57])]
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    assert _plain_geojson(path.read_bytes()) is not None
    plain, _ = _read_geo(path, "f.geojson", "point", None)
    gdal, _ = _read_geo(path, "f.geojson", "point", None, allow_plain=False)
    assert plain.frame.to_dict("list") == gdal.frame.to_dict("list")
