"""One team's day as a routing problem: locations, travel, service times and time windows.

Location 0 is the base; candidate ``i`` (position in the validated candidate table) is at
location ``i + 1``. All times are on the working clock of
:class:`~routing.plan_settings.PlanSettings` (seconds of work since the start of the day, the
break cut out). Each candidate gets *start windows*: the intervals in which a visit may begin
so that it lies inside the resident's availability window and wholly before or wholly after
the break (at most two intervals).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from routing.candidates import Candidate, validate_base, validate_candidates, validate_visitors
from routing.plan_settings import PlanSettings
from routing.travel import project_lonlat, travel_matrix

#: Start windows of a visit: (earliest start, latest start) pairs on the working clock.
StartWindows = tuple[tuple[int, int], ...]


class DropReason(StrEnum):
    """Why a candidate is not in the plan. The ``message_*`` mappings give the wording."""

    NOT_DUE = "not_due"
    TOO_FAR = "too_far"
    WINDOW_UNREACHABLE = "window_unreachable"
    DAY_FULL_LOWEST_PRIORITY = "day_full_lowest_priority"
    DAY_FULL_NO_ROOM = "day_full_no_room"
    NOT_CHOSEN = "not_chosen"

    @property
    def message_en(self) -> str:
        """Return the reason in English, for the plan's readers."""
        return _MESSAGES[self][1]

    @property
    def message_ko(self) -> str:
        """Return the reason in Korean, for the plan's readers."""
        return _MESSAGES[self][0]


_MESSAGES: dict[DropReason, tuple[str, str]] = {
    DropReason.NOT_DUE: (
        "방문 주기상 아직 방문할 때가 아님",
        "not yet due under the tier's visit cadence",
    ),
    DropReason.TOO_FAR: (
        "거점에서 너무 멀어 근무시간 안에 방문하고 돌아올 수 없음",
        "too far from the base to visit and return within the working day",
    ),
    DropReason.WINDOW_UNREACHABLE: (
        "방문 가능 시간대에 근무시간 안에 도착해 방문을 마칠 수 없음",
        "availability window cannot be reached within working hours",
    ),
    DropReason.DAY_FULL_LOWEST_PRIORITY: (
        "일정이 꽉 참: 계획된 방문이 모두 우선순위가 같거나 더 높음",
        "day full: every planned visit has the same or a higher priority",
    ),
    DropReason.DAY_FULL_NO_ROOM: (
        "일정이 꽉 참: 어느 방문자의 경로에도, 우선순위가 낮은 방문과 바꾸어도 들어갈 자리가 없음",
        "day full: fits in no visitor's route, not even in place of a lower-priority visit",
    ),
    DropReason.NOT_CHOSEN: (
        "계획 방식상 선택되지 않음: 경로에 넣거나 우선순위가 낮은 방문과 바꿀 수 있었음",
        "not chosen by the planning rule although it would fit, or replace a lower-priority visit",
    ),
}


@dataclass(frozen=True)
class DayProblem:
    """The validated, prepared day (see the module notes for indices and clock).

    Attributes
    ----------
    settings : PlanSettings
    visitors : tuple of str
    candidates : tuple of Candidate
    metres, seconds : list of list of int
        Travel distance (metres) and time (seconds) between locations, as nested lists for
        fast scalar access (the numpy originals are in ``metres_matrix`` / ``seconds_matrix``).
    service : tuple of int
        Service time of each candidate (seconds).
    windows : tuple of StartWindows
        Start windows of each candidate (availability, break and working hours applied).
    day_windows : tuple of StartWindows
        The same without the availability window (used to tell "too far" from "window").
    prescreen : dict of int to DropReason
        Candidates that cannot be planned whatever the others do (not due, too far, window
        unreachable); the rest are *eligible*.
    xy : numpy.ndarray
        EPSG:5179 eastings and northings of every location (metres), shape (n + 1, 2).
    """

    settings: PlanSettings
    visitors: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    metres_matrix: np.ndarray
    seconds_matrix: np.ndarray
    metres: list[list[int]]
    seconds: list[list[int]]
    service: tuple[int, ...]
    windows: tuple[StartWindows, ...]
    day_windows: tuple[StartWindows, ...]
    prescreen: dict[int, DropReason]
    xy: np.ndarray

    @property
    def working_seconds(self) -> int:
        """Return the length of the working day without the break (seconds)."""
        return self.settings.working_seconds

    @property
    def eligible(self) -> list[int]:
        """Candidates that could be visited on their own, in table order."""
        return [i for i in range(len(self.candidates)) if i not in self.prescreen]

    def priority(self, candidate: int) -> tuple[int, int, int]:
        """Priority key of a candidate (larger = more urgent)."""
        return self.candidates[candidate].priority

    @property
    def early_deadline(self) -> int:
        """Working-clock instant by which an *early* visit ends: the break, else mid-day."""
        instant = self.settings.break_instant
        return instant if instant is not None else self.working_seconds // 2

    def early_windows(self, candidate: int) -> StartWindows | None:
        """Start windows of a visit that ends by :attr:`early_deadline`, or None.

        None when the resident's availability leaves no such start, or when a visit alone
        from the base could not make one (the windows do not allow an early visit).
        """
        service = self.service[candidate]
        early = tuple(
            (first, min(last, self.early_deadline - service))
            for first, last in self.windows[candidate]
            if first <= min(last, self.early_deadline - service)
        )
        if not early or not _fits_alone(
            self.seconds, candidate + 1, service, early, self.working_seconds
        ):
            return None
        return early

    def with_windows(self, windows: dict[int, StartWindows]) -> DayProblem:
        """Return the problem with some candidates' start windows replaced."""
        replaced = tuple(windows.get(i, w) for i, w in enumerate(self.windows))
        return dataclasses.replace(self, windows=replaced)


