"""The feature table: hand-built cases, and PostGIS == pure DataFrame on the demo data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from sqlalchemy import text

from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from geo.features import load_feature_inputs, load_features, read_median_income
from geo.importers import import_file
from geo.scope import Scope
from scoring.features import FEATURE_NAMES, compute_features
from tests.conftest import TEST_RRN_KEY

pytestmark = pytest.mark.db

AS_OF = dt.date(2026, 11, 1)
TO_5179 = Transformer.from_crs("EPSG:4326", "EPSG:5179", always_xy=True)
TO_4326 = Transformer.from_crs("EPSG:5179", "EPSG:4326", always_xy=True)
# a point inside 연희동 (1141061500) and points 300 m north and 400 m east of it, in EPSG:5179
HOME_LON, HOME_LAT = 126.9300, 37.5690
HOME_X, HOME_Y = TO_5179.transform(HOME_LON, HOME_LAT)


def _lonlat(dx: float, dy: float) -> tuple[float, float]:
    return TO_4326.transform(HOME_X + dx, HOME_Y + dy)


def _write(tmp_path, name, text_):
    path = tmp_path / name
    path.write_text(text_, encoding="utf-8")
    return path


@pytest.fixture
def tiny(db, tmp_path):
    """Two residents of one household, one alone elsewhere, with facilities at known offsets."""
    db.execute(text("DELETE FROM team_areas; DELETE FROM visit_teams; DELETE FROM facilities"))
    cc_lon, cc_lat = _lonlat(0, 300)
    sc_lon, sc_lat = _lonlat(400, 0)
    far_lon, far_lat = _lonlat(0, 2000)
    import_file(
        db,
        "facilities",
        _write(
            tmp_path,
            "f.csv",
            (
                "facility_id,kind,name,lon,lat\n"
                f"CC,community_centre,centre,{cc_lon:.9f},{cc_lat:.9f}\n"
                f"SC,senior_centre,seniors,{sc_lon:.9f},{sc_lat:.9f}\n"
                f"FAR,community_centre,far centre,{far_lon:.9f},{far_lat:.9f}\n"
            ),
        ),
    )
    import_file(
        db,
        "residents",
        _write(
            tmp_path,
            "r.csv",
            (
                "resident_id,household_id,birth_year,sex,lives_alone,disability,registered_on,"
                "household_size,monthly_income_krw,assets_krw,lon,lat\n"
                f"A,H1,1942,F,false,true,2010-01-01,2,4199292,5000000,{HOME_LON},{HOME_LAT}\n"
                f"B,H1,1945,M,false,false,2010-01-01,2,4199292,5000000,{HOME_LON},{HOME_LAT}\n"
                f"C,H2,1980,M,true,false,2026-01-01,1,641059,,{far_lon:.9f},{far_lat:.9f}\n"
            ),
        ),
        rrn_key=TEST_RRN_KEY,
    )
    import_file(
        db,
        "crisis-signals",
        _write(
            tmp_path,
            "s.csv",
            (
                "signal_id,resident_id,household_id,kind,observed_on,source_agency\n"
                "S1,A,,electricity_arrears,2026-10-01,한전\n"
                "S2,A,,electricity_arrears,2026-05-02,한전\n"  # 183 days before as_of: outside 6m
                "S3,A,,electricity_arrears,2026-05-03,한전\n"  # 182 days: inside 6m
                "S4,,H1,rent_arrears,2026-01-01,임대인\n"  # household-level: A and B
                "S5,C,,gas_arrears,2025-10-31,가스\n"
            ),
        ),
    )  # 366 days: outside 12m
    import_file(
        db,
        "visits",
        _write(
            tmp_path,
            "v.csv",
            (
                "visit_id,resident_id,visited_at,visitor,outcome\n"
                "V1,A,2026-08-03T10:00,통장,met\n"  # 90 days before as_of
                "V2,A,2026-10-02T10:00,통장,refused\n"  # contact, not met: 30 days
                "V3,B,2026-11-01T23:30,통장,met\n"  # Korean date = as_of: counts
                "V4,C,2026-10-31T16:00:00Z,통장,not_home\n"
            ),
        ),
    )  # 11-01 01:00 KST: no contact
    return db


def test_hand_built_features(tiny):
    table = load_features(tiny, Scope.everything(), as_of=AS_OF).features
    a, b, c = table.loc["A"], table.loc["B"], table.loc["C"]
    assert (a.age_years, a.household_size, a.has_disability, a.lives_alone) == (84, 2, 1, 0)
    assert a.nearest_community_centre_m == pytest.approx(300, abs=0.01)
    assert a.nearest_senior_or_welfare_m == pytest.approx(400, abs=0.01)
    assert c.nearest_community_centre_m == pytest.approx(0, abs=0.01)
    # 2026 median income for 2 persons is 4,199,292 KRW; for 1 person 2,564,238
    assert a.income_to_median_ratio == pytest.approx(1.0)
    assert c.income_to_median_ratio == pytest.approx(641059 / 2564238)
    assert a.assets_million_krw == 5 and c.assets_million_krw == 0
    assert a.signals_electricity_arrears_6m == 2 and a.signals_electricity_arrears_12m == 3
    assert a.signals_rent_arrears_12m == 1 and b.signals_rent_arrears_12m == 1
    assert a.crisis_signals_12m == 4 and b.crisis_signals_12m == 1 and c.crisis_signals_12m == 0
    assert a.days_since_met_visit == 90 and a.days_since_last_contact == 30
    assert b.days_since_met_visit == 0
    # C was never reached: counted from registration (2026-01-01 -> 304 days)
    assert c.days_since_last_contact == 304 and c.days_since_met_visit == 304
    # no previous run: the medium cadence (91 days) applies
    assert a.days_overdue == 0 and c.days_overdue == 304 - 91


def test_hand_built_pure_equals_postgis(tiny):
    sql = load_features(tiny, Scope.everything(), as_of=AS_OF).features
    pure = compute_features(
        **load_feature_inputs(tiny, Scope.everything()),
        as_of=AS_OF,
        median_income=read_median_income(),
    )
    pd.testing.assert_frame_equal(sql.sort_index(), pure, check_exact=False, atol=1e-6, rtol=0)


def test_scope_limits_residents(tiny):
    in_yeonhui = load_features(tiny, Scope.of_areas({"1141061500"}), as_of=AS_OF).features
    nowhere = load_features(tiny, Scope.of_areas(set()), as_of=AS_OF).features
    assert set(in_yeonhui.index) <= {"A", "B", "C"} and "A" in in_yeonhui.index
    assert nowhere.empty


def test_demo_pure_equals_postgis(db, tmp_path):
    generate_demo(tmp_path, seed=5, scale=2000, region="seodaemun", as_of=AS_OF)
    load_demo_files(db, tmp_path, rrn_key=TEST_RRN_KEY, progress=False)
    sql = load_features(db, Scope.everything(), as_of=AS_OF).features
    pure = compute_features(
        **load_feature_inputs(db, Scope.everything()),
        as_of=AS_OF,
        median_income=read_median_income(),
    )
    assert list(sql.columns) == list(FEATURE_NAMES)
    assert len(sql) > 1900
    pd.testing.assert_frame_equal(sql.sort_index(), pure, check_exact=False, atol=1e-6, rtol=0)
    assert np.isfinite(sql.to_numpy()).all()


def test_context_keeps_codes_as_text(tiny):
    context = load_features(tiny, Scope.everything(), as_of=AS_OF).context
    assert context.loc["A", "area_code"] == "1141061500"
    assert context.loc["A", "household_id"] == "H1"
    assert context.loc["A", "last_met_on"] == pd.Timestamp("2026-08-03")
    assert context["registered_on"].dtype.kind == "M"  # datetime64, not an object per row
    assert pd.isna(context.loc["C", "last_met_on"])


def test_new_facility_updates_stored_distances(tiny, tmp_path):
    """Distances live on households; a facilities import refreshes them for everyone."""
    before = load_features(tiny, Scope.everything(), as_of=AS_OF).features
    import_file(
        tiny,
        "facilities",
        _write(
            tmp_path,
            "more.csv",
            (
                "facility_id,kind,name,lon,lat\n"
                f"CC2,community_centre,new centre,{HOME_LON},{HOME_LAT}\n"
            ),
        ),
    )
    after = load_features(tiny, Scope.everything(), as_of=AS_OF).features
    assert before.loc["A", "nearest_community_centre_m"] == pytest.approx(300, abs=0.01)
    assert after.loc["A", "nearest_community_centre_m"] == pytest.approx(0, abs=0.01)
    assert after.loc["B", "nearest_community_centre_m"] == pytest.approx(0, abs=0.01)
    assert (
        after.loc["C", "nearest_community_centre_m"]
        == before.loc["C", "nearest_community_centre_m"]
    )
    pure = compute_features(
        **load_feature_inputs(tiny, Scope.everything()),
        as_of=AS_OF,
        median_income=read_median_income(),
    )
    pd.testing.assert_frame_equal(after, pure, check_exact=False, atol=1e-6, rtol=0)


def test_resident_subset_equals_their_rows_of_the_whole_table(db, tmp_path):
    from scoring.config import default_config
    from visitmap.usecases.scoring_runs import score_residents

    generate_demo(tmp_path, seed=6, scale=1500, region="seodaemun", as_of=AS_OF)
    load_demo_files(db, tmp_path, rrn_key=TEST_RRN_KEY, progress=False)
    run = score_residents(
        db,
        Scope.everything(),
        method="weighted",
        config=default_config(),
        as_of=AS_OF,
        created_by="test",
    ).stored.run_id
    first = load_features(db, Scope.everything(), as_of=AS_OF)
    # residents with own signals, household signals and visits, and one with none of them
    counts = first.features[["crisis_signals_12m", "days_since_last_contact"]]
    # (the first three without a demo visit after the form visit below, which it must not
    # supersede: the demo's teams visit nearly everyone)
    late = set(
        db.execute(
            text("SELECT resident_id FROM visits WHERE visited_at >= '2026-10-29'")
        ).scalars()
    )
    picked = [r for r in first.context["db_id"] if r not in late][:3]
    picked += list(first.context["db_id"][(counts["crisis_signals_12m"] > 0).to_numpy()][:5])
    # the due-date inputs: a next visit date set on a form visit, an unreachable mark before
    # as_of, and one after it (a backdated run must not see it)
    db.execute(
        text("""INSERT INTO visits (external_id, resident_id, visited_at, visitor, outcome,
            next_visit_on) VALUES ('F-1', :r, '2026-10-30 10:00+09', 't', 'met', '2026-11-20')"""),
        {"r": picked[0]},
    )
    for rid, since in ((picked[1], "2026-10-20"), (picked[2], "2026-11-05")):
        db.execute(
            text("UPDATE residents SET unreachable_since = :s WHERE id = :r"),
            {"s": since, "r": rid},
        )
    whole = load_features(db, Scope.everything(), as_of=AS_OF, previous_run_id=run)
    assert whole.context["previous_tier"].notna().all()
    context = whole.context.set_index("db_id")
    assert context.loc[picked[0], "planned_on"] == pd.Timestamp("2026-11-20")
    assert context.loc[picked[1], "unreachable_since"] == pd.Timestamp("2026-10-20")
    assert pd.isna(context.loc[picked[2], "unreachable_since"])  # marked after AS_OF
    # rows in database id order whatever order PostgreSQL returns them in (score runs'
    # input digests rely on it)
    assert whole.context["db_id"].is_monotonic_increasing
    # updated rows get new places in the heap: a sequential scan now returns another order
    db.execute(text("UPDATE residents SET birth_year = birth_year WHERE id % 2 = 0"))
    again = load_features(db, Scope.everything(), as_of=AS_OF, previous_run_id=run)
    assert again.features.equals(whole.features)
    part = load_features(
        db, Scope.everything(), as_of=AS_OF, previous_run_id=run, resident_db_ids=picked
    )
    assert len(part.features) == len(set(picked))
    pd.testing.assert_frame_equal(part.features, whole.features.loc[part.features.index])
    pd.testing.assert_frame_equal(part.context, whole.context.loc[part.context.index])
    # the caller's scope still applies
    assert load_features(
        db, Scope.of_areas(set()), as_of=AS_OF, resident_db_ids=picked
    ).features.empty


def test_no_visits_at_all_counts_from_registration(tiny):
    """With not one visit recorded, recency is counted from registration (and nothing fails)."""
    tiny.execute(text("DELETE FROM visits"))
    table = load_features(tiny, Scope.everything(), as_of=AS_OF)
    assert table.features.loc["C", "days_since_met_visit"] == 304
    assert table.features.loc["A", "days_since_last_contact"] == (AS_OF - dt.date(2010, 1, 1)).days
    assert table.context["crisis_label"].isna().all()
