"""Hot spots of risk beyond chance: Getis-Ord Gi* with permutation p-values and an FDR.

The analysed value of a unit (an H3 cell of resolution 9, about 0.1 km², or a dong) is the
mean risk score of its scored residents: a count would mostly follow where people live, a mean
asks where risk is concentrated. (The share in the high tier was tried first: the high tier
holds about 0.5% of residents, so most cells have none, and the ties of thousands of zeros make
the permutation test call half the district a "cold spot".) The high-tier count is kept beside
it for the reader. Units with fewer than :data:`MIN_RESIDENTS` residents
are left out (a share of 1 of 2 says little). Gi* (``esda.G_Local(star=True)``) compares each
unit's neighbourhood (itself and its neighbours, row-standardised) with the whole area; its
p-value comes from conditional permutations (seeded; esda's one-tailed "directed" p doubled
to a two-sided one), and the Benjamini-Hochberg correction
(``scipy.stats.false_discovery_control``) keeps the expected share of false hot spots among
those reported at ``alpha``. A hot spot says risk clusters there more than chance would put it;
it does not say why, nor that each resident in it is at risk.

Neighbours: H3 cells sharing an edge (``h3.grid_disk(cell, 1)``) among the populated cells;
dongs sharing a border (``libpysal`` Queen contiguity). A unit with no neighbour is not tested.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd
from esda import G_Local
from libpysal.weights import W, fill_diagonal
from scipy.stats import false_discovery_control

#: H3 resolution of the grid (about 0.105 km² a cell, 174 m edge).
H3_RESOLUTION = 9
#: Units with fewer scored residents are not analysed.
MIN_RESIDENTS = 5
#: Permutations per unit for the pseudo p-value (the smallest p is 2 / (n + 1), two-sided:
#: with 999 an FDR over a thousand cells could never reject).
PERMUTATIONS = 9999
#: False-discovery rate.
ALPHA = 0.05


@dataclass(frozen=True)
class HotspotResult:
    """Gi* per unit: value, z, p_sim, q (FDR-adjusted) and the class hot / cold / none."""

    frame: pd.DataFrame
    alpha: float
    permutations: int


def h3_cells(lat, lon, resolution: int = H3_RESOLUTION) -> np.ndarray:
    """Return the H3 cell of each point (degrees, WGS84) as hex strings."""
    return np.array(
        [h3.latlng_to_cell(float(a), float(o), resolution) for a, o in zip(lat, lon, strict=True)],
        dtype=object,
    )


def h3_neighbours(cells) -> dict[str, list[str]]:
    """Return each cell's edge neighbours among ``cells``."""
    present = set(cells)
    return {
        cell: sorted(n for n in h3.grid_disk(cell, 1) if n != cell and n in present)
        for cell in cells
    }


def unit_values(units, scores, tiers, *, min_residents: int = MIN_RESIDENTS) -> pd.DataFrame:
    """Count residents and high-tier residents (tier 2) per unit and average their scores.

    Returns a frame indexed by unit with ``residents``, ``high`` and ``value`` (the mean
    score), for units with at least ``min_residents`` residents.
    """
    frame = pd.DataFrame(
        {
            "unit": np.asarray(units, dtype=object),
            "score": np.asarray(scores, dtype=float),
            "high": np.asarray(tiers) == 2,
        }
    )
    grouped = frame.groupby("unit").agg(
        residents=("score", "size"), high=("high", "sum"), value=("score", "mean")
    )
    grouped = grouped[grouped["residents"] >= min_residents].copy()
    grouped["high"] = grouped["high"].astype(int)
    return grouped


def gi_star(
    values: pd.Series,
    neighbours: dict[str, list[str]],
    *,
    permutations: int = PERMUTATIONS,
    alpha: float = ALPHA,
    seed: int = 0,
) -> HotspotResult:
    """Run Gi* on ``values`` (indexed by unit) with the given neighbours.

    Units without a neighbour among ``values``' index get no z and class ``none``.
    """
    units = list(values.index)
    kept = {u: [n for n in neighbours.get(u, []) if n in values.index] for u in units}
    tested = [u for u in units if kept[u]]
    out = pd.DataFrame(
        {"value": values.astype(float), "z": np.nan, "p_sim": np.nan, "q_value": np.nan},
        index=pd.Index(units, name="unit"),
    )
    out["cluster"] = "none"
    y = values.loc[tested].to_numpy(dtype=float)
    if len(tested) >= 3 and np.ptp(y) > 0:
        with warnings.catch_warnings():
            # populated cells form several islands of contiguity: expected, not a fault
            warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
            # esda's permutation p-value is "directed" (the tail the observed value lies in);
            # it warns that the default will change: we double it below ourselves
            warnings.simplefilter("ignore", DeprecationWarning)
            # binary contiguity with each unit its own neighbour (the * of Gi*), row-standardised
            weights = fill_diagonal(W({u: kept[u] for u in tested}, silence_warnings=True), 1)
            order = weights.id_order
            y = values.loc[order].to_numpy(dtype=float)
            gi = G_Local(
                y,
                weights,
                transform="R",
                permutations=permutations,
                star=None,
                seed=seed,
                n_jobs=1,
            )
        p_two_sided = np.minimum(1.0, 2 * gi.p_sim)
        q = false_discovery_control(p_two_sided, method="bh")
        out.loc[order, "z"] = gi.Zs
        out.loc[order, "p_sim"] = p_two_sided
        out.loc[order, "q_value"] = q
        significant = q <= alpha
        out.loc[order, "cluster"] = np.where(
            significant & (gi.Zs > 0), "hot", np.where(significant & (gi.Zs < 0), "cold", "none")
        )
    return HotspotResult(out, alpha, permutations)


def h3_boundary_wkt(cell: str) -> str:
    """Return an H3 cell's outline as a WKT MULTIPOLYGON (lon lat)."""
    ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return "MULTIPOLYGON(((" + ", ".join(f"{x:.7f} {y:.7f}" for x, y in ring) + ")))"
