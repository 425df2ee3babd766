"""Block mode of the demo generator (issue 15 point 4) and the chunked load, at a tiny scale.

3,000 Seoul residents in blocks of at most 1,000: the same code path as 10,000,000 in blocks
of 1,000,000 (geo.demo.blocks), small enough for the suite.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from geo.demo import DemoError, generate_demo
from geo.demo.blocks import plan_blocks, shift_ids, unique_rrns
from geo.demo.identity import rrn_check_digit
from geo.demo.population import SEODAEMUN_SGG_CD, apportion, load_region_targets
from geo.demo.tables import LazyColumn
from geo.demo_load import load_demo_files
from geo.importers import ImportValidationError
from tests.conftest import TEST_RRN_KEY, count

AS_OF = dt.date(2026, 11, 1)
SCALE, BLOCK = 3000, 1000
ID_FILES = {
    "residents.csv": "resident_id",
    "crisis_signals.csv": "signal_id",
    "visits.csv": "visit_id",
    "needs.csv": "need_id",
    "support.csv": "support_id",
    "ground_truth.csv": "resident_id",
}


@pytest.fixture(scope="module")
def block_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("blocks")
    summary = generate_demo(
        out, seed=5, scale=SCALE, region="seoul", as_of=AS_OF, block_residents=BLOCK
    )
    return out, summary


def _csv(directory, name) -> pd.DataFrame:
    return pd.read_csv(directory / name, dtype=str, keep_default_na=False)


def test_blocks_are_whole_dongs_within_the_limit_seodaemun_first():
    targets = load_region_targets("seoul")
    per_dong = apportion(SCALE, targets.dongs["population"].to_numpy())
    blocks = plan_blocks(targets.dongs, per_dong, BLOCK)
    assert len(blocks) >= 3
    assert all(per_dong[b].sum() <= BLOCK for b in blocks)
    every = np.concatenate(blocks)
    assert sorted(every) == sorted(np.flatnonzero(per_dong > 0))  # each dong once
    in_gu = np.flatnonzero((targets.dongs["sgg_cd"] == SEODAEMUN_SGG_CD).to_numpy())
    assert set(in_gu) <= set(blocks[0])
    with pytest.raises(ValueError, match="block_residents: dong"):
        plan_blocks(targets.dongs, per_dong, int(per_dong.max()) - 1)


def test_block_files_are_valid_and_ids_unique(block_dir):
    out, summary = block_dir
    manifest = summary.manifest.read_text(encoding="utf-8")
    assert '"blocks"' in manifest
    assert summary.counts["residents"] == SCALE
    for name, column in ID_FILES.items():
        frame = _csv(out, name)
        assert list(frame.columns).count(column) == 1, name  # one header, at the top
        assert frame[column].is_unique, name
        assert (frame[column] != column).all(), name  # no header repeated inside
    residents = _csv(out, "residents.csv")
    assert len(residents) == SCALE
    assert residents["resident_id"].tolist() == [f"R-{i:07d}" for i in range(1, SCALE + 1)]
    rrn = residents["rrn"][residents["rrn"] != ""]
    assert rrn.is_unique
    digits = np.array([[int(c) for c in r.replace("-", "")] for r in rrn])
    assert (rrn_check_digit(digits[:, :12]) != digits[:, 12]).all()  # never a valid number
    people = set(residents["resident_id"])
    households = set(residents["household_id"])
    for name in ("crisis_signals.csv", "visits.csv", "needs.csv", "support.csv", "consents.csv"):
        ids = _csv(out, name)["resident_id"]
        assert set(ids[ids != ""]) <= people, name
    signals = _csv(out, "crisis_signals.csv")["household_id"]
    assert set(signals[signals != ""]) <= households
    needs = set(_csv(out, "needs.csv")["need_id"])
    support = _csv(out, "support.csv")
    assert set(support["need_id"][support["need_id"] != ""]) <= needs
    truth = _csv(out, "support_truth.csv")
    records = {i for cell in truth["record_ids"] if cell for i in cell.split(";")}
    assert records <= set(support["support_id"])
    assert {i for cell in truth["resident_ids"] for i in cell.split(";") if i} <= people
    # the providers and teams are the region's, once
    assert _csv(out, "providers.csv")["provider_id"].is_unique
    assert len(_csv(out, "teams.csv")) == 14
    assert _csv(out, "donors.csv")["donor_id"].is_unique


def test_block_mode_is_reproducible(block_dir, tmp_path):
    out, _ = block_dir
    generate_demo(tmp_path, seed=5, scale=SCALE, region="seoul", as_of=AS_OF, block_residents=BLOCK)
    for name in ("residents.csv", "visits.csv", "support_truth.csv", "manifest.json"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_block_size_must_be_a_positive_integer(tmp_path):
    with pytest.raises(DemoError, match="block_residents"):
        generate_demo(tmp_path, scale=10, block_residents=0)
    with pytest.raises(DemoError, match="scale must be between 1 and 10,000,000"):
        generate_demo(tmp_path, scale=10_000_001)


def test_ids_shift_past_earlier_blocks():
    offsets = {"R": 1000, "H": 10, "SG": 0, "V": 9_999_999, "N": 5, "SP": 7}
    assert shift_ids(np.array(["R-0000001", "", "R-0000999"]), offsets).tolist() == [
        "R-0001001",
        "",
        "R-0001999",
    ]
    lazy = LazyColumn(2, lambda a, b: np.array(["V-0000001", "V-0000002"])[a:b])
    assert shift_ids(lazy, offsets)[0:2].tolist() == ["V-10000000", "V-10000001"]
    assert shift_ids(np.array(["SP-0000001;SP-0000002", "N-0000003"], dtype=object), offsets)[
        :
    ].tolist() == ["SP-0000008;SP-0000009", "N-0000008"]
    names = np.array(["김이음", "R&D"], dtype=object)
    assert shift_ids(names, offsets) is names


def test_registration_numbers_of_earlier_blocks_are_redrawn():
    used = np.array([5403301343424])
    out, now_used = unique_rrns(
        np.array(["540330-1343424", "", "990101-2000001"]), used, np.random.default_rng(0)
    )
    assert out[0] != "540330-1343424" and out[0].startswith("540330-1")  # same birth and sex
    assert out[1] == "" and out[2] == "990101-2000001"
    digits = np.array([int(c) for c in out[0].replace("-", "")])
    assert rrn_check_digit(digits[None, :12])[0] != digits[12]
    assert len(now_used) == 3


@pytest.mark.db
def test_block_demo_loads_in_chunks(db, block_dir):
    out, summary = block_dir
    results = load_demo_files(db, out, rrn_key=TEST_RRN_KEY, progress=False, chunk_rows=1000)
    by_kind = {r.kind: r for r in results}
    assert by_kind["residents"].rows == SCALE == count(db, "residents")
    assert by_kind["visits"].inserted == summary.counts["visits"] == count(db, "visits")
    assert count(db, "households") == _csv(out, "residents.csv")["household_id"].nunique()
    assert count(db, "needs") == summary.counts["needs"]
    assert count(db, "support_records") == summary.counts["support"]
    again = load_demo_files(db, out, rrn_key=TEST_RRN_KEY, progress=False, chunk_rows=1000)
    assert [(r.inserted, r.updated) for r in again] == [(0, 0)] * len(again)


@pytest.mark.db
def test_a_bad_row_in_a_later_chunk_names_its_row_in_the_file(db, block_dir, tmp_path):
    out, _ = block_dir
    for path in out.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    lines = (tmp_path / "visits.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[2500].split(",")
    cells[1] = "R-9999999"  # a resident nobody has
    lines[2500] = ",".join(cells)
    (tmp_path / "visits.csv").write_text("".join(lines), encoding="utf-8")
    savepoint = db.begin_nested()
    with pytest.raises(ImportValidationError) as caught:
        load_demo_files(db, tmp_path, rrn_key=TEST_RRN_KEY, progress=False, chunk_rows=1000)
    savepoint.rollback()
    assert [p.row for p in caught.value.problems] == [2501]  # line 2501 of the file
    assert "visits.csv" in str(caught.value)
    assert db.execute(text("SELECT count(*) FROM visits")).scalar() == 0


@pytest.mark.db
def test_a_file_shorter_than_its_manifest_is_refused(db, block_dir, tmp_path):
    out, _ = block_dir
    for path in out.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    lines = (tmp_path / "needs.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "needs.csv").write_text("".join(lines[:-1]), encoding="utf-8")
    savepoint = db.begin_nested()
    with pytest.raises(ImportValidationError, match="manifest counts"):
        load_demo_files(db, tmp_path, rrn_key=TEST_RRN_KEY, progress=False, chunk_rows=100)
    savepoint.rollback()
