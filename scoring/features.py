"""The feature table: one row per resident, one column per feature, with documented units.

:func:`compute_features` computes it from plain DataFrames (notebooks, tests); the PostGIS
query in :mod:`geo.features` computes the same numbers in the database. Both follow the
definitions in :data:`FEATURES`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from visitmap.crs import METRIC_CRS
from visitmap.vocab import CRISIS_SIGNAL_KINDS

#: Outcomes in which the resident was met in person.
MET_OUTCOMES = ("met", "crisis_confirmed")
#: Outcomes in which the resident was reached (met, or answered and refused).
CONTACT_OUTCOMES = ("met", "crisis_confirmed", "refused")
#: Facility kinds that count as "senior or welfare" services.
SENIOR_OR_WELFARE_KINDS = ("senior_centre", "welfare_centre")
#: Days in the two look-back windows for crisis signals.
SIGNAL_WINDOWS_DAYS = {"6m": 183, "12m": 365}
#: Largest household size in the median-income table; larger households use its amount
#: plus the difference between the two largest sizes for each extra person (the official rule).
MAX_TABLE_SIZE = 7


@dataclass(frozen=True)
class FeatureInfo:
    """The documentation of one feature (one column of the feature table).

    ``group`` is isolation, income or recency; ``unit`` the unit of the values (``"0/1"``,
    ``"years"``, ``"days"``, ``"metres"``, ``"count"``...); ``description`` how it is computed.
    """

    name: str
    group: str  # isolation, income, recency
    unit: str
    description: str


def _signal_features() -> list[FeatureInfo]:
    out = []
    for kind in CRISIS_SIGNAL_KINDS:
        for window, days in SIGNAL_WINDOWS_DAYS.items():
            out.append(
                FeatureInfo(
                    f"signals_{kind}_{window}",
                    "income",
                    "count",
                    f"{kind} signals about the resident or the household in the last {days} days",
                )
            )
    return out


#: Every feature, in column order.
FEATURES: tuple[FeatureInfo, ...] = (
    FeatureInfo("lives_alone", "isolation", "0/1", "registered as living alone"),
    FeatureInfo("age_years", "isolation", "years", "as_of year minus birth year"),
    FeatureInfo("household_size", "isolation", "persons", "registered household size"),
    FeatureInfo("has_disability", "isolation", "0/1", "registered disability"),
    FeatureInfo(
        "days_since_last_contact",
        "isolation",
        "days",
        "days since the last visit that reached the resident (met, crisis confirmed "
        "or refused); never reached: since registration",
    ),
    FeatureInfo(
        "nearest_community_centre_m",
        "isolation",
        "metres",
        "straight-line distance (EPSG:5179) to the nearest community centre",
    ),
    FeatureInfo(
        "nearest_senior_or_welfare_m",
        "isolation",
        "metres",
        "straight-line distance (EPSG:5179) to the nearest senior or welfare centre",
    ),
    FeatureInfo(
        "income_to_median_ratio",
        "income",
        "ratio",
        "household monthly income / standard median income (기준 중위소득) for the "
        "household size and the as_of year",
    ),
    FeatureInfo("assets_million_krw", "income", "million KRW", "household assets (missing = 0)"),
    FeatureInfo("crisis_signals_6m", "income", "count", "all crisis signals, last 183 days"),
    FeatureInfo("crisis_signals_12m", "income", "count", "all crisis signals, last 365 days"),
    *_signal_features(),
    FeatureInfo(
        "days_since_met_visit",
        "recency",
        "days",
        "days since the last visit in which the resident was met; never met: since registration",
    ),
    FeatureInfo(
        "days_overdue",
        "recency",
        "days",
        "days past the visit cadence of the resident's previous tier (0 if not due)",
    ),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


def median_income_krw(table: pd.DataFrame, year: int, household_size) -> np.ndarray:
    """Return the standard median income (KRW per month) for each household size in ``year``.

    ``table`` has columns year, household_size, median_income_krw (data/
    standard_median_income.csv). Sizes above the table's largest add the difference between
    its two largest sizes per extra person.

    Raises
    ------
    ValueError
        When the table has no row for ``year``.
    """
    rows = table[table["year"] == year].set_index("household_size")["median_income_krw"]
    if rows.empty:
        raise ValueError(f"no standard median income for {year} in the table")
    largest = int(rows.index.max())
    step = rows[largest] - rows[largest - 1]
    sizes = np.asarray(household_size, dtype=int)
    capped = np.clip(sizes, 1, largest)
    base = rows.reindex(capped).to_numpy(dtype=float)
    return base + np.maximum(sizes - largest, 0) * step


#: Default visit cadence in days by tier code (0 low, 1 medium, 2 high).
DEFAULT_CADENCE_DAYS = {0: 182, 1: 91, 2: 30}
#: Tier assumed for a resident with no previous score run.
DEFAULT_PREVIOUS_TIER = 1
KST = "Asia/Seoul"


def _days_between(as_of: dt.date, dates: pd.Series) -> np.ndarray:
    """Whole days from each date to ``as_of`` (NaN where the date is missing)."""
    stamps = pd.to_datetime(dates)
    return (pd.Timestamp(as_of) - stamps).dt.days.to_numpy(dtype=float)


def _kst_dates(timestamps: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(timestamps, utc=True)
    return stamps.dt.tz_convert(KST).dt.tz_localize(None).dt.normalize()


def nearest_facility_m(points_lonlat, facilities: gpd.GeoDataFrame, kinds) -> np.ndarray:
    """Return the distance from each point to the nearest facility of ``kinds`` (metres).

    ``points_lonlat`` are shapely points in WGS84 lon/lat; distances are straight lines in
    EPSG:5179 (GEOS STRtree nearest neighbour). NaN when there is no facility of ``kinds``.
    """
    chosen = facilities[facilities["kind"].isin(kinds)]
    if chosen.empty:
        return np.full(len(points_lonlat), np.nan)
    targets = chosen.to_crs(METRIC_CRS).geometry.to_numpy()
    points = gpd.GeoSeries(points_lonlat, crs="EPSG:4326").to_crs(METRIC_CRS).to_numpy()
    tree = shapely.STRtree(targets)
    (point_index, target_index), distance = tree.query_nearest(
        points, return_distance=True, all_matches=False
    )
    out = np.full(len(points), np.nan)
    out[point_index] = distance
    return out


def compute_features(
    residents: pd.DataFrame,
    households: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    visits: pd.DataFrame,
    signals: pd.DataFrame,
    *,
    as_of: dt.date,
    median_income: pd.DataFrame,
    previous_tiers: pd.Series | None = None,
    cadence_days: dict[int, int] | None = None,
) -> pd.DataFrame:
    """Compute the feature table for ``residents`` at ``as_of`` (see :data:`FEATURES` for units).

    Parameters
    ----------
    residents
        resident_id, household_id, birth_year, lives_alone, has_disability, registered_on.
    households
        household_id, size, monthly_income_krw, assets_krw, geometry (points, EPSG:4326).
    facilities
        kind, geometry (points, EPSG:4326).
    visits
        resident_id, visited_at (timezone-aware), outcome. Visits after ``as_of`` (Korean
        calendar day) are ignored.
    signals
        resident_id or household_id, kind, observed_on.
    median_income
        The standard median income table (year, household_size, median_income_krw).
    previous_tiers
        Tier code by resident_id from the previous score run (missing: medium).
    cadence_days
        Visit cadence by tier code (default :data:`DEFAULT_CADENCE_DAYS`).

    Returns
    -------
    pandas.DataFrame
        Indexed by resident_id, columns :data:`FEATURE_NAMES` (floats), sorted by index.
    """
    cadence = DEFAULT_CADENCE_DAYS if cadence_days is None else cadence_days
    res = residents.set_index("resident_id").sort_index()
    hh = households.set_index("household_id")
    joined = hh.reindex(res["household_id"])
    out = pd.DataFrame(index=res.index)
    out["lives_alone"] = res["lives_alone"].astype(float).to_numpy()
    out["age_years"] = (as_of.year - res["birth_year"].astype(int)).astype(float).to_numpy()
    out["household_size"] = joined["size"].astype(float).to_numpy()
    out["has_disability"] = res["has_disability"].astype(float).to_numpy()

    as_of_ts = pd.Timestamp(as_of)
    vis = visits.assign(day=_kst_dates(visits["visited_at"]))
    vis = vis[vis["day"] <= as_of_ts]
    registered = pd.to_datetime(res["registered_on"])

    def last_day(outcomes) -> pd.Series:
        chosen = vis[vis["outcome"].isin(outcomes)]
        last = chosen.groupby("resident_id")["day"].max()
        return last.reindex(res.index).fillna(registered)

    out["days_since_last_contact"] = _days_between(as_of, last_day(CONTACT_OUTCOMES))
    points = (
        joined.geometry.to_numpy()
        if isinstance(joined, gpd.GeoDataFrame)
        else gpd.GeoSeries(joined["geometry"]).to_numpy()
    )
    out["nearest_community_centre_m"] = nearest_facility_m(
        points, facilities, ("community_centre",)
    )
    out["nearest_senior_or_welfare_m"] = nearest_facility_m(
        points, facilities, SENIOR_OR_WELFARE_KINDS
    )
    median = median_income_krw(median_income, as_of.year, joined["size"].to_numpy())
    out["income_to_median_ratio"] = joined["monthly_income_krw"].to_numpy(dtype=float) / median
    out["assets_million_krw"] = joined["assets_krw"].astype(float).fillna(0).to_numpy() / 1e6

    sig = signals.copy()
    sig["observed_on"] = pd.to_datetime(sig["observed_on"])
    own = sig[sig["resident_id"].notna()][["resident_id", "kind", "observed_on"]]
    members = res.reset_index()[["resident_id", "household_id"]]
    shared = sig[sig["household_id"].notna()][["household_id", "kind", "observed_on"]].merge(
        members, on="household_id"
    )[["resident_id", "kind", "observed_on"]]
    every = pd.concat([own, shared], ignore_index=True)
    every = every[every["observed_on"] <= as_of_ts]
    for window, days in SIGNAL_WINDOWS_DAYS.items():
        recent = every[every["observed_on"] > as_of_ts - pd.Timedelta(days=days)]
        counts = recent.groupby(["resident_id", "kind"]).size().unstack(fill_value=0)
        counts = counts.reindex(index=res.index, columns=list(CRISIS_SIGNAL_KINDS), fill_value=0)
        out[f"crisis_signals_{window}"] = counts.sum(axis=1).astype(float).to_numpy()
        for kind in CRISIS_SIGNAL_KINDS:
            out[f"signals_{kind}_{window}"] = counts[kind].astype(float).to_numpy()

    out["days_since_met_visit"] = _days_between(as_of, last_day(MET_OUTCOMES))
    tiers = (
        (
            previous_tiers.reindex(res.index)
            if previous_tiers is not None
            else pd.Series(np.nan, index=res.index)
        )
        .fillna(DEFAULT_PREVIOUS_TIER)
        .astype(int)
    )
    due = tiers.map(cadence).to_numpy(dtype=float)
    out["days_overdue"] = np.maximum(out["days_since_met_visit"].to_numpy() - due, 0.0)
    return out[list(FEATURE_NAMES)].astype(float)
