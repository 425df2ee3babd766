"""Visit cadence: when each resident is next due, and how many days overdue at a date.

The cadence (days between visits) depends on the tier (:class:`scoring.config.Cadence`;
defaults high 30, medium 91, low 182). The clock starts at the last visit in which the
resident was met, or at the registration date if the resident was never met::

    next_due_on  = (last_met_on or registered_on) + cadence_days[tier]
    days_overdue = max(0, as_of - next_due_on)        # in days; 0 on the due date itself
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.config import Cadence, ScoringConfig
from visitmap.errors import FieldError


class CadenceError(FieldError):
    """Invalid cadence inputs (unknown tiers, no start date, mismatched lengths)."""


def _dates(values, name: str, n: int, index: pd.Index) -> pd.Series:
    if values is None:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if np.asarray(values).dtype.kind == "M" and len(values) == n:  # no parsing needed
        days = np.asarray(values).astype("datetime64[D]").astype("datetime64[ns]")
        return pd.Series(days, index=index)
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


@dataclass(frozen=True)
class FollowUp:
    """How visits that did not meet the resident move the next due date.

    ``retry_days``: an unreachable resident (not found several times in a row) is next due
    this many days after the last attempt. ``attempt_gap_days``: after a visit that did not
    meet the resident (not home, refused, unreachable), they are not due again before this
    many days have passed, so nobody is knocked on every day.
    """

    retry_days: int = 30
    attempt_gap_days: int = 7

    def __post_init__(self):
        """Check that both gaps are whole numbers of days, at least 1 (CadenceError if not)."""
        for name in ("retry_days", "attempt_gap_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CadenceError(f"{name} must be a whole number of days >= 1, got {value!r}")


def _days(values, name: str, n: int) -> np.ndarray:
    """Dates (date objects, None, NaT, datetime64) as datetime64[D], NaT where missing."""
    if values is None:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    out = np.asarray(values)
    if out.dtype.kind != "M":  # date objects, None, strings
        out = pd.to_datetime(pd.Series(np.asarray(values, dtype=object))).to_numpy()
    if len(out) != n:
        raise CadenceError(f"{name} has {len(out)} values for {n} residents")
    return out.astype("datetime64[D]")


def follow_up_due(
    next_due_on,
    *,
    last_met_on=None,
    last_visit_on=None,
    planned_on=None,
    unreachable=None,
    follow_up: FollowUp | None = None,
) -> np.ndarray:
    """Each resident's due date once the visits that did not meet them are taken into account.

    In order, the first that applies:

    1. ``planned_on``: the next visit date the visitor set on the resident's latest visit;
    2. ``unreachable`` (true, with a ``last_visit_on``): ``last_visit_on`` + ``retry_days``;
    3. a visit after the last met visit (``last_visit_on`` > ``last_met_on``, or never met):
       not before ``last_visit_on`` + ``attempt_gap_days``;
    4. ``next_due_on``, the tier cadence (:func:`next_visits`).

    Shared by score runs and by the rescoring of one resident after a recorded visit, so a
    new run keeps what the visit form set. Returns datetime64[D] dates.
    """
    follow_up = FollowUp() if follow_up is None else follow_up
    due = _days(next_due_on, "next_due_on", len(next_due_on))
    n = len(due)
    met = _days(last_met_on, "last_met_on", n)
    last = _days(last_visit_on, "last_visit_on", n)
    planned = _days(planned_on, "planned_on", n)
    gone = np.zeros(n, dtype=bool) if unreachable is None else np.asarray(unreachable, dtype=bool)
    tried = ~np.isnat(last) & (np.isnat(met) | (last > met))
    gap = np.where(tried, last + np.timedelta64(follow_up.attempt_gap_days, "D"), due)
    out = np.where(tried, np.maximum(due, gap), due)
    out = np.where(gone & ~np.isnat(last), last + np.timedelta64(follow_up.retry_days, "D"), out)
    return np.where(~np.isnat(planned), planned, out)


def due_dates(
    tiers,
    context: pd.DataFrame,
    *,
    as_of: dt.date,
    cadence: Cadence | ScoringConfig | dict | None = None,
    follow_up: FollowUp | None = None,
) -> np.ndarray:
    """Return each resident's next due date by the one due-date rule.

    The rule is the tier cadence (:func:`next_visits`), then the visits that did not meet the
    resident (:func:`follow_up_due`). Score runs and the rescoring of one resident after a
    visit both call this, so they cannot disagree.

    Parameters
    ----------
    tiers : array-like of int
        Tier codes 0 (low), 1 (medium), 2 (high), in ``context``'s row order.
    context : DataFrame
        Per resident: ``last_met_on``, ``registered_on``, ``last_visit_on``, ``planned_on``
        (dates, missing allowed) and ``unreachable_since`` (a date or missing).
    as_of : date
        The day of the computation. The due dates do not depend on it: it only dates the
        days overdue of :func:`next_visits`, which are not returned.
    cadence : Cadence, ScoringConfig, mapping or None, default=None
        Days per tier (see :func:`next_visits`).
    follow_up : FollowUp or None, default=None
        The retry and attempt gaps (see :func:`follow_up_due`).

    Returns
    -------
    ndarray of datetime64[D]
        Each resident's next due date.
    """
    tiers = pd.Series(np.asarray(tiers), index=context.index)
    planned = next_visits(
        tiers,
        context["last_met_on"],
        as_of=as_of,
        registered_on=context["registered_on"],
        cadence=cadence,
    )
    return follow_up_due(
        planned["next_due_on"].to_numpy(),
        last_met_on=context["last_met_on"].to_numpy(),
        last_visit_on=context["last_visit_on"].to_numpy(),
        planned_on=context["planned_on"].to_numpy(),
        unreachable=context["unreachable_since"].notna().to_numpy(),
        follow_up=follow_up,
    )
