"""Plan settings from user input, validated field by field into a ``PlanSettings``.

The input is the ``visitmap routes plan`` options or the optional fields of
``POST /api/routes``; the result is a :class:`~routing.plan_settings.PlanSettings`.

Every problem raises :class:`SettingsInputError` naming the field (the API's ``parameter``)
and a ``kind`` the route page translates. Field names follow ``PlanSettings``:

``day_start``, ``day_end``
    ``"HH:MM"``; the start before the end.
``break``
    ``"HH:MM-HH:MM"`` inside working hours, or ``"none"`` (also ``null`` in JSON) for no
    break.
``service_minutes``
    whole minutes per tier, 1 to 480: ``"high=40,medium=30,low=20"`` (any subset; the others
    keep their defaults) or, in JSON, an object ``{"high": 40, ...}``.
``speed_kmh``, ``detour_factor``
    a positive speed (at most 100 km/h) and a detour factor from 1 to 5.
``travel_mode``
    ``"foot"`` or ``"car"``.
``time_limit_seconds``
    0.1 to 30 seconds. ``seed``: a whole number from 0 to 2**31 - 1.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping

from routing.plan_settings import DEFAULT_SPEED_KMH, PlanningError, PlanSettings
from visitmap.errors import FieldError

TIER_CODES = {"low": 0, "medium": 1, "high": 2}
TIME_RE = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
#: the fields accepted (JSON names; the CLI options map onto them)
FIELDS = (
    "day_start",
    "day_end",
    "break",
    "service_minutes",
    "speed_kmh",
    "detour_factor",
    "travel_mode",
    "time_limit_seconds",
    "seed",
)
MAX_SPEED_KMH = 100.0
MAX_DETOUR = 5.0
MAX_SERVICE_MINUTES = 480


class SettingsInputError(FieldError):
    """An invalid plan setting; ``field`` names it and ``kind`` says what is wrong.

    ``kind`` is one of ``time``, ``order``, ``break``, ``service``, ``speed``, ``detour``,
    ``mode``, ``time_limit``, ``seed``, or ``unknown`` for a field not in :data:`FIELDS`
    (``invalid`` if ``PlanSettings`` itself refuses the values).
    """

    def __init__(self, field: str, kind: str, message: str):
        super().__init__(message, field=field)
        self.kind = kind


def _time(field: str, raw) -> dt.time:
    match = TIME_RE.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        raise SettingsInputError(field, "time", f"must be a time HH:MM, got {raw!r}")
    return dt.time(int(match[1]), int(match[2]))


def _number(field: str, raw) -> float:
    if isinstance(raw, bool):
        raise SettingsInputError(field, _KIND[field], f"must be a number, got {raw!r}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingsInputError(field, _KIND[field], f"must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsInputError(field, _KIND[field], f"must be a number, got {raw!r}")
    return value


_KIND = {"speed_kmh": "speed", "detour_factor": "detour", "time_limit_seconds": "time_limit"}


def _break(raw) -> tuple[dt.time | None, dt.time | None]:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("none", "")):
        return None, None
    if not isinstance(raw, str) or raw.count("-") != 1:
        raise SettingsInputError("break", "break", f"must be HH:MM-HH:MM or none, got {raw!r}")
    start, end = raw.split("-")
    try:
        return _time("break", start), _time("break", end)
    except SettingsInputError:
        raise SettingsInputError(
            "break", "break", f"must be HH:MM-HH:MM or none, got {raw!r}"
        ) from None


def _service(raw, default: tuple[int, int, int]) -> tuple[int, int, int]:
    problem = SettingsInputError(
        "service_minutes",
        "service",
        f"must give whole minutes (1-{MAX_SERVICE_MINUTES}) per tier as "
        f"high=40,medium=30,low=20, got {raw!r}",
    )
    if isinstance(raw, str):
        pairs = []
        for part in raw.split(","):
            if part.count("=") != 1:
                raise problem
            pairs.append(tuple(p.strip() for p in part.split("=")))
    elif isinstance(raw, Mapping):
        pairs = list(raw.items())
    else:
        raise problem
    minutes = list(default)
    seen = set()
    for tier, value in pairs:
        if tier not in TIER_CODES or tier in seen:
            raise problem
        seen.add(tier)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise problem
        if not 1 <= value <= MAX_SERVICE_MINUTES:
            raise problem
        minutes[TIER_CODES[tier]] = value
    return tuple(minutes)


def plan_settings_from(fields: Mapping, *, base: PlanSettings | None = None) -> PlanSettings:
    """Build plan settings from ``fields``, names in :data:`FIELDS`.

    Missing or None values keep ``base``'s (default: ``PlanSettings()``), except ``break``,
    where None means no break. Without ``break``, ``base``'s break is kept when it lies inside
    the working hours given, and dropped otherwise.

    Raises
    ------
    SettingsInputError
        For an unknown or invalid field, naming it.
    """
    base = base or PlanSettings()
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise SettingsInputError(unknown[0], "unknown", f"unknown setting {unknown[0]!r}")
    values: dict = {}
    given = {k: v for k, v in fields.items() if v is not None or k == "break"}
    if "day_start" in given:
        values["day_start"] = _time("day_start", given["day_start"])
    if "day_end" in given:
        values["day_end"] = _time("day_end", given["day_end"])
    start = values.get("day_start", base.day_start)
    end = values.get("day_end", base.day_end)
    if start >= end:
        field = "day_end" if "day_end" in given else "day_start"
        raise SettingsInputError(
            field, "order", f"the day must end after it starts ({start:%H:%M}-{end:%H:%M})"
        )
    if "break" in given:
        break_start, break_end = _break(given["break"])
    else:
        break_start, break_end = base.break_start, base.break_end
        if break_start is not None and not start < break_start < break_end < end:
            # working hours moved past the default break: no break rather than an error
            break_start = break_end = None
    if break_start is not None and not start < break_start < break_end < end:
        raise SettingsInputError(
            "break",
            "break",
            f"the break {break_start:%H:%M}-{break_end:%H:%M} must lie inside working hours "
            f"{start:%H:%M}-{end:%H:%M}",
        )
    values["break_start"], values["break_end"] = break_start, break_end
    if "service_minutes" in given:
        values["service_minutes_by_tier"] = _service(
            given["service_minutes"], base.service_minutes_by_tier
        )
    if "travel_mode" in given:
        if given["travel_mode"] not in DEFAULT_SPEED_KMH:
            raise SettingsInputError(
                "travel_mode", "mode", f"must be foot or car, got {given['travel_mode']!r}"
            )
        values["travel_mode"] = given["travel_mode"]
    if "speed_kmh" in given:
        speed = _number("speed_kmh", given["speed_kmh"])
        if not 0 < speed <= MAX_SPEED_KMH:
            raise SettingsInputError(
                "speed_kmh", "speed", f"must be above 0 and at most {MAX_SPEED_KMH:g} km/h"
            )
        values["speed_kmh"] = speed
    if "detour_factor" in given:
        detour = _number("detour_factor", given["detour_factor"])
        if not 1 <= detour <= MAX_DETOUR:
            raise SettingsInputError(
                "detour_factor", "detour", f"must be from 1 to {MAX_DETOUR:g}, got {detour:g}"
            )
        values["detour_factor"] = detour
    if "time_limit_seconds" in given:
        limit = _number("time_limit_seconds", given["time_limit_seconds"])
        if not 0.1 <= limit <= 30:
            raise SettingsInputError(
                "time_limit_seconds", "time_limit", "must be a number from 0.1 to 30"
            )
        values["time_limit_seconds"] = limit
    if "seed" in given:
        seed = given["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise SettingsInputError("seed", "seed", f"must be an integer >= 0, got {seed!r}")
        values["seed"] = seed
    from dataclasses import replace

    try:
        return replace(base, **values)
    except PlanningError as exc:  # pragma: no cover - the checks above come first
        raise SettingsInputError("settings", "invalid", str(exc)) from exc
