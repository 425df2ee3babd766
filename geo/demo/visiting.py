"""The demo's 24 months of home visits, simulated day by day with the teams' real capacity.

Every dong has a visit team (the 14 Seodaemun teams of ``teams.csv``; in the Seoul region
the other dongs get a team of the same size rule that is not written out). On each working
day (Monday to Friday, without Korean public holidays) each team makes at most the sum of its
members' visits per day (:data:`geo.demo.services.VISITS_PER_DAY_BY_ROLE`), and picks whom
to visit as the route planner would: residents detected through crisis signals first, then
by tier (high first), then those met before and now overdue (longest overdue first), then
first visits (longest waiting first). Nobody is visited before their due date:

- met (``met`` or ``crisis_confirmed``): next due on the visit day + the tier's cadence
  (high 30, medium 91, low 182 days);
- never met: due the tier's first-visit days (high 14, medium 60, low 182) after the resident
  was first scored into the tier (the simulation's start, the month they moved in, or the
  month their tier changed);
- not home or refused: tried again 7 days later at the earliest; unreachable: 30 days later.

The tier is the real weighted scorer of :mod:`scoring` (the shipped default configuration)
on the generator's own features as of the first working day of each month, so visits lower
the recency part of the score as they do in the product. Blind spots (residents in crisis
nobody visits) are never candidates. Outcomes (and their label noise) follow
:mod:`geo.demo.welfare`. The model and its calibration are in ``docs/demo_data.md`` §10.

Length: the simulation is one loop over the working days sharing its state arrays (due
dates, tiers, retries, detections); its features, holidays and outcomes are separate
functions below it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.demo.population import DATA_DIR, ELDERLY_AGE, Population, as_days
from geo.demo.services import HOLIDAYS, RESIDENTS_PER_MEMBER, member_capacities
from geo.demo.welfare import (
    CONFIRM_PROBABILITY,
    CONFIRM_PROBABILITY_ISOLATION,
    FALSE_CONFIRM_PROBABILITY,
    HISTORY_DAYS,
    SIGNAL_KINDS,
    VISIT_NOTES,
    VISIT_OUTCOMES,
    CrisisTruth,
    Finances,
    VisitPlan,
    visitor_pool,
)
from scoring.config import ScoringConfig, default_config
from scoring.features import SENIOR_OR_WELFARE_KINDS, SIGNAL_WINDOWS_DAYS, nearest_facility_m

#: Earliest retry after a visit that did not meet the resident: not home or refused, and
#: unreachable.
RETRY_DAYS = 7
UNREACHABLE_RETRY_DAYS = 30
#: A detected household's head: 1 + Poisson(this) detection visits, 14 days apart.
DETECTION_EXTRA_VISITS = 1.5
DETECTION_FOLLOW_UP_DAYS = 14
DETECTION_PROBABILITY = 0.7
#: Korean public holidays on fixed solar dates (month, day); 설날 and 추석 come from
#: :data:`geo.demo.services.HOLIDAYS` with the day before and after. 부처님오신날 and
#: substitute holidays are left out.
FIXED_HOLIDAYS = ((1, 1), (3, 1), (5, 5), (6, 6), (8, 15), (10, 3), (10, 9), (12, 25))
FACILITY_FILE = DATA_DIR / "seodaemun_facilities.csv"
#: Reasons of a visit (the visitor label's programme): see geo.demo.welfare.VISIT_REASONS.
ELDERLY_CARE, CASE_MANAGEMENT, CRISIS_DETECTION, ROUTINE = range(4)
#: Outcome code of a visit that confirmed a crisis (0-3 index VISIT_OUTCOMES).
CONFIRMED = 4
_NEVER = np.iinfo(np.int64).min // 4  # "no date" in the day-number arrays
_LATER = np.iinfo(np.int64).max // 4  # "not before the end of time"


@dataclass(frozen=True)
class Residents:
    """What the simulation needs to know of each resident besides the population.

    Attributes
    ----------
    birth, registered_on
        ``datetime64[D]`` birth and registration (move-in) dates.
    active
        Status ``active`` (the others are never visited: moved, deceased, unreachable).
    lon, lat
        Location (degrees).
    """

    birth: np.ndarray
    registered_on: np.ndarray
    active: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


def working_days(start: np.datetime64, end: np.datetime64) -> np.ndarray:
    """Return the working days in ``[start, end)``: weekdays that are no public holiday."""
    days = np.arange(start, end, dtype="datetime64[D]")
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    years = np.unique(days.astype("datetime64[Y]").astype(np.int64) + 1970)
    fixed = [np.datetime64(f"{y:04d}-{m:02d}-{d:02d}") for y in years for m, d in FIXED_HOLIDAYS]
    lunar = np.concatenate([HOLIDAYS - 1, HOLIDAYS, HOLIDAYS + 1])
    holiday = np.isin(days, np.array(fixed, dtype="datetime64[D]")) | np.isin(days, lunar)
    return days[(weekday < 5) & ~holiday]


class TierProxy:
    """The default weighted scorer on the generator's own features, at any date.

    The features are computed as :func:`scoring.features.compute_features` defines them,
    from the generator's arrays; the time-dependent ones (age, signal counts, days since the
    last met or contact visit) at the date asked for.
    """

    def __init__(
        self,
        population: Population,
        finances: Finances,
        signals: pd.DataFrame,
        residents: Residents,
        config: ScoringConfig | None = None,
    ):
        self.config = config or default_config()
        self.population = population
        self.residents = residents
        household = population.household
        self._static_score = None
        self.static = {
            "lives_alone": (population.household_size[household] == 1).astype(float),
            "household_size": population.household_size[household].astype(float),
            "has_disability": population.disability.astype(float),
            "income_to_median_ratio": finances.income_ratio[household].astype(float),
            "assets_million_krw": finances.assets_krw[household] / 1e6,
        }
        names = set(self.config.feature_names)
        if names & {"nearest_community_centre_m", "nearest_senior_or_welfare_m"}:
            facilities = pd.read_csv(FACILITY_FILE)
            facilities = gpd.GeoDataFrame(
                facilities,
                geometry=gpd.points_from_xy(facilities["lon"], facilities["lat"]),
                crs="EPSG:4326",
            )
            points = shapely.points(residents.lon, residents.lat)
            self.static["nearest_community_centre_m"] = nearest_facility_m(
                points, facilities, ("community_centre",)
            )
            self.static["nearest_senior_or_welfare_m"] = nearest_facility_m(
                points, facilities, SENIOR_OR_WELFARE_KINDS
            )
        self.birth_year = residents.birth.astype("datetime64[Y]").astype(np.int64) + 1970
        self.signal_day = signals["observed_on"].to_numpy().astype("datetime64[D]").astype(np.int64)
        self.signal_kind = pd.Index(SIGNAL_KINDS).get_indexer(signals["kind"])
        self.signal_resident = signals["resident"].to_numpy()
        self.signal_household = signals["household"].to_numpy()

    def _signal_counts(self, day: int, window: int, kind: int | None) -> np.ndarray:
        chosen = (self.signal_day > day - window) & (self.signal_day <= day)
        if kind is not None:
            chosen &= self.signal_kind == kind
        n = len(self.population.age)
        own = self.signal_resident[chosen]
        shared = self.signal_household[chosen]
        counts = np.bincount(own[own >= 0], minlength=n).astype(float)
        per_household = np.bincount(
            shared[shared >= 0], minlength=len(self.population.household_size)
        )
        return counts + per_household[self.population.household]

    def features(
        self,
        day: int,
        last_met: np.ndarray,
        last_contact: np.ndarray,
        tier: np.ndarray,
        names=None,
    ) -> dict[str, np.ndarray]:
        """Return the configuration's features (or ``names``) of every resident at ``day``.

        ``day`` is a day number (days since 1970-01-01); ``last_met`` and ``last_contact``
        day numbers or :data:`_NEVER`; ``tier`` the previous tiers (for ``days_overdue``).
        """
        registered = self.residents.registered_on.astype(np.int64)
        year = int(np.datetime64(day, "D").astype("datetime64[Y]").astype(np.int64) + 1970)
        columns = {}
        for name in self.config.feature_names if names is None else names:
            if name in self.static:
                columns[name] = self.static[name]
            elif name == "age_years":
                columns[name] = (year - self.birth_year).astype(float)
            elif name == "days_since_met_visit":
                columns[name] = (day - np.where(last_met == _NEVER, registered, last_met)) * 1.0
            elif name == "days_since_last_contact":
                since = np.where(last_contact == _NEVER, registered, last_contact)
                columns[name] = (day - since) * 1.0
            elif name == "days_overdue":
                since = np.where(last_met == _NEVER, registered, last_met)
                cadence = np.array(self.config.cadence.days_for(tier), dtype=float)
                columns[name] = np.maximum(day - since - cadence, 0.0)
            else:
                columns[name] = self._signal_feature(name, day)
        return columns

    def _signal_feature(self, name: str, day: int) -> np.ndarray:
        for window, days in SIGNAL_WINDOWS_DAYS.items():
            if name == f"crisis_signals_{window}":
                return self._signal_counts(day, days, None)
            for index, kind in enumerate(SIGNAL_KINDS):
                if name == f"signals_{kind}_{window}":
                    return self._signal_counts(day, days, index)
        raise ValueError(f"the demo's tier proxy cannot compute the feature {name!r}")

    def scores(
        self, day: int, last_met: np.ndarray, last_contact: np.ndarray, tier: np.ndarray
    ) -> np.ndarray:
        """Return every resident's weighted index at ``day``.

        The same sum as :meth:`scoring.weighted.WeightedIndexScorer.score_samples` on
        :meth:`features`, with the part of the features that never change computed once.
        """
        weights = self.config.normalised_weights
        if self._static_score is None:
            self._static_score = np.zeros(len(self.population.age))
            for name, weight, transform in zip(
                self.config.feature_names, weights, self.config.transforms, strict=True
            ):
                if name in self.static:
                    self._static_score += weight * transform.apply(self.static[name])
        score = self._static_score.copy()
        dynamic = [name for name in self.config.feature_names if name not in self.static]
        features = self.features(day, last_met, last_contact, tier, dynamic)
        for name, weight, transform in zip(
            self.config.feature_names, weights, self.config.transforms, strict=True
        ):
            if name in features:
                score += weight * transform.apply(features[name])
        return np.clip(score, 0.0, 1.0)

    def tiers(
        self, day: int, last_met: np.ndarray, last_contact: np.ndarray, tier: np.ndarray
    ) -> np.ndarray:
        """Return the tier code (0 low, 1 medium, 2 high) of every resident at ``day``."""
        return self.config.tiers.assign(self.scores(day, last_met, last_contact, tier))


def _detections(
    rng: np.random.Generator, population: Population, signals: pd.DataFrame, reference
) -> tuple[np.ndarray, np.ndarray]:
    """Draw which household heads are detected through signals, and when.

    A household with two or more signals is detected with probability 0.7, 7-45 days after
    its second signal (before the reference date); its head then needs 1 + Poisson(1.5)
    detection visits.

    Returns
    -------
    detected_on, visits : numpy.ndarray
        Per resident: the detection day number (``_NEVER`` if not detected) and the number of
        detection visits.
    """
    n_households = len(population.household_size)
    signal_owner = signals["owner"].to_numpy()
    signal_count = np.bincount(signal_owner, minlength=n_households)
    second_signal = np.full(n_households, np.datetime64("NaT"), dtype="datetime64[D]")
    by_owner = signals.sort_values(["owner", "observed_on"], kind="stable")
    rank = by_owner.groupby("owner").cumcount().to_numpy()
    second = by_owner[rank == 1]
    second_signal[second["owner"].to_numpy()] = second["observed_on"].to_numpy()
    detected = (signal_count >= 2) & (rng.random(n_households) < DETECTION_PROBABILITY)
    detected_on = second_signal + as_days(rng.integers(7, 46, n_households))
    detected &= detected_on < reference
    visits = np.where(detected, 1 + rng.poisson(DETECTION_EXTRA_VISITS, n_households), 0)
    n = len(population.age)
    resident_day = np.full(n, _NEVER, dtype=np.int64)
    resident_visits = np.zeros(n, dtype=np.int64)
    heads = population.household_head
    resident_day[heads] = np.where(detected, detected_on.astype(np.int64), _NEVER)
    resident_visits[heads] = visits
    return resident_day, resident_visits


def _reasons(population: Population) -> np.ndarray:
    """Return the programme of each resident's regular visits (for the visitor label)."""
    head = population.is_head
    elderly = head & (population.age >= ELDERLY_AGE)
    case = head & (population.household_blsa[population.household] | population.disability)
    return np.where(elderly, ELDERLY_CARE, np.where(case, CASE_MANAGEMENT, ROUTINE))


