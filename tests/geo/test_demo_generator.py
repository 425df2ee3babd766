"""Tests of the synthetic demo generator (``geo.demo``): pure files, no database.

Calibration targets are recomputed here from the real files in ``data/`` (not taken from the
generator), and compared per 행정동 with the tolerances documented in ``docs/demo_data.md``:
``z`` binomial standard errors of the generated share, plus one count of rounding (``1/n``),
plus a small absolute slack. Ages are a random sample (``z = 4``); the lone-elderly, 80+ and
recipient counts are set by rounding the target given the sampled dong (``z = 0``, one
count); the number of multi-person households is random but far less so than a binomial
count (``z = 2``).
"""

from __future__ import annotations

import datetime
import filecmp
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.demo import IMPORT_ORDER, DemoError, generate_demo

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
AS_OF = datetime.date(2026, 4, 1)
SEED = 11
SCALE = 20_000
# metric: (binomial standard errors, absolute slack)
TOLERANCES = {
    "share_65plus": (4.0, 0.0),
    "lone_share_of_65plus": (0.0, 0.002),
    "lone_80plus_share": (0.0, 0.005),
    "single_household_share": (2.0, 0.0),
    "blsa_rate": (0.0, 0.001),
}

# Column lists and codes exactly as in docs/import_formats.md (the contract).
CONTRACT_COLUMNS = {
    "providers": ["provider_id", "name", "sector", "kind", "area", "facility_id"],
    "residents": [
        "resident_id", "household_id", "name", "rrn", "birth_year", "sex", "lives_alone",
        "disability", "registered_on", "status", "household_size", "monthly_income_krw",
        "assets_krw", "address", "lon", "lat", "receiving",
    ],
    "crisis-signals": [
        "signal_id", "resident_id", "household_id", "kind", "observed_on", "source_agency",
    ],
    "visits": ["visit_id", "resident_id", "visited_at", "visitor", "outcome", "notes"],
    "needs": [
        "need_id", "resident_id", "category", "status", "identified_on", "resolved_on", "source",
    ],
    "support": [
        "support_id", "resident_id", "provider_id", "category", "item", "amount_krw",
        "quantity", "unit", "provided_on", "minor_category", "recurring_period", "funding",
        "expires_on", "need_id",
    ],
    "teams": ["team_id", "name", "base_facility_id", "adm_cd2s", "members"],
    # issue 13 (geo.demo.sharing)
    "donors": ["donor_id", "name", "kind", "area"],
    "donations": [
        "donation_id", "donor_id", "centre_id", "received_on", "minor_category", "item",
        "quantity", "unit", "expires_on",
    ],
    "stock-movements": [
        "movement_id", "centre_id", "kind", "moved_on", "minor_category", "item", "unit",
        "quantity", "expires_on", "donation_id", "counterpart_centre_id",
    ],
    "sponsorships": [
        "sponsorship_id", "donor_id", "household_id", "centre_id", "programme", "starts_on",
        "ends_on", "monthly_amount_krw", "successor_id",
    ],
    "sponsorship-payments": ["sponsorship_id", "month", "amount_krw", "received_on"],
    "consents": ["resident_id", "consented", "decided_on", "recorded_by", "source"],
}  # fmt: skip
RESIDENT_STATUSES = {"active", "moved", "deceased", "unreachable"}
SIGNAL_KINDS = {
    "electricity_arrears", "electricity_cutoff", "water_arrears", "water_cutoff",
    "gas_arrears", "gas_cutoff", "health_insurance_arrears", "rent_arrears",
    "management_fee_arrears", "telecom_arrears",
}  # fmt: skip
VISIT_OUTCOMES = {"met", "not_home", "refused", "unreachable", "crisis_confirmed"}
NEED_STATUSES = {"open", "in_progress", "met", "closed"}
CATEGORIES = {
    "safety", "health", "daily_living", "family", "social", "economic", "education",
    "employment", "living_environment", "legal",
}  # fmt: skip
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}")
RRN_WEIGHTS = np.array([2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])


