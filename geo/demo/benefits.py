"""Which programmes the demo's households receive (the ``receiving`` column, issue 14).

Synthetic, with take-up gaps on purpose so that the eligibility screening has people to find:
basic-livelihood households receive the livelihood, medical and housing benefits (and the
education benefit when a member is 6 to 18); a household with a member aged 65 or over and an
income within the 2026 basic-pension line receives it with probability 0.8; a household at or
below half the median, not a basic-livelihood one, holds the near-poverty certificate with
probability 0.5 and, with an adult member with a disability, the disability allowance with
probability 0.6. Drawn from a stream of its own, so no other generated value changes.
"""

from __future__ import annotations

import numpy as np

from geo.demo.population import Population
from geo.demo.welfare import Finances

#: 2026 basic-pension lines (eligibility/catalogues/programmes_2026.toml), single and couple.
PENSION_LINES = (2_470_000, 3_952_000)
TAKE_UP = {"basic_pension": 0.8, "near_poverty": 0.5, "disability_allowance": 0.6}


def draw_receiving(
    rng: np.random.Generator,
    population: Population,
    birth_year: np.ndarray,
    finances: Finances,
    year: int,
) -> np.ndarray:
    """Return each resident's household's programmes, ";"-joined (empty for none)."""
    household = population.household
    n_households = len(population.household_size)
    age = year - np.asarray(birth_year, dtype=np.int64)
    count = lambda mask: np.bincount(household[mask], minlength=n_households)  # noqa: E731
    elderly = count(age >= 65)
    school = count((age >= 6) & (age <= 18))
    disabled = count(population.disability & (age >= 18))
    income = finances.income_krw
    blsa = population.household_blsa
    line = np.where(elderly >= 2, PENSION_LINES[1], PENSION_LINES[0])
    draws = rng.random((n_households, 3))
    pension = (elderly > 0) & (income <= line) & (draws[:, 0] < TAKE_UP["basic_pension"])
    poor = ~blsa & (finances.income_ratio <= 0.5)
    near = poor & (draws[:, 1] < TAKE_UP["near_poverty"])
    allowance = poor & (disabled > 0) & (draws[:, 2] < TAKE_UP["disability_allowance"])
    codes = []
    for h in range(n_households):
        parts = []
        if blsa[h]:
            parts += ["livelihood", "medical", "housing"] + (["education"] if school[h] else [])
        if near[h]:
            parts.append("near_poverty")
        if allowance[h]:
            parts.append("disability_allowance")
        if pension[h]:
            parts.append("basic_pension")
        codes.append(";".join(sorted(parts)))
    return np.asarray(codes, dtype=object)[household]
