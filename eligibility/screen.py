"""Screen households against the programme catalogue, with the rule that decided each.

Input: one row per household (:data:`INPUT_COLUMNS`); output: one row per household and
programme (:func:`screen`) with ``likely_eligible``, ``receiving`` and the deciding rule in
Korean and English, e.g. "소득인정액 ₩812,300 ≤ 생계급여 기준 ₩820,556 (2026년 1인 기준
중위소득의 32%)". Lines are ``floor(median x share)`` won, as the published tables round; a
household is within a line when its recognised income is at most the line.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from eligibility.catalogue import REQUIREMENTS, Catalogue, Programme
from visitmap.errors import FieldError

#: Columns :func:`screen` reads, one row per household.
INPUT_COLUMNS = (
    "household_id",
    "size",
    "monthly_income_krw",
    "assets_krw",
    "members_65",
    "members_school_age",
    "disabled_adults",
    "crisis_signal",
    "receiving",
)

#: Columns of the result.
RESULT_COLUMNS = (
    "household_id",
    "programme",
    "likely_eligible",
    "receiving",
    "rule",
    "line_krw",
    "recognised_krw",
    "reason_ko",
    "reason_en",
)

#: The deciding rules.
RULES = ("within_line", "income_line", "asset_limit", "requirement", "excluded_by")


class ScreeningError(FieldError):
    """The households frame lacks a column or holds a bad value."""


def median_income(table: pd.DataFrame, year: int, sizes) -> np.ndarray:
    """Return the standard median income per household size in ``year`` (won per month).

    Sizes above the table's largest add the difference between its two largest sizes per
    extra person (the published rule for households of 8 and more).
    """
    rows = table[table["year"] == year].set_index("household_size")["median_income_krw"]
    if rows.empty:
        raise ScreeningError(f"no standard median income for {year}", field="year")
    largest = int(rows.index.max())
    step = int(rows[largest] - rows[largest - 1])
    sizes = np.asarray(sizes, dtype=np.int64)
    base = rows.reindex(np.clip(sizes, 1, largest)).to_numpy(dtype=np.int64)
    return base + np.maximum(sizes - largest, 0) * step


def recognised_income(catalogue: Catalogue, income, assets) -> np.ndarray:
    """소득인정액: income + max(0, assets - basic deduction) x monthly rate, rounded to won."""
    assets = np.nan_to_num(np.asarray(assets, dtype=float), nan=0.0)
    converted = np.maximum(assets - catalogue.basic_deduction_krw, 0) * catalogue.monthly_rate
    return np.asarray(income, dtype=np.int64) + np.round(converted).astype(np.int64)


def pension_income(catalogue: Catalogue, income, assets) -> np.ndarray:
    """기초연금's 소득인정액: income + assets above the deductions x yearly rate / 12."""
    assets = np.nan_to_num(np.asarray(assets, dtype=float), nan=0.0)
    deduction = catalogue.pension_deduction_krw + catalogue.pension_financial_deduction_krw
    converted = np.maximum(assets - deduction, 0) * catalogue.pension_yearly_rate / 12
    return np.asarray(income, dtype=np.int64) + np.round(converted).astype(np.int64)


def _won(value) -> str:
    return f"₩{int(value):,}"


def _requirement_met(programme: Programme, frame: pd.DataFrame) -> np.ndarray:
    requirement = programme.requires
    if requirement is None:
        return np.ones(len(frame), dtype=bool)
    column = {
        "school_age": "members_school_age",
        "disabled_adult": "disabled_adults",
        "aged_65": "members_65",
        "crisis_signal": "crisis_signal",
    }[requirement]
    return frame[column].to_numpy().astype(float) > 0


