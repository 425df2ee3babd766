"""Risk hot spots (docs/hotspots.md): refresh a run's cells and read them in a caller's scope.

Thin layer over :mod:`geo.hotspots` so the CLI, the web API and the lead's publish hook call
the same two functions.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from blindspots.hotspots import HotspotParams
from geo.hotspots import HotspotSummary, compute_hotspots, list_cells
from geo.scope import Scope
from visitmap.vocab import HOTSPOT_UNITS


def refresh_hotspots(
    session: Session,
    *,
    run_id: int | None = None,
    units=tuple(HOTSPOT_UNITS),
    params: HotspotParams | None = None,
) -> list[HotspotSummary]:
    """Compute and store the hot spots of ``run_id`` (default: the published run) per unit."""
    return [compute_hotspots(session, run_id=run_id, unit=u, params=params) for u in units]


def hotspot_cells(
    session: Session, scope: Scope, *, run_id: int | None = None, unit: str = "h3_9"
) -> pd.DataFrame:
    """Return the stored cells of the run in ``scope`` (see :func:`geo.hotspots.list_cells`)."""
    return list_cells(session, scope, run_id=run_id, unit=unit)


def area_summary(cells: pd.DataFrame) -> pd.DataFrame:
    """Return per dong: cells, hot cells, cold cells, residents in hot cells."""
    if cells.empty:
        return pd.DataFrame(columns=["area_code", "cells", "hot", "cold", "residents_in_hot"])
    c = cells.assign(
        is_hot=cells.cluster.eq("hot"),
        is_cold=cells.cluster.eq("cold"),
        in_hot=cells.residents.where(cells.cluster.eq("hot"), 0),
    )
    return (
        c.groupby("area_code")
        .agg(cells=("cell", "size"), hot=("is_hot", "sum"), cold=("is_cold", "sum"),
             residents_in_hot=("in_hot", "sum"))
        .reset_index()
    )  # fmt: skip