@dataclass(frozen=True)
class DayRecord:
    """What one simulated working day looked like (for tests and checks).

    Attributes
    ----------
    day
        The day number (days since 1970-01-01).
    ready
        Residents who were due (or retried, or detected) and could be visited that day.
    team, tier, urgent, priority
        Of each ready resident: the team (dong index), the tier, whether a detection visit
        was due, and the sort key (higher first).
    visited
        Of each ready resident: visited that day.
    member
        Of each ready resident: the member (index within the team) who visited, -1 if not
        visited.
    """

    day: int
    ready: np.ndarray
    team: np.ndarray
    tier: np.ndarray
    urgent: np.ndarray
    priority: np.ndarray
    visited: np.ndarray
    member: np.ndarray


def simulate_visits(
    rng: np.random.Generator,
    population: Population,
    crisis: CrisisTruth,
    finances: Finances,
    signals: pd.DataFrame,
    residents: Residents,
    team_size: np.ndarray,
    as_of: datetime.date,
    config: ScoringConfig | None = None,
    observe: Callable[[DayRecord], None] | None = None,
) -> VisitPlan:
    """Simulate the teams' visits of the 24 months before ``as_of`` (see the module notes).

    Parameters
    ----------
    team_size
        Members of each dong's team (index = dong index of the population).
    config
        Scoring configuration of the tier proxy and the cadence (default: the shipped one).
    observe
        Called with a :class:`DayRecord` after each working day with residents ready.

    Returns
    -------
    VisitPlan
        The visits (with the extra columns ``team``, ``member``, ``tier`` and ``urgent``
        that the import files leave out) and the blind spots.
    """
    config = config or default_config()
    reference = np.datetime64(as_of, "D")
    start = reference - as_days(HISTORY_DAYS)
    days = working_days(start, reference).astype(np.int64)
    n = len(population.age)
    household = population.household
    dong = population.household_dong[household]
    n_dongs = len(team_size)
    age = population.age
    size_of = population.household_size[household]

    blind_probability = np.where(
        crisis.lone_middle_aged_man,
        0.6,
        np.where((size_of == 1) & (age < ELDERLY_AGE), 0.35, 0.12),
    )
    blind_spot = crisis.resident_in_crisis & (rng.random(n) < blind_probability)
    detected_on, detection_left = _detections(rng, population, signals, reference)

    cadence = np.array(config.cadence.days_for(np.arange(3)), dtype=np.int64)
    first_visit_days = np.array(config.first_visit.days_for(np.arange(3)), dtype=np.int64)
    proxy = TierProxy(population, finances, signals, residents, config)
    capacity_of = [member_capacities(int(size)) for size in team_size]
    team_capacity = np.array([c.sum() for c in capacity_of], dtype=np.int64)
    # a team larger than its dong's demo residents call for (the 3-member floor of small
    # demos) spends only that share of its days on them: visits per day of each team
    residents_per_dong = np.bincount(dong, minlength=n_dongs)
    share = np.minimum(residents_per_dong / (RESIDENTS_PER_MEMBER * team_size), 1.0)
    team_rate = team_capacity * share
    member_of_rank = np.zeros((n_dongs, max(int(team_capacity.max()), 1)), dtype=np.int64)
    for index, capacities in enumerate(capacity_of):
        ranks = np.repeat(np.arange(len(capacities)), capacities)
        member_of_rank[index, : len(ranks)] = ranks

    candidate = residents.active & ~blind_spot
    eligible_from = np.maximum(
        np.maximum(residents.registered_on, residents.birth + as_days(1)), start
    ).astype(np.int64)
    onset = crisis.household_onset[household].astype(np.int64)  # NaT: a very negative number
    in_crisis = crisis.resident_in_crisis & ~np.isnat(crisis.household_onset[household])
    isolation = crisis.household_kind[household] == "isolation"
    hard_to_meet = crisis.lone_middle_aged_man | (in_crisis & isolation)

    tier = np.full(n, -1, dtype=np.int64)
    tier_since = np.full(n, _NEVER, dtype=np.int64)
    last_met = np.full(n, _NEVER, dtype=np.int64)
    last_contact = np.full(n, _NEVER, dtype=np.int64)
    retry_on = np.full(n, _NEVER, dtype=np.int64)
    detection_due = np.where(detection_left > 0, detected_on, _LATER)

    def regular_due(who) -> np.ndarray:
        """Next due day: last met + cadence, or first scored into the tier + first-visit days."""
        return np.where(
            last_met[who] == _NEVER,
            tier_since[who] + first_visit_days[tier[who]],
            last_met[who] + cadence[tier[who]],
        )

    def ready_day(who) -> np.ndarray:
        """First day each resident may be visited (``_LATER``: never)."""
        due = np.minimum(regular_due(who), detection_due[who])
        day = np.maximum(np.maximum(due, retry_on[who]), eligible_from[who])
        return np.where(candidate[who], day, _LATER)

    everyone = np.arange(n)
    ready_on = np.full(n, _LATER, dtype=np.int64)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    evaluate = np.r_[True, months[1:] != months[:-1]]
    rows = {key: [] for key in ("resident", "day", "team", "member", "tier", "urgent", "u")}
    for day_index, (day, monthly) in enumerate(zip(days, evaluate, strict=True)):
        today_capacity = np.floor((day_index + 1) * team_rate) - np.floor(day_index * team_rate)
        if monthly:
            previous = np.where(tier < 0, 1, tier)  # no previous run: medium, as in scoring
            new_tier = proxy.tiers(int(day), last_met, last_contact, previous)
            changed = (new_tier != tier) | (tier_since == _NEVER)
            tier_since = np.where(changed, np.maximum(day, eligible_from), tier_since)
            tier = new_tier
            ready_on = ready_day(everyone)
        chosen = np.flatnonzero(ready_on <= day)
        if not len(chosen):
            continue
        urgent = detection_due[chosen] <= day
        due = np.where(urgent, detection_due[chosen], regular_due(chosen))
        # most urgent first: detections, tier, met before (overdue) over first visits, days
        # past due; then the resident index (the sort is stable)
        priority = (
            urgent.astype(np.int64) * (1 << 40)
            + tier[chosen] * (1 << 36)
            + (last_met[chosen] != _NEVER) * (1 << 35)
            + np.clip(day - due, 0, (1 << 34) - 1)
        )
        team = dong[chosen]
        order = np.argsort(team * (1 << 42) + ((1 << 42) - 1 - priority), kind="stable")
        chosen, priority, urgent, team = chosen[order], priority[order], urgent[order], team[order]
        first_of_team = np.searchsorted(team, np.arange(n_dongs))
        rank = np.arange(len(chosen)) - first_of_team[team]
        keep = rank < today_capacity[team]
        if observe is not None:
            member_of_ready = np.full(len(chosen), -1, dtype=np.int64)
            member_of_ready[keep] = member_of_rank[team[keep], rank[keep]]
            observe(
                DayRecord(
                    day=int(day),
                    ready=chosen,
                    team=team,
                    tier=tier[chosen],
                    urgent=urgent,
                    priority=priority,
                    visited=keep,
                    member=member_of_ready,
                )
            )
        chosen, team, rank, urgent = chosen[keep], team[keep], rank[keep], urgent[keep]
        member = member_of_rank[team, rank]
        outcome_index = _outcomes(rng.random(len(chosen)), hard_to_meet[chosen])
        crisis_now = in_crisis[chosen] & (day >= onset[chosen])
        confirm_probability = np.where(
            crisis_now,
            np.where(isolation[chosen], CONFIRM_PROBABILITY_ISOLATION, CONFIRM_PROBABILITY),
            FALSE_CONFIRM_PROBABILITY,
        )
        outcome_index[rng.random(len(chosen)) < confirm_probability] = CONFIRMED
        met = (outcome_index == 0) | (outcome_index == CONFIRMED)
        last_met[chosen[met]] = day
        contact = met | (outcome_index == 2)
        last_contact[chosen[contact]] = day
        retry_on[chosen] = np.where(
            met, _NEVER, day + np.where(outcome_index == 3, UNREACHABLE_RETRY_DAYS, RETRY_DAYS)
        )
        detected = chosen[urgent]
        detection_left[detected] -= 1
        detection_due[detected] = np.where(
            detection_left[detected] > 0, day + DETECTION_FOLLOW_UP_DAYS, _LATER
        )
        ready_on[chosen] = ready_day(chosen)
        rows["resident"].append(chosen.astype(np.int32))
        rows["day"].append(np.full(len(chosen), day, dtype=np.int32))
        rows["team"].append(team.astype(np.int32))
        rows["member"].append(member.astype(np.int8))
        rows["tier"].append(tier[chosen].astype(np.int8))
        rows["urgent"].append(urgent)
        rows["u"].append(outcome_index.astype(np.int8))
    columns = {
        key: (np.concatenate(value) if value else np.zeros(0, dtype=np.int64))
        for key, value in rows.items()
    }
    visits = _visit_table(rng, population, columns)
    return VisitPlan(visits=visits, blind_spot=blind_spot)