def _check(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ScreeningError(f"missing column(s) {', '.join(missing)}", field=missing[0])
    for column in ("size", "monthly_income_krw"):
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any() or (values < 0).any():
            raise ScreeningError("must be a number >= 0 in every row", field=column)
    if (frame["size"] < 1).any():
        raise ScreeningError("must be at least 1", field="size")
    return frame.reset_index(drop=True)


def screen(
    households: pd.DataFrame, catalogue: Catalogue, median_table: pd.DataFrame
) -> pd.DataFrame:
    """Screen every household against every programme of ``catalogue``.

    Parameters
    ----------
    households : DataFrame
        :data:`INPUT_COLUMNS`: ``size``; ``monthly_income_krw``; ``assets_krw`` (NaN = none);
        counts of members aged 65+, aged 6 to 18, and aged 18+ with a disability;
        ``crisis_signal`` (a signal in the last 183 days); ``receiving``, an iterable of
        programme codes per row.
    catalogue : Catalogue
    median_table : DataFrame
        year, household_size, median_income_krw (data/standard_median_income.csv).

    Returns
    -------
    DataFrame
        :data:`RESULT_COLUMNS`, one row per household and programme, in catalogue order.
    """
    frame = _check(households)
    n = len(frame)
    size = frame["size"].to_numpy(dtype=np.int64)
    income = frame["monthly_income_krw"].to_numpy(dtype=np.int64)
    assets = frame["assets_krw"].to_numpy(dtype=float)
    median = median_income(median_table, catalogue.year, size) if n else np.zeros(0, np.int64)
    recognised = recognised_income(catalogue, income, assets)
    pension = pension_income(catalogue, income, assets)
    receiving = [
        set(r) if isinstance(r, Iterable) and not isinstance(r, str) else set()
        for r in frame["receiving"]
    ]
    within: dict[str, np.ndarray] = {}
    parts = []
    for programme in catalogue.programmes.values():
        code = programme.code
        if programme.median_share is not None:
            line = np.floor(median * programme.median_share + 1e-6).astype(np.int64)
            value = recognised if programme.income_basis == "recognised" else income
            word_ko = "소득인정액" if programme.income_basis == "recognised" else "소득"
            word_en = "recognised income" if programme.income_basis == "recognised" else "income"
            pct = int(round(programme.median_share * 100))
            line_ko = [
                f"{programme.name_ko} 기준 {_won(x)} "
                f"({catalogue.year}년 {s}인 기준 중위소득의 {pct}%)"
                for x, s in zip(line, size, strict=True)
            ]
            line_en = [
                f"the {programme.name_en.lower()} line {_won(x)} "
                f"({pct}% of the {catalogue.year} median for {s})"
                for x, s in zip(line, size, strict=True)
            ]
        else:
            couple = frame["members_65"].to_numpy().astype(float) >= 2
            line = np.where(couple, programme.couple_line_krw, programme.single_line_krw).astype(
                np.int64
            )
            value = pension
            word_ko, word_en = "소득인정액", "recognised income"
            line_ko = [
                f"{programme.name_ko} 선정기준액 {_won(x)} ({'부부' if c else '단독'}가구)"
                for x, c in zip(line, couple, strict=True)
            ]
            line_en = [
                f"the {programme.name_en.lower()} line {_won(x)} ({'couple' if c else 'single'})"
                for x, c in zip(line, couple, strict=True)
            ]
        income_ok = value <= line
        has_requirement = _requirement_met(programme, frame)
        assets_ok = (
            np.ones(n, dtype=bool)
            if programme.asset_limit_krw is None
            else np.nan_to_num(assets, nan=0.0) <= programme.asset_limit_krw
        )
        excluded = np.zeros(n, dtype=bool)
        for other in programme.excluded_by:
            excluded |= within.get(other, np.zeros(n, dtype=bool))
        within[code] = income_ok & has_requirement & assets_ok
        eligible = within[code] & ~excluded
        rule = np.select(
            [~has_requirement, ~assets_ok, ~income_ok, excluded],
            ["requirement", "asset_limit", "income_line", "excluded_by"],
            default="within_line",
        )
        reasons_ko, reasons_en = [], []
        need_ko, need_en = REQUIREMENTS.get(programme.requires or "", ("", ""))
        for i in range(n):
            r = rule[i]
            if r == "requirement":
                reasons_ko.append(f"{need_ko} 없음")
                reasons_en.append(f"no {need_en}")
            elif r == "asset_limit":
                reasons_ko.append(
                    f"재산 {_won(assets[i])} > 한도 {_won(programme.asset_limit_krw)}"
                )
                reasons_en.append(
                    f"assets {_won(assets[i])} > limit {_won(programme.asset_limit_krw)}"
                )
            elif r == "excluded_by":
                names = [catalogue.programmes[o] for o in programme.excluded_by if within[o][i]]
                reasons_ko.append(f"{', '.join(p.name_ko for p in names)} 대상이므로 해당 없음")
                reasons_en.append(
                    f"covered by {', '.join(p.name_en.lower() for p in names)} instead"
                )
            else:
                sign = "≤" if r == "within_line" else ">"
                reasons_ko.append(f"{word_ko} {_won(value[i])} {sign} {line_ko[i]}")
                reasons_en.append(f"{word_en} {_won(value[i])} {sign} {line_en[i]}")
        parts.append(
            pd.DataFrame(
                {
                    "household_id": frame["household_id"].to_numpy(),
                    "programme": code,
                    "likely_eligible": eligible,
                    "receiving": np.array([code in r for r in receiving], dtype=bool),
                    "rule": rule,
                    "line_krw": line,
                    "recognised_krw": value,
                    "reason_ko": reasons_ko,
                    "reason_en": reasons_en,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(RESULT_COLUMNS)]


def unreached(results: pd.DataFrame) -> pd.DataFrame:
    """Return the rows likely eligible and not receiving."""
    return results[results["likely_eligible"] & ~results["receiving"]]
