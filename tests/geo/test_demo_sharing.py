"""The demo's shared support (issue 13): planted warnings and the hidden support_truth.csv.

The truth is checked against the files themselves: every id it names exists; the planted
duplicates are the only records of one person and minor category from two providers within
reach of each other (no accidental duplicate); the person under two ids; consents; stock
and sponsorships as planted. And the same seed gives the same files.
"""

from __future__ import annotations

import datetime
import filecmp
import math

import numpy as np
import pandas as pd
import pytest

from geo.demo.generate import FILE_NAMES, SUPPORT_TRUTH_FILE, generate_demo
from geo.demo.services import HOLIDAYS
from geo.demo.sharing import TRUTH_COLUMNS
from sharing.config import SEASON, load_warning_config

AS_OF = datetime.date(2026, 4, 1)
SEED = 5
SCALE = 8_000
NEW_FILES = ("donors", "donations", "stock-movements", "sponsorships", "sponsorship-payments",
             "consents")  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_sharing")
    return generate_demo(out, seed=SEED, scale=SCALE, region="seodaemun", as_of=AS_OF)


def _read(summary, name):
    return pd.read_csv(summary.out_dir / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def files(demo):
    out = {kind: _read(demo, FILE_NAMES[kind]) for kind in FILE_NAMES}
    out["truth"] = _read(demo, SUPPORT_TRUTH_FILE)
    return out


def test_truth_has_the_agreed_columns_and_every_kind(files):
    truth = files["truth"]
    assert tuple(truth.columns) == TRUTH_COLUMNS
    kinds = set(truth["kind"])
    assert {"duplicate", "near_duplicate", "open_need", "unserved_crisis", "sponsorship_ending",
            "sponsorship_unpaid", "stock_expiring", "stock_expired"} <= kinds  # fmt: skip
    assert not truth.duplicated(["kind", "key"]).any()


def test_every_truth_id_exists_in_the_files(files):
    truth = files["truth"]
    support_ids = set(files["support"]["support_id"])
    residents = set(files["residents"]["resident_id"])
    for cell in truth["record_ids"]:
        assert cell == "" or set(cell.split(";")) <= support_ids
    for kind, cell in zip(truth["kind"], truth["resident_ids"], strict=True):
        assert cell == "" if kind.startswith("stock_") else set(cell.split(";")) <= residents
    assert set(truth["need_id"]) - {""} <= set(files["needs"]["need_id"])
    assert set(truth["sponsorship_id"]) - {""} <= set(files["sponsorships"]["sponsorship_id"])
    duplicates = truth[truth["kind"].isin(["duplicate", "near_duplicate"])]
    assert (duplicates["key"] == duplicates["record_ids"]).all()
    keys = duplicates["record_ids"].str.split(";")
    assert all(k == sorted(k) and len(k) >= 2 for k in keys)


def _people(files) -> pd.Series:
    r = files["residents"]
    key = r["name"] + "|" + r["birth_year"] + "|" + r["address"]
    return pd.Series(key.to_numpy(), index=r["resident_id"].to_numpy())


def test_the_only_duplicates_are_the_planted_ones(files):
    """Independently of the generator: all cross-provider pairs of one person's minor category
    within the near-duplicate reach (or in one holiday season) are exactly the truth's."""
    config = load_warning_config()
    support = files["support"].assign(
        person=lambda f: _people(files).reindex(f["resident_id"]).to_numpy(),
        day=lambda f: pd.to_datetime(f["provided_on"]),
    )
    pairs = support.merge(support, on=["person", "minor_category"], suffixes=("", "_b"))
    pairs = pairs[(pairs["provider_id"] != pairs["provider_id_b"])
                  & (pairs["support_id"] < pairs["support_id_b"])]  # fmt: skip
    gap = (pairs["day"] - pairs["day_b"]).dt.days.abs()
    window = pairs["minor_category"].map(config.windows)
    seasonal = window == SEASON
    days = pd.to_numeric(window.where(~seasonal, 0))
    reach = np.ceil(days * config.near_factor)
    holidays = pd.to_datetime(HOLIDAYS.astype(str))

    def season(day):
        for h in holidays:
            if -config.season_before <= (day - h).days <= config.season_after:
                return h
        return None

    same_season = pd.Series(
        [season(a) is not None and season(a) == season(b)
         for a, b in zip(pairs["day"], pairs["day_b"], strict=True)], index=pairs.index,
    )  # fmt: skip
    close = (~seasonal & (gap <= reach)) | (seasonal & same_season)
    found = set(pairs.loc[close, "support_id"]) | set(pairs.loc[close, "support_id_b"])
    truth = files["truth"]
    planted = truth[truth["kind"].isin(["duplicate", "near_duplicate"])]
    expected = {i for cell in planted["record_ids"] for i in cell.split(";")}
    assert found == expected
    # near-duplicates lie outside the window, duplicates well inside it
    for kind, cell, minor in planted[["kind", "record_ids", "minor_category"]].itertuples(
        index=False
    ):
        dates = support.set_index("support_id").loc[cell.split(";"), "day"]
        span = (dates.max() - dates.min()).days
        if config.windows[minor] == SEASON:
            assert kind == "duplicate"
            continue
        w = config.window_days(minor)
        if kind == "duplicate":
            assert span <= w - 2
        else:
            assert w + 2 <= span <= math.floor(w * config.near_factor) - 1


def test_one_person_under_two_ids(files):
    truth = files["truth"]
    two = truth[truth["resident_ids"].str.contains(";")]
    assert len(two) == 1 and two["kind"].iat[0] == "duplicate"
    ids = two["resident_ids"].iat[0].split(";")
    r = files["residents"].set_index("resident_id").loc[ids]
    assert r["name"].nunique() == r["birth_year"].nunique() == r["address"].nunique() == 1
    assert sorted(r["rrn"] != "") == [False, True]  # only one has a registration number
    assert r["household_id"].nunique() == 2
    records = files["support"].set_index("support_id").loc[two["record_ids"].iat[0].split(";")]
    assert set(records["resident_id"]) == set(ids)
    assert records["provider_id"].nunique() == 2


def test_open_needs_have_no_support_either_way(files):
    needs = files["needs"].set_index("need_id")
    support = files["support"]
    truth = files["truth"]
    for kind in ("open_need", "need_due_soon"):
        rows = truth[truth["kind"] == kind]
        for need_id, resident in zip(rows["need_id"], rows["resident_ids"], strict=True):
            need = needs.loc[need_id]
            assert need["status"] in ("open", "in_progress")
            assert need["resident_id"] == resident
            assert need_id not in set(support["need_id"])
            same = support[(support["resident_id"] == resident)
                           & (support["category"] == need["category"])]  # fmt: skip
            assert (same["provided_on"] < need["identified_on"]).all()
    config = load_warning_config()
    age = (pd.Timestamp(AS_OF) - pd.to_datetime(needs["identified_on"])).dt.days
    unresolved = needs["status"].isin(["open", "in_progress"])
    red = config.omissions["open_need_days"]
    # old unresolved needs without any support are all in the truth
    unmet = set(needs.index[unresolved & (age > red)]) - set(support["need_id"])
    recorded = set(truth.loc[truth["kind"] == "open_need", "need_id"])
    assert recorded <= unmet
    assert len(recorded) >= 1


def test_unserved_crises_have_a_recent_signal_and_nothing_since(files):
    truth = files["truth"]
    rows = truth[truth["kind"] == "unserved_crisis"]
    assert len(rows) >= 2
    signals = files["crisis-signals"]
    visits = files["visits"]
    household = files["residents"].set_index("resident_id")["household_id"]
    for resident, day in zip(rows["resident_ids"], rows["planted_on"], strict=True):
        mine = signals[
            (
                (signals["resident_id"] == resident)
                | (signals["household_id"] == household[resident])
            )
            & (signals["observed_on"] == day)
        ]
        assert len(mine) >= 1
        assert (pd.Timestamp(AS_OF) - pd.Timestamp(day)).days < 182
        given = files["support"].loc[files["support"]["resident_id"] == resident, "provided_on"]
        assert (given < day).all()
        met = visits[(visits["resident_id"] == resident)
                     & visits["outcome"].isin(["met", "crisis_confirmed"])]  # fmt: skip
        assert (met["visited_at"].str[:10] < day).all()


def test_stock_truth_matches_the_balances(files):
    donations = files["donations"]
    moves = files["stock-movements"]
    received = (
        donations[donations["quantity"] != ""]
        .rename(columns={"received_on": "moved_on", "donation_id": "movement_id"})
        .assign(kind="received")
    )
    rows = pd.concat([received, moves], ignore_index=True)
    sign = rows["kind"].map({"received": 1, "transferred_in": 1, "adjusted": 1, "issued": -1,
                             "transferred_out": -1, "expired": -1})  # fmt: skip
    rows = rows.assign(signed=sign * rows["quantity"].astype(float))
    key = rows["centre_id"] + "|" + rows["minor_category"] + "|" + rows["item"] + "|"
    balance = rows.assign(key=key + rows["expires_on"]).groupby("key")["signed"].sum()
    held = balance[balance > 0]
    expiry = pd.to_datetime(held.index.str.rsplit("|", n=1).str[1], errors="coerce")
    days = (expiry - pd.Timestamp(AS_OF)).days
    soon = load_warning_config().omissions["stock_expiring_days"]
    truth = files["truth"]
    expiring = set(truth.loc[truth["kind"] == "stock_expiring", "key"])
    expired = set(truth.loc[truth["kind"] == "stock_expired", "key"])
    assert set(held.index[(days >= 0) & (days <= soon)]) == expiring
    assert set(held.index[days < 0]) == expired
    assert expiring and expired
    assert (moves["kind"] == "transferred_out").sum() == (moves["kind"] == "transferred_in").sum()


def test_sponsorships_ending_or_unpaid_as_planted(files):
    s = files["sponsorships"].set_index("sponsorship_id")
    paid = files["sponsorship-payments"]
    truth = files["truth"]
    ending = set(truth.loc[truth["kind"] == "sponsorship_ending", "sponsorship_id"])
    days_left = (pd.to_datetime(s["ends_on"]) - pd.Timestamp(AS_OF)).dt.days
    soon = days_left.between(0, 30) & (s["successor_id"] == "")
    assert set(s.index[soon]) == ending and ending
    assert (s.loc[s["successor_id"] != "", "successor_id"].isin(s.index)).all()
    unpaid = set(truth.loc[truth["kind"] == "sponsorship_unpaid", "sponsorship_id"])
    this_month = pd.Timestamp(AS_OF).to_period("M")
    missing = set()
    for sid, row in s.iterrows():
        months = pd.period_range(pd.Timestamp(row["starts_on"]).to_period("M"), this_month - 1)
        months = [m for m in months if m.to_timestamp() <= pd.Timestamp(row["ends_on"])]
        have = set(paid.loc[paid["sponsorship_id"] == sid, "month"])
        if any(str(m) not in have for m in months):
            missing.add(sid)
    assert missing == unpaid and unpaid
    assert len(s) <= 110 and (s["programme"] == "100가정 보듬기").all()


def test_consents_cover_about_sixty_percent_of_supported_residents(files):
    supported = set(files["support"]["resident_id"])
    consents = files["consents"]
    yes = set(consents.loc[consents["consented"] == "true", "resident_id"])
    assert yes <= supported
    assert 0.5 < len(yes) / len(supported) < 0.7
    assert (consents["consented"] == "false").any()


def test_support_rows_carry_the_new_columns(files):
    support = files["support"]
    assert (support["minor_category"] != "").all()
    assert set(support["funding"]) == {"budget", "donation"}
    assert (support["recurring_period"] != "").any()
    holiday = support[support["minor_category"] == "holiday_parcel"]
    assert len(holiday) and holiday["item"].str.startswith("명절").all()
    linked = support[support["need_id"] != ""]
    needs = files["needs"].set_index("need_id")
    assert (needs.loc[linked["need_id"], "resident_id"].to_numpy()
            == linked["resident_id"].to_numpy()).all()  # fmt: skip
    providers = files["providers"]
    centres = providers[providers["kind"] == "community_centre"]
    assert (centres["area"] == centres["provider_id"].str[5:]).all()
    assert (centres["facility_id"] != "").sum() >= 13


def test_same_seed_same_files(demo, tmp_path):
    again = generate_demo(tmp_path, seed=SEED, scale=SCALE, region="seodaemun", as_of=AS_OF)
    names = [SUPPORT_TRUTH_FILE, FILE_NAMES["support"]] + [FILE_NAMES[k] for k in NEW_FILES]
    match, mismatch, errors = filecmp.cmpfiles(demo.out_dir, again.out_dir, names, shallow=False)
    assert not mismatch and not errors


@pytest.mark.parametrize("scale", [1, 7, 60])
def test_tiny_scales_still_write_every_file(tmp_path, scale):
    summary = generate_demo(tmp_path, seed=3, scale=scale, as_of=AS_OF)
    for kind in NEW_FILES:
        assert (tmp_path / FILE_NAMES[kind]).exists()
    assert (tmp_path / SUPPORT_TRUTH_FILE).exists()
    assert summary.counts["residents"] == scale


def test_unserved_crisis_truth_is_complete(files):
    """Every active resident with a signal (own or household's) well inside six months and
    neither support nor a met visit since is in the truth (planted or left so by the draws)."""
    r = files["residents"]
    active = set(r.loc[r["status"] == "active", "resident_id"])
    s = files["crisis-signals"]
    edge = pd.Timestamp(AS_OF) - pd.DateOffset(months=6)
    s = s[pd.to_datetime(s["observed_on"]) > edge + pd.Timedelta(days=3)]
    own = s.loc[s["resident_id"] != "", ["resident_id", "observed_on"]]
    shared = s.loc[s["household_id"] != "", ["household_id", "observed_on"]].merge(
        r[["resident_id", "household_id"]], on="household_id"
    )[["resident_id", "observed_on"]]
    latest = pd.concat([own, shared]).groupby("resident_id")["observed_on"].max()
    latest = latest[latest.index.isin(active)]
    given = files["support"].groupby("resident_id")["provided_on"].max()
    v = files["visits"]
    met = v[v["outcome"].isin(["met", "crisis_confirmed"])]
    seen = met.assign(day=met["visited_at"].str[:10]).groupby("resident_id")["day"].max()
    answered = (given.reindex(latest.index).fillna("") >= latest) | (
        seen.reindex(latest.index).fillna("") >= latest
    )
    truth = files["truth"]
    assert set(latest.index[~answered]) == set(
        truth.loc[truth["kind"] == "unserved_crisis", "resident_ids"]
    )
