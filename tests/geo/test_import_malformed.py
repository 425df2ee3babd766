"""Malformed import files: every one is rejected with an exact FILE:ROW:COLUMN and writes nothing.

Each case is a small hand-written file (CSV, GeoJSON or a GeoPackage written with
geopandas/pyogrio). The import must raise :class:`ImportValidationError` with a problem on the
expected (row, column) whose reason carries a meaningful keyword, no problem on any other row,
and the row count of every table of the schema must be the same before and after.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import text

from geo.db import make_engine, session_scope
from geo.importers import ImportValidationError, import_file
from geo.migrate import upgrade
from geo.models import Base
from tests.conftest import DATA, ROOT, TEST_RRN_KEY, count, scratch_databases
from tests.geo.import_helpers import RES_COLUMNS, table

pytestmark = pytest.mark.db

FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
FUTURE_TIME = (dt.datetime.now() + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
INSIDE = ("126.94", "37.57")  # 연희동, Seodaemun-gu
CITY_HALL = ("126.9780", "37.5665")  # Jung-gu: in Korea, outside the loaded areas
TOKYO = ("139.6917", "35.6895")
RRN = "500101-2345678"  # born 1950-01-01, woman (7th digit 2)
RRN_DIGITS = RRN.replace("-", "")
TO_5181 = Transformer.from_crs("EPSG:4326", "EPSG:5181", always_xy=True)


# ----------------------------------------------------------------------------- file builders


def resident(rid: str, hid: str | None = None, **values: str) -> dict[str, str]:
    row = {
        "resident_id": rid,
        "household_id": hid or f"H-{rid}",
        "name": "김민지",
        "birth_year": "1950",
        "sex": "F",
        "lives_alone": "true",
        "disability": "false",
        "registered_on": "2020-03-01",
        "household_size": "1",
        "monthly_income_krw": "500000",
        "address": "서울특별시 서대문구 연희로 1",
        "lon": INSIDE[0],
        "lat": INSIDE[1],
    }
    row.update(values)
    return row


def residents(*rows: dict[str, str], columns: list[str] = RES_COLUMNS) -> str:
    return table(columns, list(rows))


FAC_COLUMNS = ["facility_id", "kind", "name", "address", "lon", "lat"]


def facility(fid: str, **values: str) -> dict[str, str]:
    row = {
        "facility_id": fid,
        "kind": "senior_centre",
        "name": "연희 경로당",
        "lon": INSIDE[0],
        "lat": INSIDE[1],
    }
    row.update(values)
    return row


def facilities(*rows: dict[str, str], columns: list[str] = FAC_COLUMNS) -> str:
    return table(columns, list(rows))


PROV_COLUMNS = ["provider_id", "name", "sector", "kind"]
VISIT_COLUMNS = ["visit_id", "resident_id", "visited_at", "visitor", "outcome", "notes"]
NEED_COLUMNS = [
    "need_id",
    "resident_id",
    "category",
    "status",
    "identified_on",
    "resolved_on",
    "source",
]
SUPPORT_COLUMNS = [
    "support_id",
    "resident_id",
    "provider_id",
    "category",
    "item",
    "amount_krw",
    "quantity",
    "unit",
    "provided_on",
]
SIGNAL_COLUMNS = [
    "signal_id",
    "resident_id",
    "household_id",
    "kind",
    "observed_on",
    "source_agency",
]
TEAM_COLUMNS = ["team_id", "name", "base_facility_id", "adm_cd2s"]


def visit(vid: str, **values: str) -> dict[str, str]:
    return {
        "visit_id": vid,
        "resident_id": "R1",
        "visited_at": "2024-03-05T10:30",
        "visitor": "박사회복지사",
        "outcome": "met",
        **values,
    }


def need(nid: str, **values: str) -> dict[str, str]:
    return {
        "need_id": nid,
        "resident_id": "R1",
        "category": "health",
        "status": "open",
        "identified_on": "2024-01-05",
        **values,
    }


def support(sid: str, **values: str) -> dict[str, str]:
    return {
        "support_id": sid,
        "resident_id": "R1",
        "provider_id": "P1",
        "category": "economic",
        "item": "긴급생계지원",
        "amount_krw": "300000",
        "provided_on": "2024-02-01",
        **values,
    }


def signal(sid: str, **values: str) -> dict[str, str]:
    return {
        "signal_id": sid,
        "resident_id": "R1",
        "kind": "electricity_arrears",
        "observed_on": "2024-01-20",
        "source_agency": "한국전력공사",
        **values,
    }


def team(tid: str, **values: str) -> dict[str, str]:
    return {
        "team_id": tid,
        "name": "찾아가는 복지 1팀",
        "base_facility_id": "CC-1141069000",
        "adm_cd2s": "1141069000|1141070000",
        **values,
    }


def feature_collection(features: list[dict], crs: str | None = None) -> str:
    data: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(data, ensure_ascii=False)


def point_feature(props: dict, coords: list[float] | None) -> dict:
    geometry = None if coords is None else {"type": "Point", "coordinates": coords}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def area_feature(code: str, ring: list[list[float]]) -> dict:
    props = {"adm_cd2": code, "dong_nm": "시험동", "sgg_cd": "11410", "sgg_nm": "서대문구"}
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


SQUARE = [[126.90, 37.50], [126.91, 37.50], [126.91, 37.51], [126.90, 37.51], [126.90, 37.50]]
BOWTIE = [[126.90, 37.50], [126.91, 37.51], [126.91, 37.50], [126.90, 37.51], [126.90, 37.50]]


def gpkg_facilities(geometries: list, crs: str = "EPSG:5181") -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame = gpd.GeoDataFrame(
            {
                "facility_id": [f"F{i}" for i in range(1, len(geometries) + 1)],
                "kind": ["other"] * len(geometries),
                "name": [f"시설 {i}" for i in range(1, len(geometries) + 1)],
            },
            geometry=geometries,
            crs=crs,
        )
        frame.to_file(path, driver="GPKG", engine="pyogrio")

    return write


def projected(lon: str, lat: str) -> shapely.Point:
    return shapely.Point(*TO_5181.transform(float(lon), float(lat)))


SETUP_RESIDENTS = (
    "residents",
    "setup_residents.csv",
    residents(resident("R1", "H1"), resident("R2", "H1", birth_year="1952", sex="M")),
)
SETUP_PROVIDERS = (
    "providers",
    "setup_providers.csv",
    table(PROV_COLUMNS, [{"provider_id": "P1", "name": "서대문구청", "sector": "public"}]),
)


# ----------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    name: str  # file name
    content: str | bytes | Callable[[Path], None]
    row: int
    column: str
    keywords: tuple[str, ...]
    crs: str | None = None
    setup: tuple[tuple[str, str, str], ...] = ()
    secrets: tuple[str, ...] = ()  # must not appear in any message
    only_row: bool = True  # no problem on any other row


CASES = [
    # --- issue 14: programmes received
    Case(
        "unknown-receiving-programme",
        "residents",
        "r.csv",
        residents(
            resident("R1", receiving="livelihood"),
            resident("R2", receiving="livelihood;pensoin"),
            columns=[*RES_COLUMNS, "receiving"],
        ),
        3,
        "receiving",
        ("unknown programme", "pensoin"),
    ),
    Case(
        "receiving-differs-in-household",
        "residents",
        "r.csv",
        residents(
            resident(
                "R1", "H1", receiving="basic_pension", household_size="2", lives_alone="false"
            ),
            resident("R2", "H1", receiving="", household_size="2", lives_alone="false"),
            columns=[*RES_COLUMNS, "receiving"],
        ),
        3,
        "receiving",
        ("different receiving",),
    ),
    # --- header and cells
    Case(
        "missing-required-column",
        "residents",
        "r.csv",
        residents(resident("R1"), columns=[c for c in RES_COLUMNS if c != "birth_year"]),
        1,
        "birth_year",
        ("missing required column",),
    ),
    Case(
        "empty-required-cell",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", sex="")),
        3,
        "sex",
        ("required", "missing"),
    ),
    Case(
        "non-numeric-int",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", household_size="two")),
        3,
        "household_size",
        ("whole number",),
    ),
    Case(
        "fractional-int",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", birth_year="1950.5")),
        3,
        "birth_year",
        ("whole number",),
    ),
    Case(
        "birth-year-too-early",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", birth_year="1850")),
        3,
        "birth_year",
        ("at least 1900",),
    ),
    Case(
        "household-size-too-big",
        "residents",
        "r.csv",
        residents(resident("R1", household_size="21")),
        2,
        "household_size",
        ("at most 20",),
    ),
    Case(
        "negative-income",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", monthly_income_krw="-1")),
        3,
        "monthly_income_krw",
        ("at least 0",),
    ),
    Case(
        "bad-date",
        "needs",
        "n.csv",
        table(NEED_COLUMNS, [need("N1"), need("N2", identified_on="2024/01/05")]),
        3,
        "identified_on",
        ("date", "yyyy-mm-dd"),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "impossible-date",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", registered_on="2021-02-30")),
        3,
        "registered_on",
        ("date",),
    ),
    Case(
        "bad-datetime",
        "visits",
        "v.csv",
        table(VISIT_COLUMNS, [visit("V1", visited_at="05/03/2024 10:30")]),
        2,
        "visited_at",
        ("iso 8601",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "bad-boolean",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", lives_alone="maybe")),
        3,
        "lives_alone",
        ("yes/no",),
    ),
    # --- unknown codes
    Case(
        "unknown-facility-kind",
        "facilities",
        "f.csv",
        facilities(facility("F1", kind="hospital")),
        2,
        "kind",
        ("one of", "senior_centre"),
    ),
    Case(
        "unknown-visit-outcome",
        "visits",
        "v.csv",
        table(VISIT_COLUMNS, [visit("V1"), visit("V2", outcome="gone")]),
        3,
        "outcome",
        ("one of", "not_home"),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "unknown-sex",
        "residents",
        "r.csv",
        residents(resident("R1", sex="X")),
        2,
        "sex",
        ("one of",),
    ),
    Case(
        "unknown-need-category",
        "needs",
        "n.csv",
        table(NEED_COLUMNS, [need("N1", category="food")]),
        2,
        "category",
        ("one of", "living_environment"),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "unknown-need-status",
        "needs",
        "n.csv",
        table(NEED_COLUMNS, [need("N1"), need("N2", status="done")]),
        3,
        "status",
        ("one of", "in_progress"),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "unknown-resident-status",
        "residents",
        "r.csv",
        residents(resident("R1", status="alive")),
        2,
        "status",
        ("one of", "deceased"),
    ),
    Case(
        "unknown-signal-kind",
        "crisis-signals",
        "s.csv",
        table(SIGNAL_COLUMNS, [signal("S1", kind="fire")]),
        2,
        "kind",
        ("one of", "electricity_arrears"),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "unknown-provider-sector",
        "providers",
        "p.csv",
        table(PROV_COLUMNS, [{"provider_id": "P1", "name": "푸드뱅크", "sector": "ngo"}]),
        2,
        "sector",
        ("one of", "private"),
    ),
    # --- duplicates
    Case(
        "duplicate-id",
        "providers",
        "p.csv",
        table(
            PROV_COLUMNS,
            [
                {"provider_id": "P1", "name": "가", "sector": "public"},
                {"provider_id": "P2", "name": "나", "sector": "private"},
                {"provider_id": "P1", "name": "다", "sector": "private"},
            ],
        ),
        4,
        "provider_id",
        ("duplicate", "'p1'", "row 2"),
    ),
    Case(
        "duplicate-rrn-in-file",
        "residents",
        "r.csv",
        residents(resident("R1", rrn=RRN), resident("R2", rrn=RRN)),
        3,
        "rrn",
        ("same registration number", "row 2"),
        secrets=(RRN, RRN_DIGITS, "500101"),
    ),
    # --- coordinates
    Case(
        "point-outside-korea",
        "facilities",
        "f.csv",
        facilities(facility("F1"), facility("F2", lon=TOKYO[0], lat=TOKYO[1])),
        3,
        "lon",
        ("outside south korea",),
    ),
    Case(
        "point-outside-loaded-areas",
        "facilities",
        "f.csv",
        facilities(facility("F1", lon=CITY_HALL[0], lat=CITY_HALL[1]), facility("F2")),
        2,
        "lon",
        ("none of the loaded areas",),
    ),
    Case(
        "missing-coordinate",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", lat="")),
        3,
        "lat",
        ("missing",),
    ),
    Case(
        "non-numeric-coordinate",
        "facilities",
        "f.csv",
        facilities(facility("F1", lon="east")),
        2,
        "lon",
        ("not a number",),
    ),
    Case(
        "xy-without-crs",
        "facilities",
        "f.csv",
        facilities(
            facility("F1", x="194699.43", y="452274.95"),
            columns=["facility_id", "kind", "name", "x", "y"],
        ),
        0,
        "x",
        ("--crs",),
    ),
    Case(
        "lonlat-with-projected-crs",
        "residents",
        "r.csv",
        residents(resident("R1")),
        0,
        "lon",
        ("projected",),
        crs="EPSG:5179",
    ),
    Case(
        "no-coordinate-columns",
        "facilities",
        "f.csv",
        facilities(facility("F1"), columns=["facility_id", "kind", "name"]),
        0,
        "-",
        ("coordinate",),
    ),
    Case(
        "crs-contradicts-geojson",
        "facilities",
        "f.geojson",
        feature_collection(
            [
                point_feature(
                    {"facility_id": "F1", "kind": "other", "name": "x"}, [194699.43, 452274.95]
                )
            ],
            crs="urn:ogc:def:crs:EPSG::5181",
        ),
        0,
        "--crs",
        ("contradicts", "epsg:5181"),
        crs="EPSG:5179",
    ),
    Case(
        "geojson-missing-geometry",
        "facilities",
        "f.geojson",
        feature_collection(
            [
                point_feature({"facility_id": "F1", "kind": "other", "name": "x"}, [126.94, 37.57]),
                point_feature({"facility_id": "F2", "kind": "other", "name": "y"}, None),
            ]
        ),
        2,
        "geometry",
        ("missing",),
    ),
    Case(
        "invalid-polygon-bowtie",
        "areas",
        "a.geojson",
        feature_collection(
            [area_feature("1141099901", SQUARE), area_feature("1141099902", BOWTIE)]
        ),
        2,
        "geometry",
        ("invalid polygon", "self-intersection"),
    ),
    Case(
        "area-code-not-10-digits",
        "areas",
        "a.geojson",
        feature_collection([area_feature("11410999", SQUARE)]),
        1,
        "adm_cd2",
        ("pattern",),
    ),
    Case(
        "wrong-geometry-type-gpkg",
        "facilities",
        "f.gpkg",
        gpkg_facilities(
            [projected(*INSIDE), shapely.LineString([(194699, 452274), (194800, 452300)])]
        ),
        2,
        "geometry",
        ("expected point", "linestring"),
    ),
    Case(
        "gpkg-point-outside-loaded-areas",
        "facilities",
        "f.gpkg",
        gpkg_facilities([projected(*CITY_HALL), projected(*INSIDE)]),
        1,
        "geometry",
        ("none of the loaded areas",),
    ),
    # --- references
    Case(
        "unknown-resident",
        "visits",
        "v.csv",
        table(VISIT_COLUMNS, [visit("V1"), visit("V2", resident_id="R404")]),
        3,
        "resident_id",
        ("unknown resident", "r404"),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "unknown-household",
        "crisis-signals",
        "s.csv",
        table(SIGNAL_COLUMNS, [signal("S1"), signal("S2", resident_id="", household_id="H404")]),
        3,
        "household_id",
        ("unknown household", "h404"),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "unknown-provider",
        "support",
        "sup.csv",
        table(SUPPORT_COLUMNS, [support("U1"), support("U2", provider_id="P404")]),
        3,
        "provider_id",
        ("unknown provider", "p404"),
        setup=(SETUP_RESIDENTS, SETUP_PROVIDERS),
    ),
    Case(
        "unknown-base-facility",
        "teams",
        "t.csv",
        table(TEAM_COLUMNS, [team("T1", base_facility_id="CC-404")]),
        2,
        "base_facility_id",
        ("unknown facility", "cc-404"),
    ),
    Case(
        "unknown-team-area",
        "teams",
        "t.csv",
        table(TEAM_COLUMNS, [team("T1"), team("T2", adm_cd2s="1141052000|1141099999")]),
        3,
        "adm_cd2s",
        ("unknown area", "1141099999"),
    ),
    Case(
        "unknown-stats-area",
        "area-stats",
        "st.csv",
        table(
            ["adm_cd2", "dong_nm", "pop"],
            [{"adm_cd2": "1141052000", "pop": "100"}, {"adm_cd2": "1141099999", "pop": "5"}],
        ),
        3,
        "adm_cd2",
        ("unknown area", "1141099999"),
    ),
    Case(
        "stats-value-not-a-number",
        "area-stats",
        "st.csv",
        table(["adm_cd2", "pop"], [{"adm_cd2": "1141052000", "pop": "n/a"}]),
        2,
        "pop",
        ("not a number",),
    ),
    # --- cross-column rules
    Case(
        "signal-with-both-subjects",
        "crisis-signals",
        "s.csv",
        table(SIGNAL_COLUMNS, [signal("S1", household_id="H1")]),
        2,
        "resident_id",
        ("not both",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "signal-with-no-subject",
        "crisis-signals",
        "s.csv",
        table(SIGNAL_COLUMNS, [signal("S1"), signal("S2", resident_id="")]),
        3,
        "resident_id",
        ("resident_id or household_id",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "resolved-before-identified",
        "needs",
        "n.csv",
        table(NEED_COLUMNS, [need("N1", status="met", resolved_on="2024-01-04")]),
        2,
        "resolved_on",
        ("before identified_on",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "support-without-amount-or-quantity",
        "support",
        "sup.csv",
        table(SUPPORT_COLUMNS, [support("U1"), support("U2", amount_krw="")]),
        3,
        "amount_krw",
        ("amount_krw", "quantity"),
        setup=(SETUP_RESIDENTS, SETUP_PROVIDERS),
    ),
    Case(
        "support-zero-quantity",
        "support",
        "sup.csv",
        table(SUPPORT_COLUMNS, [support("U1", amount_krw="", quantity="0", unit="kg")]),
        2,
        "quantity",
        ("at least",),
        setup=(SETUP_RESIDENTS, SETUP_PROVIDERS),
    ),
    Case(
        "support-amount-only-file-without-amount",
        "support",
        "sup.csv",
        table(
            [c for c in SUPPORT_COLUMNS if c not in ("quantity", "unit")],
            [support("U1"), support("U2", amount_krw="")],
        ),
        3,
        "amount_krw",
        ("amount_krw", "quantity"),
        setup=(SETUP_RESIDENTS, SETUP_PROVIDERS),
    ),
    Case(
        "rrn-disagrees-with-birth-year",
        "residents",
        "r.csv",
        residents(resident("R1", rrn=RRN, birth_year="1951")),
        2,
        "rrn",
        ("birth year",),
        secrets=(RRN, RRN_DIGITS, "500101"),
    ),
    Case(
        "rrn-disagrees-with-sex",
        "residents",
        "r.csv",
        residents(resident("R1"), resident("R2", rrn="500101-1234567", sex="F")),
        3,
        "rrn",
        ("sex",),
        secrets=("500101-1234567", "5001011234567", "500101"),
    ),
    Case(
        "rrn-not-a-calendar-date",
        "residents",
        "r.csv",
        residents(resident("R1", rrn="501301-2345678")),
        2,
        "rrn",
        ("calendar date",),
        secrets=("501301",),
    ),
    Case(
        "rrn-malformed",
        "residents",
        "r.csv",
        residents(resident("R1", rrn="50010-2345")),
        2,
        "rrn",
        ("pattern",),
        secrets=("50010-2345",),
    ),
    Case(
        "household-rows-disagree",
        "residents",
        "r.csv",
        residents(
            resident("R1", "H1", household_size="2"), resident("R2", "H1", household_size="3")
        ),
        3,
        "household_size",
        ("household 'h1'", "different", "row 2"),
    ),
    Case(
        "household-address-disagrees",
        "residents",
        "r.csv",
        residents(
            resident("R1", "H1", household_size="2"),
            resident("R2", "H1", household_size="2", address="다른 주소"),
        ),
        3,
        "address",
        ("different", "row 2"),
    ),
    Case(
        "signal-in-the-future",
        "crisis-signals",
        "s.csv",
        table(SIGNAL_COLUMNS, [signal("S1"), signal("S2", observed_on=FUTURE)]),
        3,
        "observed_on",
        ("future",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "need-in-the-future",
        "needs",
        "n.csv",
        table(NEED_COLUMNS, [need("N1", identified_on=FUTURE)]),
        2,
        "identified_on",
        ("future",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "visit-in-the-future",
        "visits",
        "v.csv",
        table(VISIT_COLUMNS, [visit("V1", visited_at=FUTURE_TIME)]),
        2,
        "visited_at",
        ("future",),
        setup=(SETUP_RESIDENTS,),
    ),
    # --- whole-file problems
    Case(
        "not-utf8-cp949",
        "residents",
        "r.csv",
        residents(resident("R1", name="김민지")).encode("cp949"),
        2,
        "name",
        ("utf-8", "cp949"),
    ),
    Case("empty-file", "facilities", "f.csv", b"", 0, "-", ("empty",)),
    Case("header-only", "facilities", "f.csv", facilities(), 0, "-", ("no rows",)),
    Case(
        "unsupported-extension",
        "facilities",
        "f.xlsx",
        facilities(facility("F1")),
        0,
        "-",
        ("unsupported", ".xlsx"),
    ),
    Case(
        "blank-line-keeps-editor-line-numbers",
        "residents",
        "r.csv",
        residents(resident("R1"))
        + "\n"
        + residents(resident("R2", birth_year="19x0")).split("\n", 1)[1],
        4,
        "birth_year",
        ("whole number",),
    ),
]


# ----------------------------------------------------------------------------- helpers


def write_input(tmp_path: Path, name: str, content: str | bytes | Callable[[Path], None]) -> Path:
    path = tmp_path / name
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def all_counts(session) -> dict[str, int]:
    return {t.name: count(session, t.name) for t in Base.metadata.sorted_tables}


def assert_nothing_written(session, before: dict[str, int]) -> None:
    assert all_counts(session) == before


def find(problems, row: int, column: str):
    return [p for p in problems if (p.row, p.column) == (row, column)]


# ----------------------------------------------------------------------------- tests


def test_cases_are_many_and_distinct():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)
    contents = [c.content for c in CASES if not callable(c.content)]
    assert len(set(contents)) == len(contents)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_file_is_rejected(db, tmp_path, case: Case):
    assert_refused(db, tmp_path, case)


def assert_refused(db, tmp_path, case: Case) -> None:
    """Importing ``case`` fails with a problem at its row and column whose reason has its
    keywords, each problem as FILE:ROW:COLUMN: reason (no NUL, no secret), nothing written."""
    for kind, name, content in case.setup:
        import_file(db, kind, write_input(tmp_path, name, content), rrn_key=TEST_RRN_KEY)
    path = write_input(tmp_path, case.name, case.content)
    before = all_counts(db)

    with pytest.raises(ImportValidationError) as info:
        import_file(db, case.kind, path, rrn_key=TEST_RRN_KEY, crs=case.crs)

    problems = info.value.problems
    listing = "\n".join(map(str, problems))
    hits = find(problems, case.row, case.column)
    assert hits, f"no problem at row {case.row}, column {case.column!r}:\n{listing}"
    assert any(all(k.lower() in p.reason.lower() for k in case.keywords) for p in hits), (
        f"no reason with {case.keywords}:\n{listing}"
    )
    if case.only_row:
        assert {p.row for p in problems} == {case.row}, listing
    assert {p.file for p in problems} == {str(path)}
    for p in problems:
        assert str(p) == f"{path}:{p.row}:{p.column}: {p.reason}"
        assert "\x00" not in str(p)
    for secret in case.secrets:
        assert secret not in str(info.value)
        assert all(secret not in str(p) for p in problems)
    assert_nothing_written(db, before)


def test_several_bad_rows_are_all_reported(db, tmp_path):
    """A cell error and an unknown reference on a good-looking row, in one run."""
    write = write_input
    import_file(
        db, "residents", write(tmp_path, "res.csv", SETUP_RESIDENTS[2]), rrn_key=TEST_RRN_KEY
    )
    path = write(
        tmp_path,
        "v.csv",
        table(
            VISIT_COLUMNS,
            [
                visit("V1"),
                visit("V2", outcome="vanished"),
                visit("V3", resident_id="R999"),
                visit("V4", resident_id="R2", visited_at="2024-13-01T10:00"),
            ],
        ),
    )
    before = all_counts(db)
    with pytest.raises(ImportValidationError) as info:
        import_file(db, "visits", path)
    problems = info.value.problems
    assert {(p.row, p.column) for p in problems} == {
        (3, "outcome"),
        (4, "resident_id"),
        (5, "visited_at"),
    }
    assert "unknown resident 'R999'" in find(problems, 4, "resident_id")[0].reason
    assert_nothing_written(db, before)


def test_cell_error_and_point_outside_areas_in_one_residents_file(db, tmp_path):
    path = write_input(
        tmp_path,
        "r.csv",
        residents(
            resident("R1"),
            resident("R2", birth_year="nineteen"),
            resident("R3", lon=CITY_HALL[0], lat=CITY_HALL[1]),
            resident("R4", lives_alone="perhaps", lon=TOKYO[0], lat=TOKYO[1]),
        ),
    )
    before = all_counts(db)
    with pytest.raises(ImportValidationError) as info:
        import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)
    got = {(p.row, p.column) for p in info.value.problems}
    assert {(3, "birth_year"), (4, "lon"), (5, "lives_alone"), (5, "lon")} <= got
    assert 2 not in {p.row for p in info.value.problems}
    assert_nothing_written(db, before)


# ----------------------------------------------------------------------------- the command

CLI_DATABASE = "visitmap_test_cli_import"
PROBLEM_LINE = re.compile(r"^(?P<file>.+):(?P<row>\d+):(?P<column>[^:\s]+): (?P<reason>.+)$")


@pytest.fixture(scope="module")
def cli_database(engine, database_url):
    """A scratch database with the schema and the Seodaemun areas only."""
    with scratch_databases(database_url) as create:
        scratch_url = create(CLI_DATABASE)
        scratch = make_engine(scratch_url)
        try:
            upgrade(scratch)
            with session_scope(scratch) as session:
                import_file(session, "areas", DATA / "seodaemun_admdong_2021.geojson")
            yield scratch_url, scratch
        finally:
            scratch.dispose()


def test_cli_import_of_a_bad_file_exits_1_and_lists_every_problem(cli_database, tmp_path):
    url, scratch = cli_database
    bad = write_input(
        tmp_path,
        "bad_residents.csv",
        residents(
            resident("R1"),
            resident("R2", birth_year="19x0"),
            resident("R3", sex="X"),
            resident("R4", lon=CITY_HALL[0], lat=CITY_HALL[1]),
            resident("R5", rrn=RRN, birth_year="1951"),
        ),
    )
    executable = ROOT / ".venv" / "bin" / "visitmap"
    if not executable.exists():
        executable = Path(sys.executable).with_name("visitmap")
    env = {
        **os.environ,
        "VISITMAP_DATABASE_URL": url,
        "VISITMAP_RRN_HMAC_KEY": TEST_RRN_KEY.decode(),
    }
    done = subprocess.run(
        [str(executable), "import", "residents", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )

    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1] == "4 problem(s); nothing was imported.", done.stderr
    found = set()
    for line in lines[:-1]:
        match = PROBLEM_LINE.match(line)
        assert match, f"not FILE:ROW:COLUMN: reason: {line!r}"
        assert match["file"] == str(bad)
        found.add((int(match["row"]), match["column"]))
    assert found == {(3, "birth_year"), (4, "sex"), (5, "lon"), (6, "rrn")}
    assert RRN not in done.stderr and RRN_DIGITS not in done.stderr
    assert RRN not in done.stdout
    with scratch.connect() as conn:
        for name in ("residents", "households"):
            assert conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM areas")).scalar_one() == 14


def test_the_future_starts_after_the_korean_day(db, tmp_path, monkeypatch):
    """Between 00:00 and 09:00 in Korea a UTC server's date is still yesterday: a record of
    the Korean today is not "in the future", one of the Korean tomorrow is."""
    import geo.importers.kinds as kinds

    korean_today = dt.date.today() + dt.timedelta(days=1)  # as if Korea were a day ahead
    monkeypatch.setattr(kinds, "today_in_seoul", lambda: korean_today)
    kind, name, content = SETUP_RESIDENTS
    import_file(db, kind, write_input(tmp_path, name, content), rrn_key=TEST_RRN_KEY)
    today_file = write_input(
        tmp_path,
        "today.csv",
        table(SIGNAL_COLUMNS, [signal("S1", observed_on=korean_today.isoformat())]),
    )
    assert import_file(db, "crisis-signals", today_file, rrn_key=TEST_RRN_KEY).inserted == 1
    tomorrow = korean_today + dt.timedelta(days=1)
    later_file = write_input(
        tmp_path,
        "tomorrow.csv",
        table(SIGNAL_COLUMNS, [signal("S2", observed_on=tomorrow.isoformat())]),
    )
    with pytest.raises(ImportValidationError, match="future"):
        import_file(db, "crisis-signals", later_file, rrn_key=TEST_RRN_KEY)
