"""Hostile and malformed input (issue #10, A3): every file is refused with FILE:ROW:COLUMN,
exit status 1 from the command and no traceback, and nothing is written.

The first cases are regression tests for the holes found (each was accepted, ended in a
traceback or named no row); then a batch of hostile values in every column of every kind, and
random bytes, empty and truncated files through the command line.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from geo.db import make_engine
from geo.importers import KINDS, ImportValidationError, import_file
from tests.conftest import ROOT, TEST_RRN_KEY
from tests.geo import test_import_malformed
from tests.geo.import_helpers import table
from tests.geo.test_import_malformed import (
    INSIDE,
    NEED_COLUMNS,
    PROV_COLUMNS,
    RES_COLUMNS,
    SETUP_RESIDENTS,
    SIGNAL_COLUMNS,
    SUPPORT_COLUMNS,
    TEAM_COLUMNS,
    VISIT_COLUMNS,
    Case,
    all_counts,
    assert_nothing_written,
    facilities,
    facility,
    feature_collection,
    need,
    point_feature,
    resident,
    residents,
    signal,
    support,
    team,
    visit,
    write_input,
)

pytestmark = pytest.mark.db
cli_database = test_import_malformed.cli_database  # the scratch database fixture

RRN = "500101-2345678"
FULL_WIDTH = RRN.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
ARABIC_INDIC = RRN.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
PROVIDER = (
    "providers",
    "setup_providers.csv",
    table(PROV_COLUMNS, [{"provider_id": "P1", "name": "서대문구청", "sector": "public"}]),
)


def providers_csv(header: str, row: str = "P9,복지관,private") -> bytes:
    return f"{header}\n{row}\n".encode()


def facility_geojson(crs: str | None = None, **props) -> str:
    base = {"facility_id": "F1", "kind": "other", "name": "연희 경로당", **props}
    return feature_collection([point_feature(base, [float(INSIDE[0]), float(INSIDE[1])])], crs)


REGRESSIONS = [
    # accepted before
    Case(
        "dup-header",
        "providers",
        "p.csv",
        providers_csv("provider_id,name,sector,name", "P9,복지관,private,둘째"),
        1,
        "name",
        ("twice",),
    ),
    Case(
        "nul-in-header",
        "providers",
        "p.csv",
        providers_csv("provider_id,name,sector,ki\x00nd", "P9,복지관,private,종합"),
        1,
        "ki\\x00nd",
        ("nul",),
    ),
    Case(
        "registered-2099",
        "residents",
        "r.csv",
        residents(resident("R9", registered_on="2099-01-01")),
        2,
        "registered_on",
        ("future",),
    ),
    Case(
        "registered-before-birth",
        "residents",
        "r.csv",
        residents(resident("R9", registered_on="1940-05-01")),
        2,
        "registered_on",
        ("before", "birth"),
    ),
    Case(
        "resolved-2099",
        "needs",
        "n.csv",
        table(NEED_COLUMNS, [need("N9", resolved_on="2099-01-01")]),
        2,
        "resolved_on",
        ("future",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "quantity-1e308",
        "support",
        "s.csv",
        table(SUPPORT_COLUMNS, [support("S9", quantity="1e308")]),
        2,
        "quantity",
        ("at most",),
        setup=(SETUP_RESIDENTS, PROVIDER),
    ),
    Case(
        "area-stat-inf",
        "area-stats",
        "a.csv",
        "adm_cd2,pop\n1141069000,inf\n",
        2,
        "pop",
        ("finite",),
    ),
    Case(
        "geojson-unknown-crs",
        "facilities",
        "f.geojson",
        facility_geojson("urn:ogc:def:crs:EPSG::999999"),
        0,
        "crs",
        ("unknown crs",),
    ),
    # a traceback before
    Case(
        "nul-in-value",
        "providers",
        "p.csv",
        providers_csv(",".join(PROV_COLUMNS), "P9,복지\x00관,private,"),
        2,
        "name",
        ("nul",),
    ),
    Case(
        "income-infinity",
        "residents",
        "r.csv",
        residents(resident("R9", monthly_income_krw="Infinity")),
        2,
        "monthly_income_krw",
        ("finite",),
    ),
    Case(
        "income-1e30",
        "residents",
        "r.csv",
        residents(resident("R9", monthly_income_krw="1e30")),
        2,
        "monthly_income_krw",
        ("at most",),
    ),
    Case(
        "rrn-full-width",
        "residents",
        "r.csv",
        residents(resident("R9", rrn=FULL_WIDTH)),
        2,
        "rrn",
        ("ascii digits 0-9",),
        secrets=(FULL_WIDTH, FULL_WIDTH.replace("-", "")),
    ),
    Case(
        "rrn-arabic-indic",
        "residents",
        "r.csv",
        residents(resident("R9", rrn=ARABIC_INDIC)),
        2,
        "rrn",
        ("ascii digits 0-9",),
        secrets=(ARABIC_INDIC,),
    ),
    Case(
        "geojson-cp949",
        "facilities",
        "f.geojson",
        facility_geojson().encode("cp949"),
        1,
        "name",
        ("utf-8", "cp949"),
    ),
    # no row named before
    Case(
        "bad-byte-in-one-row",
        "providers",
        "p.csv",
        b"provider_id,name,sector\nP1,ok,public\nP2,\xb1\xe8,public\nP3,ok,public\n",
        3,
        "name",
        ("utf-8",),
    ),
    Case(
        "wrong-case-header",
        "providers",
        "p.csv",
        providers_csv("provider_id,Name,sector"),
        1,
        "Name",
        ("lower-case", "'name'"),
    ),
    Case(
        "semicolon-header",
        "providers",
        "p.csv",
        providers_csv("provider_id;name;sector", "P9;복지관;private"),
        1,
        "provider_id;name;sector",
        ("semicolons", "commas", "provider_id, name, sector"),
    ),
    # the same rules in the other kinds
    Case(
        "date-full-width",
        "crisis-signals",
        "c.csv",
        table(SIGNAL_COLUMNS, [signal("C9", observed_on="２０２４-01-20")]),
        2,
        "observed_on",
        ("ascii digits",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "date-before-1900",
        "needs",
        "n.csv",
        table(NEED_COLUMNS, [need("N9", identified_on="1066-10-14")]),
        2,
        "identified_on",
        ("1900",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "need-before-birth",
        "needs",
        "n.csv",
        table(NEED_COLUMNS, [need("N9", identified_on="1949-12-31")]),
        2,
        "identified_on",
        ("birth year 1950",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "visit-full-width-time",
        "visits",
        "v.csv",
        table(VISIT_COLUMNS, [visit("V9", visited_at="2024-03-05T１０:30")]),
        2,
        "visited_at",
        ("ascii",),
        setup=(SETUP_RESIDENTS,),
    ),
    Case(
        "area-code-full-width",
        "teams",
        "t.csv",
        table(TEAM_COLUMNS, [team("T9", adm_cd2s="１１４１０６９０００")]),
        2,
        "adm_cd2s",
        ("ascii digits",),
    ),
    Case(
        "amount-huge",
        "support",
        "s.csv",
        table(SUPPORT_COLUMNS, [support("S9", amount_krw="9" * 40)]),
        2,
        "amount_krw",
        ("at most",),
        setup=(SETUP_RESIDENTS, PROVIDER),
    ),
    Case(
        "household-size-nan",
        "residents",
        "r.csv",
        residents(resident("R9", household_size="NaN")),
        2,
        "household_size",
        ("number",),
    ),
    Case(
        "lon-inf",
        "facilities",
        "f.csv",
        facilities(facility("F9", lon="inf")),
        2,
        "lon",
        ("finite",),
    ),
    Case(
        "area-stat-arabic-indic",
        "area-stats",
        "a.csv",
        "adm_cd2,pop\n1141069000,٣\n",
        2,
        "pop",
        ("ascii digits",),
    ),
    Case(
        "area-stat-1e300",
        "area-stats",
        "a.csv",
        "adm_cd2,pop\n1141069000,1e300\n",
        2,
        "pop",
        ("between",),
    ),
    Case(
        "nul-in-geojson",
        "facilities",
        "f.geojson",
        facility_geojson(address="연희\x00로"),
        1,
        "address",
        ("nul",),
    ),
    Case(
        "geojson-crs-not-named",
        "facilities",
        "f.geojson",
        facility_geojson().replace('{"type"', '{"crs": {"type": "link"}, "type"', 1),
        0,
        "crs",
        ("named crs",),
    ),
    Case(
        "dup-header-wkt",
        "areas",
        "a.csv",
        "adm_cd2,adm_cd2,dong_nm\n1,2,x\n",
        1,
        "adm_cd2",
        ("twice",),
    ),
]


@pytest.mark.parametrize("case", REGRESSIONS, ids=[c.id for c in REGRESSIONS])
def test_hole_is_closed(db, tmp_path, case: Case):
    test_import_malformed.assert_refused(db, tmp_path, case)


def test_unknown_columns_are_named_when_a_required_one_is_missing(db, tmp_path):
    path = write_input(tmp_path, "p.csv", providers_csv("provider_id,nmae,sector"))
    with pytest.raises(ImportValidationError) as info:
        import_file(db, "providers", path)
    (problem,) = info.value.problems
    assert (problem.row, problem.column) == (1, "name")
    assert "nmae" in problem.reason


def test_the_happy_path_still_imports_and_is_idempotent(db, tmp_path):
    """The new checks leave good files alone: full-width text in a name is fine."""
    path = write_input(
        tmp_path,
        "r.csv",
        residents(resident("R9", name="김１", rrn=RRN, registered_on="1950-01-01")),
    )
    first = import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)
    again = import_file(db, "residents", path, rrn_key=TEST_RRN_KEY)
    assert (first.inserted, again.inserted, again.updated) == (1, 0, 0)


def test_unnamed_trailing_columns_of_a_spreadsheet_export_are_still_ignored(db, tmp_path):
    path = write_input(
        tmp_path, "p.csv", providers_csv("provider_id,name,sector,,", "P9,a,public,,")
    )
    assert import_file(db, "providers", path).inserted == 1


# ----------------------------------------------------------------------------- hostile batch

HOSTILE_VALUES = [
    "inf",
    "-Infinity",
    "NaN",
    "1e308",
    "-1e308",
    "9" * 400,
    "１２３",
    "٣٤",
    "2099-12-31",
    "0001-01-01",
    "a\x00b",
    "\x00",
    "'; DROP TABLE residents; --",
    "{{7*7}}${alert(1)}",
    "0x1F",
    "1_000",
    "\u202e\u200b",
    "-0",
]

VALID_ROWS = {
    "residents": (RES_COLUMNS, resident("R9", rrn=RRN)),
    "facilities": (["facility_id", "kind", "name", "address", "lon", "lat"], facility("F9")),
    "crisis-signals": (SIGNAL_COLUMNS, signal("C9")),
    "providers": (PROV_COLUMNS, {"provider_id": "P9", "name": "복지관", "sector": "private"}),
    "visits": (VISIT_COLUMNS, visit("V9")),
    "needs": (NEED_COLUMNS, need("N9", resolved_on="2024-02-01", source="상담")),
    "support": (SUPPORT_COLUMNS, support("S9", quantity="2", unit="kg")),
    "teams": (TEAM_COLUMNS + ["members"], team("T9", members="M9:김반장")),
    "area-stats": (["adm_cd2", "pop", "rate"], {"adm_cd2": "1141069000", "pop": "1", "rate": "2"}),
    "areas": (
        ["adm_cd2", "dong_nm", "sgg_cd", "sgg_nm", "adm_nm", "wkt"],
        {
            "adm_cd2": "1141099000",
            "dong_nm": "시험동",
            "sgg_cd": "11410",
            "sgg_nm": "서대문구",
            "wkt": "POLYGON((126.90 37.50, 126.91 37.50, 126.91 37.51, 126.90 37.51, "
            "126.90 37.50))",
        },
    ),
}


# issue 13: the shared-support kinds, with what each needs stored first
VALID_ROWS.update({
    "donors": (["donor_id", "name", "kind", "area"],
               {"donor_id": "D9", "name": "후원자", "kind": "individual", "area": "1141069000"}),
    "donations": (["donation_id", "donor_id", "centre_id", "received_on", "minor_category",
                   "item", "quantity", "unit", "expires_on"],
                  {"donation_id": "DN9", "donor_id": "D1", "centre_id": "P1",
                   "received_on": "2024-01-02", "minor_category": "rice", "item": "쌀",
                   "quantity": "3", "unit": "포", "expires_on": "2024-06-01"}),
    "stock-movements": (["movement_id", "centre_id", "kind", "moved_on", "minor_category",
                         "item", "unit", "quantity", "expires_on"],
                        {"movement_id": "M9", "centre_id": "P1", "kind": "issued",
                         "moved_on": "2024-01-03", "minor_category": "rice", "item": "쌀",
                         "unit": "포", "quantity": "1", "expires_on": "2024-06-01"}),
    "sponsorships": (["sponsorship_id", "donor_id", "household_id", "centre_id", "programme",
                      "starts_on", "ends_on", "monthly_amount_krw"],
                     {"sponsorship_id": "S9", "donor_id": "D1", "household_id": "H1",
                      "centre_id": "P1", "programme": "100가정 보듬기",
                      "starts_on": "2024-01-01", "ends_on": "2024-12-31",
                      "monthly_amount_krw": "100000"}),
    "sponsorship-payments": (["sponsorship_id", "month", "amount_krw", "received_on"],
                             {"sponsorship_id": "S1", "month": "2024-02",
                              "amount_krw": "100000", "received_on": "2024-02-05"}),
    "consents": (["resident_id", "consented", "decided_on"],
                 {"resident_id": "R1", "consented": "true", "decided_on": "2024-01-10"}),
})  # fmt: skip
SHARING_SETUP = [
    ("donors", "setup_donors.csv",
     table(["donor_id", "name", "kind"],
           [{"donor_id": "D1", "name": "교회", "kind": "religious"}])),
    ("sponsorships", "setup_sponsorships.csv", table(
        ["sponsorship_id", "donor_id", "household_id", "centre_id", "programme", "starts_on",
         "ends_on", "monthly_amount_krw"],
        [{"sponsorship_id": "S1", "donor_id": "D1", "household_id": "H1", "centre_id": "P1",
          "programme": "보듬기", "starts_on": "2024-01-01", "ends_on": "2024-12-31",
          "monthly_amount_krw": "50000"}])),
]  # fmt: skip


def _hostile_file(kind: str, value: str) -> str:
    columns, row = VALID_ROWS[kind]
    return table(columns, [row, {c: value for c in columns}])


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_values_in_every_column_are_refused(db, tmp_path, kind):
    """Row 2 is good, row 3 holds one hostile value in every column: refused, row 3 named."""
    for setup_kind, name, content in (SETUP_RESIDENTS, PROVIDER, *SHARING_SETUP):
        import_file(db, setup_kind, write_input(tmp_path, name, content), rrn_key=TEST_RRN_KEY)
    crs = "EPSG:4326" if kind == "areas" else None  # areas from a wkt column
    good = write_input(
        tmp_path, f"{kind}-good.csv", table(*VALID_ROWS[kind][:1], [VALID_ROWS[kind][1]])
    )
    import_file(db, kind, good, rrn_key=TEST_RRN_KEY, crs=crs)  # the good row alone imports
    db.rollback()
    for setup_kind, name, content in (SETUP_RESIDENTS, PROVIDER, *SHARING_SETUP):
        import_file(db, setup_kind, write_input(tmp_path, name, content), rrn_key=TEST_RRN_KEY)
    before = all_counts(db)
    for number, value in enumerate(HOSTILE_VALUES):
        path = write_input(tmp_path, f"{kind}-{number}.csv", _hostile_file(kind, value))
        with pytest.raises(ImportValidationError) as info:
            import_file(db, kind, path, rrn_key=TEST_RRN_KEY, crs=crs)
        problems = info.value.problems
        assert 3 in {p.row for p in problems}, (value, problems)
        assert 2 not in {p.row for p in problems}, (value, problems)
        for p in problems:
            assert "\x00" not in str(p)
        assert_nothing_written(db, before)


def _random_files(seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    files = [
        ("empty.csv", b""),
        ("bom-only.csv", b"\xef\xbb\xbf"),
        ("newlines.csv", b"\n\n\n"),
        ("nul-only.csv", b"\x00" * 64),
        ("utf16.csv", "provider_id,name,sector\nP9,복지관,private\n".encode("utf-16")),
        ("unclosed-quote.csv", b'provider_id,name,sector\nP9,"open,private\n'),
        ("ragged.csv", b"provider_id,name,sector\nP9,a,private,x,y\nP8\n"),
        ("cr-only.csv", b"provider_id,name\rP9,a\r"),
        ("huge-cell.csv", b"provider_id,name,sector\nP9," + b"x" * 200_000 + b",private\n"),
        ("empty.geojson", b""),
        ("not-json.geojson", b'{"type": "FeatureCollection", "features": [}'),
        ("array.geojson", b"[1, 2, 3]"),
        (
            "null-props.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [{"type": "Feature", "properties": None, "geometry": None}],
                }
            ).encode(),
        ),
        ("deep.geojson", b"[" * 5000 + b"]" * 5000),
        ("random.gpkg", bytes(rng.getrandbits(8) for _ in range(4096))),
        ("file.txt", b"provider_id,name,sector\n"),
    ]
    for i in range(4):
        files.append((f"random-{i}.csv", bytes(rng.getrandbits(8) for _ in range(2048))))
        files.append((f"random-{i}.geojson", bytes(rng.getrandbits(8) for _ in range(2048))))
    return files


PROBLEM_LINE = re.compile(r"^(?P<file>.+):(?P<row>\d+):(?P<column>[^:\n]+): (?P<reason>.+)$")


def _assert_refused(output: str, path: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert "Traceback" not in output, output
    assert lines and lines[-1].endswith("nothing was imported."), output
    for line in lines[:-1]:
        match = PROBLEM_LINE.match(line)
        assert match and match["file"] == path, f"not FILE:ROW:COLUMN: reason: {line!r}"


def test_hostile_files_through_the_command(cli_database, tmp_path, monkeypatch, request):
    """Every kind against random bytes, empty, truncated and odd files: exit 1, one
    ``FILE:ROW:COLUMN: reason`` per problem, no traceback, nothing written."""
    from sqlalchemy import text

    import visitmap.cli as cli

    url, scratch = cli_database
    # the command makes an engine per call and leaves it to the end of the process; here, one
    # engine serves every call and is disposed of at the end
    shared = make_engine(url)
    request.addfinalizer(shared.dispose)
    monkeypatch.setattr(cli, "_engine", lambda settings: shared)
    main = cli.main
    monkeypatch.setenv("VISITMAP_DATABASE_URL", url)
    monkeypatch.setenv("VISITMAP_RRN_HMAC_KEY", TEST_RRN_KEY.decode())
    runner = CliRunner()
    with scratch.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM areas")).scalar_one()
    files = _random_files(10)
    for kind in KINDS:
        for name, content in files:
            path = tmp_path / f"{kind}-{name}"
            path.write_bytes(content)
            result = runner.invoke(main, ["import", kind, str(path), "--no-progress"])
            output = result.output + (result.stderr if result.stderr_bytes is not None else "")
            assert result.exit_code == 1, (kind, name, output, result.exception)
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                kind,
                name,
                repr(result.exception),
            )
            _assert_refused(result.stderr, str(path))
    with scratch.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM areas")).scalar_one() == before
        for name in ("residents", "facilities", "providers", "visit_teams", "area_statistics"):
            assert conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() == 0


def test_hostile_file_through_python_m_visitmap_cli(cli_database, tmp_path):
    """The real process: ``python -m visitmap.cli import`` of a file with a NUL byte and
    full-width digits exits 1 with clean lines and no traceback."""
    url, _ = cli_database
    path = tmp_path / "r.csv"
    path.write_text(
        residents(resident("R9", rrn=FULL_WIDTH), resident("R8", name="김\x00")),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "VISITMAP_DATABASE_URL": url,
        "VISITMAP_RRN_HMAC_KEY": TEST_RRN_KEY.decode(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "visitmap.cli", "import", "residents", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stderr
    _assert_refused(done.stderr, str(path))
    assert f"{path}:3:name:" in done.stderr
    assert FULL_WIDTH not in done.stderr


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_geojson_properties_and_coordinates_are_refused(db, tmp_path, value):
    """A GeoJSON feature whose every property holds a hostile value, and one whose
    coordinates are absurd: refused on their feature, nothing written."""
    good = point_feature(
        {"facility_id": "F1", "kind": "other", "name": "경로당"},
        [float(INSIDE[0]), float(INSIDE[1])],
    )
    hostile = point_feature(
        {c: value for c in ("facility_id", "kind", "name", "address")},
        [float(INSIDE[0]), float(INSIDE[1])],
    )
    absurd = point_feature({"facility_id": "F3", "kind": "other", "name": "x"}, [1e308, -1e308])
    path = write_input(tmp_path, "f.geojson", feature_collection([good, hostile, absurd]))
    before = all_counts(db)
    with pytest.raises(ImportValidationError) as info:
        import_file(db, "facilities", path)
    rows = {p.row for p in info.value.problems}
    assert 1 not in rows and rows <= {0, 2, 3}, info.value.problems
    assert_nothing_written(db, before)
