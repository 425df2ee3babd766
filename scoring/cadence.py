"""Visit cadence: when each resident is next due, and how many days overdue at a date.

The cadence (days between visits) depends on the tier (:class:`scoring.config.Cadence`;
defaults high 30, medium 91, low 182). The clock starts at the last visit in which the
resident was met, or at the registration date if the resident was never met::

    next_due_on  = (last_met_on or registered_on) + cadence_days[tier]
    days_overdue = max(0, as_of - next_due_on)        # in days; 0 on the due date itself
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scoring.config import Cadence, ScoringConfig


class CadenceError(ValueError):
    """Invalid cadence inputs (unknown tiers, no start date, mismatched lengths)."""


def _dates(values, name: str, n: int, index: pd.Index) -> pd.Series:
    if values is None:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if isinstance(values, pd.Series):
        if len(values) != n:
            raise CadenceError(f"{name} has {len(values)} values for {n} tiers")
        values = values.to_numpy()
    elif np.ndim(values) == 0 or len(values) != n:
        raise CadenceError(f"{name} must have one value per tier ({n})")
    try:
        converted = pd.to_datetime(pd.Series(values, index=index, dtype=object), format="ISO8601")
    except (ValueError, TypeError) as error:
        raise CadenceError(f"{name}: not dates ({error})") from error
    if getattr(converted.dt, "tz", None) is not None:
        raise CadenceError(f"{name}: give calendar dates, not time-zone aware timestamps")
    return converted.dt.normalize().astype("datetime64[ns]")


def _cadence(cadence) -> Cadence:
    if cadence is None:
        return Cadence()
    if isinstance(cadence, ScoringConfig):
        return cadence.cadence
    if isinstance(cadence, Cadence):
        return cadence
    try:
        return Cadence.from_mapping(cadence)
    except (TypeError, ValueError) as error:
        raise CadenceError(
            f"cadence must map low/medium/high (or 0/1/2) to days, got {cadence!r}"
        ) from error


def next_visits(
    tiers,
    last_met_on,
    *,
    as_of: dt.date | str,
    registered_on=None,
    cadence: Cadence | ScoringConfig | dict | None = None,
) -> pd.DataFrame:
    """Next due date and days overdue per resident (vectorised).

    Parameters
    ----------
    tiers : array-like of int
        Tier codes 0 (low), 1 (medium), 2 (high); a Series gives the result its index.
    last_met_on : array-like of dates (date objects, timestamps or ISO 8601 strings)
        Last visit in which the resident was met; missing (None, NaT, NaN) if never met.
    as_of : date or ISO 8601 string
        The date at which overdue days are counted.
    registered_on : array-like of dates, optional
        Registration date, the start of the clock for residents never met.
    cadence : Cadence, ScoringConfig, mapping or None, default=None
        Days per tier (a mapping by name or by tier code); None is the default (high 30,
        medium 91, low 182).

    Returns
    -------
    DataFrame
        Columns ``tier``, ``cadence_days``, ``started_on`` (the last met visit or the
        registration), ``next_due_on`` (datetime64 dates), ``days_overdue`` (int, days,
        >= 0) and ``is_due`` (``next_due_on <= as_of``).

    Raises
    ------
    CadenceError
        Tiers other than 0/1/2, mismatched lengths, or a resident with neither date.
    """
    days_table = _cadence(cadence)
    index = tiers.index if isinstance(tiers, pd.Series) else None
    tier_values = np.asarray(tiers)
    if tier_values.ndim != 1:
        raise CadenceError("tiers must be one-dimensional")
    n = len(tier_values)
    index = pd.RangeIndex(n) if index is None else index
    if n and not np.isin(tier_values, (0, 1, 2)).all():
        bad = sorted(set(tier_values[~np.isin(tier_values, (0, 1, 2))].tolist()))[:5]
        raise CadenceError(f"tiers must be 0, 1 or 2, got {bad}")
    tier_values = tier_values.astype(np.int64)
    met = _dates(last_met_on, "last_met_on", n, index)
    registered = _dates(registered_on, "registered_on", n, index)
    started = met.fillna(registered)
    missing = started.isna().to_numpy()
    if missing.any():
        where = [str(i) for i in index[missing][:5]]
        raise CadenceError(
            f"{int(missing.sum())} resident(s) have neither a met visit nor a registration "
            f"date (e.g. {', '.join(where)})"
        )
    as_of = pd.Timestamp(as_of).normalize()
    cadence_days = days_table.days_for(tier_values)
    next_due = started + pd.Series(pd.to_timedelta(cadence_days, unit="D"), index=index)
    overdue = (as_of - next_due).dt.days.to_numpy().astype(np.int64)
    return pd.DataFrame(
        {
            "tier": tier_values,
            "cadence_days": cadence_days,
            "started_on": started,
            "next_due_on": next_due,
            "days_overdue": np.maximum(overdue, 0),
            "is_due": next_due.to_numpy() <= as_of.to_datetime64(),
        },
        index=index,
    )
