"""Gi* hot spots on hand-built H3 grids: a known hot spot is found, random noise is not."""

import h3
import numpy as np
import pandas as pd
import pytest

from blindspots.hotspots import HotspotParams, bh_qvalues, h3_hotspots, h3_neighbours

CENTRE = h3.latlng_to_cell(37.5665, 126.9780, 9)


def _grid(k=6):
    return sorted(h3.grid_disk(CENTRE, k))


def test_bh_matches_hand_computation():
    # p sorted 0.01, 0.02, 0.03, 0.5 ; n=4 -> 0.04, 0.04, 0.04, 0.5
    q = bh_qvalues([0.03, 0.01, 0.5, 0.02])
    assert q == pytest.approx([0.04, 0.04, 0.5, 0.04])


def test_neighbours_only_among_present_cells():
    cells = _grid(1)
    nb = h3_neighbours(cells)
    assert len(nb[CENTRE]) == 6
    outer = [c for c in cells if c != CENTRE][0]
    assert CENTRE in nb[outer] and len(nb[outer]) == 3


def test_known_hot_spot_is_found_and_nothing_else():
    cells = _grid(6)
    hot = set(h3.grid_disk(CENTRE, 1))
    rows = [{"cell": c, "residents": 40, "high": 30 if c in hot else 4} for c in cells]
    out = h3_hotspots(pd.DataFrame(rows), HotspotParams(permutations=199))
    found = set(out.loc[out.cluster == "hot", "cell"])
    assert CENTRE in found
    assert found <= set(h3.grid_disk(CENTRE, 2))
    assert (out.loc[out.cell == CENTRE, "q_value"] <= 0.05).all()
    assert set(out.cluster) <= {"hot", "none", "cold"}


def test_random_grid_yields_no_hot_spot_after_fdr():
    rng = np.random.default_rng(3)
    cells = _grid(6)
    res = rng.integers(20, 60, len(cells))
    high = rng.binomial(res, 0.15)
    out = h3_hotspots(pd.DataFrame({"cell": cells, "residents": res, "high": high}))
    assert (out.cluster == "none").all()


def test_small_cells_are_left_out():
    cells = _grid(2)
    rows = [
        {"cell": c, "residents": 2 if c == CENTRE else 30, "high": 2 if c == CENTRE else 3}
        for c in cells
    ]
    out = h3_hotspots(pd.DataFrame(rows), HotspotParams(permutations=99)).set_index("cell")
    assert np.isnan(out.loc[CENTRE, "z"]) and out.loc[CENTRE, "cluster"] == "none"
    assert out.loc[CENTRE, "value"] == 1.0


def test_bad_counts_raise():
    with pytest.raises(ValueError, match="high"):
        h3_hotspots(pd.DataFrame({"cell": [CENTRE], "residents": [1], "high": [2]}))
