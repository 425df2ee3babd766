"""Calibrated synthetic population for the demo generator (see ``docs/demo_data.md``).

This module builds residents and households per 행정동 from the real statistics in ``data/``:
population size, single-year age by sex, lone elderly (독거노인), single-person households
(1인 세대) and basic-livelihood (기초생활보장) recipients.

Everything is vectorised with numpy per dong; all randomness comes from the
:class:`numpy.random.Generator` passed in, so results are reproducible.

Length: one calibration pipeline (counts per dong, ages, household types, places) whose
steps share the region's targets; each step is a short function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyogrio

from geo.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "data"
SEODAEMUN_SGG_CD = "11410"
MAX_AGE = 110  # the age files end with an open "110plus" class, generated as exactly 110
ELDERLY_AGE = 65
OLDEST_OLD_AGE = 80
ADULT_AGE = 19
MULTI_PERSON_SIZES = np.arange(2, 9)  # households of 9+ persons are folded into 8
BLSA_LIVELIHOOD_THRESHOLD = 0.32  # 생계급여 선정기준: 32% of the standard median income


@dataclass(frozen=True)
class RegionTargets:
    """Calibration targets and geometry for each dong of a region.

    Attributes
    ----------
    dongs
        One row per dong, sorted by ``adm_cd2``: ``adm_cd2``, ``sgg_cd``, ``sgg_nm``,
        ``dong_nm``, ``population`` (persons), ``share_65plus``, ``lone_share_of_65plus``,
        ``lone_80plus_share`` (80+ share among lone elderly), ``single_household_share``,
        ``blsa_rate`` (recipients per person), ``lone_elderly_blsa_share`` and ``source``
        (``mois_2026_03`` or ``seoul_2021q2``).
    age_sex_probabilities
        Array ``(n_dongs, 2, MAX_AGE + 1)``: probability of (sex, age), sex 0 = male.
    multi_person_size_probabilities
        Array ``(n_dongs, 7)``: distribution of household sizes 2..8 among multi-person
        households.
    polygons
        Array of shapely geometries (EPSG:4326), aligned with ``dongs``.
    """

    dongs: pd.DataFrame
    age_sex_probabilities: np.ndarray
    multi_person_size_probabilities: np.ndarray
    polygons: np.ndarray


@dataclass(frozen=True)
class Population:
    """Residents and households, ordered by dong, household, head first.

    Person arrays have one entry per resident, household arrays one per household; the
    ``household`` array maps residents to household indices.

    Attributes
    ----------
    age
        Age in completed years at the reference date.
    is_male
        True for men.
    household
        Household index (0-based, into the household arrays).
    is_head
        The household's reference person (the one visits and benefits are recorded on).
    disability
        Registered disability (등록장애인).
    household_dong
        Index into ``RegionTargets.dongs`` for each household.
    household_size
        Persons per household.
    household_head
        Person index of each household's head.
    household_blsa
        Household receives basic-livelihood benefits (all members are recipients).
    """

    age: np.ndarray
    is_male: np.ndarray
    household: np.ndarray
    is_head: np.ndarray
    disability: np.ndarray
    household_dong: np.ndarray
    household_size: np.ndarray
    household_head: np.ndarray
    household_blsa: np.ndarray


def as_days(values: np.ndarray) -> np.ndarray:
    """Convert whole numbers of days to ``timedelta64[D]`` (fractions are truncated)."""
    return np.asarray(values, dtype=np.int64).astype("timedelta64[D]")


def _read_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / name, dtype={"adm_cd2": str})


def load_region_targets(region: str) -> RegionTargets:
    """Read the real statistics and boundaries for ``region`` and derive per-dong targets.

    Parameters
    ----------
    region
        ``"seodaemun"`` (14 dongs) or ``"seoul"`` (425 dongs).

    Returns
    -------
    RegionTargets
        Targets and polygons; see ``docs/demo_data.md`` for the formulas.
    """
    boundaries = pyogrio.read_dataframe(DATA_DIR / "seoul_admdong_2021.geojson")
    boundaries = boundaries.sort_values("adm_cd2").reset_index(drop=True)
    if region == "seodaemun":
        boundaries = boundaries[boundaries["sgg_cd"] == SEODAEMUN_SGG_CD].reset_index(drop=True)

    population_2021 = _read_csv("seoul_dong_population_2021q2.csv")
    household_sizes = _read_csv("seoul_dong_household_size_2021q1.csv")
    lone_elderly = _read_csv("seoul_dong_lone_elderly_2021_2023.csv")
    # Year 2023; 개포3동 and 일원2동 share one 2021 code (rename), so sum per code.
    lone_elderly = (
        lone_elderly[(lone_elderly["year"] == 2023) & lone_elderly["adm_cd2"].notna()]
        .groupby("adm_cd2")[["lone_elderly_total", "lone_elderly_80plus", "blsa_total"]]
        .sum()
    )
    indicators = _read_csv("seodaemun_dong_indicators.csv").set_index("adm_cd2")
    ages_2026 = _read_csv("seodaemun_population_by_age_2026-03.csv").set_index("adm_cd2")
    blsa_rows = _read_csv("seodaemun_basic_livelihood_recipients_2021-07.csv")

    dongs = boundaries[["adm_cd2", "sgg_cd", "sgg_nm", "dong_nm"]].copy()
    codes = dongs["adm_cd2"]
    pop21 = population_2021.set_index("adm_cd2").loc[codes]
    sizes = household_sizes.set_index("adm_cd2").loc[codes]
    lone = lone_elderly.reindex(codes).fillna(0.0)
    is_seodaemun = (dongs["sgg_cd"] == SEODAEMUN_SGG_CD).to_numpy()

    age_columns_male = [f"m_{age}" for age in range(MAX_AGE)] + [f"m_{MAX_AGE}plus"]
    age_columns_female = [f"f_{age}" for age in range(MAX_AGE)] + [f"f_{MAX_AGE}plus"]
    sdm_counts = np.stack(
        [
            ages_2026[age_columns_male].to_numpy(float),
            ages_2026[age_columns_female].to_numpy(float),
        ],
        axis=1,
    )  # (14, 2, 111), rows in ages_2026 order
    sdm_shape = sdm_counts.sum(axis=0) / sdm_counts.sum()
    is_elderly_age = np.arange(MAX_AGE + 1) >= ELDERLY_AGE
    shape_share_65 = sdm_shape[:, is_elderly_age].sum()

    n_dongs = len(dongs)
    age_probs = np.empty((n_dongs, 2, MAX_AGE + 1))
    population = pop21["pop_total"].to_numpy(float)
    pop65 = pop21["pop_65plus"].to_numpy(float)
    share_65 = pop65 / population
    sdm_row = {code: i for i, code in enumerate(ages_2026.index)}
    for i, code in enumerate(codes):
        if is_seodaemun[i]:
            counts = sdm_counts[sdm_row[code]]
            age_probs[i] = counts / counts.sum()
            population[i] = counts.sum()
            pop65[i] = counts[:, is_elderly_age].sum()
            share_65[i] = pop65[i] / population[i]
        else:
            reweighted = sdm_shape.copy()
            reweighted[:, is_elderly_age] *= share_65[i] / shape_share_65
            reweighted[:, ~is_elderly_age] *= (1.0 - share_65[i]) / (1.0 - shape_share_65)
            age_probs[i] = reweighted

    lone_total = lone["lone_elderly_total"].to_numpy(float)
    lone_80 = lone["lone_elderly_80plus"].to_numpy(float)
    lone_blsa = lone["blsa_total"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lone_share = np.where(pop65 > 0, lone_total / pop65, 0.0)
        lone_80_share = np.where(lone_total > 0, lone_80 / lone_total, 0.0)
        lone_blsa_share = np.where(lone_total > 0, lone_blsa / lone_total, 0.0)

    blsa_by_dong = blsa_rows.dropna(subset=["adm_cd2"]).groupby("adm_cd2")["recipients"].sum()
    sdm_codes = indicators.index
    seodaemun_blsa_rate = blsa_rows["recipients"].sum() / indicators["pop_2021q2"].sum()
    blsa_rate = np.full(n_dongs, seodaemun_blsa_rate)
    for i, code in enumerate(codes):
        if code in sdm_codes:
            blsa_rate[i] = blsa_by_dong.get(code, 0) / indicators.loc[code, "pop_2021q2"]

    size_columns = [f"hh_{k}" for k in range(2, 9)]
    size_counts = sizes[size_columns].to_numpy(float)
    size_counts[:, -1] += sizes["hh_9"].to_numpy(float) + sizes["hh_10plus"].to_numpy(float)
    size_totals = size_counts.sum(axis=1, keepdims=True)
    fallback = np.full(len(MULTI_PERSON_SIZES), 1.0 / len(MULTI_PERSON_SIZES))
    size_probs = np.where(size_totals > 0, size_counts / np.maximum(size_totals, 1), fallback)

    dongs = dongs.assign(
        population=population,
        share_65plus=share_65,
        lone_share_of_65plus=np.clip(lone_share, 0.0, 1.0),
        lone_80plus_share=np.clip(lone_80_share, 0.0, 1.0),
        single_household_share=(sizes["hh_1"] / sizes["households_total"]).to_numpy(float),
        blsa_rate=blsa_rate,
        lone_elderly_blsa_share=np.clip(lone_blsa_share, 0.0, 1.0),
        source=np.where(is_seodaemun, "mois_2026_03", "seoul_2021q2"),
    )
    return RegionTargets(
        dongs=dongs.reset_index(drop=True),
        age_sex_probabilities=age_probs,
        multi_person_size_probabilities=size_probs,
        polygons=boundaries.geometry.to_numpy(),
    )


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder).

    Parameters
    ----------
    total
        Number to split.
    weights
        Non-negative weights, not all zero.

    Returns
    -------
    numpy.ndarray
        Integer counts summing to ``total``; each differs from its exact quota by less than 1.
        Ties go to the earlier entry.
    """
    quota = total * np.asarray(weights, float) / np.sum(weights)
    counts = np.floor(quota).astype(np.int64)
    remainder = total - counts.sum()
    order = np.lexsort((np.arange(len(quota)), -(quota - counts)))
    counts[order[:remainder]] += 1
    return counts


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, count: int) -> np.ndarray:
    """Sample ``count`` positions without replacement, with probability favouring ``weights``.

    Efraimidis-Spirakis keys ``log(u) / w``; returns sorted positions (``count`` is clipped
    to the number of positive weights).
    """
    weights = np.asarray(weights, float)
    count = int(min(count, np.count_nonzero(weights > 0)))
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    uniform = 1.0 - rng.random(len(weights))
    with np.errstate(divide="ignore"):
        keys = np.where(weights > 0, np.log(uniform) / weights, -np.inf)
    return np.sort(np.argpartition(-keys, count - 1)[:count])


