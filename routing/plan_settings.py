"""Settings of the daily visit plan, its error type, and the working-time clock.

The planner counts time on a *working clock*: seconds of working time since the start of the
day, with the lunch break cut out. With the defaults (09:00-18:00, break 12:00-13:00) the
working day is 8 h = 28 800 s long and the break is the single instant 10 800 s (three hours
after 09:00). A visit must lie wholly before or wholly after that instant, so no visit
overlaps the break; a walk that is under way at 12:00 pauses for the hour and resumes at
13:00, so the whole break hour is free of visits *and* travel and none of it counts as work.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from visitmap.errors import FieldError

#: Travel modes and their defaults: average speed (km/h) and detour factor over the straight
#: line (network distance / straight-line distance).
TravelMode = Literal["foot", "car"]
DEFAULT_SPEED_KMH: dict[str, float] = {"foot": 4.0, "car": 20.0}
DEFAULT_DETOUR_FACTOR: dict[str, float] = {"foot": 1.3, "car": 1.4}

#: Tier codes used throughout the project.
TIER_LOW, TIER_MEDIUM, TIER_HIGH = 0, 1, 2
TIERS: tuple[int, ...] = (TIER_LOW, TIER_MEDIUM, TIER_HIGH)


class PlanningError(FieldError):
    """Inputs or settings that cannot be planned (bad column values, unknown mode, ...)."""


def seconds_of_day(value: dt.time) -> int:
    """Seconds since midnight of a time of day (microseconds are dropped)."""
    return value.hour * 3600 + value.minute * 60 + value.second


def time_of_day(seconds: int) -> dt.time:
    """Return the time of day ``seconds`` after midnight (0 <= seconds < 86 400).

    Raises
    ------
    PlanningError
        When ``seconds`` falls outside the same day.
    """
    if not 0 <= seconds < 86_400:
        raise PlanningError(f"{seconds} s after midnight is not a time of the same day")
    hours, rest = divmod(int(seconds), 3600)
    return dt.time(hours, *divmod(rest, 60))


@dataclass(frozen=True)
class PlanSettings:
    """How a team's day is planned.

    Parameters
    ----------
    day_start, day_end : datetime.time, default 09:00 and 18:00
        Working hours: visitors leave the base no earlier than ``day_start`` and are back at
        the base by ``day_end``.
    break_start, break_end : datetime.time or None, default 12:00 and 13:00
        The lunch break, inside working hours; both ``None`` for no break. No visit overlaps
        it, nobody travels during it and it is not counted as work (see the module notes).
    service_minutes_by_tier : tuple of 3 int, default (20, 30, 40)
        Minutes spent at a visit, by tier code (low, medium, high). Defaults: a check-in call
        on a low-tier resident 20 min, medium 30 min, high 40 min (longer conversation and a
        needs assessment).
    travel_mode : {"foot", "car"}, default "foot"
        Selects the default speed and detour factor.
    speed_kmh : float or None, default None
        Average travel speed (km/h). ``None``: 4 km/h on foot, 20 km/h by car (urban average
        including parking).
    detour_factor : float or None, default None
        Travelled distance over straight-line distance (>= 1). ``None``: 1.3 on foot, 1.4 by
        car.
    balance_metres_per_minute : int, default 60
        Weight of work balance: one minute of a visitor's route above the team's mean route
        duration costs as much as this many metres of extra travel. 0 switches balancing off.
    time_limit_seconds : float, default 3.0
        Wall-clock budget of the solver (seconds), shared by its phases.
    seed : int, default 0
        Seed of the solver's random number generator (same inputs and seed, similar plan; the
        plan also depends on how many iterations fit in the time limit).
    """

    day_start: dt.time = dt.time(9, 0)
    day_end: dt.time = dt.time(18, 0)
    break_start: dt.time | None = dt.time(12, 0)
    break_end: dt.time | None = dt.time(13, 0)
    service_minutes_by_tier: tuple[int, int, int] = (20, 30, 40)
    travel_mode: TravelMode = "foot"
    speed_kmh: float | None = None
    detour_factor: float | None = None
    balance_metres_per_minute: int = 60
    time_limit_seconds: float = 3.0
    seed: int = 0

    def __post_init__(self) -> None:
        """Check the settings; raise PlanningError naming the first invalid one."""
        for name in ("day_start", "day_end"):
            if not isinstance(getattr(self, name), dt.time):
                raise PlanningError(f"{name} must be a datetime.time")
        if self.day_start >= self.day_end:
            raise PlanningError(f"day_start {self.day_start} is not before day_end {self.day_end}")
        if (self.break_start is None) != (self.break_end is None):
            raise PlanningError("give both break_start and break_end, or neither")
        if self.break_start is not None and not (
            isinstance(self.break_start, dt.time)
            and isinstance(self.break_end, dt.time)
            and self.day_start < self.break_start < self.break_end < self.day_end
        ):
            raise PlanningError(
                f"the break {self.break_start}-{self.break_end} must lie strictly inside "
                f"working hours {self.day_start}-{self.day_end}"
            )
        minutes = self.service_minutes_by_tier
        if (
            not isinstance(minutes, tuple)
            or len(minutes) != len(TIERS)
            or not all(isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in minutes)
        ):
            raise PlanningError(
                f"service_minutes_by_tier must be 3 positive integers (low, medium, high), "
                f"got {minutes!r}"
            )
        if self.travel_mode not in DEFAULT_SPEED_KMH:
            raise PlanningError(
                f"travel_mode must be one of {sorted(DEFAULT_SPEED_KMH)}, got {self.travel_mode!r}"
            )
        if self.speed_kmh is not None and not (
            math.isfinite(self.speed_kmh) and self.speed_kmh > 0
        ):
            raise PlanningError(f"speed_kmh must be positive, got {self.speed_kmh!r}")
        if self.detour_factor is not None and not (
            math.isfinite(self.detour_factor) and self.detour_factor >= 1
        ):
            raise PlanningError(f"detour_factor must be at least 1, got {self.detour_factor!r}")
        if (
            not isinstance(self.balance_metres_per_minute, int)
            or self.balance_metres_per_minute < 0
        ):
            raise PlanningError(
                "balance_metres_per_minute must be a non-negative integer, "
                f"got {self.balance_metres_per_minute!r}"
            )
        if not (math.isfinite(self.time_limit_seconds) and self.time_limit_seconds > 0):
            raise PlanningError(
                f"time_limit_seconds must be positive, got {self.time_limit_seconds!r}"
            )

    # -- travel -----------------------------------------------------------------------------

    @property
    def travel_speed_kmh(self) -> float:
        """The speed in use (km/h): ``speed_kmh`` or the travel mode's default."""
        return self.speed_kmh if self.speed_kmh is not None else DEFAULT_SPEED_KMH[self.travel_mode]

    @property
    def travel_detour_factor(self) -> float:
        """The detour factor in use: ``detour_factor`` or the travel mode's default."""
        if self.detour_factor is not None:
            return self.detour_factor
        return DEFAULT_DETOUR_FACTOR[self.travel_mode]

    def service_seconds(self, tier: int) -> int:
        """Service time of a visit to a resident of ``tier`` (seconds)."""
        return self.service_minutes_by_tier[tier] * 60

    # -- working clock ----------------------------------------------------------------------

    @property
    def break_seconds(self) -> int:
        """Length of the break (seconds); 0 without a break."""
        if self.break_start is None or self.break_end is None:
            return 0
        return seconds_of_day(self.break_end) - seconds_of_day(self.break_start)

    @property
    def break_instant(self) -> int | None:
        """Working-clock instant of the break (seconds of work before it), or None."""
        if self.break_start is None:
            return None
        return seconds_of_day(self.break_start) - seconds_of_day(self.day_start)

    @property
    def working_seconds(self) -> int:
        """Length of the working day without the break (seconds)."""
        span = seconds_of_day(self.day_end) - seconds_of_day(self.day_start)
        return span - self.break_seconds

    @property
    def working_segments(self) -> tuple[tuple[int, int], ...]:
        """Working-clock intervals a visit must lie in: before and after the break."""
        instant = self.break_instant
        if instant is None:
            return ((0, self.working_seconds),)
        return ((0, instant), (instant, self.working_seconds))

    def to_working_clock(self, wall: dt.time) -> int:
        """Working-clock seconds of a time of day, clamped to the working day.

        A time inside the break maps to the break instant: "available from 12:30" then means
        a visit starts at 13:00 at the earliest, "available until 12:30" that it ends by
        12:00 — both conservative.
        """
        wall_seconds = seconds_of_day(wall)
        start = seconds_of_day(self.day_start)
        clock = min(max(wall_seconds - start, 0), seconds_of_day(self.day_end) - start)
        instant = self.break_instant
        if instant is None or clock <= instant:
            return clock
        return max(instant, clock - self.break_seconds)

    def to_wall_clock(self, working_seconds: int, *, side: Literal["start", "end"]) -> dt.time:
        """Return the time of day of a working-clock instant.

        The break instant is ambiguous: as the ``"end"`` of something (a visit, a walk) it is
        the start of the break (12:00); as the ``"start"`` of something it is the end of the
        break (13:00).
        """
        if not 0 <= working_seconds <= self.working_seconds:
            raise PlanningError(f"{working_seconds} s is outside the working day")
        instant = self.break_instant
        after_break = instant is not None and (
            working_seconds > instant or (side == "start" and working_seconds == instant)
        )
        offset = self.break_seconds if after_break else 0
        return time_of_day(seconds_of_day(self.day_start) + working_seconds + offset)


#: The settings used when none are given.
DEFAULT_SETTINGS = PlanSettings()
