"""The demo runs the real import path: generated files load, match, and reload as a no-op."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from tests.conftest import TEST_RRN_KEY, count

pytestmark = pytest.mark.db

AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out, seed=3, scale=3000, region="seodaemun", as_of=AS_OF)
    return out


def test_demo_loads_every_file_and_reloads_as_noop(db, demo_dir):
    first = load_demo_files(db, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    by_kind = {r.kind: r for r in first}
    residents = pd.read_csv(demo_dir / "residents.csv", dtype=str)
    assert by_kind["residents"].inserted == len(residents) == count(db, "residents")
    assert count(db, "households") == residents["household_id"].nunique()
    for kind, table in [
        ("crisis-signals", "crisis_signals"),
        ("visits", "visits"),
        ("needs", "needs"),
        ("support", "support_records"),
        ("providers", "providers"),
        ("teams", "visit_teams"),
        ("donors", "donors"),
        ("donations", "donations"),
        ("sponsorships", "sponsorships"),
        ("sponsorship-payments", "sponsorship_payments"),
        ("consents", "sharing_consents"),
    ]:
        rows = len(pd.read_csv(demo_dir / _file(demo_dir, kind)))
        assert by_kind[kind].inserted == rows == count(db, table), kind

    moves = len(pd.read_csv(demo_dir / "stock_movements.csv"))
    assert count(db, "stock_movements") == moves + count(db, "donations")  # + each received
    assert count(db, "consent_events") == count(db, "sharing_consents")

    again = load_demo_files(db, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    assert [(r.inserted, r.updated) for r in again] == [(0, 0)] * len(again)


def test_points_land_in_the_dong_the_generator_meant(db, demo_dir):
    """PostGIS point-in-polygon puts every household in the dong it was generated for."""
    load_demo_files(db, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    truth = pd.read_csv(demo_dir / "ground_truth.csv", dtype=str)
    if "adm_cd2" not in truth:
        pytest.fail("ground_truth.csv should carry each resident's generated adm_cd2")
    stored = dict(
        db.execute(
            text("""
        SELECT r.external_id, a.code FROM residents r
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id""")
        ).all()
    )
    meant = dict(zip(truth["resident_id"], truth["adm_cd2"], strict=True))
    assert stored == meant


def test_support_truth_names_stored_records(db, demo_dir):
    """The hidden truth's records, needs, sponsorships and residents are all in the database,
    and the person under two ids is stored twice, with one registration-number HMAC."""
    load_demo_files(db, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    truth = pd.read_csv(demo_dir / "support_truth.csv", dtype=str, keep_default_na=False)
    records = {i for cell in truth["record_ids"] if cell for i in cell.split(";")}
    stored = db.execute(
        text("SELECT count(*) FROM support_records WHERE external_id = ANY(:ids)"),
        {"ids": sorted(records)},
    ).scalar_one()
    assert stored == len(records) > 0
    needs = sorted(set(truth["need_id"]) - {""})
    assert db.execute(
        text("SELECT count(*) FROM needs WHERE external_id = ANY(:ids)"), {"ids": needs}
    ).scalar_one() == len(needs)
    two = truth.loc[truth["resident_ids"].str.contains(";"), "resident_ids"].iat[0].split(";")
    rows = db.execute(
        text("""SELECT name, birth_year, rrn_hmac IS NOT NULL FROM residents
                WHERE external_id = ANY(:ids) ORDER BY 3"""),
        {"ids": two},
    ).all()
    assert len(rows) == 2 and rows[0][:2] == rows[1][:2] and [r[2] for r in rows] == [False, True]


def test_ground_truth_is_not_imported(db, demo_dir):
    load_demo_files(db, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    columns = {
        r[0]
        for r in db.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'")
        )
    }
    assert not columns & {"in_crisis", "crisis_kind", "is_blsa"}


def _file(demo_dir, kind):
    import json

    return json.loads((demo_dir / "manifest.json").read_text())["import_order"][kind]
