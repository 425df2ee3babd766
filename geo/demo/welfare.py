"""Hidden crisis model, household finances, crisis signals and visit outcomes for the demo.

The generative model is documented in ``docs/demo_data.md``. In short: each household has a
latent crisis probability from its observable risk factors plus a hidden frailty; households
in crisis get a kind and an onset date, produce many more arrears signals, and their visited
members are confirmed in crisis only with some probability (a noisy label). Some residents in
crisis are blind spots: never visited at all. The visits themselves are simulated in
:mod:`geo.demo.visiting`.

Length: the hidden crisis model and everything drawn from it (finances, signals, visits)
must stay consistent with one latent state per household.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.demo.identity import draw_surnames
from geo.demo.population import (
    BLSA_LIVELIHOOD_THRESHOLD,
    DATA_DIR,
    ELDERLY_AGE,
    OLDEST_OLD_AGE,
    Population,
    as_days,
)

HISTORY_DAYS = 730  # signals and visits cover the 24 months before the reference date
CRISIS_HOUSEHOLD_RATE = 0.06  # target mean share of households in crisis
CRISIS_KINDS = np.array(["isolation", "income", "health", "utility_arrears"])
SINGLE_KIND_WEIGHTS = np.array([0.35, 0.20, 0.25, 0.20])
MULTI_KIND_WEIGHTS = np.array([0.0, 0.45, 0.20, 0.35])
ONSET_WINDOW_DAYS = 540

SIGNAL_KINDS = np.array([
    "electricity_arrears", "electricity_cutoff", "water_arrears", "water_cutoff", "gas_arrears",
    "gas_cutoff", "health_insurance_arrears", "rent_arrears", "management_fee_arrears",
    "telecom_arrears",
])  # fmt: skip
SIGNAL_SOURCES = np.array([
    "한국전력공사", "한국전력공사", "서울시 상수도사업본부", "서울시 상수도사업본부", "도시가스",
    "도시가스", "국민건강보험공단", "관리사무소", "관리사무소", "이동통신사",
])  # fmt: skip
# Household accounts: these kinds may be recorded against the household, not a person.
HOUSEHOLD_ACCOUNT_SIGNAL = np.array(
    [kind.startswith(("electricity", "water", "gas", "management_fee")) for kind in SIGNAL_KINDS]
)
HOUSEHOLD_LEVEL_SIGNAL_SHARE = 0.4
# Rows: CRISIS_KINDS then "none" (background signals); columns: SIGNAL_KINDS.
SIGNAL_KIND_WEIGHTS = np.array(
    [
        [0.25, 0.02, 0.05, 0.0, 0.15, 0.03, 0.05, 0.0, 0.30, 0.15],  # isolation
        [0.10, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.25, 0.20, 0.20],  # income
        [0.30, 0.0, 0.0, 0.0, 0.0, 0.0, 0.50, 0.0, 0.0, 0.20],  # health
        [0.27, 0.08, 0.17, 0.05, 0.23, 0.12, 0.0, 0.0, 0.08, 0.0],  # utility_arrears
        [0.18, 0.0, 0.12, 0.0, 0.12, 0.0, 0.18, 0.08, 0.12, 0.20],  # none
    ]
)
SIGNALS_PER_CRISIS = np.array([1.0, 2.5, 1.3, 3.5])  # Poisson means by crisis kind, 24 months
SIGNALS_PER_OTHER_HOUSEHOLD = 0.06

VISIT_OUTCOMES = np.array(["met", "not_home", "refused", "unreachable"])
CONFIRM_PROBABILITY = 0.45  # per visit after onset, resident in crisis
CONFIRM_PROBABILITY_ISOLATION = 0.30
FALSE_CONFIRM_PROBABILITY = 0.005  # per visit, resident not (yet) in crisis
VISIT_REASONS = ("elderly_care", "case_management", "crisis_detection", "routine")
VISITOR_ROLES = {
    "elderly_care": ("생활지원사", "방문간호사"),
    "case_management": ("사례관리사", "주무관"),
    "crisis_detection": ("복지플래너", "주무관"),
    "routine": ("복지통장", "방문간호사"),
}
VISIT_NOTES = {
    "met": ("안부 확인, 특이사항 없음", "건강 상태 양호", "식사 잘 하심", "복지 서비스 안내함"),
    "not_home": ("부재, 안내문 부착", "부재, 재방문 예정"),
    "refused": ("방문 거부, 재방문 예정", "면담 거부, 전화 상담 안내"),
    "unreachable": ("연락 두절, 이웃 탐문", "주소지 확인 불가"),
    "crisis_confirmed": (
        "공과금 체납 확인, 긴급지원 연계 필요",
        "건강 악화, 의료 지원 필요",
        "생계 곤란 호소, 상담 진행",
        "고립 위험, 정기 방문 필요",
    ),
}


def _sigmoid(logit: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logit))


def load_standard_median_income() -> pd.DataFrame:
    """Read ``data/standard_median_income.csv``: year, household_size, median_income_krw."""
    return pd.read_csv(DATA_DIR / "standard_median_income.csv")


def median_income_year(table: pd.DataFrame, year: int) -> int:
    """Return the tabulated year nearest to ``year`` (ties go to the earlier year)."""
    years = np.sort(table["year"].unique())
    return int(years[np.argmin(np.abs(years - year))])


def median_income(table: pd.DataFrame, household_size: np.ndarray, year: int) -> np.ndarray:
    """Look up the standard median income (기준 중위소득) of each household size.

    Parameters
    ----------
    table
        From :func:`load_standard_median_income`.
    household_size
        Persons per household.
    year
        The year; a year outside the table uses the nearest tabulated year.

    Returns
    -------
    numpy.ndarray
        KRW per month, one per entry of ``household_size``. Sizes above 7 extend the
        official rule: add the 6-person minus 5-person difference per extra person.
    """
    year = median_income_year(table, year)
    by_size = table[table["year"] == year].set_index("household_size")["median_income_krw"]
    step = by_size[6] - by_size[5]
    lookup = np.array([0] + [by_size[size] for size in range(1, 8)], dtype=np.int64)
    size = np.asarray(household_size, dtype=np.int64)
    return np.where(size <= 7, lookup[np.minimum(size, 7)], by_size[7] + (size - 7) * step)


@dataclass(frozen=True)
class Finances:
    """Household income and assets.

    Attributes
    ----------
    income_krw
        Recorded household income, KRW per month (pre-crisis administrative value).
    assets_krw
        Household assets, KRW.
    income_ratio
        ``income_krw`` divided by the standard median income for the household size.
    """

    income_krw: np.ndarray
    assets_krw: np.ndarray
    income_ratio: np.ndarray


def draw_finances(
    rng: np.random.Generator, population: Population, medians: np.ndarray
) -> Finances:
    """Draw household income relative to the standard median income, and assets.

    Recipients: 25% have no income, the others ``0.32 * Beta(1.3, 2.2)`` of the median, so all
    stay below the 32% livelihood threshold. Others: ``log(ratio) ~ Normal(mu, 0.65)`` with
    ``mu = 0`` lowered for elderly heads (-0.45), lone elderly (further -0.35), young single
    adults (-0.3) and households with a disability (-0.25).

    Parameters
    ----------
    medians
        Standard median income for each household (KRW per month).
    """
    head_age = population.age[population.household_head]
    size = population.household_size
    blsa = population.household_blsa
    any_disability = (
        np.bincount(population.household, weights=population.disability, minlength=len(size)) > 0
    )
    mu = (
        -0.45 * (head_age >= ELDERLY_AGE)
        - 0.35 * ((size == 1) & (head_age >= ELDERLY_AGE))
        - 0.30 * ((size == 1) & (head_age < 30))
        - 0.25 * any_disability
    )
    ratio = np.exp(rng.normal(mu, 0.65))
    recipient_ratio = BLSA_LIVELIHOOD_THRESHOLD * rng.beta(1.3, 2.2, len(size))
    recipient_ratio *= rng.random(len(size)) >= 0.25
    ratio = np.where(blsa, recipient_ratio, ratio)
    income = (np.floor(ratio * medians / 1000) * 1000).astype(np.int64)
    asset_median = np.where(blsa, 3e6, np.where(head_age >= ELDERLY_AGE, 1.2e8, 4e7))
    assets = asset_median * np.exp(rng.normal(0, 1.1, len(size)))
    assets *= rng.random(len(size)) >= np.where(blsa, 0.3, 0.05)
    assets = (np.round(assets / 1e4) * 1e4).astype(np.int64)
    return Finances(income_krw=income, assets_krw=assets, income_ratio=income / medians)


@dataclass(frozen=True)
class CrisisTruth:
    """The hidden ground truth (household and resident level).

    Attributes
    ----------
    household_probability
        Crisis probability of each household (model output, before the draw).
    household_frailty
        Hidden frailty term of the logit (Normal(0, 0.7)).
    household_kind
        Crisis kind or ``""``.
    household_onset
        ``datetime64[D]`` crisis onset, NaT when not in crisis.
    resident_in_crisis
        Resident-level truth: all members for ``income``/``utility_arrears``, the head for
        ``health`` and ``isolation``.
    lone_middle_aged_man
        Resident is a man aged 40-64 living alone (중장년 1인 가구 남성).
    """

    household_probability: np.ndarray
    household_frailty: np.ndarray
    household_kind: np.ndarray
    household_onset: np.ndarray
    resident_in_crisis: np.ndarray
    lone_middle_aged_man: np.ndarray

    def kind_of_residents(self, population: Population) -> np.ndarray:
        """Return the crisis kind of each resident, ``""`` where the resident is not in crisis."""
        return np.where(self.resident_in_crisis, self.household_kind[population.household], "")


def draw_crisis(
    rng: np.random.Generator,
    population: Population,
    finances: Finances,
    as_of: datetime.date,
) -> CrisisTruth:
    """Draw the hidden crisis state of every household.

    ``logit p = c0 + 0.9 single + 0.4 lone_elderly + 1.1 lone_middle_aged_man + 0.4 head_80plus
    + 0.6 disability + 0.9 near_poor + 0.7 hidden_poor + 0.3 blsa + frailty``, where
    ``near_poor`` is income below 50% of the median and ``hidden_poor`` below 32%, both for
    non-recipients, and ``frailty ~ Normal(0, 0.7)``; ``c0`` is solved so the mean of ``p`` is
    :data:`CRISIS_HOUSEHOLD_RATE`. Kinds and onsets are then drawn (see module constants).
    """
    head = population.household_head
    head_age = population.age[head]
    size = population.household_size
    blsa = population.household_blsa
    single = size == 1
    lone_man_household = single & population.is_male[head] & (head_age >= 40)
    lone_man_household &= head_age < ELDERLY_AGE
    any_disability = (
        np.bincount(population.household, weights=population.disability, minlength=len(size)) > 0
    )
    near_poor = (finances.income_ratio < 0.5) & ~blsa
    hidden_poor = (finances.income_ratio < BLSA_LIVELIHOOD_THRESHOLD) & ~blsa
    frailty = rng.normal(0.0, 0.7, len(size))
    risk = (
        0.9 * single
        + 0.4 * (single & (head_age >= ELDERLY_AGE))
        + 1.1 * lone_man_household
        + 0.4 * (head_age >= OLDEST_OLD_AGE)
        + 0.6 * any_disability
        + 0.9 * near_poor
        + 0.7 * hidden_poor
        + 0.3 * blsa
        + frailty
    )
    low, high = -15.0, 5.0
    for _ in range(60):  # bisection on the intercept
        middle = (low + high) / 2
        if _sigmoid(middle + risk).mean() < CRISIS_HOUSEHOLD_RATE:
            low = middle
        else:
            high = middle
    probability = _sigmoid((low + high) / 2 + risk)
    in_crisis = rng.random(len(size)) < probability

    kind_weights = np.where(single[:, None], SINGLE_KIND_WEIGHTS, MULTI_KIND_WEIGHTS)
    kind_weights = (
        kind_weights
        + np.column_stack(
            [
                0.25 * lone_man_household + 0.15 * (single & (head_age >= ELDERLY_AGE)),
                0.2 * near_poor,
                0.2 * ((head_age >= OLDEST_OLD_AGE) | any_disability),
                np.zeros(len(size)),
            ]
        )
        * single[:, None]
    )
    cumulative = np.cumsum(kind_weights / kind_weights.sum(axis=1, keepdims=True), axis=1)
    kind_index = (rng.random(len(size))[:, None] > cumulative).sum(axis=1)
    kind = np.where(in_crisis, CRISIS_KINDS[np.minimum(kind_index, 3)], "")
    onset_days = rng.integers(0, ONSET_WINDOW_DAYS, len(size))
    onset = np.datetime64(as_of, "D") - as_days(onset_days + 1)
    onset = np.where(in_crisis, onset, np.datetime64("NaT"))

    whole_household = np.isin(kind, ["income", "utility_arrears"])
    resident_in_crisis = np.where(
        whole_household[population.household],
        True,
        in_crisis[population.household] & population.is_head,
    )
    age = population.age
    resident_household_size = size[population.household]
    lone_middle_aged_man = (
        (resident_household_size == 1) & population.is_male & (age >= 40) & (age < ELDERLY_AGE)
    )
    return CrisisTruth(
        household_probability=probability,
        household_frailty=frailty,
        household_kind=kind,
        household_onset=onset,
        resident_in_crisis=resident_in_crisis,
        lone_middle_aged_man=lone_middle_aged_man,
    )


def draw_signals(
    rng: np.random.Generator, population: Population, crisis: CrisisTruth, as_of: datetime.date
) -> pd.DataFrame:
    """Draw the arrears and cut-off signals of the last 24 months.

    Returns
    -------
    pandas.DataFrame
        Columns ``resident`` (person index or -1), ``household`` (index or -1), ``kind``,
        ``observed_on`` (``datetime64[D]``), ``source_agency``; sorted by date.
    """
    reference = np.datetime64(as_of, "D")
    kind_row = np.full(len(crisis.household_kind), len(CRISIS_KINDS))
    for index, crisis_kind in enumerate(CRISIS_KINDS):
        kind_row[crisis.household_kind == crisis_kind] = index
    rate = np.where(
        kind_row < len(CRISIS_KINDS),
        SIGNALS_PER_CRISIS[np.minimum(kind_row, len(CRISIS_KINDS) - 1)],
        SIGNALS_PER_OTHER_HOUSEHOLD,
    )
    per_household = rng.poisson(rate)
    household = np.repeat(np.arange(len(rate)), per_household)
    rows = kind_row[household]
    cumulative = np.cumsum(SIGNAL_KIND_WEIGHTS, axis=1)
    cumulative /= cumulative[:, -1:]
    signal_kind = (rng.random(len(household))[:, None] > cumulative[rows]).sum(axis=1)
    signal_kind = np.minimum(signal_kind, len(SIGNAL_KINDS) - 1)

    window_start = reference - as_days(HISTORY_DAYS)
    onset = crisis.household_onset[household]
    start = np.where(np.isnat(onset), window_start, np.maximum(onset, window_start))
    span = (reference - start).astype(np.int64)
    observed_on = start + as_days(np.floor(rng.random(len(household)) * span))

    household_level = HOUSEHOLD_ACCOUNT_SIGNAL[signal_kind] & (
        rng.random(len(household)) < HOUSEHOLD_LEVEL_SIGNAL_SHARE
    )
    resident = population.household_head[household]
    signals = pd.DataFrame(
        {
            "resident": np.where(household_level, -1, resident),
            "household": np.where(household_level, household, -1),
            "kind": SIGNAL_KINDS[signal_kind],
            "observed_on": observed_on,
            "source_agency": SIGNAL_SOURCES[signal_kind],
            "owner": household,
        }
    )
    return signals.sort_values(["observed_on", "owner", "kind"], kind="stable").reset_index(
        drop=True
    )


@dataclass(frozen=True)
class VisitPlan:
    """Visits and the blind-spot draw.

    Attributes
    ----------
    visits
        Columns ``resident``, ``visited_on`` (``datetime64[D]``), ``minute_of_day``,
        ``visitor``, ``outcome``, ``notes`` (and what the simulation adds: ``team``,
        ``member``, ``tier``, ``urgent``); sorted by time.
    blind_spot
        Residents excluded from every visit by design (only drawn for residents in crisis).
    """

    visits: pd.DataFrame
    blind_spot: np.ndarray


def visitor_pool(rng: np.random.Generator, n_dongs: int) -> np.ndarray:
    """Draw synthetic visitor labels, shape (n_dongs, n_reasons, 2 roles, 2 people)."""
    labels = np.empty((n_dongs, len(VISIT_REASONS), 2, 2), dtype=object)
    surnames = draw_surnames(rng, labels.size).reshape(labels.shape)
    for reason_index, reason in enumerate(VISIT_REASONS):
        for role_index, role in enumerate(VISITOR_ROLES[reason]):
            names = surnames[:, reason_index, role_index, :]
            labels[:, reason_index, role_index, :] = np.char.add(
                np.char.add(f"{role} ", names), "○○"
            )
    return labels