def start_windows(
    settings: PlanSettings, service_seconds: int, available: tuple[int, int] | None = None
) -> StartWindows:
    """Intervals in which a visit of ``service_seconds`` may start (working clock).

    Parameters
    ----------
    settings : PlanSettings
    service_seconds : int
        Length of the visit (seconds).
    available : (int, int) or None
        The resident's availability on the working clock: the visit starts no earlier than
        the first and ends no later than the second. None: all day.
    """
    earliest, latest_end = available if available is not None else (0, settings.working_seconds)
    windows = []
    for segment_start, segment_end in settings.working_segments:
        first = max(segment_start, earliest)
        last = min(segment_end, latest_end) - service_seconds
        if first <= last:
            windows.append((first, last))
    return tuple(windows)


def first_start(windows: StartWindows, arrival: int) -> int | None:
    """Earliest start at or after ``arrival`` inside the windows, or None."""
    for first, last in windows:
        if arrival <= last:
            return max(first, arrival)
    return None


def last_start(windows: StartWindows, deadline: int) -> int | None:
    """Latest start at or before ``deadline`` inside the windows, or None."""
    for first, last in reversed(windows):
        if deadline >= first:
            return min(last, deadline)
    return None


def _fits_alone(
    seconds: list[list[int]], location: int, service: int, windows: StartWindows, end: int
) -> bool:
    # base -> location -> base: a start window is reached and the base by ``end``.
    start = first_start(windows, seconds[0][location])
    return start is not None and start + service + seconds[location][0] <= end


def prepare_day(
    base: Sequence[float],
    visitors: Sequence[str],
    candidates: pd.DataFrame,
    settings: PlanSettings,
) -> DayProblem:
    """Validate the inputs and build the :class:`DayProblem`.

    Builds the travel matrices, each candidate's start windows, and the prescreen: the
    candidates that cannot be planned on their own (not due, too far, window unreachable).

    Raises
    ------
    PlanningError
        For an invalid base, visitor list or candidate table (see
        :mod:`routing.candidates`).
    TypeError
        When ``settings`` is not a :class:`~routing.plan_settings.PlanSettings`.
    """
    if not isinstance(settings, PlanSettings):
        raise TypeError(f"settings must be PlanSettings, got {type(settings)}")
    base_lonlat = validate_base(base)
    names = validate_visitors(visitors)
    rows = validate_candidates(candidates)
    lons = np.array([base_lonlat[0], *(c.lon for c in rows)])
    lats = np.array([base_lonlat[1], *(c.lat for c in rows)])
    x, y = project_lonlat(lons, lats)
    matrix = travel_matrix(
        x,
        y,
        speed_kmh=settings.travel_speed_kmh,
        detour_factor=settings.travel_detour_factor,
    )
    seconds = matrix.seconds.tolist()
    service = tuple(settings.service_seconds(c.tier) for c in rows)
    windows, day_windows, prescreen = [], [], {}
    for i, candidate in enumerate(rows):
        available = None
        if candidate.available_from is not None or candidate.available_until is not None:
            available = (
                settings.to_working_clock(candidate.available_from)
                if candidate.available_from is not None
                else 0,
                settings.to_working_clock(candidate.available_until)
                if candidate.available_until is not None
                else settings.working_seconds,
            )
        windows.append(start_windows(settings, service[i], available))
        day_windows.append(start_windows(settings, service[i]))
        end = settings.working_seconds
        if candidate.days_overdue < 0:
            prescreen[i] = DropReason.NOT_DUE
        elif not _fits_alone(seconds, i + 1, service[i], day_windows[i], end):
            prescreen[i] = DropReason.TOO_FAR
        elif not _fits_alone(seconds, i + 1, service[i], windows[i], end):
            prescreen[i] = DropReason.WINDOW_UNREACHABLE
    return DayProblem(
        settings=settings,
        visitors=names,
        candidates=rows,
        metres_matrix=matrix.metres,
        seconds_matrix=matrix.seconds,
        metres=matrix.metres.tolist(),
        seconds=seconds,
        service=service,
        windows=tuple(windows),
        day_windows=tuple(day_windows),
        prescreen=prescreen,
        xy=np.column_stack([x, y]),
    )
