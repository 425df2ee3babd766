"""Request parameters that need the app or the database (the day, the score run), with errors
that name the parameter (HTTP 400); the API's other parameters are parsed by its models
(:mod:`webmap.schemas.requests`)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, request
from sqlalchemy.orm import Session

from geo.mapdata.filters import MapQueryError
from geo.mapdata.queries import run_exists
from geo.score_runs import latest_run_id
from geo.settings import today_in_seoul
from visitmap.errors import NotFound


def today() -> dt.date:
    """The day against which visits are overdue: the app's ``TODAY`` setting (tests, demos)
    or today in Korea."""
    fixed = current_app.config.get("TODAY")
    return dt.date.fromisoformat(str(fixed)) if fixed else today_in_seoul()


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


def parse_run(session: Session) -> int | None:
    """``run`` (a score run id), default the latest; None when nothing has been scored."""
    raw = request.args.get("run")
    if raw is None or raw == "":
        return latest_run_id(session)
    run_id = parse_int("run", 0, minimum=1, maximum=2**31 - 1)
    if not run_exists(session, run_id):
        raise NotFound(f"score run {run_id} does not exist")
    return run_id
