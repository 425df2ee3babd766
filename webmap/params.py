"""Request parameters that need the app or the database: the day and the score run.

A malformed value is a 400 naming the parameter; a score run that does not exist is a 404.
The API's other parameters are parsed by its models (:mod:`webmap.schemas.requests`).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, request
from sqlalchemy.orm import Session

from geo.mapdata.aggregates import run_as_of
from geo.mapdata.filters import MapQueryError
from geo.score_runs import published_run_id
from geo.settings import today_in_seoul
from visitmap.errors import Forbidden, NotFound
from webmap.access import RUN_VIEWERS
from webmap.auth import current_account


def today() -> dt.date:
    """Return the day against which visits are overdue.

    The app's ``TODAY`` setting (tests, demos), else today in Korea.
    """
    fixed = current_app.config.get("TODAY")
    return dt.date.fromisoformat(str(fixed)) if fixed else today_in_seoul()


def parse_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """Return the integer query parameter ``name``, or ``default`` when absent or empty.

    Parameters
    ----------
    name : str
        The query parameter.
    default : int
        The value when the parameter is absent or empty (not checked against the bounds).
    minimum, maximum : int
        The bounds, both included.

    Returns
    -------
    int

    Raises
    ------
    geo.mapdata.filters.MapQueryError
        If the value is not an integer or is out of bounds (a 400 naming ``name``).
    """
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


def parse_run(session: Session, run_id: int | None, *, published: int | None = -1) -> int | None:
    """Return the score run a request asks for, default the published run.

    Any stored run, a draft too, for the roles of :data:`webmap.access.RUN_VIEWERS`
    (leaders, admins, analysts); the others see only the published run (docs/publishing.md).

    Parameters
    ----------
    session : Session
        The request's session.
    run_id : int or None
        The ``run`` parameter as the query model parsed it (1 to 2**31 - 1), or None.
    published : int or None, optional
        The published run when the caller has just read it (saves a query).

    Returns
    -------
    int or None
        The run's id; None when no ``run`` is given and no run is published.

    Raises
    ------
    visitmap.errors.NotFound
        If the run does not exist (404).
    visitmap.errors.Forbidden
        If the run is not the published run and the caller's role may not look at other
        runs (403).
    """
    if published == -1:
        published = published_run_id(session)
    if run_id is None or run_id == published:
        return published
    if run_as_of(session, run_id) is None:
        raise NotFound(f"score run {run_id} does not exist")
    account = current_account()
    if account is None or not account.has(*RUN_VIEWERS):
        raise Forbidden(f"score run {run_id} is not published; your role sees the published run")
    return run_id


def requested_run(session: Session) -> int | None:
    """Return the run of a page's ``run`` query parameter (:func:`parse_run`).

    Raises
    ------
    geo.mapdata.filters.MapQueryError
        If ``run`` is not a run id (400).
    """
    return parse_run(session, parse_int("run", None, minimum=1, maximum=2**31 - 1))