#: Outcome weights (met, not home, refused, unreachable): usual, and hard to meet (lone
#: middle-aged men, residents in an isolation crisis).
OUTCOME_WEIGHTS = np.array([[0.78, 0.14, 0.04, 0.04], [0.45, 0.27, 0.17, 0.11]])


def _outcomes(draw: np.ndarray, hard_to_meet: np.ndarray) -> np.ndarray:
    """Outcome index in :data:`geo.demo.welfare.VISIT_OUTCOMES` of each visit."""
    cumulative = np.cumsum(OUTCOME_WEIGHTS, axis=1)[hard_to_meet.astype(np.int64)]
    return np.minimum((draw[:, None] > cumulative).sum(axis=1), 3)


def _visit_table(
    rng: np.random.Generator,
    population: Population,
    columns: dict,
) -> pd.DataFrame:
    """Visit times, visitor labels and notes of the simulated visits."""
    resident = columns["resident"]
    day = columns["day"]
    outcome_index = columns["u"]
    n_visits = len(resident)
    outcome = pd.Categorical.from_codes(
        outcome_index, categories=[*VISIT_OUTCOMES, "crisis_confirmed"]
    )
    reason = np.where(columns["urgent"], CRISIS_DETECTION, _reasons(population)[resident])
    household = population.household[resident]
    pool = visitor_pool(rng, int(population.household_dong.max()) + 1 if len(household) else 1)
    dong = population.household_dong[household]
    member = columns["member"].astype(np.int64)
    labels, label_code = np.unique(pool.astype(str).ravel(), return_inverse=True)
    label_code = label_code.reshape(pool.shape)[dong, reason, member % 2, (member // 2) % 2]
    visitor = pd.Categorical.from_codes(label_code, categories=labels)
    minute_of_day = 9 * 60 + 5 * rng.integers(0, 9 * 12, n_visits)
    # categorical columns: millions of visits share a few thousand labels and phrases
    note_texts = [""] + [text for options in VISIT_NOTES.values() for text in options]
    note_code = np.zeros(n_visits, dtype=np.int16)
    first = 1
    for outcome_name, options in VISIT_NOTES.items():
        rows = np.flatnonzero(np.asarray(outcome == outcome_name))
        note_code[rows] = first + rng.integers(0, len(options), len(rows))
        first += len(options)
    note_code[rng.random(n_visits) < 0.3] = 0
    notes = pd.Categorical.from_codes(note_code, categories=note_texts)  # texts are unique
    order = np.lexsort((resident, minute_of_day, day))  # by time, then resident
    visits = pd.DataFrame(
        {
            "resident": resident[order].astype(np.int64),
            "visited_on": day[order].astype("datetime64[D]"),
            "minute_of_day": minute_of_day[order],
            "visitor": visitor[order],
            "outcome": outcome[order],
            "notes": notes[order],
            "team": columns["team"][order],
            "member": columns["member"][order],
            "tier": columns["tier"][order],
            "urgent": columns["urgent"][order],
        }
    )
    return visits
