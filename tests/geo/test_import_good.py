"""Good import files load with the right counts and values, idempotently.

Covers CSV (lon/lat, and x,y with --crs), GeoJSON and GeoPackage (declared EPSG:5181), the
keyed hash of registration numbers, household-level crisis signals, teams and their areas,
area statistics, every accepted boolean spelling and date-times without an offset.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import text

from geo.importers import ImportValidationError, import_file
from geo.models import Base
from tests.conftest import DATA, TEST_RRN_KEY, count
from tests.geo.import_helpers import RES_COLUMNS, table

pytestmark = pytest.mark.db

UTC = dt.UTC
# Points with the 행정동 that contains them (facility locations from data/).
NAMGAJWA1 = (126.9196951, 37.5732669, "1141069000")
NAMGAJWA2 = (126.9238653, 37.5784334, "1141070000")
BUGAHYEON = (126.9569755, 37.5594531, "1141055500")
YEONHUI = (126.94, 37.57, "1141061500")
TOL = 1e-7


# ----------------------------------------------------------------------------- builders


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def resident(rid: str, hid: str, where=YEONHUI, **values) -> dict[str, object]:
    row = {
        "resident_id": rid,
        "household_id": hid,
        "name": "홍길순",
        "birth_year": 1950,
        "sex": "F",
        "lives_alone": "true",
        "disability": "false",
        "registered_on": "2020-03-01",
        "household_size": 1,
        "monthly_income_krw": 500000,
        "lon": where[0],
        "lat": where[1],
    }
    row.update(values)
    return row


RESIDENTS = [
    resident(
        "R1",
        "H1",
        NAMGAJWA1,
        birth_year=1950,
        sex="F",
        lives_alone="false",
        disability="true",
        household_size=2,
        monthly_income_krw=800000,
        assets_krw=12000000,
        address="서울특별시 서대문구 모래내로 1",
        status="active",
    ),
    resident(
        "R2",
        "H1",
        NAMGAJWA1,
        birth_year=1948,
        sex="M",
        lives_alone="false",
        disability="false",
        household_size=2,
        monthly_income_krw=800000,
        assets_krw=12000000,
        address="서울특별시 서대문구 모래내로 1",
        status="moved",
        registered_on="2019-05-02",
    ),
    resident(
        "R3",
        "H2",
        BUGAHYEON,
        birth_year=1970,
        sex="F",
        lives_alone="yes",
        disability="no",
        household_size=1,
        monthly_income_krw=0,
        registered_on="2021-07-15",
    ),
]

PROVIDERS = table(
    ["provider_id", "name", "sector", "kind"],
    [
        {"provider_id": "P1", "name": "서대문구청 복지정책과", "sector": "public", "kind": "구청"},
        {"provider_id": "P2", "name": "서대문푸드뱅크", "sector": "private"},
    ],
)
SIGNALS = table(
    ["signal_id", "resident_id", "household_id", "kind", "observed_on", "source_agency"],
    [
        {
            "signal_id": "S1",
            "household_id": "H1",
            "kind": "electricity_arrears",
            "observed_on": "2024-01-20",
            "source_agency": "한국전력공사",
        },
        {
            "signal_id": "S2",
            "resident_id": "R3",
            "kind": "health_insurance_arrears",
            "observed_on": "2024-02-03",
            "source_agency": "국민건강보험공단",
        },
    ],
)
VISITS = table(
    ["visit_id", "resident_id", "visited_at", "visitor", "outcome", "notes"],
    [
        {
            "visit_id": "V1",
            "resident_id": "R1",
            "visited_at": "2024-03-05T10:30",
            "visitor": "박사회복지사",
            "outcome": "met",
            "notes": "건강 악화",
        },
        {
            "visit_id": "V2",
            "resident_id": "R3",
            "visited_at": "2024-03-06T14:00:00+09:00",
            "visitor": "박사회복지사",
            "outcome": "not_home",
        },
    ],
)
NEEDS = table(
    ["need_id", "resident_id", "category", "status", "identified_on", "resolved_on", "source"],
    [
        {
            "need_id": "N1",
            "resident_id": "R1",
            "category": "health",
            "status": "open",
            "identified_on": "2024-03-05",
        },
        {
            "need_id": "N2",
            "resident_id": "R3",
            "category": "economic",
            "status": "met",
            "identified_on": "2024-02-03",
            "resolved_on": "2024-02-20",
            "source": "방문상담",
        },
    ],
)
SUPPORT = table(
    [
        "support_id",
        "resident_id",
        "provider_id",
        "category",
        "item",
        "amount_krw",
        "quantity",
        "unit",
        "provided_on",
    ],
    [
        {
            "support_id": "U1",
            "resident_id": "R3",
            "provider_id": "P1",
            "category": "economic",
            "item": "긴급생계지원",
            "amount_krw": 626000,
            "provided_on": "2024-02-20",
        },
        {
            "support_id": "U2",
            "resident_id": "R1",
            "provider_id": "P2",
            "category": "daily_living",
            "item": "쌀",
            "quantity": 10,
            "unit": "kg",
            "provided_on": "2024-03-07",
        },
    ],
)
TEAM_COLUMNS = ["team_id", "name", "base_facility_id", "adm_cd2s"]
TEAMS = table(
    TEAM_COLUMNS,
    [
        {
            "team_id": "T1",
            "name": "가좌 방문팀",
            "base_facility_id": "CC-1141069000",
            "adm_cd2s": "1141069000|1141070000",
        },
        {"team_id": "T2", "name": "신촌 방문팀", "adm_cd2s": "1141058500"},
    ],
)


# ----------------------------------------------------------------------------- helpers


def snapshot(session) -> dict[str, list[str]]:
    """Every row of every table of the schema, as text, sorted."""
    return {
        t.name: sorted(session.execute(text(f'SELECT x::text FROM "{t.name}" x')).scalars())
        for t in Base.metadata.sorted_tables
    }


def load_all(db, tmp_path: Path) -> dict[str, Path]:
    files = {
        "providers": write(tmp_path, "providers.csv", PROVIDERS),
        "residents": write(tmp_path, "residents.csv", table(RES_COLUMNS, RESIDENTS)),
        "crisis-signals": write(tmp_path, "signals.csv", SIGNALS),
        "visits": write(tmp_path, "visits.csv", VISITS),
        "needs": write(tmp_path, "needs.csv", NEEDS),
        "support": write(tmp_path, "support.csv", SUPPORT),
        "teams": write(tmp_path, "teams.csv", TEAMS),
    }
    for kind, path in files.items():
        result = import_file(db, kind, path, rrn_key=TEST_RRN_KEY)
        assert (result.inserted, result.updated) == (result.rows, 0), (kind, str(result))
    return files


def stored_point(db, table_name: str, external_id: str) -> tuple[float, float, str]:
    return db.execute(
        text(f"""
        SELECT ST_X(t.geom), ST_Y(t.geom), a.code FROM {table_name} t
        JOIN areas a ON a.id = t.area_id WHERE t.external_id = :id"""),
        {"id": external_id},
    ).one()


def assert_point(db, table_name: str, external_id: str, where) -> None:
    x, y, code = stored_point(db, table_name, external_id)
    assert abs(x - where[0]) < TOL and abs(y - where[1]) < TOL, (x, y, where)
    assert code == where[2]
    # the stored area is the one that covers the point
    covering = (
        db.execute(
            text("""
        SELECT a.code FROM areas a
        WHERE ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"""),
            {"x": x, "y": y},
        )
        .scalars()
        .all()
    )
    assert covering == [where[2]]


# ----------------------------------------------------------------------------- residents


def test_residents_csv_lonlat_loads_values(db, tmp_path):
    path = write(tmp_path, "residents.csv", table(RES_COLUMNS, RESIDENTS))
    result = import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)

    assert (result.rows, result.inserted, result.updated, result.unchanged) == (3, 3, 0, 0)
    assert result.extra == {"households inserted": 2, "households updated": 0}
    assert count(db, "residents") == 3 and count(db, "households") == 2
    rows = db.execute(
        text("""
        SELECT r.external_id, h.external_id, r.name, r.birth_year, r.sex, r.lives_alone,
               r.has_disability, r.registered_on, r.status, r.rrn_hmac
        FROM residents r JOIN households h ON h.id = r.household_id ORDER BY 1""")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("R1", "H1", "홍길순", 1950, "F", False, True, dt.date(2020, 3, 1), "active", None),
        ("R2", "H1", "홍길순", 1948, "M", False, False, dt.date(2019, 5, 2), "moved", None),
        ("R3", "H2", "홍길순", 1970, "F", True, False, dt.date(2021, 7, 15), "active", None),
    ]
    households = db.execute(
        text("""
        SELECT external_id, size, monthly_income_krw, assets_krw, address FROM households
        ORDER BY 1""")
    ).all()
    assert [tuple(h) for h in households] == [
        ("H1", 2, 800000, 12000000, "서울특별시 서대문구 모래내로 1"),
        ("H2", 1, 0, None, None),
    ]
    assert_point(db, "households", "H1", NAMGAJWA1)
    assert_point(db, "households", "H2", BUGAHYEON)


def test_reimport_changes_nothing_and_one_change_updates_one_row(db, tmp_path):
    files = load_all(db, tmp_path)
    stats = import_file(db, "area-stats", DATA / "seodaemun_dong_indicators.csv")
    assert (stats.inserted, stats.updated) == (0, 0)
    before = snapshot(db)
    assert len(before["households"]) == 2 and len(before["team_areas"]) == 3

    for kind, path in files.items():
        again = import_file(db, kind, path, rrn_key=TEST_RRN_KEY)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, again.rows), kind
        if kind == "residents":
            assert again.extra == {"households inserted": 0, "households updated": 0}
    assert snapshot(db) == before

    # one resident value changes: exactly one residents row differs
    changed = [dict(r) for r in RESIDENTS]
    changed[1]["lives_alone"] = "true"
    path = write(tmp_path, "residents2.csv", table(RES_COLUMNS, changed))
    result = import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)
    assert (result.inserted, result.updated) == (0, 1)
    assert result.extra == {"households inserted": 0, "households updated": 0}
    after = snapshot(db)
    for name in before:
        if name != "residents":
            assert after[name] == before[name], name
    assert len(set(before["residents"]) - set(after["residents"])) == 1
    assert len(set(after["residents"]) - set(before["residents"])) == 1
    assert (
        db.execute(text("SELECT lives_alone FROM residents WHERE external_id = 'R2'")).scalar_one()
        is True
    )

    # one household value changes: exactly one households row, no resident
    changed[2]["monthly_income_krw"] = 350000
    path = write(tmp_path, "residents3.csv", table(RES_COLUMNS, changed))
    result = import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)
    assert (result.inserted, result.updated) == (0, 0)
    assert result.extra == {"households inserted": 0, "households updated": 1}
    latest = snapshot(db)
    assert latest["residents"] == after["residents"]
    assert len(set(latest["households"]) - set(after["households"])) == 1

    # a changed visit outcome updates that visit only
    visits = VISITS.replace("not_home", "refused")
    result = import_file(db, "visits", write(tmp_path, "visits2.csv", visits))
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)


def test_booleans_in_every_accepted_spelling(db, tmp_path):
    spellings = {
        "true": True,
        "FALSE": False,
        "t": True,
        "F": False,
        "1": True,
        "0": False,
        "y": True,
        "N": False,
        "Yes": True,
        "no": False,
        "TRUE": True,
        "No": False,
    }
    rows = [
        resident(f"B{i}", f"HB{i}", lives_alone=word, disability=list(spellings)[-1 - i])
        for i, word in enumerate(spellings)
    ]
    result = import_file(
        db,
        "residents",
        write(tmp_path, "bools.csv", table(RES_COLUMNS, rows)),
        rrn_key=TEST_RRN_KEY,
    )
    assert result.inserted == len(spellings)
    stored = dict(
        (r[0], (r[1], r[2]))
        for r in db.execute(
            text("SELECT external_id, lives_alone, has_disability FROM residents")
        ).all()
    )
    words = list(spellings)
    for i, word in enumerate(words):
        assert stored[f"B{i}"] == (spellings[word], spellings[words[-1 - i]]), word


# ----------------------------------------------------------------------------- registration numbers


def test_rrn_is_stored_only_as_keyed_hmac(db, tmp_path):
    rows = [
        resident("R1", "H1", rrn="500101-2345678", birth_year=1950, sex="F"),
        resident("R2", "H2", rrn="8505151234567", birth_year=1985, sex="M"),
    ]
    path = write(tmp_path, "rrn.csv", table(RES_COLUMNS, rows))
    assert import_file(db, "residents", path, rrn_key=TEST_RRN_KEY).inserted == 2

    stored = dict(db.execute(text("SELECT external_id, rrn_hmac FROM residents")).all())
    for rid, digits in (("R1", b"5001012345678"), ("R2", b"8505151234567")):
        expected = hmac.new(TEST_RRN_KEY, digits, hashlib.sha256).digest()
        assert bytes(stored[rid]) == expected
        assert len(stored[rid]) == 32
    every_row = "\n".join(line for rows_ in snapshot(db).values() for line in rows_)
    for clear in ("5001012345678", "500101-2345678", "8505151234567", "850515-1234567"):
        assert clear not in every_row

    # the same number under another resident id, in a later file, is rejected
    later = write(
        tmp_path,
        "later.csv",
        table(
            RES_COLUMNS,
            [
                resident("R3", "H3"),
                resident("R9", "H9", rrn="500101-2345678", birth_year=1950, sex="F"),
            ],
        ),
    )
    before = snapshot(db)
    with pytest.raises(ImportValidationError) as info:
        import_file(db, "residents", later, rrn_key=TEST_RRN_KEY)
    problems = info.value.problems
    assert [(p.row, p.column) for p in problems] == [(3, "rrn")]
    assert "'R1'" in problems[0].reason
    assert "500101" not in str(info.value) and "2345678" not in str(info.value)
    assert snapshot(db) == before


# ----------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize("epsg", ["EPSG:5179", "EPSG:5186"])
def test_facilities_csv_xy_with_crs(db, tmp_path, epsg):
    to_xy = Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
    places = {"X1": NAMGAJWA2, "X2": BUGAHYEON}
    rows = []
    for fid, where in places.items():
        x, y = to_xy.transform(where[0], where[1])
        rows.append(
            {
                "facility_id": fid,
                "kind": "welfare_centre",
                "name": f"복지관 {fid}",
                "x": repr(x),
                "y": repr(y),
            }
        )
    path = write(tmp_path, "fac_xy.csv", table(["facility_id", "kind", "name", "x", "y"], rows))
    before = count(db, "facilities")
    result = import_file(db, "facilities", path, crs=epsg)
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    assert count(db, "facilities") == before + 2
    for fid, where in places.items():
        assert_point(db, "facilities", fid, where)


def _facility_features() -> list[dict]:
    return [
        {
            "type": "Feature",
            "properties": {
                "facility_id": "G1",
                "kind": "health_centre",
                "name": "서대문구보건소",
                "address": "서울특별시 서대문구 연희로 242",
            },
            "geometry": {"type": "Point", "coordinates": [YEONHUI[0], YEONHUI[1]]},
        },
        {
            "type": "Feature",
            "properties": {"facility_id": "G2", "kind": "other", "name": "북아현 쉼터"},
            "geometry": {"type": "Point", "coordinates": [BUGAHYEON[0], BUGAHYEON[1]]},
        },
    ]


def test_facilities_geojson_lonlat(db, tmp_path):
    path = write(
        tmp_path,
        "fac.geojson",
        json.dumps(
            {"type": "FeatureCollection", "features": _facility_features()}, ensure_ascii=False
        ),
    )
    result = import_file(db, "facilities", path)
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    rows = db.execute(
        text("""SELECT external_id, kind, name, address FROM facilities
                              WHERE external_id IN ('G1', 'G2') ORDER BY 1""")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("G1", "health_centre", "서대문구보건소", "서울특별시 서대문구 연희로 242"),
        ("G2", "other", "북아현 쉼터", None),
    ]
    assert_point(db, "facilities", "G1", YEONHUI)
    assert_point(db, "facilities", "G2", BUGAHYEON)
    assert import_file(db, "facilities", path).unchanged == 2


def test_geojson_declared_crs_agrees_with_crs_option(db, tmp_path):
    to_5181 = Transformer.from_crs("EPSG:4326", "EPSG:5181", always_xy=True)
    features = _facility_features()
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        feature["geometry"]["coordinates"] = list(to_5181.transform(lon, lat))
    path = write(
        tmp_path,
        "fac5181.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5181"}},
                "features": features,
            },
            ensure_ascii=False,
        ),
    )
    result = import_file(db, "facilities", path, crs="EPSG:5181")
    assert result.inserted == 2
    assert_point(db, "facilities", "G1", YEONHUI)
    assert_point(db, "facilities", "G2", BUGAHYEON)


def test_residents_geojson(db, tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": {
                "resident_id": "J1",
                "household_id": "HJ1",
                "birth_year": 1941,
                "sex": "M",
                "lives_alone": True,
                "disability": False,
                "registered_on": "2018-11-30",
                "household_size": 1,
                "monthly_income_krw": 713102,
            },
            "geometry": {"type": "Point", "coordinates": [NAMGAJWA2[0], NAMGAJWA2[1]]},
        },
        {
            "type": "Feature",
            "properties": {
                "resident_id": "J2",
                "household_id": "HJ2",
                "birth_year": 1960,
                "sex": "F",
                "lives_alone": False,
                "disability": True,
                "registered_on": "2022-01-10",
                "household_size": 3,
                "monthly_income_krw": 2100000,
                "assets_krw": 50000000,
            },
            "geometry": {"type": "Point", "coordinates": [YEONHUI[0], YEONHUI[1]]},
        },
    ]
    path = write(
        tmp_path,
        "res.geojson",
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
    )
    result = import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)
    assert (result.inserted, result.updated) == (2, 0)
    rows = db.execute(
        text("""
        SELECT r.external_id, r.birth_year, r.sex, r.lives_alone, r.has_disability,
               r.registered_on, h.size, h.monthly_income_krw, h.assets_krw
        FROM residents r JOIN households h ON h.id = r.household_id ORDER BY 1""")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("J1", 1941, "M", True, False, dt.date(2018, 11, 30), 1, 713102, None),
        ("J2", 1960, "F", False, True, dt.date(2022, 1, 10), 3, 2100000, 50000000),
    ]
    assert_point(db, "households", "HJ1", NAMGAJWA2)
    assert_point(db, "households", "HJ2", YEONHUI)


def test_facilities_geopackage_in_epsg_5181(db, tmp_path):
    to_5181 = Transformer.from_crs("EPSG:4326", "EPSG:5181", always_xy=True)
    places = {"K1": NAMGAJWA1, "K2": NAMGAJWA2, "K3": YEONHUI}
    frame = gpd.GeoDataFrame(
        {
            "facility_id": list(places),
            "kind": ["senior_centre", "community_centre", "other"],
            "name": ["가좌 경로당", "남가좌 센터", "연희 쉼터"],
            "address": ["주소 1", None, "주소 3"],
        },
        geometry=[shapely.Point(*to_5181.transform(w[0], w[1])) for w in places.values()],
        crs="EPSG:5181",
    )
    path = tmp_path / "fac.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")

    result = import_file(db, "facilities", path)
    assert (result.rows, result.inserted, result.updated) == (3, 3, 0)
    rows = db.execute(
        text("""SELECT external_id, kind, name, address FROM facilities
                              WHERE external_id LIKE 'K_' ORDER BY 1""")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("K1", "senior_centre", "가좌 경로당", "주소 1"),
        ("K2", "community_centre", "남가좌 센터", None),
        ("K3", "other", "연희 쉼터", "주소 3"),
    ]
    for fid, where in places.items():
        assert_point(db, "facilities", fid, where)
    before = snapshot(db)
    again = import_file(db, "facilities", path)
    assert (again.inserted, again.updated) == (0, 0)
    assert snapshot(db) == before


# ----------------------------------------------------------------------------- other kinds


def test_crisis_signals_at_household_and_resident_level(db, tmp_path):
    import_file(
        db,
        "residents",
        write(tmp_path, "r.csv", table(RES_COLUMNS, RESIDENTS)),
        rrn_key=TEST_RRN_KEY,
    )
    result = import_file(db, "crisis-signals", write(tmp_path, "s.csv", SIGNALS))
    assert (result.rows, result.inserted) == (2, 2)
    rows = db.execute(
        text("""
        SELECT s.external_id, r.external_id, h.external_id, s.kind, s.observed_on,
               s.source_agency
        FROM crisis_signals s LEFT JOIN residents r ON r.id = s.resident_id
        LEFT JOIN households h ON h.id = s.household_id ORDER BY 1""")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("S1", None, "H1", "electricity_arrears", dt.date(2024, 1, 20), "한국전력공사"),
        ("S2", "R3", None, "health_insurance_arrears", dt.date(2024, 2, 3), "국민건강보험공단"),
    ]


def test_support_with_amount_column_only(db, tmp_path):
    """amount_krw and quantity are optional columns: a file may carry just one of them."""
    import_file(
        db,
        "residents",
        write(tmp_path, "r.csv", table(RES_COLUMNS, RESIDENTS)),
        rrn_key=TEST_RRN_KEY,
    )
    import_file(db, "providers", write(tmp_path, "p.csv", PROVIDERS))
    path = write(
        tmp_path,
        "cash.csv",
        table(
            [
                "support_id",
                "resident_id",
                "provider_id",
                "category",
                "item",
                "amount_krw",
                "provided_on",
            ],
            [
                {
                    "support_id": "C1",
                    "resident_id": "R1",
                    "provider_id": "P1",
                    "category": "economic",
                    "item": "긴급생계지원",
                    "amount_krw": 626000,
                    "provided_on": "2024-02-20",
                }
            ],
        ),
    )
    result = import_file(db, "support", path)
    assert result.inserted == 1
    assert db.execute(text("SELECT amount_krw, quantity FROM support_records")).one() == (
        626000,
        None,
    )


def _team_areas(db) -> dict[str, set[str]]:
    rows = db.execute(
        text("""
        SELECT t.external_id, a.code FROM team_areas ta JOIN visit_teams t ON t.id = ta.team_id
        JOIN areas a ON a.id = ta.area_id""")
    ).all()
    out: dict[str, set[str]] = {}
    for team_id, code in rows:
        out.setdefault(team_id, set()).add(code)
    return out


def test_teams_with_areas_and_base_facility(db, tmp_path):
    result = import_file(db, "teams", write(tmp_path, "teams.csv", TEAMS))
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    rows = db.execute(
        text("""SELECT t.external_id, t.name, f.external_id FROM visit_teams t
                              LEFT JOIN facilities f ON f.id = t.base_facility_id
                              ORDER BY 1""")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("T1", "가좌 방문팀", "CC-1141069000"),
        ("T2", "신촌 방문팀", None),
    ]
    assert _team_areas(db) == {"T1": {"1141069000", "1141070000"}, "T2": {"1141058500"}}

    same = import_file(db, "teams", write(tmp_path, "teams_again.csv", TEAMS))
    assert (same.inserted, same.updated) == (0, 0)

    new_list = TEAMS.replace("1141069000|1141070000", "1141071000|1141069000|1141072000")
    result = import_file(db, "teams", write(tmp_path, "teams2.csv", new_list))
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    assert _team_areas(db) == {
        "T1": {"1141069000", "1141071000", "1141072000"},
        "T2": {"1141058500"},
    }
    before = snapshot(db)
    again = import_file(db, "teams", write(tmp_path, "teams3.csv", new_list))
    assert (again.inserted, again.updated) == (0, 0)
    assert snapshot(db) == before


def test_area_stats_of_the_dong_indicators_file(db, tmp_path):
    source = DATA / "seodaemun_dong_indicators.csv"
    with source.open(encoding="utf-8-sig") as f:
        records = list(csv.DictReader(f))
    indicators = [c for c in records[0] if c not in ("adm_cd2", "dong_nm")]
    assert len(records) == 14 and len(indicators) > 10

    result = import_file(db, "area-stats", source)
    assert result.rows == 14
    assert result.records == 14 * len(indicators)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, result.records)
    stored = {
        (code, ind): value
        for code, ind, value in db.execute(
            text("""
        SELECT a.code, s.indicator, s.value FROM area_statistics s
        JOIN areas a ON a.id = s.area_id""")
        ).all()
    }
    for record in records:
        for ind in indicators:
            assert math.isclose(
                stored[(record["adm_cd2"], ind)], float(record[ind]), rel_tol=1e-12
            ), (record["adm_cd2"], ind)
    assert not any(ind in ("dong_nm", "adm_cd2") for _, ind in stored)

    # one changed value updates one record; a new column adds one record per area
    records[3]["pop_2026_03"] = "99999"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*records[0], "visits_2026"], lineterminator="\n")
    writer.writeheader()
    for i, record in enumerate(records):
        writer.writerow({**record, "visits_2026": i})
    changed = import_file(db, "area-stats", write(tmp_path, "stats.csv", out.getvalue()))
    assert (changed.inserted, changed.updated) == (14, 1)
    assert (
        db.execute(
            text("""SELECT s.value FROM area_statistics s JOIN areas a
                              ON a.id = s.area_id WHERE a.code = :code
                              AND s.indicator = 'pop_2026_03'"""),
            {"code": records[3]["adm_cd2"]},
        ).scalar_one()
        == 99999
    )


def test_datetimes_without_offset_are_korean_time(db, tmp_path):
    import_file(
        db,
        "residents",
        write(tmp_path, "r.csv", table(RES_COLUMNS, RESIDENTS)),
        rrn_key=TEST_RRN_KEY,
    )
    cases = {
        "D1": ("2024-03-05T10:30", dt.datetime(2024, 3, 5, 1, 30, tzinfo=UTC)),
        "D2": ("2024-03-05 10:30:15", dt.datetime(2024, 3, 5, 1, 30, 15, tzinfo=UTC)),
        "D3": ("2024-03-05T08:00", dt.datetime(2024, 3, 4, 23, 0, tzinfo=UTC)),
        "D4": ("2024-03-05T10:30+00:00", dt.datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),
        "D5": ("2024-03-05T10:30:00Z", dt.datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),
        "D6": ("2024-03-05T10:30-05:00", dt.datetime(2024, 3, 5, 15, 30, tzinfo=UTC)),
    }
    rows = [
        {
            "visit_id": vid,
            "resident_id": "R1",
            "visited_at": when,
            "visitor": "방문자",
            "outcome": "met",
        }
        for vid, (when, _) in cases.items()
    ]
    path = write(
        tmp_path,
        "visits.csv",
        table(["visit_id", "resident_id", "visited_at", "visitor", "outcome"], rows),
    )
    assert import_file(db, "visits", path).inserted == len(cases)
    stored = dict(db.execute(text("SELECT external_id, visited_at FROM visits")).all())
    for vid, (when, expected) in cases.items():
        assert stored[vid] == expected, when
    korean = db.execute(
        text("""SELECT to_char(visited_at AT TIME ZONE 'Asia/Seoul',
                                'YYYY-MM-DD HH24:MI') FROM visits WHERE external_id = 'D1'""")
    )
    assert korean.scalar_one() == "2024-03-05 10:30"


def test_csv_with_bom_is_read(db, tmp_path):
    path = tmp_path / "providers_bom.csv"
    path.write_bytes(PROVIDERS.encode("utf-8-sig"))
    result = import_file(db, "providers", path)
    assert (result.rows, result.inserted) == (2, 2)
    rows = db.execute(text("SELECT external_id, name, sector, kind FROM providers ORDER BY 1"))
    assert [tuple(r) for r in rows] == [
        ("P1", "서대문구청 복지정책과", "public", "구청"),
        ("P2", "서대문푸드뱅크", "private", None),
    ]


def test_receiving_programmes_are_stored_and_a_reimport_changes_nothing(db, tmp_path):
    """Issue 14: the optional ``receiving`` column, normalised (order, case, spaces)."""
    rows = [dict(r) for r in RESIDENTS]
    rows[0]["receiving"] = "Medical; livelihood"
    rows[1]["receiving"] = "livelihood;medical"
    path = write(tmp_path, "residents.csv", table([*RES_COLUMNS, "receiving"], rows))
    import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)
    stored = dict(
        db.execute(text("SELECT external_id, receiving_programmes FROM households")).all()
    )
    assert stored == {"H1": ["livelihood", "medical"], "H2": []}
    again = import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)
    assert again.extra == {"households inserted": 0, "households updated": 0}
