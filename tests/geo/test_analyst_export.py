"""Small-cell suppression of the analysts' counts (geo.analyst_export.protected_cells) on
hand-built tables whose counts are known: every count from 1 to 4 hidden, and no row, column
or other line of the table left with a single hidden cell that its total would give back."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from geo.analyst_export import SUPPRESS_BELOW, protected_cells


def table(rows: dict[str, list[int]], columns=("low", "medium", "high")) -> pd.Series:
    frame = pd.DataFrame(rows, index=list(columns)).T
    frame.index.name, frame.columns.name = "area", "tier"
    return frame.stack()


def lines(cells: pd.Series) -> list[list]:
    """Every line of the table: the cells that differ in one dimension only."""
    names = list(cells.index.names)
    out = []
    for dim in names:
        others = [n for n in names if n != dim]
        for _, group in cells.groupby(level=others):
            if len(group) > 1:
                out.append(list(group.index))
    return out


def feasible_range(cells: pd.Series, hidden: pd.Series, cell) -> tuple[float, float]:
    """The least and greatest value ``cell`` can hold for someone who knows every shown cell
    and every line's total (and that counts are not negative): equal means disclosed."""
    unknown = list(hidden[hidden].index)
    rows, totals = [], []
    for line in lines(cells):
        inside = [c for c in line if hidden[c]]
        if inside:
            rows.append([1.0 if c in inside else 0.0 for c in unknown])
            totals.append(float(sum(cells[c] for c in inside)))
    target = np.array([1.0 if c == cell else 0.0 for c in unknown])
    bounds = [(0, None)] * len(unknown)
    low = linprog(target, A_eq=rows, b_eq=totals, bounds=bounds, method="highs")
    high = linprog(-target, A_eq=rows, b_eq=totals, bounds=bounds, method="highs")
    assert low.status == 0 and high.status == 0
    return low.fun, -high.fun


def single_hidden_lines(cells: pd.Series, hidden: pd.Series) -> list[list]:
    return [line for line in lines(cells) if sum(bool(hidden[c]) for c in line) == 1]


def test_a_small_count_is_paired_in_its_row_and_its_column():
    cells = table({"A": [20, 3, 0], "B": [30, 12, 6], "C": [9, 7, 8]})
    hidden = protected_cells(cells)
    primary = (cells > 0) & (cells < SUPPRESS_BELOW)
    assert single_hidden_lines(cells, primary)  # the primary rule alone gives A-medium back
    assert hidden[("A", "medium")]
    assert single_hidden_lines(cells, hidden) == []
    # the pattern that pairs both lines at once: a rectangle of four cells
    assert sorted(hidden[hidden].index) == [
        ("A", "low"),
        ("A", "medium"),
        ("C", "low"),
        ("C", "medium"),
    ]
    assert feasible_range(cells, primary, ("A", "medium")) == (3, 3)  # disclosed
    low, high = feasible_range(cells, hidden, ("A", "medium"))
    assert low <= 3 <= high and low < high  # no longer


def test_nothing_is_hidden_when_no_count_is_small():
    cells = table({"A": [20, 5, 0], "B": [30, 12, 6]})
    assert not protected_cells(cells).any()  # 0 and 5 are shown


def test_a_zero_is_hidden_only_when_a_line_has_nothing_else():
    cells = table({"A": [0, 2, 0]}, columns=("low", "medium", "high"))
    hidden = protected_cells(cells)
    assert hidden[("A", "medium")] and hidden.sum() == 2  # a 0 is its pair


def test_a_line_of_one_cell_is_left_alone():
    cells = table({"A": [3]}, columns=("high",))
    assert protected_cells(cells).tolist() == [True]  # primary only: nothing to pair with


def test_three_dimensions_every_line_paired_and_no_cell_disclosed():
    """Dong x age band x tier from a seeded random population with many small counts: every
    line (a dong's tiers in one band, a tier across the bands of a dong = the table without
    bands, a tier and band across the dongs) holds 0 or at least 2 hidden cells, and no
    hidden cell's value follows from all the line totals together (linear programming)."""
    rng = np.random.default_rng(7)
    index = pd.MultiIndex.from_tuples(
        itertools.product(["A", "B", "C", "D"], ["0-19", "20-39", "65-74"], ["l", "m", "h"]),
        names=["area", "age_band", "tier"],
    )
    cells = pd.Series(rng.poisson(6, len(index)), index=index)
    hidden = protected_cells(cells)
    primary = (cells > 0) & (cells < SUPPRESS_BELOW)
    assert primary.sum() >= 5 and (hidden & ~primary).any()
    assert (hidden | ~primary).all()  # every small count hidden
    assert single_hidden_lines(cells, hidden) == []
    for cell in hidden[hidden].index:
        low, high = feasible_range(cells, hidden, cell)
        assert high - low > 0.5, (cell, cells[cell], low, high)


def test_the_counts_are_not_changed_only_hidden():
    cells = table({"A": [1, 40, 40], "B": [40, 40, 40]})
    hidden = protected_cells(cells)
    assert hidden.index.equals(cells.index) and hidden.dtype == bool
