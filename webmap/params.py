"""Request parameters -> typed values, with errors that name the parameter (HTTP 400)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, request
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.map_data import MapQueryError, ResidentFilters
from geo.score_runs import TIER_NAMES, latest_run_id
from geo.settings import today_in_seoul
from visitmap.errors import NotFound

TIER_CODES = {name: code for code, name in TIER_NAMES.items()}


def today() -> dt.date:
    """The day against which visits are overdue: the app's ``TODAY`` setting (tests, demos)
    or today in Korea."""
    fixed = current_app.config.get("TODAY")
    return dt.date.fromisoformat(str(fixed)) if fixed else today_in_seoul()


def _list(name: str) -> list[str] | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise MapQueryError(name, "must not be empty")
    return items


def parse_bool(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise MapQueryError(name, f"must be true or false, got {raw!r}")


def parse_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MapQueryError(name, f"must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise MapQueryError(name, f"must be between {minimum} and {maximum}, got {value}")
    return value


def parse_filters() -> ResidentFilters:
    """``area`` (dong codes), ``tier`` (high, medium, low), ``overdue``, ``signal``."""
    tiers = _list("tier")
    if tiers is not None:
        unknown = [t for t in tiers if t not in TIER_CODES]
        if unknown:
            raise MapQueryError("tier", f"unknown tier {unknown[0]!r} (high, medium, low)")
    areas = _list("area")
    if areas is not None:
        bad = [a for a in areas if not (len(a) == 10 and a.isdigit())]
        if bad:
            raise MapQueryError("area", f"{bad[0]!r} is not a 10-digit dong code")
    return ResidentFilters(
        area_codes=frozenset(areas) if areas is not None else None,
        tiers=frozenset(TIER_CODES[t] for t in tiers) if tiers is not None else None,
        overdue=parse_bool("overdue"),
        signal_kind=request.args.get("signal") or None,
    )


def parse_bbox() -> tuple[float, float, float, float]:
    """``bbox=minlon,minlat,maxlon,maxlat`` in degrees (required)."""
    raw = request.args.get("bbox")
    if not raw:
        raise MapQueryError("bbox", "required: minlon,minlat,maxlon,maxlat")
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        raise MapQueryError("bbox", f"must be four numbers, got {raw!r}") from None
    if len(values) != 4:
        raise MapQueryError("bbox", f"must be four numbers, got {len(values)}")
    minlon, minlat, maxlon, maxlat = values
    if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
        raise MapQueryError("bbox", "must be minlon < maxlon and minlat < maxlat, in degrees")
    return minlon, minlat, maxlon, maxlat


def parse_run(session: Session) -> int | None:
    """``run`` (a score run id), default the latest; None when nothing has been scored."""
    raw = request.args.get("run")
    if raw is None or raw == "":
        return latest_run_id(session)
    run_id = parse_int("run", 0, minimum=1, maximum=2**31 - 1)
    exists = session.execute(text("SELECT 1 FROM score_runs WHERE id = :id"), {"id": run_id})
    if exists.first() is None:
        raise NotFound(f"score run {run_id} does not exist")
    return run_id