def _read(directory: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(directory / name, dtype=str, keep_default_na=False)


def _load(directory: Path) -> dict[str, pd.DataFrame]:
    tables = {kind: _read(directory, kind.replace("-", "_") + ".csv") for kind in IMPORT_ORDER}
    tables["ground_truth"] = _read(directory, "ground_truth.csv")
    return tables


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    summary = generate_demo(out, seed=SEED, scale=SCALE, region="seodaemun", as_of=AS_OF)
    return summary, _load(out)


@pytest.fixture(scope="module")
def tables(demo):
    return demo[1]


@pytest.fixture(scope="module")
def residents(tables):
    """Residents joined with the hidden ground truth and numeric columns."""
    frame = tables["residents"].merge(
        tables["ground_truth"], on=["resident_id", "household_id"], validate="one_to_one"
    )
    for column in ("birth_year", "household_size", "monthly_income_krw", "age", "in_crisis"):
        frame[column] = frame[column].astype(int)
    for column in ("lon", "lat"):
        frame[column] = frame[column].astype(float)
    for column in ("is_blsa", "is_head", "lone_middle_aged_man", "lone_elderly"):
        frame[column] = frame[column] == "1"
    return frame


@pytest.fixture(scope="module")
def targets():
    """Real per-dong statistics, computed here from the source files."""
    indicators = pd.read_csv(DATA_DIR / "seodaemun_dong_indicators.csv", dtype={"adm_cd2": str})
    indicators = indicators.set_index("adm_cd2")
    return pd.DataFrame(
        {
            "quota": SCALE * indicators["pop_2026_03"] / indicators["pop_2026_03"].sum(),
            "share_65plus": indicators["pop65_2026_03"] / indicators["pop_2026_03"],
            "lone_share_of_65plus": indicators["lone_elderly_2023"] / indicators["pop65_2026_03"],
            "lone_80plus_share": indicators["lone_elderly_80plus_2023"]
            / indicators["lone_elderly_2023"],
            "single_household_share": indicators["hh_1person_2021q1"]
            / indicators["hh_total_2021q1"],
            "blsa_rate": indicators["blsa_recipients_2021_07"] / indicators["pop_2021q2"],
        }
    )


def _tolerance(target: float, n: int, z_score: float, slack: float) -> float:
    """``z_score`` binomial standard errors + one count of rounding + ``slack``."""
    return z_score * math.sqrt(target * (1 - target) / n) + 1.0 / n + slack


def _assert_close(name: str, generated: pd.Series, target: pd.Series, n: pd.Series) -> None:
    failures = []
    for code in target.index:
        tolerance = _tolerance(target[code], int(n[code]), *TOLERANCES[name])
        if abs(generated[code] - target[code]) > tolerance:
            failures.append(
                f"{code}: {generated[code]:.4f} vs {target[code]:.4f} (± {tolerance:.4f})"
            )
    assert not failures, f"{name} off target in: " + "; ".join(failures)


# --- calibration -----------------------------------------------------------------------------


def test_residents_per_dong_follow_population(residents, targets):
    counts = residents.groupby("adm_cd2").size().reindex(targets.index, fill_value=0)
    assert counts.sum() == SCALE
    assert (np.abs(counts - targets["quota"]) < 1).all(), counts - targets["quota"]


def test_share_65plus_per_dong(residents, targets):
    by_dong = residents.groupby("adm_cd2")
    generated = by_dong["age"].apply(lambda age: (age >= 65).mean())
    _assert_close("share_65plus", generated, targets["share_65plus"], by_dong.size())


def test_lone_elderly_share_per_dong(residents, targets):
    elderly = residents[residents["age"] >= 65]
    alone = elderly["household_size"] == 1
    assert (elderly["lives_alone"] == np.where(alone, "true", "false")).all()
    by_dong = alone.groupby(elderly["adm_cd2"])
    _assert_close(
        "lone_share_of_65plus", by_dong.mean(), targets["lone_share_of_65plus"], by_dong.size()
    )
    lone = elderly[alone]
    by_dong = (lone["age"] >= 80).groupby(lone["adm_cd2"])
    _assert_close("lone_80plus_share", by_dong.mean(), targets["lone_80plus_share"], by_dong.size())


def test_single_person_household_share_per_dong(residents, targets):
    households = residents.drop_duplicates("household_id")
    by_dong = (households["household_size"] == 1).groupby(households["adm_cd2"])
    _assert_close(
        "single_household_share",
        by_dong.mean(),
        targets["single_household_share"],
        by_dong.size(),
    )


def test_blsa_rate_per_dong(residents, targets):
    by_dong = residents["is_blsa"].groupby(residents["adm_cd2"])
    _assert_close("blsa_rate", by_dong.mean(), targets["blsa_rate"], by_dong.size())


def test_households_have_an_adult_head_and_capped_sizes(residents):
    heads = residents[residents["is_head"]]
    assert heads["household_id"].is_unique
    assert heads["household_id"].nunique() == residents["household_id"].nunique()
    assert (heads["age"] >= 19).all()
    assert residents["household_size"].between(1, 8).all()


# --- residents file --------------------------------------------------------------------------


def test_points_lie_inside_their_dong(residents):
    dongs = pyogrio.read_dataframe(DATA_DIR / "seodaemun_admdong_2021.geojson")
    for code, polygon in zip(dongs["adm_cd2"], dongs.geometry, strict=True):
        rows = residents[residents["adm_cd2"] == code]
        assert len(rows), code
        assert shapely.contains_xy(polygon, rows["lon"], rows["lat"]).all(), code


def test_coordinates_have_six_decimals(tables):
    assert tables["residents"]["lon"].str.fullmatch(r"12[6-7]\.\d{6}").all()
    assert tables["residents"]["lat"].str.fullmatch(r"37\.\d{6}").all()


def test_household_size_and_household_columns_agree(tables):
    residents = tables["residents"]
    rows_per_household = residents.groupby("household_id")["resident_id"].transform("size")
    assert (residents["household_size"].astype(int) == rows_per_household).all()
    assert ((residents["lives_alone"] == "true") == (residents["household_size"] == "1")).all()
    household_columns = [
        "household_size", "monthly_income_krw", "assets_krw", "address", "lon", "lat",
        "receiving",
    ]  # fmt: skip
    distinct = residents.groupby("household_id")[household_columns].nunique(dropna=False)
    assert (distinct == 1).all().all()
    assert residents["resident_id"].is_unique


def test_rrns_are_well_formed_consistent_and_fail_the_checksum(residents):
    rrn = residents["rrn"]
    numbered = residents[rrn != ""]
    assert numbered["rrn"].str.fullmatch(r"\d{6}-\d{7}").all()
    assert numbered["rrn"].is_unique
    digits = np.array([list(map(int, value.replace("-", ""))) for value in numbered["rrn"]])
    century_digit = digits[:, 6]
    century = np.where(np.isin(century_digit, [1, 2]), 1900, 2000)
    assert np.isin(century_digit, [1, 2, 3, 4]).all()
    year = century + digits[:, 0] * 10 + digits[:, 1]
    assert (year == numbered["birth_year"]).all()
    assert ((century_digit % 2 == 1) == (numbered["sex"] == "M")).all()
    month = digits[:, 2] * 10 + digits[:, 3]
    day = digits[:, 4] * 10 + digits[:, 5]
    births = [  # raises ValueError on an invalid calendar date
        datetime.date(int(y), int(m), int(d)) for y, m, d in zip(year, month, day, strict=True)
    ]
    assert max(births) < datetime.date(2020, 10, 5)
    valid_check = (11 - (digits[:, :12] @ RRN_WEIGHTS) % 11) % 10
    assert (valid_check != digits[:, 12]).all()
    # Empty only for people born after the October 2020 reform (numbers without a checksum),
    # and for the one person the generator plants under a second id without a number
    # (geo.demo.sharing: same name, birth year and address as a numbered resident).
    twice = residents.duplicated(["name", "birth_year", "address"], keep=False).to_numpy()
    assert twice.sum() == 2 and (rrn[twice] == "").sum() == 1
    unnumbered = residents[(rrn == "") & ~twice]
    assert (unnumbered["birth_year"] >= 2020).all()
    assert (residents[(residents["birth_year"] <= 2019) & ~twice]["rrn"] != "").all()
    assert len(unnumbered) > 0


def test_birth_year_age_and_registration_are_consistent(residents):
    assert (AS_OF.year - residents["birth_year"] - residents["age"]).isin([0, 1]).all()
    registered = pd.to_datetime(residents["registered_on"], format="%Y-%m-%d")
    assert (registered.dt.year >= residents["birth_year"]).all()
    assert (registered.dt.date <= AS_OF).all()
    assert set(residents["status"]) <= RESIDENT_STATUSES
    assert (residents["status"] == "active").mean() > 0.9
    assert set(residents["sex"]) == {"M", "F"}
    assert residents["name"].str.fullmatch(r"[가-힣]{3}").all()
    assert residents["address"].str.contains("가상로").all()


def test_blsa_income_is_below_the_livelihood_threshold(residents):
    medians = pd.read_csv(DATA_DIR / "standard_median_income.csv")
    medians = medians[medians["year"] == AS_OF.year].set_index("household_size")
    median = residents["household_size"].clip(upper=7).map(medians["median_income_krw"])
    extra = (residents["household_size"] - 7).clip(lower=0) * (
        medians.loc[6, "median_income_krw"] - medians.loc[5, "median_income_krw"]
    )
    ratio = residents["monthly_income_krw"] / (median + extra)
    assert (ratio[residents["is_blsa"]] < 0.32).all()
    assert ratio[~residents["is_blsa"]].median() > 0.5


# --- reproducibility and arguments -----------------------------------------------------------


def test_same_arguments_give_identical_files_and_another_seed_differs(demo, tmp_path):
    summary, _ = demo
    again = generate_demo(tmp_path / "a", seed=SEED, scale=SCALE, region="seodaemun", as_of=AS_OF)
    names = [path.name for path in summary.files] + ["ground_truth.csv", "manifest.json"]
    for name in names:
        assert filecmp.cmp(summary.out_dir / name, again.out_dir / name, shallow=False), name
    other = generate_demo(
        tmp_path / "b", seed=SEED + 1, scale=SCALE, region="seodaemun", as_of=AS_OF
    )
    assert not filecmp.cmp(summary.out_dir / "residents.csv", other.out_dir / "residents.csv")


@pytest.mark.parametrize(
    "arguments",
    [{"scale": 0}, {"scale": 10_000_001}, {"region": "busan"}, {"seed": -1}],
)
def test_invalid_arguments_raise_demo_error(tmp_path, arguments):
    with pytest.raises(DemoError):
        generate_demo(tmp_path, **{"as_of": AS_OF, **arguments})
    assert issubclass(DemoError, ValueError)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("scale", [1, 2, 7, 60])
def test_tiny_scales_still_give_consistent_households(tmp_path, scale):
    summary = generate_demo(tmp_path, seed=3, scale=scale, as_of=AS_OF)
    assert summary.region == "seodaemun"
    residents = _read(tmp_path, "residents.csv")
    assert len(residents) == scale
    sizes = residents.groupby("household_id")["resident_id"].transform("size")
    assert (residents["household_size"].astype(int) == sizes).all()


def test_manifest_and_summary(demo):
    summary, tables = demo
    manifest = json.loads(summary.manifest.read_text(encoding="utf-8"))
    assert list(manifest["import_order"]) == list(IMPORT_ORDER)
    assert [summary.out_dir / name for name in manifest["import_order"].values()] == list(
        summary.files
    )
    assert manifest["seed"] == SEED and manifest["scale"] == SCALE
    assert manifest["region"] == "seodaemun" and manifest["as_of"] == AS_OF.isoformat()
    for kind in IMPORT_ORDER:
        assert manifest["counts"][kind] == summary.counts[kind] == len(tables[kind])
        assert list(tables[kind].columns) == CONTRACT_COLUMNS[kind], kind


# --- contract values -------------------------------------------------------------------------


def test_ids_and_codes_follow_the_contract(tables):
    id_columns = {
        "providers": "provider_id", "residents": "resident_id", "crisis-signals": "signal_id",
        "visits": "visit_id", "needs": "need_id", "support": "support_id", "teams": "team_id",
    }  # fmt: skip
    for kind, column in id_columns.items():
        ids = tables[kind][column]
        assert ids.is_unique and ids.str.fullmatch(ID_PATTERN.pattern).all(), kind
    assert set(tables["crisis-signals"]["kind"]) == SIGNAL_KINDS
    assert set(tables["visits"]["outcome"]) == VISIT_OUTCOMES
    assert set(tables["needs"]["status"]) <= NEED_STATUSES
    assert set(tables["needs"]["category"]) <= CATEGORIES
    assert set(tables["support"]["category"]) <= CATEGORIES
    assert set(tables["providers"]["sector"]) == {"public", "private"}
    private = tables["providers"][tables["providers"]["sector"] == "private"]
    assert private["name"].str.endswith("(가상)").all()


def test_references_and_dates_are_valid(tables):
    residents = set(tables["residents"]["resident_id"])
    households = set(tables["residents"]["household_id"])
    earliest = AS_OF - datetime.timedelta(days=730)

    signals = tables["crisis-signals"]
    has_resident = signals["resident_id"] != ""
    assert (has_resident != (signals["household_id"] != "")).all()  # exactly one
    assert set(signals.loc[has_resident, "resident_id"]) <= residents
    assert set(signals.loc[~has_resident, "household_id"]) <= households
    assert 0 < (~has_resident).mean() < 0.5  # some household-level, most resident-level
    observed = pd.to_datetime(signals["observed_on"], format="%Y-%m-%d").dt.date
    assert observed.between(earliest, AS_OF - datetime.timedelta(days=1)).all()

    visits = tables["visits"]
    assert set(visits["resident_id"]) <= residents
    assert visits["visited_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+09:00").all()
    visited = pd.to_datetime(visits["visited_at"], format="ISO8601")
    assert (visited.dt.date >= earliest).all() and (visited.dt.date < AS_OF).all()
    assert visited.dt.hour.between(9, 17).all() and (visited.dt.day_of_week < 5).all()

    needs = tables["needs"]
    assert set(needs["resident_id"]) <= residents
    resolved = needs[needs["resolved_on"] != ""]
    assert (resolved["resolved_on"] >= resolved["identified_on"]).all()
    assert (needs["identified_on"] < AS_OF.isoformat()).all()

    support = tables["support"]
    assert set(support["resident_id"]) <= residents
    assert set(support["provider_id"]) <= set(tables["providers"]["provider_id"])
    assert ((support["amount_krw"] != "") | (support["quantity"] != "")).all()
    amounts = support.loc[support["amount_krw"] != "", "amount_krw"].astype(int)
    assert (amounts >= 0).all()
    assert (support.loc[support["quantity"] != "", "quantity"].astype(float) > 0).all()
    assert (support["provided_on"] < AS_OF.isoformat()).all()


def test_teams_cover_seodaemun_and_use_existing_centres(tables):
    teams = tables["teams"]
    facilities = pd.read_csv(DATA_DIR / "seodaemun_facilities.csv", dtype=str)
    indicators = pd.read_csv(DATA_DIR / "seodaemun_dong_indicators.csv", dtype=str)
    assert sorted(teams["adm_cd2s"]) == sorted(indicators["adm_cd2"])
    assert (teams["team_id"] == "T-" + teams["adm_cd2s"]).all()
    assert set(teams["base_facility_id"]) <= set(facilities["facility_id"])
    fallback = teams.set_index("adm_cd2s").loc["1141072000", "base_facility_id"]
    assert fallback == "CC-1141071000"
    assert teams["name"].str.endswith("찾아가는 복지팀").all()
    members = teams["members"].str.split("|")
    assert members.map(len).between(3, 5).all()
    ids = [entry.split(":")[0] for team in members for entry in team]
    assert len(ids) == len(set(ids))
    for team_id, entries in zip(teams["team_id"], members, strict=True):
        assert all(entry.startswith(f"{team_id}-M") for entry in entries)


# --- hidden truth, signals, visits and support -----------------------------------------------


def test_ground_truth_has_both_classes_and_crisis_means_more_signals(residents, tables):
    assert set(residents["in_crisis"]) == {0, 1}
    crisis_share = residents["in_crisis"].mean()
    assert 0.01 < crisis_share < 0.15
    kinds = set(residents.loc[residents["in_crisis"] == 1, "crisis_kind"])
    assert kinds == {"isolation", "income", "health", "utility_arrears"}
    assert (residents.loc[residents["in_crisis"] == 0, "crisis_kind"] == "").all()

    signals = tables["crisis-signals"]
    per_resident = signals["resident_id"].value_counts()
    per_household = signals["household_id"].value_counts()
    count = residents["resident_id"].map(per_resident).fillna(0) + residents["household_id"].map(
        per_household
    ).fillna(0)
    mean_by_class = count.groupby(residents["in_crisis"]).mean()
    assert mean_by_class[1] > 5 * mean_by_class[0]
    assert mean_by_class[0] > 0  # background signals from households not in crisis


def test_blind_spots_and_noisy_confirmation(residents, tables):
    visits = tables["visits"]
    visit_count = residents["resident_id"].map(visits["resident_id"].value_counts()).fillna(0)
    in_crisis = residents["in_crisis"] == 1
    unvisited = in_crisis & (visit_count == 0)
    assert unvisited.any()
    heads_in_crisis = in_crisis & residents["is_head"]
    men = heads_in_crisis & residents["lone_middle_aged_man"]
    elderly = heads_in_crisis & residents["lone_elderly"]
    assert men.sum() >= 20 and elderly.sum() >= 20
    assert (visit_count[men] == 0).mean() > (visit_count[elderly] == 0).mean() + 0.25
    blind = residents["blind_spot"] == "1"
    assert (visit_count[blind] == 0).all() and not (blind & ~in_crisis).any()
    assert blind[men].mean() > blind[elderly].mean() + 0.2  # by design, not only by chance

    confirmed_ids = set(visits.loc[visits["outcome"] == "crisis_confirmed", "resident_id"])
    visited = residents[visit_count > 0]
    confirmed = visited["resident_id"].isin(confirmed_ids)
    truth = visited["in_crisis"] == 1
    assert (truth & ~confirmed).any()  # missed crises
    assert (~truth & confirmed).any()  # false confirmations
    assert confirmed[truth].mean() > 5 * confirmed[~truth].mean()


def test_support_is_duplicated_across_providers_and_misses_some_crises(residents, tables):
    support = tables["support"].assign(month=lambda frame: frame["provided_on"].str[:7])
    providers = support.groupby(["resident_id", "category", "month"])["provider_id"].nunique()
    duplicated = providers[providers >= 2]
    assert len(duplicated) > 0
    assert "daily_living" in set(duplicated.index.get_level_values("category"))
    assert len(set(tables["providers"].loc[lambda p: p["sector"] == "private", "provider_id"])
               & set(support["provider_id"])) >= 5  # fmt: skip
    supported = set(support["resident_id"])
    crisis_heads = residents[(residents["in_crisis"] == 1) & residents["is_head"]]
    assert (~crisis_heads["resident_id"].isin(supported)).any()


def test_blsa_heads_get_monthly_livelihood_benefit_from_their_centre(residents, tables):
    benefit = tables["support"][tables["support"]["item"] == "생계급여"]
    assert (benefit["category"] == "economic").all()
    heads = residents[residents["is_blsa"] & residents["is_head"]].set_index("resident_id")
    assert set(benefit["resident_id"]) <= set(heads.index)
    expected_provider = "P-CC-" + heads.loc[benefit["resident_id"], "adm_cd2"].to_numpy()
    assert (benefit["provider_id"].to_numpy() == expected_provider).all()
    months = benefit.groupby("resident_id")["provided_on"].nunique()
    assert months.reindex(heads.index, fill_value=0).ge(12).mean() > 0.8


def test_standard_median_income_file():
    table = pd.read_csv(DATA_DIR / "standard_median_income.csv")
    assert list(table.columns) == ["year", "household_size", "median_income_krw"]
    assert sorted(table["year"].unique()) == [2024, 2025, 2026]
    by_year = table.pivot(index="household_size", columns="year", values="median_income_krw")
    assert list(by_year.index) == list(range(1, 8))
    assert by_year.loc[1, 2026] == 2_564_238 and by_year.loc[4, 2025] == 6_097_773
    assert (by_year.loc[7] == 2 * by_year.loc[6] - by_year.loc[5]).all()
    assert (by_year.diff().iloc[1:] > 0).all().all()


# --- all of Seoul ----------------------------------------------------------------------------


def test_seoul_region_spreads_over_all_dongs(tmp_path):
    summary = generate_demo(tmp_path, seed=5, scale=5_000, region="seoul", as_of=AS_OF)
    assert summary.region == "seoul"
    residents = _read(tmp_path, "residents.csv").merge(
        _read(tmp_path, "ground_truth.csv"), on=["resident_id", "household_id"]
    )
    dongs = pyogrio.read_dataframe(DATA_DIR / "seoul_admdong_2021.geojson")
    population = pd.read_csv(DATA_DIR / "seoul_dong_population_2021q2.csv", dtype={"adm_cd2": str})
    indicators = pd.read_csv(DATA_DIR / "seodaemun_dong_indicators.csv", dtype={"adm_cd2": str})
    assert len(dongs) == 425
    present = set(residents["adm_cd2"])
    # Seodaemun dongs are weighted by their 2026-03 population, the others by 2021 Q2.
    weight = population.set_index("adm_cd2")["pop_total"].astype(float)
    weight.update(indicators.set_index("adm_cd2")["pop_2026_03"].astype(float))
    quota = 5_000 * weight / weight.sum()
    assert set(quota[quota >= 1].index) <= present
    assert len(present) >= 420
    polygons = dict(zip(dongs["adm_cd2"], dongs.geometry, strict=True))
    for code, rows in residents.groupby("adm_cd2"):
        inside = shapely.contains_xy(
            polygons[code], rows["lon"].astype(float), rows["lat"].astype(float)
        )
        assert inside.all(), code
    teams = _read(tmp_path, "teams.csv")
    assert len(teams) == 14 and teams["adm_cd2s"].str.startswith("11410").all()
    providers = _read(tmp_path, "providers.csv")
    assert providers["provider_id"].str.startswith("P-CC-").sum() == 425
    age = residents["age"].astype(int)
    expected_65 = population["pop_65plus"].sum() / population["pop_total"].sum()
    assert abs((age >= 65).mean() - expected_65) < _tolerance(expected_65, len(age), 4.0, 0.01)
