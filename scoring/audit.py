"""Audit tier assignments: the share of each tier by dong and by age band.

The tables are tidy (one row per group and tier) and include tiers with no resident, so the
shares of a group sum to 1. ``lift`` is the group's share divided by the overall share of
that tier: a lift of 3 for the high tier in one dong means its residents are three times as
likely to be high as residents overall, which is what to look at when weights push an area or
an age group into the high tier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.config import TIER_NAMES
from visitmap.errors import FieldError

#: Age bands (years): [start, end) and label. The last band is open-ended.
AGE_BANDS: tuple[tuple[float, float, str], ...] = (
    (0, 40, "<40"),
    (40, 65, "40-64"),
    (65, 80, "65-79"),
    (80, np.inf, "80+"),
)


class AuditError(FieldError):
    """Inputs that cannot be audited (mismatched lengths, unknown tiers, missing groups)."""


@dataclass(frozen=True)
class TierAudit:
    """Tier shares ``by_dong`` (column ``adm_cd2``) and ``by_age_band`` (column ``age_band``)."""

    by_dong: pd.DataFrame
    by_age_band: pd.DataFrame


def _aligned(values, tiers: pd.Series, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        if len(values) != len(tiers):
            raise AuditError(f"{name} has {len(values)} values for {len(tiers)} tiers")
        if values.index.equals(tiers.index):
            return values
        if not values.index.is_unique or not tiers.index.is_unique:
            raise AuditError(f"{name} and tiers have different, non-unique indexes")
        missing = tiers.index.difference(values.index)
        if len(missing):
            raise AuditError(f"{name} lacks {len(missing)} resident(s), e.g. {missing[0]!r}")
        return values.reindex(tiers.index)
    values = np.asarray(values)
    if values.ndim != 1 or len(values) != len(tiers):
        raise AuditError(f"{name} must have one value per tier ({len(tiers)})")
    return pd.Series(values, index=tiers.index)


def _tiers(tiers) -> pd.Series:
    series = tiers if isinstance(tiers, pd.Series) else pd.Series(np.asarray(tiers))
    if series.ndim != 1:
        raise AuditError("tiers must be one-dimensional")
    if not series.isin((0, 1, 2)).all():
        raise AuditError("tiers must be 0 (low), 1 (medium) or 2 (high)")
    return series.astype(np.int64)


def tier_shares(tiers, groups, *, name: str = "group") -> pd.DataFrame:
    """Share of each tier within each group, tidy.

    Parameters
    ----------
    tiers : array-like of int
        Tier codes 0/1/2, one per resident (a Series is aligned with ``groups`` by index).
    groups : array-like
        Group of each resident (dong code, age band...); missing groups are an error.
    name : str, default="group"
        Name of the group column in the result.

    Returns
    -------
    DataFrame
        Columns ``name``, ``tier``, ``tier_name``, ``n`` (residents of the group in the
        tier), ``n_group``, ``share`` (``n / n_group``; sums to 1 per group),
        ``overall_share`` and ``lift`` (``share / overall_share``, NaN if the tier is empty
        overall). Groups in sorted (or categorical) order, tiers 0, 1, 2.
    """
    tier_series = _tiers(tiers)
    group_series = _aligned(groups, tier_series, name)
    if group_series.isna().any():
        raise AuditError(f"{int(group_series.isna().sum())} resident(s) have no {name}")
    counts = pd.crosstab(group_series.rename(name), tier_series.rename("tier"))
    counts = counts.reindex(columns=range(3), fill_value=0)
    n_group = counts.sum(axis=1)
    overall = counts.sum(axis=0) / max(int(n_group.sum()), 1)
    tidy = counts.stack().rename("n").reset_index()
    tidy["tier"] = tidy["tier"].astype(np.int64)
    tidy.insert(2, "tier_name", [TIER_NAMES[t] for t in tidy["tier"]])
    tidy["n"] = tidy["n"].astype(np.int64)
    tidy["n_group"] = tidy[name].map(n_group).astype(np.int64)
    tidy["share"] = tidy["n"] / tidy["n_group"]
    tidy["overall_share"] = tidy["tier"].map(overall).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        tidy["lift"] = np.where(
            tidy["overall_share"] > 0, tidy["share"] / tidy["overall_share"], np.nan
        )
    return tidy


def age_bands(age_years, *, bands=AGE_BANDS) -> pd.Categorical:
    """Return the band label of each age (years), as an ordered categorical.

    Raises
    ------
    AuditError
        When an age is missing or falls in no band.
    """
    ages = np.asarray(age_years, dtype=float)
    if np.isnan(ages).any():
        raise AuditError("age_years has missing values")
    labels = [label for _, _, label in bands]
    codes = np.full(len(ages), -1)
    for code, (start, end, _) in enumerate(bands):
        codes[(ages >= start) & (ages < end)] = code
    if (codes < 0).any():
        raise AuditError(f"ages outside the bands, e.g. {ages[codes < 0][0]}")
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True)


def audit_tiers(tiers, *, adm_cd2, age_years, bands=AGE_BANDS) -> TierAudit:
    """Tier shares by dong (``adm_cd2``, the administrative-dong code) and by age band.

    Parameters
    ----------
    tiers : array-like of int
        Tier codes 0/1/2 (a Series is aligned with Series inputs by index).
    adm_cd2 : array-like
        Dong code of each resident.
    age_years : array-like of float
        Age in years of each resident.
    bands : sequence of (start, end, label), default=AGE_BANDS
        Age bands, [start, end) in years.

    Returns
    -------
    TierAudit
    """
    tier_series = _tiers(tiers)
    ages = _aligned(age_years, tier_series, "age_years")
    band = pd.Series(age_bands(ages.to_numpy(), bands=bands), index=tier_series.index)
    return TierAudit(
        by_dong=tier_shares(tier_series, adm_cd2, name="adm_cd2"),
        by_age_band=tier_shares(tier_series, band, name="age_band"),
    )
