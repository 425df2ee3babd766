"""The map's and the API's resident filters, and the overdue rule, as SQL conditions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from visitmap.errors import FieldError
from visitmap.vocab import CRISIS_SIGNAL_KINDS, TIER_NAMES

#: Signals younger than this count for the crisis-signal filter, days (as the 12-month feature).
SIGNAL_FILTER_DAYS = 365


def overdue_sql(due: str = "s.next_due_on", day: str = ":today") -> str:
    """Return the overdue rule as an SQL condition.

    A resident is overdue on ``day`` when its next due date is before it (due that very day
    is not overdue). Used by the filters, the cached counts, their adjustment after a visit
    and the tiles.

    Parameters
    ----------
    due : str, optional
        The SQL expression of the next due date.
    day : str, optional
        The SQL expression of the day overdue is judged on (by default the ``:today``
        parameter, which the caller binds).

    Returns
    -------
    str
        The condition, in parentheses.
    """
    return f"({due} < {day})"


class MapQueryError(FieldError):
    """A map query's parameter is invalid; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message, field=parameter)
        self.parameter = parameter


@dataclass(frozen=True)
class ResidentFilters:
    """Filters of the map and the API. ``None`` = no filter.

    area_codes: dongs (10-digit codes); tiers: tier codes (0 low, 1 medium, 2 high);
    overdue: True = only residents past their next due date, False = only those not;
    signal_kind: only residents with a crisis signal of this kind (resident or household)
    in the last 365 days; unreached (issue 14): True = only residents whose household the
    stored eligibility screening finds likely eligible for a programme it does not receive
    (``eligibility_results``), False = only the others.
    """

    area_codes: frozenset[str] | None = None
    tiers: frozenset[int] | None = None
    overdue: bool | None = None
    signal_kind: str | None = None
    unreached: bool | None = None

    def __post_init__(self):
        """Check the tier codes and the signal kind; raise :class:`MapQueryError`."""
        if self.tiers is not None and not self.tiers <= set(TIER_NAMES):
            raise MapQueryError("tier", f"unknown tier code in {sorted(self.tiers)}")
        if self.signal_kind is not None and self.signal_kind not in CRISIS_SIGNAL_KINDS:
            raise MapQueryError(
                "signal",
                f"unknown crisis signal kind {self.signal_kind!r} "
                f"(one of {', '.join(CRISIS_SIGNAL_KINDS)})",
            )

    def sql(self, *, today: dt.date) -> tuple[str, dict]:
        """Return the filters as SQL conditions and their parameters.

        Parameters
        ----------
        today : date
            The day overdue and the signal window are judged on.

        Returns
        -------
        where : str
            Conditions on ``s`` (resident_scores), ``r`` (residents), ``h`` (households) and
            ``a`` (areas), each starting with `` AND``; empty for no filter.
        params : dict
            Their parameters.
        """
        parts, params = [], {}
        if self.area_codes is not None:
            parts.append("a.code = ANY(:filter_areas)")
            params["filter_areas"] = sorted(self.area_codes)
        if self.tiers is not None:
            parts.append("s.tier = ANY(:filter_tiers)")
            params["filter_tiers"] = sorted(self.tiers)
        if self.overdue is not None:
            parts.append(("" if self.overdue else "NOT ") + overdue_sql())
            params["today"] = today
        if self.signal_kind is not None:
            parts.append(
                """EXISTS (SELECT 1 FROM crisis_signals cs
                WHERE (cs.resident_id = r.id OR cs.household_id = r.household_id)
                  AND cs.kind = :filter_signal
                  AND cs.observed_on > CAST(:today AS date) - :signal_days
                  AND cs.observed_on <= :today)"""
            )
            params |= {
                "filter_signal": self.signal_kind,
                "today": today,
                "signal_days": SIGNAL_FILTER_DAYS,
            }
        if self.unreached is not None:
            parts.append(
                ("" if self.unreached else "NOT ")
                + """EXISTS (SELECT 1 FROM eligibility_results er
                WHERE er.household_id = r.household_id
                  AND er.likely_eligible AND NOT er.receiving)"""
            )
        return "".join(f" AND {p}" for p in parts), params

    @property
    def only_tier_and_overdue(self) -> bool:
        """True when the cached per-dong counts can answer these filters."""
        return self.signal_kind is None and self.unreached is None


#: No filter: every resident of the run in scope.
NO_FILTERS = ResidentFilters()
