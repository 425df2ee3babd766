"""Coverage gaps: far from every service on foot, and nobody in touch for a year.

Walking distance: no street network ships with the project, so the walk is the straight line
times a detour factor, at a walking speed (the caller passes the route planner's figures for
travel on foot: 4 km/h and 1.3, routing.plan_settings). Where a network distance is known for
a household it is used instead (``network_m``, NaN where unknown). With those figures a
15-minute walk is 1,000 m on foot, about 770 m in a straight line.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

#: The walk beyond which help is out of reach, minutes.
WALK_LIMIT_MINUTES = 15.0
#: Months without a met visit, a support record or a handled signal.
NO_CONTACT_MONTHS = 12


def walk_minutes(straight_m, *, speed_kmh: float, detour_factor: float, network_m=None):
    """Return the estimated walk in minutes (NaN where no distance is known).

    ``network_m`` (metres along streets), where given and not NaN, replaces
    ``straight_m x detour_factor``.
    """
    if speed_kmh <= 0 or detour_factor < 1:
        raise ValueError("speed_kmh must be positive and detour_factor at least 1")
    metres = np.asarray(straight_m, dtype=float) * detour_factor
    if network_m is not None:
        network = np.asarray(network_m, dtype=float)
        metres = np.where(np.isnan(network), metres, network)
    return metres / (speed_kmh * 1000 / 60)


def far_from_help(tiers, *minutes, limit: float = WALK_LIMIT_MINUTES) -> np.ndarray:
    """High or medium tier (codes 2, 1) and every service farther than ``limit`` minutes.

    ``minutes`` are one array per kind of service (the nearest of that kind); a kind with no
    site at all (NaN) is out of reach.
    """
    nearest = np.fmin.reduce([np.asarray(m, dtype=float) for m in minutes])
    out_of_reach = np.isnan(nearest) | (nearest > limit)
    return (np.asarray(tiers) >= 1) & out_of_reach


def nearest_minutes(*minutes) -> np.ndarray:
    """Return the nearest service's walk, minutes (NaN when none)."""
    return np.fmin.reduce([np.asarray(m, dtype=float) for m in minutes])


def last_contact(*days) -> pd.Series:
    """Return the latest of the given contact days per row (NaT when none)."""
    frame = pd.concat([pd.to_datetime(pd.Series(d)) for d in days], axis=1)
    return frame.max(axis=1)


def no_contact(
    last: pd.Series,
    *,
    as_of: dt.date,
    candidates,
    months: int = NO_CONTACT_MONTHS,
) -> np.ndarray:
    """Nobody in touch: the last contact is older than ``months`` (or never), among candidates.

    ``candidates`` marks the people this matters for (the caller: high or medium tier, or a
    crisis signal in the period): a low-risk resident unvisited for a year is not a gap.
    """
    since = pd.Timestamp(as_of) - pd.DateOffset(months=months)
    stale = (last.isna() | (last < since)).to_numpy()
    return stale & np.asarray(candidates, dtype=bool)