def _draw_multi_person_sizes(
    rng: np.random.Generator, total_persons: int, size_probs: np.ndarray
) -> np.ndarray:
    """Draw household sizes (2..8) from ``size_probs`` that sum to ``total_persons``.

    Sizes are drawn i.i.d. until they reach the total; the last one is cut to fit, and a
    leftover single person joins a random household below the largest size.
    """
    if total_persons < 2:
        return np.empty(0, dtype=np.int64)
    mean_size = float(MULTI_PERSON_SIZES @ size_probs)
    draws = int(total_persons / mean_size * 1.3) + 8
    sizes = rng.choice(MULTI_PERSON_SIZES, size=draws, p=size_probs)
    while sizes.sum() < total_persons:
        sizes = np.concatenate([sizes, rng.choice(MULTI_PERSON_SIZES, size=draws, p=size_probs)])
    cumulative = np.cumsum(sizes)
    last = int(np.searchsorted(cumulative, total_persons))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= cumulative[last] - total_persons
    if sizes[-1] == 0:
        sizes = sizes[:-1]
    elif sizes[-1] == 1:
        sizes = sizes[:-1]
        growable = np.flatnonzero(sizes < MULTI_PERSON_SIZES[-1])
        pool = growable if len(growable) else np.arange(len(sizes))
        sizes[pool[rng.integers(len(pool))]] += 1
    return sizes


