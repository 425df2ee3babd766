"""Risk hot spots: Getis-Ord Gi* on H3 cells or dongs, permutation p-values, FDR.

The analysed value of a unit is the share of its residents in the high tier, not the count
of high-tier residents: counts follow population (a dense block of flats is "hot" for any
attribute), shares ask whether risk is concentrated beyond what the number of people there
explains. Small units make shares noisy (1 of 1 = 100 %), so units with fewer than
``min_residents`` residents are left out of the analysis (class "none", no z) and the shares
of the rest are shrunk towards the overall share with a simple empirical-Bayes prior of
``prior_weight`` pseudo-residents: ``(high + k * p0) / (residents + k)``.

Weights: H3 cells are neighbours when one lies in the other's ``grid_disk(k=1)`` ring;
neighbour cells without (enough) residents are not in the analysis and so do not count
(absent, not zero: an empty field is not a low-risk neighbourhood). Dongs use queen
contiguity of their outlines (``libpysal.weights.Queen``). Gi* (``star=True``) includes the
unit itself; units with no neighbour in the analysis are given class "none".

Significance: conditional permutation p-values from ``esda.G_Local`` (seeded, 999
permutations by default), then our own Benjamini-Hochberg step-up (five lines below,
``bh_qvalues``) over all analysed units; a unit is "hot" when q <= ``alpha`` and z > 0,
"cold" when q <= ``alpha`` and z < 0, otherwise "none".
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd
from esda.getisord import G_Local
from libpysal.weights import W

DEFAULT_PERMUTATIONS = 999
DEFAULT_ALPHA = 0.05
DEFAULT_MIN_RESIDENTS = 5
DEFAULT_PRIOR_WEIGHT = 5.0
DEFAULT_SEED = 14


@dataclass(frozen=True)
class HotspotParams:
    """Parameters of one hot-spot analysis (documented in docs/hotspots.md)."""

    permutations: int = DEFAULT_PERMUTATIONS
    alpha: float = DEFAULT_ALPHA
    min_residents: int = DEFAULT_MIN_RESIDENTS
    prior_weight: float = DEFAULT_PRIOR_WEIGHT
    seed: int = DEFAULT_SEED


def bh_qvalues(p: Iterable[float]) -> np.ndarray:
    """Return Benjamini-Hochberg q-values (step-up, monotone, capped at 1) for p-values."""
    p = np.asarray(list(p), dtype=float)
    n = p.size
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def h3_neighbours(cells: Iterable[str]) -> dict[str, list[str]]:
    """Return each cell's ring-1 neighbours (``grid_disk k=1``) among the given cells."""
    present = set(cells)
    return {c: sorted(n for n in h3.grid_disk(c, 1) if n != c and n in present) for c in present}


def smoothed_share(high: np.ndarray, residents: np.ndarray, prior_weight: float) -> np.ndarray:
    """Return empirical-Bayes shares ``(high + k p0) / (residents + k)``, p0 the overall share."""
    high = np.asarray(high, dtype=float)
    residents = np.asarray(residents, dtype=float)
    total = residents.sum()
    p0 = high.sum() / total if total > 0 else 0.0
    return (high + prior_weight * p0) / (residents + prior_weight)


def gi_star(
    units: pd.DataFrame,
    neighbours: Mapping[str, Iterable[str]],
    params: HotspotParams | None = None,
) -> pd.DataFrame:
    """Run Gi* on per-unit counts and return one row per unit with its class.

    Parameters
    ----------
    units : pandas.DataFrame
        Columns ``cell`` (unit id), ``residents`` and ``high`` (high-tier residents).
    neighbours : mapping
        Unit id -> neighbouring unit ids (symmetric); ids not analysed are ignored.
    params : HotspotParams, optional
        Analysis parameters; defaults when omitted.

    Returns
    -------
    pandas.DataFrame
        ``cell, residents, high, value, z, p_sim, q_value, cluster``; ``value`` is the raw
        high-tier share, ``z``/``p_sim``/``q_value`` are NaN for units not analysed.
    """
    params = params or HotspotParams()
    for col in ("cell", "residents", "high"):
        if col not in units.columns:
            raise ValueError(f"units: column {col!r} missing / 열 {col!r} 없음")
    out = units[["cell", "residents", "high"]].copy().reset_index(drop=True)
    out["residents"] = out["residents"].astype(int)
    out["high"] = out["high"].astype(int)
    if ((out["high"] < 0) | (out["high"] > out["residents"])).any():
        raise ValueError("units: high must lie in 0..residents / high는 0..residents 범위")
    out["value"] = np.where(out["residents"] > 0, out["high"] / out["residents"].clip(lower=1), 0.0)
    out["z"] = np.nan
    out["p_sim"] = np.nan
    out["q_value"] = np.nan
    out["cluster"] = "none"
    eligible = out["residents"] >= params.min_residents
    ids = out.loc[eligible, "cell"].tolist()
    idset = set(ids)
    nb = {c: [n for n in neighbours.get(c, ()) if n in idset and n != c] for c in ids}
    connected = [c for c in ids if nb[c]]
    if len(connected) < 3:
        return out
    cset = set(connected)
    nb = {c: [n for n in nb[c] if n in cset] for c in connected}
    w = W(nb, id_order=connected, silence_warnings=True)
    sub = out.set_index("cell").loc[connected]
    y = smoothed_share(sub["high"].to_numpy(), sub["residents"].to_numpy(), params.prior_weight)
    if np.allclose(y, y[0]):
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = G_Local(
            y,
            w,
            transform="B",
            star=True,
            permutations=params.permutations,
            seed=params.seed,
            keep_simulations=False,
            n_jobs=1,
        )
    z = np.asarray(g.Zs, dtype=float)
    p = np.asarray(g.p_sim, dtype=float)
    q = bh_qvalues(p)
    sig = q <= params.alpha
    cluster = np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "none"))
    pos = out.reset_index().set_index("cell").loc[connected, "index"].to_numpy()
    out.loc[pos, "z"] = z
    out.loc[pos, "p_sim"] = p
    out.loc[pos, "q_value"] = q
    out.loc[pos, "cluster"] = cluster
    return out


def h3_hotspots(units: pd.DataFrame, params: HotspotParams | None = None) -> pd.DataFrame:
    """Run Gi* on H3 cells (``cell`` = H3 index), neighbours from ``grid_disk(k=1)``."""
    return gi_star(units, h3_neighbours(units["cell"]), params)


def points_to_cells(lat: Iterable[float], lng: Iterable[float], res: int = 9) -> list[str]:
    """Return the H3 cell of each point at resolution ``res``."""
    return [h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lng, strict=True)]
