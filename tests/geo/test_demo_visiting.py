"""The demo's simulated visiting (``geo.demo.visiting``): capacity, priority, dates.

The simulation runs once on a small Seodaemun population built with the generator's own
stages; every simulated day is recorded and checked against the rules of the module notes.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from geo.demo import generate_demo
from geo.demo.identity import draw_identities, draw_places, draw_statuses
from geo.demo.population import apportion, build_population, load_region_targets
from geo.demo.services import RESIDENTS_PER_MEMBER, member_capacities, team_sizes
from geo.demo.visiting import (
    DayRecord,
    Residents,
    TierProxy,
    simulate_visits,
    working_days,
)
from geo.demo.welfare import (
    draw_crisis,
    draw_finances,
    draw_signals,
    load_standard_median_income,
    median_income,
)
from scoring.config import default_config
from scoring.weighted import WeightedIndexScorer

AS_OF = datetime.date(2026, 4, 1)
SCALE = 3_000


@pytest.fixture(scope="module")
def simulated():
    """Simulate a 3,000-resident Seodaemun demo; return the inputs, the plan and every day's
    record (teams must choose on the days many first visits fall due at once)."""
    streams = [np.random.default_rng(c) for c in np.random.SeedSequence(3).spawn(8)]
    targets = load_region_targets("seodaemun")
    per_dong = apportion(SCALE, targets.dongs["population"].to_numpy())
    population = build_population(streams[0], targets, per_dong)
    identity = draw_identities(streams[1], population, AS_OF)
    lon, lat, _ = draw_places(streams[2], population, targets)
    medians = median_income(load_standard_median_income(), population.household_size, 2026)
    finances = draw_finances(streams[3], population, medians)
    crisis = draw_crisis(streams[3], population, finances, AS_OF)
    signals = draw_signals(streams[4], population, crisis, AS_OF)
    status = draw_statuses(streams[1], population, crisis)
    residents = Residents(
        birth=identity["birth"],
        registered_on=identity["registered_on"],
        active=status == "active",
        lon=lon,
        lat=lat,
    )
    sizes = team_sizes(per_dong)
    records: list[DayRecord] = []
    plan = simulate_visits(
        streams[5], population, crisis, finances, signals, residents, sizes, AS_OF,
        observe=records.append,
    )  # fmt: skip
    proxy = TierProxy(population, finances, signals, residents)
    return population, residents, sizes, plan, records, proxy


def test_no_team_or_member_exceeds_its_daily_capacity(simulated):
    _, _, sizes, plan, records, _ = simulated
    visits = plan.visits
    per_team_day = visits.groupby(["visited_on", "team"]).size()
    capacity = np.array([member_capacities(int(s)).sum() for s in sizes])
    assert (per_team_day.to_numpy() <= capacity[per_team_day.index.get_level_values("team")]).all()
    per_member_day = visits.groupby(["visited_on", "team", "member"]).size().reset_index()
    limit = [member_capacities(int(sizes[t]))[m] for t, m in zip(
        per_member_day["team"], per_member_day["member"], strict=True)]  # fmt: skip
    assert (per_member_day[0].to_numpy() <= np.array(limit)).all()
    # a team above its dong's caseload (the 3-member floor) works part time
    population = simulated[0]
    residents = np.bincount(population.household_dong[population.household], minlength=len(sizes))
    share = np.minimum(residents / (RESIDENTS_PER_MEMBER * sizes), 1.0)
    assert (share < 1).any()
    reference = np.datetime64(AS_OF, "D")
    n_days = len(working_days(reference - np.timedelta64(730, "D"), reference))
    per_team = visits.groupby("team").size().reindex(range(len(sizes)), fill_value=0)
    assert (per_team.to_numpy() <= np.floor(capacity * share * n_days) + 1).all()
    # teams were busy: some days a team had more ready residents than it could visit
    assert any((~record.visited).any() for record in records)


def test_priority_holds_within_each_team_and_day(simulated):
    """Nobody left waiting outranks anyone visited that day in the same team's area: a due
    high-tier resident is never skipped while a medium or low one is visited, and detection
    visits come before everything else."""
    _, _, _, _, records, _ = simulated
    skipped_days = 0
    for record in records:
        for team in np.unique(record.team[~record.visited]):
            in_team = record.team == team
            visited = in_team & record.visited
            waiting = in_team & ~record.visited
            if not visited.any():
                continue
            skipped_days += 1
            assert record.priority[waiting].max() <= record.priority[visited].min()
            if (record.tier[waiting & ~record.urgent] == 2).any():
                assert not (record.tier[visited & ~record.urgent] < 2).any()
            if record.urgent[waiting].any():
                assert record.urgent[visited].all()
    assert skipped_days > 0


def test_visits_only_on_working_days_after_moving_in_and_never_blind_spots(simulated):
    population, residents, _, plan, _, _ = simulated
    visits = plan.visits
    days = visits["visited_on"].to_numpy().astype("datetime64[D]")
    reference = np.datetime64(AS_OF, "D")
    allowed = working_days(reference - np.timedelta64(730, "D"), reference)
    assert np.isin(days, allowed).all()
    resident = visits["resident"].to_numpy()
    assert (days >= residents.registered_on[resident]).all()
    assert (days > residents.birth[resident]).all()
    assert residents.active[resident].all()
    assert not plan.blind_spot[resident].any()
    # weekends and public holidays (설날 2026 with the days around it, 성탄절, 개천절) are off
    for holiday in ("2026-02-16", "2026-02-17", "2026-02-18", "2025-12-25", "2025-10-03"):
        assert np.datetime64(holiday) not in allowed
    assert (((allowed.astype(np.int64) + 3) % 7) < 5).all()


def test_cadence_after_a_met_visit_and_retry_after_a_missed_one(simulated):
    _, _, _, plan, _, _ = simulated
    visits = plan.visits.sort_values(["resident", "visited_on"], kind="stable")
    following = visits.groupby("resident").shift(-1)
    gap = (following["visited_on"] - visits["visited_on"]).dt.days
    has_next = following["visited_on"].notna() & ~following["urgent"].astype(bool)
    met = visits["outcome"].isin(["met", "crisis_confirmed"]) & ~visits["urgent"]
    missed = ~visits["outcome"].isin(["met", "crisis_confirmed"])
    # a met resident is next visited no earlier than the shortest cadence (30 days)
    assert (gap[has_next & met] >= 30).all()
    # a resident not found is tried again no earlier than 7 days later
    assert (gap[has_next & missed] >= 7).all()


def test_visits_needs_and_support_never_precede_the_birth_year(tmp_path):
    """The importer refuses records dated before the resident's birth year (the 1M demo did
    not import): none is generated, for children and babies either."""
    generate_demo(tmp_path, seed=2, scale=4_000, region="seodaemun", as_of=AS_OF)

    def read(name):
        return pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)

    residents = read("residents.csv").set_index("resident_id")
    birth_year = residents["birth_year"].astype(int)
    checks = {
        "visits.csv": "visited_at",
        "needs.csv": "identified_on",
        "support.csv": "provided_on",
        "crisis_signals.csv": "observed_on",
    }
    for name, column in checks.items():
        table = read(name)
        table = table[table["resident_id"] != ""]
        year = table[column].str[:4].astype(int).to_numpy()
        assert (year >= birth_year.loc[table["resident_id"]].to_numpy()).all(), name
    visits = read("visits.csv")
    registered = residents.loc[visits["resident_id"], "registered_on"].to_numpy()
    assert (visits["visited_at"].str[:10].to_numpy() >= registered).all()
    young = residents.index[birth_year >= AS_OF.year - 1]
    assert len(young) > 0  # babies exist, and are visited only after they were born


def test_the_tier_proxy_is_the_weighted_scorer(simulated):
    """The simulation's tiers are the shipped weighted scorer's on the same features."""
    population, _, _, plan, _, proxy = simulated
    n = len(population.age)
    day = int(np.datetime64(AS_OF, "D").astype(np.int64))
    last_met = np.full(n, np.iinfo(np.int64).min // 4)
    met = plan.visits[plan.visits["outcome"].isin(["met", "crisis_confirmed"])]
    last = met.groupby("resident")["visited_on"].max()
    last_met[last.index.to_numpy()] = last.to_numpy().astype("datetime64[D]").astype(np.int64)
    tier = np.ones(n, dtype=np.int64)
    features = pd.DataFrame(proxy.features(day, last_met, last_met, tier))
    config = default_config()
    expected = WeightedIndexScorer(config=config).fit(features).score_samples(features)
    np.testing.assert_allclose(proxy.scores(day, last_met, last_met, tier), expected, atol=1e-12)
    tiers = proxy.tiers(day, last_met, last_met, tier)
    assert set(np.unique(tiers)) == {0, 1, 2}
    assert features["days_since_met_visit"].min() >= 0
