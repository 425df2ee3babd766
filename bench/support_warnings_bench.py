"""Benchmark: the shared support warnings' precision and recall, and the time to compute all.

Against a loaded demo (the generator's hidden truth file ``support_truth.csv`` beside its
``ground_truth.csv``; docs/support_warnings.md, "Measuring")::

    VISITMAP_DATABASE_URL=... .venv/bin/python bench/support_warnings_bench.py \\
        --demo-dir var/demo --today 2026-11-01

runs :func:`geo.support_warnings.compute_all` on that database (rolled back unless
``--store``), times its steps, and prints per kind the planted (truth) count, the warnings
found, the matches, precision and recall. Matching: duplicates and near-duplicates match a
truth row of the same kind when their record ids overlap (the key, the sorted record ids, is
also compared exactly and reported); open needs and due-soon needs by need id; an unserved
crisis when the warning's person is one of the truth row's resident ids; sponsorships by
sponsorship id; stock by ``centre|minor|item|expires_on``.

The time of the rules alone at city scale, without a database::

    .venv/bin/python bench/support_warnings_bench.py --synthetic 569010

builds a synthetic frame set (see :func:`synthetic_frames`: 1,000,000 residents, 569,010
support records, needs, signals, tiers, visits, sponsorships, stock, seed 0) and times the
linkage and :func:`sharing.rules.all_warnings` on it.

    .venv/bin/python bench/support_warnings_bench.py --tiny

scores a small hand-made scenario (:func:`tiny_scenario`, one of each kind planted, written to
a temporary ``support_truth.csv`` in the demo's format and read back) and times a synthetic
set of 2,000 records, without a database, so that tests/bench/test_benches.py runs it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sharing import rules
from sharing.config import load_warning_config
from sharing.linkage import link_residents, person_of
from visitmap.vocab import SUPPORT_MINOR, WARNING_KINDS

#: The columns of the demo's truth file (geo/demo; docs/demo_data.md).
TRUTH_COLUMNS = (
    "kind",
    "key",
    "resident_ids",
    "record_ids",
    "need_id",
    "sponsorship_id",
    "centre",
    "minor_category",
    "item",
    "expires_on",
    "planted_on",
)
CITY_RECORDS = 569_010
CITY_RESIDENTS = 1_000_000
TINY_SYNTHETIC = 2_000
TINY_TODAY = dt.date(2026, 6, 30)


# ------------------------------------------------------------------------------ truth


def read_truth(path: Path) -> pd.DataFrame:
    """Read ``support_truth.csv``; every column as text ('' when empty)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in TRUTH_COLUMNS if c not in frame]
    if missing:
        raise SystemExit(f"{path}: missing column(s) {', '.join(missing)}")
    unknown = sorted(set(frame["kind"]) - set(WARNING_KINDS))
    if unknown:
        raise SystemExit(f"{path}: unknown kind(s) {', '.join(unknown)} (column kind)")
    return frame


def _split(value: str) -> frozenset[str]:
    return frozenset(v for v in value.split(";") if v)


