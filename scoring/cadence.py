"""Visit cadence: when each resident is next due, how many days overdue, and in what state.

A resident met before is due the tier's cadence after the last visit that met them
(:class:`scoring.config.Cadence`; defaults high 30, medium 91, low 182). A resident never met
is due for a first visit some days after the day they were first scored into their current
tier, ``tier_since`` (:class:`scoring.config.FirstVisitDays`; defaults high 14, medium 60,
low 182)::

    next_due_on  = last_met_on + cadence_days[tier]            # met before
                 = tier_since + first_visit_days[tier]         # never met
    days_overdue = max(0, as_of - next_due_on)       # in days; 0 on the due date itself

Not the registration date: a resident registered in 1967 and never visited is not 59 years
overdue for a visit nobody asked for until the first score run. ``tier_since`` is kept per
resident with each run (:func:`tier_since`): carried from the previous run while the tier
stays, else the run's day (or the visit's day when a visit's rescoring moves the tier).

:func:`due_dates` (the cadence, then the visits that did not meet the resident,
:func:`follow_up_due`) is the one due-date rule of score runs and of the rescoring after a
visit. :func:`visit_states` says, from the due date and the visits, which one state of
:data:`visitmap.vocab.VISIT_STATES` each resident is in on a day.

Length: the due-date rule and the visit states share their date handling and the one
meaning of "overdue" (the due date before the day); split, the two halves could drift.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.config import Cadence, FirstVisitDays, ScoringConfig
from visitmap.errors import FieldError
from visitmap.vocab import OVERDUE_BANDS, VISIT_STATES


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


def _first_visit(first_visit, cadence) -> FirstVisitDays:
    """Return the first-visit days given, else the configuration's (``cadence``), else defaults."""
    if first_visit is None:
        return cadence.first_visit if isinstance(cadence, ScoringConfig) else FirstVisitDays()
    if isinstance(first_visit, ScoringConfig):
        return first_visit.first_visit
    if isinstance(first_visit, FirstVisitDays):
        return first_visit
    try:
        return FirstVisitDays.from_mapping(first_visit)
    except (TypeError, ValueError) as error:
        raise CadenceError(
            f"first_visit must map low/medium/high (or 0/1/2) to days, got {first_visit!r}"
        ) from error


def next_visits(
    tiers,
    last_met_on,
    *,
    as_of: dt.date | str,
    tier_since=None,
    cadence: Cadence | ScoringConfig | dict | None = None,
    first_visit: FirstVisitDays | ScoringConfig | dict | None = None,
) -> pd.DataFrame:
    """Next due date and days overdue per resident by the tier (vectorised).

    Parameters
    ----------
    tiers : array-like of int
        Tier codes 0 (low), 1 (medium), 2 (high); a Series gives the result its index.
    last_met_on : array-like of dates (date objects, timestamps or ISO 8601 strings)
        Last visit in which the resident was met; missing (None, NaT, NaN) if never met.
    as_of : date or ISO 8601 string
        The date at which overdue days are counted.
    tier_since : array-like of dates, optional
        The day each resident entered its current tier (:func:`tier_since`): the start of
        the clock of a resident never met. Missing (or not given): ``as_of``, i.e. first
        scored into the tier that day.
    cadence : Cadence, ScoringConfig, mapping or None, default=None
        Days between visits per tier (a mapping by name or by tier code); None is the
        default (high 30, medium 91, low 182).
    first_visit : FirstVisitDays, ScoringConfig, mapping or None, default=None
        Days to the first visit of a resident never met; None is the configuration's when
        ``cadence`` is a ScoringConfig, else the default (high 14, medium 60, low 182).

    Returns
    -------
    DataFrame
        Columns ``tier``, ``never_met`` (bool), ``cadence_days`` (the days counted: the
        cadence, or the first-visit days of a resident never met), ``started_on`` (the last
        met visit or ``tier_since``), ``next_due_on`` (datetime64 dates), ``days_overdue``
        (int, days, >= 0) and ``is_due`` (``next_due_on <= as_of``).

    Raises
    ------
    CadenceError
        Tiers other than 0/1/2, mismatched lengths, dates that are not dates.
    """
    days_table = _cadence(cadence)
    first_table = _first_visit(first_visit, cadence)
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
    as_of = pd.Timestamp(as_of).normalize()
    since = _dates(tier_since, "tier_since", n, index).fillna(as_of)
    never_met = met.isna().to_numpy()
    started = met.where(~never_met, since)
    days = np.where(
        never_met, first_table.days_for(tier_values), days_table.days_for(tier_values)
    ).astype(np.int64)
    next_due = started + pd.Series(pd.to_timedelta(days, unit="D"), index=index)
    overdue = (as_of - next_due).dt.days.to_numpy().astype(np.int64)
    return pd.DataFrame(
        {
            "tier": tier_values,
            "never_met": never_met,
            "cadence_days": days,
            "started_on": started,
            "next_due_on": next_due,
            "days_overdue": np.maximum(overdue, 0),
            "is_due": next_due.to_numpy() <= as_of.to_datetime64(),
        },
        index=index,
    )


