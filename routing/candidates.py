"""Validation of the planner's inputs: the base, the visitors and the candidate table.

Every error names what is wrong and where (column and row, with the resident id when it is
readable), so a coordinator can fix the source record.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from routing.plan_settings import TIERS, PlanningError
from visitmap.crs import KOREA_BOUNDS
from visitmap.vocab import overdue_band

#: Columns the candidate table must have.
REQUIRED_COLUMNS: tuple[str, ...] = ("resident_id", "lon", "lat", "tier", "days_overdue")
#: Optional availability columns (times of day; missing = unknown = available all day).
WINDOW_COLUMNS: tuple[str, ...] = ("available_from", "available_until")
#: Optional column ``state``: the resident's visit state (codes of
#: :data:`visitmap.vocab.VISIT_STATES`) among those a planner sees, least urgent first; its
#: position is the state's rank in :attr:`Candidate.priority`. Missing or null: ``overdue``
#: when ``days_overdue`` is above 0, else ``due``.
PLANNED_STATES: tuple[str, ...] = ("due", "first_visit", "overdue")


@dataclass(frozen=True)
class Candidate:
    """One validated row of the candidate table.

    Attributes
    ----------
    resident_id : str
    lon, lat : float
        WGS84 degrees.
    tier : int
        0 low, 1 medium, 2 high.
    days_overdue : int
        Days past the tier's visit cadence (0 = due today, negative = not yet due).
    available_from, available_until : datetime.time or None
        The resident's availability window; None where unknown.
    row : object
        The row's index label in the input table (for messages).
    state : str
        ``overdue``, ``first_visit`` or ``due`` (:data:`PLANNED_STATES`).
    """

    resident_id: str
    lon: float
    lat: float
    tier: int
    days_overdue: int
    available_from: dt.time | None
    available_until: dt.time | None
    row: object
    state: str = "due"

    @property
    def priority(self) -> tuple[int, int, int]:
        """Sort key, larger is more urgent: tier, then state, then the overdue band.

        ``(tier, rank of the state in PLANNED_STATES, visitmap.vocab.overdue_band(days))``:
        any high-tier resident outranks any medium one; within a tier an overdue resident
        outranks a first visit, which outranks one merely due; among the overdue a longer
        band (``3개월 이상`` over ``2주 이상``) is more urgent, and days inside one band do
        not count (they are as precise as the records behind them, no more).
        """
        band = overdue_band(self.days_overdue) if self.state == "overdue" else -1
        return (self.tier, PLANNED_STATES.index(self.state), band)


def validate_base(base: Sequence[float]) -> tuple[float, float]:
    """Return the base as ``(lon, lat)`` floats (WGS84 degrees).

    Raises
    ------
    PlanningError
        When ``base`` is not a pair of finite numbers inside South Korea's bounds.
    """
    try:
        lon, lat = (float(value) for value in base)
    except (TypeError, ValueError) as error:
        raise PlanningError(f"base must be a (lon, lat) pair of numbers, got {base!r}") from error
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise PlanningError(f"base must be finite (lon, lat), got {base!r}")
    if _outside_korea(lon, lat):
        raise PlanningError(f"base ({lon}, {lat}) is not a lon/lat inside South Korea")
    return lon, lat


def _outside_korea(lon: float, lat: float) -> str | None:
    # "lon" or "lat" when that coordinate is outside the Korea bounding box, else None.
    min_lon, min_lat, max_lon, max_lat = KOREA_BOUNDS
    if not min_lon <= lon <= max_lon:
        return "lon"
    if not min_lat <= lat <= max_lat:
        return "lat"
    return None


def validate_visitors(visitors: Sequence[str]) -> tuple[str, ...]:
    """Return the visitors' names as a tuple: at least one, non-empty and unique.

    Raises
    ------
    PlanningError
        When ``visitors`` is not a sequence of names (a single string is refused), is empty,
        or has a blank or repeated name.
    """
    if isinstance(visitors, str) or not isinstance(visitors, Sequence):
        raise PlanningError(f"visitors must be a list of names, got {visitors!r}")
    names = tuple(visitors)
    if not names:
        raise PlanningError("visitors is empty: a team needs at least one visitor")
    for position, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise PlanningError(f"visitor {position} has no name ({name!r})")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PlanningError(f"visitor names must be unique, repeated: {duplicates}")
    return names


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _where(column: str, row: object, resident_id: object) -> str:
    who = f" (resident_id {resident_id!r})" if isinstance(resident_id, str) else ""
    return f"column {column!r}, row {row!r}{who}"


def _integer(value: object, column: str, row: object, resident_id: object) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or _missing(value)
        or not float(value).is_integer()
    ):
        raise PlanningError(
            f"{_where(column, row, resident_id)}: expected an integer, got {value!r}"
        )
    return int(value)


def _degrees(value: object, column: str, row: object, resident_id: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or _missing(value):
        raise PlanningError(f"{_where(column, row, resident_id)}: expected degrees, got {value!r}")
    if not math.isfinite(float(value)):
        raise PlanningError(f"{_where(column, row, resident_id)}: expected degrees, got {value!r}")
    return float(value)


def _time_of_day(value: object, column: str, row: object, resident_id: object) -> dt.time | None:
    if _missing(value):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        raise PlanningError(
            f"{_where(column, row, resident_id)}: expected a time of day, got a date-time {value!r}"
        )
    if isinstance(value, dt.time):
        return value.replace(microsecond=0)
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip()).replace(microsecond=0)
        except ValueError:
            pass
    raise PlanningError(
        f"{_where(column, row, resident_id)}: expected a time of day such as '14:30', got {value!r}"
    )


def validate_candidates(candidates: pd.DataFrame) -> tuple[Candidate, ...]:
    """Validate the candidate table, one :class:`Candidate` per row (in table order).

    Raises
    ------
    PlanningError
        Naming the column and the row (index label, and resident id when readable) of the
        first bad value: missing columns, empty or repeated ``resident_id``, coordinates that
        are not numbers, a tier other than 0/1/2, non-integer ``days_overdue``, unreadable
        availability times or a window that ends before it starts.
    """
    if not isinstance(candidates, pd.DataFrame):
        raise PlanningError(f"candidates must be a pandas DataFrame, got {type(candidates)}")
    missing = [column for column in REQUIRED_COLUMNS if column not in candidates.columns]
    if missing:
        raise PlanningError(f"candidates lacks column(s) {missing}")
    seen: dict[str, object] = {}
    rows: list[Candidate] = []
    for row, record in zip(candidates.index, candidates.to_dict("records"), strict=True):
        resident_id = record["resident_id"]
        if not isinstance(resident_id, str) or not resident_id.strip():
            raise PlanningError(
                f"{_where('resident_id', row, None)}: expected a non-empty text id, "
                f"got {resident_id!r}"
            )
        if resident_id in seen:
            raise PlanningError(
                f"{_where('resident_id', row, resident_id)}: repeats row {seen[resident_id]!r}"
            )
        seen[resident_id] = row
        lon = _degrees(record["lon"], "lon", row, resident_id)
        lat = _degrees(record["lat"], "lat", row, resident_id)
        if column := _outside_korea(lon, lat):
            raise PlanningError(
                f"{_where(column, row, resident_id)}: ({lon}, {lat}) is not a WGS84 lon/lat "
                "inside South Korea"
            )
        tier = _integer(record["tier"], "tier", row, resident_id)
        if tier not in TIERS:
            raise PlanningError(
                f"{_where('tier', row, resident_id)}: expected 0 (low), 1 (medium) or 2 (high), "
                f"got {record['tier']!r}"
            )
        days_overdue = _integer(record["days_overdue"], "days_overdue", row, resident_id)
        state = record.get("state")
        if _missing(state):
            state = "overdue" if days_overdue > 0 else "due"
        if state not in PLANNED_STATES:
            raise PlanningError(
                f"{_where('state', row, resident_id)}: expected one of {list(PLANNED_STATES)}, "
                f"got {state!r}"
            )
        available_from, available_until = (
            _time_of_day(record.get(column), column, row, resident_id) for column in WINDOW_COLUMNS
        )
        if (
            available_from is not None
            and available_until is not None
            and available_from >= available_until
        ):
            raise PlanningError(
                f"{_where('available_until', row, resident_id)}: {available_until} is not after "
                f"available_from {available_from}"
            )
        rows.append(
            Candidate(
                resident_id=resident_id,
                lon=lon,
                lat=lat,
                tier=tier,
                days_overdue=days_overdue,
                available_from=available_from,
                available_until=available_until,
                row=row,
                state=state,
            )
        )
    return tuple(rows)