def build_dong_households(
    rng: np.random.Generator,
    age: np.ndarray,
    is_male: np.ndarray,
    lone_share: float,
    lone_80plus_share: float,
    single_share: float,
    size_probs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Group one dong's residents into households that meet the dong's targets.

    Parameters
    ----------
    rng
        Random generator.
    age, is_male
        Residents of the dong (age in years).
    lone_share
        Target share of residents aged 65+ who live alone.
    lone_80plus_share
        Target share of 80+ among those lone elderly.
    single_share
        Target share of single-person households among all households.
    size_probs
        Distribution of sizes 2..8 among multi-person households.

    Returns
    -------
    household : numpy.ndarray
        Local household index per resident (0..n_households-1, in random order).
    is_head : numpy.ndarray
        True for each household's reference person.

    Notes
    -----
    1. Lone elderly: ``round(lone_share * n65)`` residents aged 65+ live alone, of whom
       ``round(lone_80plus_share * k)`` are 80+.
    2. Single-person households: with ``m`` the mean size of multi-person households, the
       number of singles ``H1 = h n / (m (1 - h) + h)`` gives share ``h`` of households. The
       singles beyond the lone elderly are adults aged 19-64 (weighted to young adults and,
       among 40-64, to men). When ``H1`` is below the lone-elderly count the lone-elderly
       target wins.
    3. The rest form multi-person households with sizes drawn from ``size_probs`` summing
       exactly to the remaining residents; each has an adult head, and members are matched
       to heads by sorted age keys (children to heads about 31 years older, spouses to heads
       of similar age), which gives plausible families without explicit kinship.
    """
    n_persons = len(age)
    household = np.full(n_persons, -1, dtype=np.int64)
    is_head = np.zeros(n_persons, dtype=bool)
    if n_persons == 0:
        return household, is_head

    young_old = np.flatnonzero((age >= ELDERLY_AGE) & (age < OLDEST_OLD_AGE))
    oldest_old = np.flatnonzero(age >= OLDEST_OLD_AGE)
    n_elderly = len(young_old) + len(oldest_old)
    lone_count = min(int(round(lone_share * n_elderly)), n_elderly)
    lone_80_count = min(int(round(lone_80plus_share * lone_count)), len(oldest_old))
    lone_6579_count = min(lone_count - lone_80_count, len(young_old))
    lone_80_count = lone_count - lone_6579_count
    lone = np.concatenate(
        [
            rng.choice(oldest_old, size=lone_80_count, replace=False),
            rng.choice(young_old, size=lone_6579_count, replace=False),
        ]
    ).astype(np.int64)

    mean_multi_size = float(MULTI_PERSON_SIZES @ size_probs)
    singles_target = int(
        round(single_share * n_persons / (mean_multi_size * (1 - single_share) + single_share))
    )
    working_age = (age >= ADULT_AGE) & (age < ELDERLY_AGE)
    single_weight = np.select(
        [age < ADULT_AGE, age < 25, age < 35, age < 40, age < ELDERLY_AGE],
        [0.0, 1.6, 2.0, 1.0, 1.0],
        0.0,
    )
    single_weight = single_weight * np.where(is_male & (age >= 40) & working_age, 1.4, 1.0)
    young_singles = weighted_sample(rng, single_weight, max(singles_target - lone_count, 0))
    singles = np.concatenate([lone, young_singles])

    is_single = np.zeros(n_persons, dtype=bool)
    is_single[singles] = True
    rest = np.flatnonzero(~is_single)
    sizes = _draw_multi_person_sizes(rng, len(rest), size_probs)
    if len(rest) == 1:  # a lone leftover person forms a single-person household
        singles = np.concatenate([singles, rest])
        rest = rest[:0]
    rest_adults = rest[age[rest] >= ADULT_AGE]
    if len(sizes) > len(rest_adults):  # only for tiny samples: fewer, larger households
        n_multi = max(len(rest_adults), 1)
        sizes = np.array([len(part) for part in np.array_split(np.arange(len(rest)), n_multi)])
        sizes = sizes[sizes > 0]
    n_singles = len(singles)
    household[singles] = np.arange(n_singles)
    is_head[singles] = True
    if len(rest):
        head_weight = np.select(
            [age[rest] < ADULT_AGE, age[rest] < 25, age[rest] < 30, age[rest] < OLDEST_OLD_AGE],
            [0.0, 0.3, 0.8, 1.0],
            0.7,
        )
        if not np.any(head_weight > 0):
            head_weight = np.ones(len(rest))
        heads = rest[weighted_sample(rng, head_weight, len(sizes))]
        # Larger households get heads near 45, smaller ones the others.
        head_score = -np.abs(age[heads] - 45) / 12.0 + rng.gumbel(size=len(heads))
        heads = heads[np.argsort(-head_score, kind="stable")]
        sizes = np.sort(sizes, kind="stable")[::-1]
        household_ids = n_singles + np.arange(len(sizes))
        household[heads] = household_ids
        is_head[heads] = True

        members = np.setdiff1d(rest, heads, assume_unique=True)
        slot_household = np.repeat(household_ids, sizes - 1)
        slot_key = np.repeat(age[heads], sizes - 1) + rng.normal(0, 4, len(slot_household))
        member_age = age[members].astype(float)
        adult_child = (
            (member_age >= ADULT_AGE) & (member_age < 35) & (rng.random(len(members)) < 0.6)
        )
        member_key = np.where(
            (member_age < ADULT_AGE) | adult_child,
            member_age + 31 + rng.normal(0, 5, len(members)),
            member_age + rng.normal(0, 3, len(members)),
        )
        household[members[np.argsort(member_key, kind="stable")]] = slot_household[
            np.argsort(slot_key, kind="stable")
        ]
    n_households = n_singles + len(sizes)
    shuffled = rng.permutation(n_households)
    return shuffled[household], is_head


def _disability_probability(age: np.ndarray) -> np.ndarray:
    """Return the registered-disability prevalence by age (about 5% overall, rising)."""
    return np.select([age < 20, age < 50, age < 65, age < 80], [0.01, 0.025, 0.06, 0.10], 0.15)


def _assign_blsa(
    rng: np.random.Generator,
    dong_households: np.ndarray,
    sizes: np.ndarray,
    head_age: np.ndarray,
    any_disability: np.ndarray,
    target_persons: int,
    lone_elderly_blsa_share: float,
) -> np.ndarray:
    """Choose one dong's recipient households so that recipients (persons) hit the target.

    Lone elderly first (share ``lone_elderly_blsa_share`` of them, from the 독거노인 file),
    then other households weighted to single adults and disability, filled greedily; the
    remainder is closed exactly with single-person households.
    """
    chosen = np.zeros(len(dong_households), dtype=bool)
    lone_elderly = (sizes == 1) & (head_age >= ELDERLY_AGE)
    lone_positions = np.flatnonzero(lone_elderly)
    lone_recipients = min(int(round(lone_elderly_blsa_share * len(lone_positions))), target_persons)
    chosen[rng.choice(lone_positions, size=lone_recipients, replace=False)] = True
    remaining = target_persons - lone_recipients
    if remaining <= 0:
        return chosen
    weight = np.where(lone_elderly, 0.0, 1.0)
    weight *= np.where(sizes == 1, 3.0, 1.0) * np.where(any_disability, 2.5, 1.0)
    weight *= np.where((sizes > 1) & (head_age >= ELDERLY_AGE), 1.5, 1.0)
    uniform = 1.0 - rng.random(len(weight))
    with np.errstate(divide="ignore"):
        keys = np.where(weight > 0, np.log(uniform) / weight, -np.inf)
    order = np.argsort(-keys, kind="stable")
    order = order[weight[order] > 0]
    cumulative = np.cumsum(sizes[order])
    take = int(np.searchsorted(cumulative, remaining, side="right"))
    chosen[order[:take]] = True
    gap = remaining - (int(cumulative[take - 1]) if take else 0)
    if gap > 0:
        spare_singles = np.flatnonzero((sizes == 1) & ~chosen)
        spare_singles = spare_singles[np.argsort(-keys[spare_singles], kind="stable")]
        chosen[spare_singles[:gap]] = True
    return chosen


def build_population(
    rng: np.random.Generator, targets: RegionTargets, residents_per_dong: np.ndarray
) -> Population:
    """Draw residents, build households and choose recipients, dong by dong.

    Parameters
    ----------
    rng
        Random generator.
    targets
        Region targets from :func:`load_region_targets`.
    residents_per_dong
        Number of residents to create in each dong (aligned with ``targets.dongs``).

    Returns
    -------
    Population
        Residents ordered by dong, then household, head first.
    """
    dongs = targets.dongs
    ages, males, households, heads, household_dongs = [], [], [], [], []
    household_offset = 0
    n_cells = 2 * (MAX_AGE + 1)
    for dong_index, n_residents in enumerate(residents_per_dong):
        cells = rng.choice(
            n_cells, size=int(n_residents), p=targets.age_sex_probabilities[dong_index].ravel()
        )
        age = cells % (MAX_AGE + 1)
        is_male = cells < MAX_AGE + 1
        household, is_head = build_dong_households(
            rng,
            age,
            is_male,
            lone_share=float(dongs["lone_share_of_65plus"].iat[dong_index]),
            lone_80plus_share=float(dongs["lone_80plus_share"].iat[dong_index]),
            single_share=float(dongs["single_household_share"].iat[dong_index]),
            size_probs=targets.multi_person_size_probabilities[dong_index],
        )
        n_households = int(household.max()) + 1 if len(household) else 0
        ages.append(age)
        males.append(is_male)
        households.append(household + household_offset)
        heads.append(is_head)
        household_dongs.append(np.full(n_households, dong_index))
        household_offset += n_households

    age = np.concatenate(ages).astype(np.int64)
    is_male = np.concatenate(males)
    household = np.concatenate(households)
    is_head = np.concatenate(heads)
    household_dong = np.concatenate(household_dongs).astype(np.int64)
    order = np.lexsort((rng.random(len(age)), ~is_head, household))
    age, is_male, household, is_head = age[order], is_male[order], household[order], is_head[order]

    disability = rng.random(len(age)) < _disability_probability(age)
    household_size = np.bincount(household, minlength=household_offset)
    household_head = np.flatnonzero(is_head)  # heads are first and households are sorted
    any_disability = np.bincount(household, weights=disability, minlength=household_offset) > 0
    head_age = age[household_head]
    household_blsa = np.zeros(household_offset, dtype=bool)
    for dong_index, n_residents in enumerate(residents_per_dong):
        in_dong = np.flatnonzero(household_dong == dong_index)
        target_persons = int(round(dongs["blsa_rate"].iat[dong_index] * n_residents))
        household_blsa[in_dong] = _assign_blsa(
            rng,
            in_dong,
            household_size[in_dong],
            head_age[in_dong],
            any_disability[in_dong],
            target_persons,
            float(dongs["lone_elderly_blsa_share"].iat[dong_index]),
        )
    return Population(
        age=age,
        is_male=is_male,
        household=household,
        is_head=is_head,
        disability=disability,
        household_dong=household_dong,
        household_size=household_size,
        household_head=household_head,
        household_blsa=household_blsa,
    )
