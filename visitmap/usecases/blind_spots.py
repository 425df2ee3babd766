"""The blind-spot list (복지사각지대, issue 14): compute it from the published run, read it.

Combines the stored eligibility screening (:mod:`geo.eligibility`), the run's hot spots
(:mod:`geo.hotspots`) and the coverage rules (:mod:`blindspots.coverage`) into one list per
person with reasons (:mod:`blindspots.combine`), stored in ``blind_spots`` (docs/blind_spots.md).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from blindspots.combine import COLUMNS, combine
from blindspots.coverage import (
    far_from_help,
    last_contact,
    nearest_minutes,
    no_contact,
    walk_minutes,
)
from blindspots.hotspots import h3_cells
from geo.blind_spots import blind_spot_inputs, store_blind_spots, unreached_programmes
from geo.hotspots import hot_cells_of_run
from routing.plan_settings import DEFAULT_DETOUR_FACTOR, DEFAULT_SPEED_KMH
from visitmap.usecases.hotspots import run_or_published
from visitmap.vocab import BLIND_SPOT_REASONS

#: Walking on foot as the route planner estimates it (routing.plan_settings).
WALK = {"speed_kmh": DEFAULT_SPEED_KMH["foot"], "detour_factor": DEFAULT_DETOUR_FACTOR["foot"]}


@dataclass(frozen=True)
class BlindSpotRun:
    """What one computation stored."""

    run_id: int
    residents: int
    people: int
    by_reason: dict[str, int]
    seconds: float


def blind_spot_frame(session: Session, run_id: int, *, as_of: dt.date) -> tuple[pd.DataFrame, int]:
    """Return the combined list (resident_id, area_id, tier, reasons, detail) for a run.

    Also returns how many active residents of the run were looked at.
    """
    inputs = blind_spot_inputs(session, run_id, as_of=as_of)
    if inputs.empty:
        return combine(pd.DataFrame(columns=list(COLUMNS))), 0
    tiers = inputs["tier"].to_numpy()
    # 1. likely eligible, not receiving: on the household's reference person
    programmes = unreached_programmes(session)
    heads = inputs["is_head"].astype(bool).to_numpy()
    listed = [
        programmes.get(int(h), []) if head else []
        for h, head in zip(inputs["household_id"], heads, strict=True)
    ]
    # 2. high or medium tier inside a hot H3 cell of the run
    hot = hot_cells_of_run(session, run_id).set_index("cell")
    cells = np.where(tiers >= 1, h3_cells(inputs["lat"], inputs["lon"]), None)
    in_hot = [c if c is not None and c in hot.index else None for c in cells]
    # 3. far from help on foot, and nobody in touch for a year
    to_centre = walk_minutes(inputs["nearest_community_centre_m"].astype(float), **WALK)
    to_welfare = walk_minutes(inputs["nearest_senior_or_welfare_m"].astype(float), **WALK)
    last = last_contact(inputs["last_met"], inputs["last_support"], inputs["last_need"])
    candidates = (tiers >= 1) | inputs["signal_12m"].astype(bool).to_numpy()
    frame = pd.DataFrame(
        {
            "resident_id": inputs["resident_id"],
            "area_id": inputs["area_id"],
            "tier": tiers,
            "programmes": listed,
            "hot_cell": in_hot,
            "hot_z": [hot.loc[c, "z"] if c else np.nan for c in in_hot],
            "hot_q": [hot.loc[c, "q_value"] if c else np.nan for c in in_hot],
            "far": far_from_help(tiers, to_centre, to_welfare),
            "walk_minutes": nearest_minutes(to_centre, to_welfare),
            "no_contact": no_contact(last, as_of=as_of, candidates=candidates),
            "last_contact": last.to_numpy(),
        }
    )
    return combine(frame), len(inputs)


def refresh_blind_spots(
    session: Session, *, as_of: dt.date, run_id: int | None = None
) -> BlindSpotRun:
    """Compute the list from the run (default: the published one) and store it."""
    started = time.perf_counter()
    run = run_or_published(session, run_id)
    rows, residents = blind_spot_frame(session, run, as_of=as_of)
    stored = store_blind_spots(session, rows, run_id=run, as_of=as_of)
    counts = {code: int(sum(code in r for r in rows["reasons"])) for code in BLIND_SPOT_REASONS}
    return BlindSpotRun(run, residents, stored, counts, time.perf_counter() - started)