def tier_since(tiers, previous_tiers, previous_since, *, as_of) -> np.ndarray:
    """Return the day each resident entered its current tier (datetime64[D], vectorised).

    The previous run's ``tier_since`` where the tier is the same as in that run (and known),
    else ``as_of`` (a run's day, or the day of the visit whose rescoring moved the tier). A
    carried date is never after ``as_of`` (a backdated run).

    Parameters
    ----------
    tiers : array-like of int
        The tiers now.
    previous_tiers : array-like of float or int
        The tiers in the previous run; NaN (or None) where the resident was not scored in it.
    previous_since : array-like of dates
        ``tier_since`` in the previous run; missing where unknown.
    as_of : date
        The day of the new tiers.
    """
    tiers = np.asarray(tiers)
    n = len(tiers)
    before = np.asarray(previous_tiers, dtype=float)  # None -> NaN
    if len(before) != n:
        raise CadenceError(f"previous_tiers has {len(before)} values for {n} residents")
    since = _days(previous_since, "previous_since", n)
    day = np.datetime64(pd.Timestamp(as_of).date(), "D")
    same = (before == tiers) & ~np.isnat(since)
    return np.where(same, np.minimum(since, day), day).astype("datetime64[D]")


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
    tier_since=None,
    cadence: Cadence | ScoringConfig | dict | None = None,
    first_visit: FirstVisitDays | ScoringConfig | dict | None = None,
    follow_up: FollowUp | None = None,
) -> np.ndarray:
    """Return each resident's next due date by the one due-date rule.

    The rule is the tier's clock (:func:`next_visits`: the last met visit + the cadence, or
    for a resident never met ``tier_since`` + the first-visit days), then the visits that did
    not meet the resident (:func:`follow_up_due`). Score runs and the rescoring of one
    resident after a visit both call this, so they cannot disagree.

    Parameters
    ----------
    tiers : array-like of int
        Tier codes 0 (low), 1 (medium), 2 (high), in ``context``'s row order.
    context : DataFrame
        Per resident: ``last_met_on``, ``last_visit_on``, ``planned_on`` (dates, missing
        allowed) and ``unreachable_since`` (a date or missing).
    as_of : date
        The day of the computation (the tiers' day when ``tier_since`` is not given).
    tier_since : array-like of dates, optional
        The day each resident entered its tier (:func:`tier_since`); default ``as_of``.
    cadence : Cadence, ScoringConfig, mapping or None, default=None
        Days between visits per tier (see :func:`next_visits`).
    first_visit : FirstVisitDays, ScoringConfig, mapping or None, default=None
        Days to a first visit per tier (see :func:`next_visits`).
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
        context["last_met_on"].to_numpy(),
        as_of=as_of,
        tier_since=None if tier_since is None else np.asarray(tier_since),
        cadence=cadence,
        first_visit=first_visit,
    )
    return follow_up_due(
        planned["next_due_on"].to_numpy(),
        last_met_on=context["last_met_on"].to_numpy(),
        last_visit_on=context["last_visit_on"].to_numpy(),
        planned_on=context["planned_on"].to_numpy(),
        unreachable=context["unreachable_since"].notna().to_numpy(),
        follow_up=follow_up,
    )


#: The first day of each band of :data:`visitmap.vocab.OVERDUE_BANDS`, for a vectorised lookup.
_BAND_STARTS = np.array([first for first, _ko, _en in OVERDUE_BANDS], dtype=np.int64)
#: The state codes in their order of precedence (the first that applies wins).
STATE_ORDER = tuple(VISIT_STATES)


def visit_states(
    due_on,
    *,
    today: dt.date,
    last_met_on=None,
    last_visit_on=None,
    last_outcome=None,
    unreachable_since=None,
    active=None,
) -> pd.DataFrame:
    """Return each resident's one visit state on ``today`` (vectorised, no database).

    The first that applies, in the order of :data:`visitmap.vocab.VISIT_STATES`:

    1. ``inactive``: no longer a target (``active`` false: moved, deceased);
    2. ``unreachable``: marked unreachable on or before ``today``; ``retry_on`` is its due
       date (the last attempt + the retry days, :func:`follow_up_due`);
    3. ``visited``: a visit today (any outcome; ``last_outcome`` says which);
    4. ``overdue``: the due date is before ``today`` (never met or not);
    5. ``first_visit``: never met, due on ``due_on`` (its first-visit date) or later;
    6. ``due``: met before, next due on ``due_on``.

    Parameters
    ----------
    due_on : array-like of dates
        Each resident's due date as stored with the run (:func:`due_dates`); missing for a
        resident not scored (who is then never overdue).
    today : date
        The day (Seoul's: :func:`geo.settings.today_in_seoul`).
    last_met_on, last_visit_on : array-like of dates, optional
        The last visit that met the resident and the last visit of any outcome, up to
        ``today``; missing where none. Not given: nobody was visited.
    last_outcome : array-like of str, optional
        The outcome code of the last visit (:data:`visitmap.vocab.VISIT_OUTCOMES`), None
        where none.
    unreachable_since : array-like of dates, optional
        The unreachable mark (residents.unreachable_since); missing where not marked.
    active : array-like of bool, optional
        Whether the resident is still a target (status ``active``); default all.

    Returns
    -------
    DataFrame
        One row per resident, in the input order: ``state`` (code), ``due_on``
        (datetime64[D]), ``days_overdue`` (int, 0 unless past the due date),
        ``overdue_band`` (index in :data:`visitmap.vocab.OVERDUE_BANDS`, -1 if not overdue),
        ``retry_on`` (datetime64[D], NaT unless unreachable), ``last_outcome``,
        ``last_visit_on``, ``last_met_on`` and ``never_met`` (bool).
    """
    due = _days(due_on, "due_on", len(due_on) if due_on is not None else 0)
    n = len(due)
    met = _days(last_met_on, "last_met_on", n)
    visited = _days(last_visit_on, "last_visit_on", n)
    marked = _days(unreachable_since, "unreachable_since", n)
    outcome = (
        np.full(n, None, dtype=object)
        if last_outcome is None
        else np.asarray(last_outcome, dtype=object)
    )
    if len(outcome) != n:
        raise CadenceError(f"last_outcome has {len(outcome)} values for {n} residents")
    target = np.ones(n, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    if len(target) != n:
        raise CadenceError(f"active has {len(target)} values for {n} residents")
    day = np.datetime64(pd.Timestamp(today).date(), "D")
    # days after the due date; a missing due date is never overdue
    late = np.where(np.isnat(due), 0, (day - np.where(np.isnat(due), day, due)).astype(np.int64))
    days_overdue = np.maximum(late, 0)
    never_met = np.isnat(met)
    unreachable = ~np.isnat(marked) & (np.where(np.isnat(marked), day, marked) <= day)
    conditions = [
        ~target,
        unreachable,
        ~np.isnat(visited) & (visited == day),
        days_overdue > 0,
        never_met,
    ]
    state = np.select(conditions, list(STATE_ORDER[: len(conditions)]), default="due")
    band = np.searchsorted(_BAND_STARTS, days_overdue, side="right") - 1
    return pd.DataFrame(
        {
            "state": state.astype(object),
            "due_on": due,
            "days_overdue": days_overdue,
            "overdue_band": np.where(days_overdue > 0, band, -1).astype(np.int64),
            "retry_on": np.where(state == "unreachable", due, np.datetime64("NaT")).astype(
                "datetime64[D]"
            ),
            "last_outcome": outcome,
            "last_visit_on": visited,
            "last_met_on": met,
            "never_met": never_met,
        }
    )
