"""Coverage gaps and the combined list, by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from blindspots.combine import combine
from blindspots.coverage import far_from_help, last_contact, no_contact, walk_minutes

FOOT = {"speed_kmh": 4.0, "detour_factor": 1.3}  # routing's defaults on foot


def test_walk_is_straight_line_times_detour_unless_a_network_distance_is_known():
    minutes = walk_minutes([1000.0, 1000.0, np.nan], network_m=[np.nan, 500.0, np.nan], **FOOT)
    assert minutes[0] == pytest.approx(1300 / (4000 / 60))  # 19.5 minutes
    assert minutes[1] == pytest.approx(7.5)
    assert np.isnan(minutes[2])
    with pytest.raises(ValueError):
        walk_minutes([1.0], speed_kmh=4.0, detour_factor=0.9)


def test_fifteen_minutes_is_the_edge_and_only_high_or_medium_count():
    edge = 15 * (4000 / 60) / 1.3  # straight-line metres of exactly 15 minutes
    near = walk_minutes([edge], **FOOT)
    far = walk_minutes([edge + 1], **FOOT)
    assert not far_from_help([2], near, near)[0]
    assert far_from_help([2], far, far)[0]
    assert far_from_help([1], far, far)[0] and not far_from_help([0], far, far)[0]
    # one kind of service within reach is enough
    assert not far_from_help([2], far, near)[0]
    # no site of either kind: out of reach
    assert far_from_help([2], [np.nan], [np.nan])[0]


def test_no_contact_for_twelve_months_among_the_candidates():
    as_of = dt.date(2026, 12, 1)
    last = last_contact(
        ["2025-11-30", "2025-12-02", None, None],
        [None, None, "2026-01-05", None],
    )
    assert last.iloc[2] == pd.Timestamp("2026-01-05")
    stale = no_contact(last, as_of=as_of, candidates=[True, True, True, True])
    assert list(stale) == [True, False, False, True]
    assert not no_contact(last, as_of=as_of, candidates=[False] * 4).any()


def test_combine_keeps_residents_with_a_reason_in_vocabulary_order():
    frame = pd.DataFrame(
        {
            "resident_id": [1, 2, 3],
            "area_id": [10, 10, 11],
            "tier": [2, 0, 1],
            "programmes": [["basic_pension"], [], []],
            "hot_cell": [None, None, "8930e1d8093ffff"],
            "hot_z": [np.nan, np.nan, 2.5],
            "hot_q": [np.nan, np.nan, 0.01],
            "far": [False, False, True],
            "walk_minutes": [5.0, 3.0, 21.44],
            "no_contact": [True, False, True],
            "last_contact": [pd.NaT, pd.NaT, pd.Timestamp("2025-01-02")],
        }
    )
    out = combine(frame).set_index("resident_id")
    assert list(out.index) == [1, 3]
    assert out.loc[1, "reasons"] == ["eligible_unreached", "no_contact"]
    assert out.loc[1, "detail"] == {"programmes": ["basic_pension"], "last_contact": None}
    assert out.loc[3, "reasons"] == ["hotspot", "far_from_help", "no_contact"]
    assert out.loc[3, "detail"]["walk_minutes"] == 21.4
    assert out.loc[3, "detail"]["hotspot"] == {"cell": "8930e1d8093ffff", "z": 2.5, "q": 0.01}
