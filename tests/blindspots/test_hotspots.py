"""Gi* on hand-built H3 grids: a planted hot spot is found, a random grid yields none."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from blindspots.hotspots import (
    gi_star,
    h3_boundary_wkt,
    h3_cells,
    h3_neighbours,
    unit_values,
)

CENTRE = h3.latlng_to_cell(37.5791, 126.9368, 9)  # Seodaemun-gu


def grid(k: int = 7) -> list[str]:
    return sorted(h3.grid_disk(CENTRE, k))


def test_a_planted_hot_spot_is_found_and_nothing_else():
    cells = grid()
    rng = np.random.default_rng(1)
    values = pd.Series(rng.uniform(0.0, 0.06, len(cells)), index=cells)
    hot = set(h3.grid_disk(CENTRE, 1))  # the centre and its six neighbours
    values[list(hot)] = rng.uniform(0.5, 0.7, len(hot))
    result = gi_star(values, h3_neighbours(cells), seed=0).frame
    found = set(result.index[result["cluster"] == "hot"])
    assert CENTRE in found
    assert found <= set(h3.grid_disk(CENTRE, 2))  # only at the planted place
    assert len(found & hot) >= 5
    assert (result.loc[list(found), "q_value"] <= 0.05).all()
    assert (result.loc[list(found), "z"] > 0).all()


def test_a_random_grid_has_no_hot_spot_after_the_fdr():
    cells = grid()
    rng = np.random.default_rng(7)
    values = pd.Series(rng.uniform(0.0, 0.1, len(cells)), index=cells)
    result = gi_star(values, h3_neighbours(cells), seed=0).frame
    assert (result["cluster"] == "none").all()
    # without the correction some raw p-values fall under 0.05 by chance
    assert (result["p_sim"] < 0.05).any()


def test_units_too_small_are_left_out_and_islands_are_not_tested():
    cells = grid(1)
    units = [cells[0]] * 3 + [cells[1]] * 6 + [cells[2]] * 6
    tiers = [2, 2, 2] + [2, 0, 0, 0, 0, 0] + [0] * 6
    scores = [0.9] * 3 + [0.6, 0.0, 0.0, 0.0, 0.0, 0.0] + [0.1] * 6
    values = unit_values(units, scores, tiers, min_residents=5)
    assert list(values.index) == sorted([cells[1], cells[2]])
    assert values.loc[cells[1], "high"] == 1
    assert values.loc[cells[1], "value"] == pytest.approx(0.1)
    far = h3.latlng_to_cell(37.65, 127.05, 9)
    lone = pd.Series([0.5, 0.1, 0.2], index=[cells[1], cells[2], far])
    result = gi_star(lone, h3_neighbours(list(lone.index)), permutations=99).frame
    assert result.loc[far, "cluster"] == "none" and np.isnan(result.loc[far, "z"])


def test_points_map_to_their_cell_and_the_outline_contains_it():
    (cell,) = h3_cells([37.5791], [126.9368])
    assert cell == CENTRE
    outline = shapely.from_wkt(h3_boundary_wkt(cell))
    assert outline.contains(shapely.Point(126.9368, 37.5791))
