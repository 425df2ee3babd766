"""Hot-spot jobs (issue 14): analyse a score run, read its cells for the map.

The rules are :mod:`blindspots.hotspots`; the SQL is :mod:`geo.hotspots` (docs/hotspots.md).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from geo.hotspots import HotspotRun, compute_hotspots, hotspot_features
from geo.scope import Scope
from geo.score_runs import published_run_id
from visitmap.errors import NotFound


def run_or_published(session: Session, run_id: int | None) -> int:
    """Return ``run_id``, or the published run's; :class:`NotFound` when there is none."""
    run = run_id if run_id is not None else published_run_id(session)
    if run is None:
        raise NotFound("no published score run")
    return run


def refresh_hotspots(session: Session, run_id: int | None = None) -> HotspotRun:
    """Analyse the run (default: the published one) and store its hot spots."""
    return compute_hotspots(session, run_or_published(session, run_id))


def map_cells(session: Session, scope: Scope, unit: str) -> tuple[int | None, list[dict]]:
    """Return the published run and its significant cells of ``unit`` in scope."""
    run = published_run_id(session)
    if run is None:
        return None, []
    return run, hotspot_features(session, run, unit, scope)
