"""The blind-spot list: per resident, the reasons (visitmap.vocab.BLIND_SPOT_REASONS) and facts.

Input: one row per resident (:data:`COLUMNS`) with what the other rules found; output: the
residents with at least one reason, with ``reasons`` in the vocabulary's order and ``detail``
(programmes likely eligible and not received; the hot-spot cell with its z and q; the
estimated walk to the nearest service; the last contact day).
"""

from __future__ import annotations

import math

import pandas as pd

from visitmap.vocab import BLIND_SPOT_REASONS

COLUMNS = (
    "resident_id",
    "area_id",
    "tier",
    "programmes",
    "hot_cell",
    "hot_z",
    "hot_q",
    "far",
    "walk_minutes",
    "no_contact",
    "last_contact",
)


def _number(value, digits: int):
    return (
        None
        if value is None or (isinstance(value, float) and math.isnan(value))
        else round(float(value), digits)
    )


def combine(frame: pd.DataFrame) -> pd.DataFrame:
    """Return resident_id, area_id, tier, reasons (list) and detail (dict) of those with a reason.

    ``programmes`` is a list (empty: none); ``hot_cell`` None when not in a hot spot (or the
    resident is not high or medium tier); ``far`` and ``no_contact`` booleans.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise KeyError(f"missing column(s): {', '.join(missing)}")
    out = []
    for row in frame.itertuples(index=False):
        reasons, detail = [], {}
        if len(row.programmes):
            reasons.append("eligible_unreached")
            detail["programmes"] = list(row.programmes)
        if isinstance(row.hot_cell, str) and row.hot_cell:
            reasons.append("hotspot")
            detail["hotspot"] = {
                "cell": row.hot_cell,
                "z": _number(row.hot_z, 3),
                "q": _number(row.hot_q, 4),
            }
        if bool(row.far):
            reasons.append("far_from_help")
            detail["walk_minutes"] = _number(row.walk_minutes, 1)
        if bool(row.no_contact):
            reasons.append("no_contact")
            last = row.last_contact
            detail["last_contact"] = (
                None if pd.isna(last) else pd.Timestamp(last).date().isoformat()
            )
        if reasons:
            order = list(BLIND_SPOT_REASONS)
            out.append(
                {
                    "resident_id": row.resident_id,
                    "area_id": row.area_id,
                    "tier": row.tier,
                    "reasons": sorted(reasons, key=order.index),
                    "detail": detail,
                }
            )
    return pd.DataFrame(out, columns=["resident_id", "area_id", "tier", "reasons", "detail"])
