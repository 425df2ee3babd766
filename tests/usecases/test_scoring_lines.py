"""What `visitmap score` prints per tier, worked by hand (no database)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from visitmap.usecases.scoring_runs import overdue_by_tier, tier_lines


def test_one_line_per_tier_high_first():
    lines = tier_lines({"low": 17083, "medium": 2453, "high": 93}, {"high": 8, "low": 900})
    assert lines == ["high 93 (overdue 8)", "medium 2453 (overdue 0)", "low 17083 (overdue 900)"]


def test_overdue_is_due_before_the_runs_day():
    day = dt.date(2026, 11, 1)
    due = np.array(["2026-10-31", "2026-11-01", "2026-11-15", "2025-01-01", "2026-10-01"])
    counts = overdue_by_tier([2, 2, 2, 0, 1], due.astype("datetime64[D]"), as_of=day)
    # due on the run's day itself is not overdue
    assert counts == {"low": 1, "medium": 1, "high": 1}