def score(found: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per kind: truth, found, matched (of each side), exact keys, precision, recall.

    ``found`` has ``kind``, ``records`` (set of external record ids), ``need``,
    ``resident`` (external id of the person), ``sponsorship``, ``stock_key``.
    """
    rows = []
    for kind in WARNING_KINDS:
        mine = found[found["kind"] == kind]
        theirs = truth[truth["kind"] == kind]
        if kind in ("duplicate", "near_duplicate"):
            theirs_sets = [_split(v) for v in theirs["record_ids"]]
            hit_found = [any(r & t for t in theirs_sets) for r in mine["records"]]
            hit_truth = [any(r & t for r in mine["records"]) for t in theirs_sets]
            exact = len(
                {";".join(sorted(r)) for r in mine["records"]}
                & {";".join(sorted(t)) for t in theirs_sets}
            )
        else:
            if kind in ("open_need", "need_due_soon"):
                mine_keys, their_keys = list(mine["need"]), [{v} for v in theirs["need_id"]]
            elif kind == "unserved_crisis":
                mine_keys = list(mine["resident"])
                their_keys = [_split(v) for v in theirs["resident_ids"]]
            elif kind.startswith("sponsorship"):
                mine_keys, their_keys = (
                    list(mine["sponsorship"]),
                    [{v} for v in theirs["sponsorship_id"]],
                )
            else:
                mine_keys, their_keys = list(mine["stock_key"]), [{v} for v in theirs["key"]]
            everything = set().union(*their_keys) if their_keys else set()
            hit_found = [k in everything for k in mine_keys]
            hit_truth = [bool(t & set(mine_keys)) for t in their_keys]
            exact = sum(hit_truth)
        n_found, n_truth = len(mine), len(theirs)
        precision = sum(hit_found) / n_found if n_found else (1.0 if n_truth == 0 else 0.0)
        recall = sum(hit_truth) / n_truth if n_truth else (1.0 if n_found == 0 else float("nan"))
        rows.append(
            (kind, n_truth, n_found, sum(hit_found), sum(hit_truth), exact, precision, recall)
        )
    return pd.DataFrame(
        rows,
        columns=["kind", "truth", "found", "found_ok", "truth_hit", "exact", "precision", "recall"],
    )


def print_scores(table: pd.DataFrame) -> None:
    """Print the per-kind table (one line per kind)."""
    print(
        f"{'kind':<20}{'truth':>7}{'found':>7}{'matched':>9}{'exact':>7}{'precision':>11}{'recall':>8}"
    )
    for r in table.itertuples(index=False):
        print(
            f"{r.kind:<20}{r.truth:>7}{r.found:>7}{r.truth_hit:>9}{r.exact:>7}"
            f"{r.precision:>11.3f}{r.recall:>8.3f}"
        )


def external_keys(warnings: pd.DataFrame, names: dict[str, dict[int, str]]) -> pd.DataFrame:
    """The warnings' external keys for :func:`score`, from database ids via ``names``."""

    def name(table: str, value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        return names[table].get(int(value), "")

    return pd.DataFrame(
        {
            "kind": warnings["kind"],
            "records": [
                frozenset(name("records", r) for r in ids or []) for ids in warnings["record_ids"]
            ],
            "need": [name("needs", v) for v in warnings["need_id"]],
            "resident": [name("residents", v) for v in warnings["resident_id"]],
            "sponsorship": [name("sponsorships", v) for v in warnings["sponsorship_id"]],
            "stock_key": [
                "|".join(
                    (
                        name("providers", (p or [None])[0]),
                        str(m),
                        d.get("item", "") if isinstance(d, dict) else "",
                        d.get("expires_on", "") if isinstance(d, dict) else "",
                    )
                )
                if str(k).startswith("stock")
                else ""
                for k, p, m, d in zip(
                    warnings["kind"],
                    warnings["provider_ids"],
                    warnings["minor_category"],
                    warnings["detail"],
                    strict=True,
                )
            ],
        }
    )


# ------------------------------------------------------------------------------ frames


def _empty(**columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def tiny_scenario(today: dt.date):
    """Return (frames, names, truth rows, residents for linkage): one of each kind planted.

    Residents 1 and 2 are one person (same name, birth year, address; only 1 has an HMAC):
    rice from providers 10 (as 1) and 11 (as 2) 5 days apart is the duplicate across ids.
    Resident 3: holiday parcels from two providers in one season. Resident 4: side dishes
    20 days apart (near-duplicate). Resident 5: a need 40 days old (open) and one 25 days old
    (due soon). Resident 6: high tier, a crisis signal 30 days ago, nothing since. Household
    107: a sponsorship ending in 10 days (no successor) and one with April unpaid. Centre 20:
    a lot expiring in 10 days and one expired yesterday. Resident 7 gets weekly rice from one
    provider and resident 8 a need met by a later health record: no warning for either.
    """
    now = pd.Timestamp(today)
    ago = lambda days: now - pd.Timedelta(days=days)  # noqa: E731
    residents = pd.DataFrame(
        {
            "resident_id": range(1, 9),
            "household_id": [101, 102, 103, 104, 105, 106, 107, 108],
            "area_id": [1] * 8,
            "name": [
                "김순자",
                "김순자",
                "박영수",
                "이말순",
                "최옥자",
                "정만수",
                "강영희",
                "윤철수",
            ],
            "birth_year": [1941, 1941, 1950, 1945, 1939, 1948, 1952, 1955],
            "address": ["연희로 12 101호", "연희로 12 101호"]
            + [f"통일로 {i}" for i in range(3, 9)],
            "rrn_hmac": [b"\x01" * 32] + [None] * 7,
        }
    )
    records = [
        (1, 1, 10, "rice", "daily_living", ago(10), np.nan),
        (2, 2, 11, "rice", "daily_living", ago(5), np.nan),
        (3, 3, 10, "holiday_parcel", "daily_living", pd.Timestamp("2026-02-10"), np.nan),
        (4, 3, 12, "holiday_parcel", "daily_living", pd.Timestamp("2026-02-20"), np.nan),
        (5, 4, 10, "side_dishes", "daily_living", ago(40), np.nan),
        (6, 4, 11, "side_dishes", "daily_living", ago(20), np.nan),
        (9, 8, 12, "medical_costs", "health", ago(20), np.nan),
    ] + [(100 + w, 7, 10, "rice", "daily_living", ago(7 * w), np.nan) for w in range(10)]
    frames = {
        "residents": residents.assign(person_id=lambda f: f["resident_id"]),
        "records": pd.DataFrame(
            records,
            columns=[
                "record_id",
                "resident_id",
                "provider_id",
                "minor_category",
                "category",
                "provided_on",
                "need_id",
            ],
        ),
        "needs": pd.DataFrame(
            {
                "need_id": [1, 2, 3],
                "resident_id": [5, 5, 8],
                "category": ["health", "economic", "health"],
                "status": ["open", "in_progress", "open"],
                "identified_on": [ago(40), ago(25), ago(40)],
            }
        ),
        "crisis": pd.DataFrame({"resident_id": [6], "observed_on": [ago(30)]}),
        "tiers": pd.DataFrame({"resident_id": [6, 7], "tier": [2, 2]}),
        "visits": _empty(resident_id="int64", visited_on="datetime64[ns]", outcome=object),
        "sponsorships": pd.DataFrame(
            {
                "sponsorship_id": [1, 2],
                "household_id": [107, 107],
                "centre_id": [20, 20],
                "starts_on": [ago(200), pd.Timestamp("2026-03-01")],
                "ends_on": [now + pd.Timedelta(days=10), pd.Timestamp("2027-02-28")],
                "successor_id": [np.nan, np.nan],
            }
        ),
        "payments": pd.DataFrame(
            {
                "sponsorship_id": [1] * 6 + [2] * 2,
                "month": pd.to_datetime(
                    [
                        "2026-01-01",
                        "2026-02-01",
                        "2026-03-01",
                        "2026-04-01",
                        "2026-05-01",
                        "2025-12-01",
                        "2026-03-01",
                        "2026-05-01",
                    ]
                ),
            }
        ),
        "households": pd.DataFrame({"household_id": [107], "area_id": [1]}),
        "stock": pd.DataFrame(
            {
                "centre_id": [20, 20, 20],
                "centre_area_id": [1, 1, 1],
                "kind": ["received", "received", "issued"],
                "minor_category": ["rice"] * 3,
                "item": ["쌀 10kg", "라면", "라면"],
                "unit": ["포", "박스", "박스"],
                "quantity": [5.0, 4.0, 1.0],
                "expires_on": [now + pd.Timedelta(days=10), ago(1), ago(1)],
            }
        ),
    }
    frames["sponsorships"].loc[0, "starts_on"] = pd.Timestamp("2025-12-01")
    names = {
        "residents": {i: f"R-T-{i}" for i in range(1, 9)},
        "records": {r[0]: f"S-T-{r[0]}" for r in records},
        "needs": {1: "N-T-1", 2: "N-T-2", 3: "N-T-3"},
        "sponsorships": {1: "SP-T-1", 2: "SP-T-2"},
        "providers": {10: "P-A", 11: "P-B", 12: "P-C", 20: "P-CC-1"},
    }
    expiring, expired = (now + pd.Timedelta(days=10)).date(), ago(1).date()
    truth = [
        ("duplicate", "S-T-1;S-T-2", "R-T-1;R-T-2", "S-T-1;S-T-2", "", "", "", "rice", "", ""),
        ("duplicate", "S-T-3;S-T-4", "R-T-3", "S-T-3;S-T-4", "", "", "", "holiday_parcel", "", ""),
        (
            "near_duplicate",
            "S-T-5;S-T-6",
            "R-T-4",
            "S-T-5;S-T-6",
            "",
            "",
            "",
            "side_dishes",
            "",
            "",
        ),
        ("open_need", "N-T-1", "R-T-5", "", "N-T-1", "", "", "", "", ""),
        ("need_due_soon", "N-T-2", "R-T-5", "", "N-T-2", "", "", "", "", ""),
        ("unserved_crisis", "R-T-6", "R-T-6", "", "", "", "", "", "", ""),
        ("sponsorship_ending", "SP-T-1", "", "", "", "SP-T-1", "P-CC-1", "", "", ""),
        ("sponsorship_unpaid", "SP-T-2", "", "", "", "SP-T-2", "P-CC-1", "", "", ""),
        (
            "stock_expiring",
            f"P-CC-1|rice|쌀 10kg|{expiring}",
            "",
            "",
            "",
            "",
            "P-CC-1",
            "rice",
            "쌀 10kg",
            str(expiring),
        ),
        (
            "stock_expired",
            f"P-CC-1|rice|라면|{expired}",
            "",
            "",
            "",
            "",
            "P-CC-1",
            "rice",
            "라면",
            str(expired),
        ),
    ]
    truth = [(*row, str(today)) for row in truth]
    return frames, names, truth, residents


def synthetic_frames(n_records: int, n_residents: int, today: dt.date, seed: int = 0):
    """Return (frames, residents for linkage) of a synthetic district, for timing only.

    ``n_residents`` residents in households of 1-3 over 425 dongs, with names drawn from 250
    surnames x 400 given names and birth years 1930-2010 (so many share a name and year, and
    about 1 in 1,000 rows repeats another at the same address, without an HMAC), 60 % with an
    HMAC; ``n_records`` support records given to 8 % of residents over the 24 months before
    ``today``: each supported resident has 1-4 minor categories, each from one provider
    (of 40) at a weekly to quarterly period, and 5 % of (resident, minor) pairs get a second
    provider's record at a random day; needs for 7 % of residents, crisis signals for 10 %,
    high tier for 5 %, met visits for 30 %, 100 sponsorships with monthly payments (a few
    missing) and 6,000 stock movements over 25 centres.
    """
    rng = np.random.default_rng(seed)
    now = pd.Timestamp(today)
    day0 = now - pd.Timedelta(days=730)
    ids = np.arange(1, n_residents + 1)
    household = (ids + 2) // 2
    base_names = rng.integers(0, 100_000, n_residents)
    year = rng.integers(1930, 2011, n_residents)
    addresses = np.char.add("주소 ", household.astype(str))
    copy = rng.random(n_residents) < 0.001
    source = np.maximum(ids - 7, 1)
    base_names = np.where(copy, base_names[source - 1], base_names)
    year = np.where(copy, year[source - 1], year)
    addresses = np.where(copy, addresses[source - 1], addresses)
    hmac = np.where((rng.random(n_residents) < 0.6) & ~copy, ids, 0)
    link_frame = pd.DataFrame(
        {
            "resident_id": ids,
            "name": np.char.add((base_names // 400).astype(str), (base_names % 400).astype(str)),
            "birth_year": year,
            "address": addresses,
            "rrn_hmac": pd.Series(hmac).map(lambda v: f"{v:064x}" if v else None),
        }
    )
    residents = pd.DataFrame(
        {"resident_id": ids, "person_id": ids, "household_id": household, "area_id": ids % 425 + 1}
    )
    minors = np.array(list(SUPPORT_MINOR))
    domains = np.array([SUPPORT_MINOR[m][3] for m in minors])
    supported = rng.choice(ids, size=int(n_residents * 0.08), replace=False)
    per = rng.integers(1, 5, supported.size)
    pair_resident = np.repeat(supported, per)
    pair_minor = rng.integers(0, minors.size, pair_resident.size)
    period = rng.choice([7, 14, 30, 91], pair_resident.size)
    provider = rng.integers(1, 41, pair_resident.size)
    counts = np.maximum(1, (730 // period) * n_records // max(1, int((730 // period).sum())))
    counts = np.minimum(counts, 730 // period)
    # trim or extend the last pairs to exactly n_records
    total = np.cumsum(counts)
    keep = total <= n_records
    counts, pair_resident, pair_minor, period, provider = (
        a[keep] for a in (counts, pair_resident, pair_minor, period, provider)
    )
    rows = np.repeat(np.arange(counts.size), counts)
    step = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    offset = rng.integers(0, 7, counts.size)
    days = offset[rows] + step * period[rows]
    record_provider = provider[rows].copy()
    second = rng.random(rows.size) < 0.05 / np.maximum(counts[rows], 1)
    record_provider[second] = record_provider[second] % 40 + 1
    short = n_records - rows.size
    if short > 0:  # fill with one-off records
        extra = rng.integers(0, counts.size, short)
        rows = np.concatenate([rows, extra])
        days = np.concatenate([days, rng.integers(0, 730, short)])
        record_provider = np.concatenate([record_provider, provider[extra]])
    records = pd.DataFrame(
        {
            "record_id": np.arange(1, rows.size + 1),
            "resident_id": pair_resident[rows],
            "provider_id": record_provider,
            "minor_category": minors[pair_minor[rows]],
            "category": domains[pair_minor[rows]],
            "provided_on": day0 + pd.to_timedelta(days, unit="D"),
            "need_id": np.nan,
        }
    )
    n_needs = int(n_residents * 0.07)
    needs = pd.DataFrame(
        {
            "need_id": np.arange(1, n_needs + 1),
            "resident_id": rng.choice(ids, n_needs),
            "category": rng.choice(np.unique(domains), n_needs),
            "status": rng.choice(["open", "in_progress", "met", "closed"], n_needs),
            "identified_on": now - pd.to_timedelta(rng.integers(0, 400, n_needs), unit="D"),
        }
    )
    n_signals = int(n_residents * 0.10)
    crisis = pd.DataFrame(
        {
            "resident_id": rng.choice(ids, n_signals),
            "observed_on": now - pd.to_timedelta(rng.integers(0, 184, n_signals), unit="D"),
        }
    )
    tiers = pd.DataFrame(
        {"resident_id": rng.choice(ids, int(n_residents * 0.05), replace=False), "tier": 2}
    )
    n_visits = int(n_residents * 0.30)
    visits = pd.DataFrame(
        {
            "resident_id": rng.choice(ids, n_visits),
            "visited_on": now - pd.to_timedelta(rng.integers(0, 220, n_visits), unit="D"),
            "outcome": rng.choice(["met", "crisis_confirmed"], n_visits),
        }
    )
    spons = pd.DataFrame(
        {
            "sponsorship_id": np.arange(1, 101),
            "household_id": rng.choice(np.unique(household), 100, replace=False),
            "centre_id": rng.integers(1, 26, 100),
            "starts_on": now - pd.to_timedelta(rng.integers(30, 360, 100), unit="D"),
            "ends_on": now + pd.to_timedelta(rng.integers(0, 360, 100), unit="D"),
            "successor_id": np.nan,
        }
    )
    months = pd.date_range(now - pd.Timedelta(days=400), now, freq="MS")
    payments = pd.DataFrame(
        [(s, m) for s in spons["sponsorship_id"] for m in months if rng.random() > 0.02],
        columns=["sponsorship_id", "month"],
    )
    households = pd.DataFrame({"household_id": spons["household_id"], "area_id": 1})
    n_moves = 6_000
    stock = pd.DataFrame(
        {
            "centre_id": rng.integers(1, 26, n_moves),
            "centre_area_id": 1,
            "kind": rng.choice(
                ["received", "issued", "transferred_in", "transferred_out", "expired"],
                n_moves,
                p=[0.4, 0.4, 0.05, 0.05, 0.1],
            ),
            "minor_category": rng.choice(minors[:8], n_moves),
            "item": rng.choice(["쌀", "라면", "김치", "휴지"], n_moves),
            "unit": "개",
            "quantity": rng.integers(1, 10, n_moves).astype(float),
            "expires_on": now + pd.to_timedelta(rng.integers(-30, 120, n_moves), unit="D"),
        }
    )
    frames = {
        "residents": residents,
        "records": records,
        "needs": needs,
        "crisis": crisis,
        "tiers": tiers,
        "visits": visits,
        "sponsorships": spons,
        "payments": payments,
        "households": households,
        "stock": stock,
    }
    return frames, link_frame


def time_synthetic(n_records: int, n_residents: int, today: dt.date) -> None:
    """Time the linkage and the rules on a synthetic frame set; print the figures."""
    config = load_warning_config()
    clock = time.perf_counter()
    frames, link_frame = synthetic_frames(n_records, n_residents, today)
    built = time.perf_counter() - clock
    clock = time.perf_counter()
    links = link_residents(link_frame)
    frames["residents"]["person_id"] = person_of(frames["residents"]["resident_id"], links)
    linked = time.perf_counter() - clock
    clock = time.perf_counter()
    warnings = rules.all_warnings(frames, config, today)
    ruled = time.perf_counter() - clock
    print(
        f"synthetic: {len(frames['records']):,} support records, {n_residents:,} residents "
        f"(built in {built:.1f} s)"
    )
    print(f"  linkage ({len(links):,} rows linked)  {linked:.2f} s")
    print(f"  rules ({len(warnings):,} warnings)  {ruled:.2f} s")
    print(f"compute all (linkage + rules): {linked + ruled:.2f} s")
    print(f"  load average {os.getloadavg()[0]:.1f}")


# ------------------------------------------------------------------------------ modes


def run_tiny() -> None:
    """Score the hand-made scenario through a truth file, and time a small synthetic set."""
    frames, names, truth_rows, link_frame = tiny_scenario(TINY_TODAY)
    links = link_residents(link_frame)
    frames["residents"]["person_id"] = person_of(frames["residents"]["resident_id"], links)
    warnings = rules.all_warnings(frames, load_warning_config(), TINY_TODAY)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "support_truth.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(TRUTH_COLUMNS)
            writer.writerows(truth_rows)
        truth = read_truth(path)
    print(f"tiny scenario: {len(truth)} planted, {len(warnings)} warnings")
    print_scores(score(external_keys(warnings, names), truth))
    time_synthetic(TINY_SYNTHETIC, TINY_SYNTHETIC * 2, TINY_TODAY)


def run_database(demo_dir: Path, today: dt.date, store: bool) -> None:
    """Compute all on the database of the settings and score it against the demo's truth."""
    from sqlalchemy import text

    from geo.db import make_engine
    from geo.settings import load_settings
    from geo.support_warnings import HIGH_ROWS_SQL, compute_all

    truth_path = demo_dir / "support_truth.csv"
    truth = read_truth(truth_path) if truth_path.exists() else None
    engine = make_engine(load_settings().database_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        clock, cpu = time.perf_counter(), time.process_time()
        done = compute_all(session, today)
        took, cpu = time.perf_counter() - clock, time.process_time() - cpu
        count = session.execute(text("SELECT count(*) FROM support_records")).scalar_one()
        warnings = pd.DataFrame(
            session.execute(
                text("""SELECT kind, resident_id, record_ids, need_id, sponsorship_id,
                               provider_ids, minor_category, detail FROM support_warnings""")
            ).all(),
            columns=[
                "kind",
                "resident_id",
                "record_ids",
                "need_id",
                "sponsorship_id",
                "provider_ids",
                "minor_category",
                "detail",
            ],
        )
        names = {
            table: dict(session.execute(text(f"SELECT id, external_id FROM {table}")).all())
            for table in ("residents", "needs", "sponsorships", "providers")
        }
        names["records"] = dict(
            session.execute(text("SELECT id, external_id FROM support_records")).all()
        )
        # the generator cannot know tiers: its unserved_crisis truth lists every resident with
        # a recent signal and no support or met visit since; the rule asks for the published
        # run's high tier too, so the truth is read within that tier
        high = {
            names["residents"][i]
            for (i,) in session.execute(text(HIGH_ROWS_SQL)).all()
            if i in names["residents"]
        }
        if not store:
            session.rollback()
    engine.dispose()
    if truth is not None:
        crisis = truth["kind"] == "unserved_crisis"
        in_high = truth["resident_ids"].map(lambda v: bool(_split(v) & high))
        dropped = int((crisis & ~in_high).sum())
        truth = truth[~crisis | in_high]
        print(f"unserved_crisis truth read within the published high tier ({dropped} outside it)")
    print(f"database: {count:,} support records; today {today}; {done.total:,} warnings")
    for step, seconds in done.seconds.items():
        print(f"  {step:<8} {seconds:6.2f} s")
    print(f"compute all (link + load + rules + store): {took:.2f} s")
    print(f"  of which this process's CPU {cpu:.2f} s; load average {os.getloadavg()[0]:.1f}")
    print(", ".join(f"{n} {k}" for k, n in done.counts.items() if n))
    if truth is None:
        print(f"no {truth_path}: precision and recall not measured (a demo before issue 13)")
        return
    print_scores(score(external_keys(warnings, names), truth))


def main(argv=None) -> int:
    """Parse the options and run one mode."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="hand-made scenario, no database")
    parser.add_argument("--synthetic", type=int, metavar="RECORDS", help="time the rules only")
    parser.add_argument("--residents", type=int, default=CITY_RESIDENTS)
    parser.add_argument("--demo-dir", type=Path, help="the demo's folder (support_truth.csv)")
    parser.add_argument("--today", type=dt.date.fromisoformat, help="the day (YYYY-MM-DD)")
    parser.add_argument("--store", action="store_true", help="keep the computed warnings")
    parser.add_argument("--database", help="ignored (the suite's scratch name)")
    args = parser.parse_args(argv)
    if args.tiny:
        run_tiny()
    elif args.synthetic:
        time_synthetic(args.synthetic, args.residents, args.today or dt.date(2026, 11, 1))
    elif args.demo_dir:
        if args.today is None:
            parser.error("--today is needed with --demo-dir (the demo's as_of)")
        run_database(args.demo_dir, args.today, args.store)
    else:
        parser.error("give --tiny, --synthetic RECORDS or --demo-dir DIR")
    return 0


if __name__ == "__main__":
    sys.exit(main())
