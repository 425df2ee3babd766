"""Visit cadence: due dates and days overdue worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from scoring.cadence import CadenceError, FollowUp, follow_up_due, next_visits
from scoring.config import Cadence, default_config

AS_OF = dt.date(2026, 4, 1)


def test_due_dates_by_hand():
    tiers = pd.Series([2, 1, 0, 2, 1], index=pd.Index(["a", "b", "c", "d", "e"], name="id"))
    result = next_visits(
        tiers,
        [dt.date(2026, 1, 10), None, "2026-03-01", "2026-03-02", pd.NaT],
        registered_on=["2019-05-05", "2025-12-01", None, None, "2026-02-01"],
        as_of=AS_OF,
    )
    # a: high, met 2026-01-10 + 30 = 2026-02-09; to 2026-04-01: 19 (Feb) + 31 (Mar) + 1 = 51.
    # b: medium, never met, registered 2025-12-01 + 91 = 2026-03-02 (30 + 31 + 28 + 2);
    #    overdue 29 (to 2026-03-31) + 1 = 30.
    # c: low, met 2026-03-01 + 182 = 2026-08-30: not due.
    # d: high, met 2026-03-02 + 30 = 2026-04-01: due today, 0 days overdue.
    # e: medium, never met, registered 2026-02-01 + 91 = 2026-05-03: not due.
    assert result.index.tolist() == ["a", "b", "c", "d", "e"]
    assert [d.date().isoformat() for d in result["next_due_on"]] == [
        "2026-02-09",
        "2026-03-02",
        "2026-08-30",
        "2026-04-01",
        "2026-05-03",
    ]
    assert result["days_overdue"].tolist() == [51, 30, 0, 0, 0]
    assert result["is_due"].tolist() == [True, True, False, True, False]
    assert result["cadence_days"].tolist() == [30, 91, 182, 30, 91]
    assert [d.date().isoformat() for d in result["started_on"]] == [
        "2026-01-10",
        "2025-12-01",
        "2026-03-01",
        "2026-03-02",
        "2026-02-01",
    ]


def test_cadence_from_config_or_mapping():
    config = default_config()
    base = next_visits([0, 1, 2], ["2026-01-01"] * 3, as_of="2026-01-01", cadence=config)
    assert base["cadence_days"].tolist() == [182, 91, 30]
    custom = next_visits(
        [0, 1, 2],
        ["2026-01-01"] * 3,
        as_of="2026-03-01",
        cadence={"low": 60, "medium": 30, "high": 7},
    )
    # 2026-01-01 + 7 = 01-08, + 30 = 01-31, + 60 = 03-02; as of 03-01: 52, 29, 0 days overdue.
    assert custom["days_overdue"].tolist() == [0, 29, 52]
    assert next_visits([2], ["2026-01-01"], as_of="2026-01-31", cadence=Cadence(high=30))[
        "is_due"
    ].tolist() == [True]


def test_timestamps_are_counted_as_dates():
    result = next_visits([2], [pd.Timestamp("2026-03-02 17:55")], as_of="2026-04-01")
    assert result["days_overdue"].tolist() == [0]
    assert result["is_due"].tolist() == [True]


def test_rejects_bad_inputs():
    with pytest.raises(CadenceError, match="0, 1 or 2"):
        next_visits([3], ["2026-01-01"], as_of=AS_OF)
    with pytest.raises(CadenceError, match="neither a met visit nor a registration"):
        next_visits([0, 1], ["2026-01-01", None], as_of=AS_OF)
    with pytest.raises(CadenceError, match="one value per tier"):
        next_visits([0, 1], ["2026-01-01"], as_of=AS_OF)
    with pytest.raises(CadenceError, match="not dates"):
        next_visits([0], ["yesterday-ish"], as_of=AS_OF)
    with pytest.raises(CadenceError, match="low/medium/high"):
        next_visits([0], ["2026-01-01"], as_of=AS_OF, cadence={"urgent": 3})


def test_empty():
    result = next_visits([], [], as_of=AS_OF)
    assert len(result) == 0
    assert list(result.columns) == [
        "tier",
        "cadence_days",
        "started_on",
        "next_due_on",
        "days_overdue",
        "is_due",
    ]


def test_cadence_by_tier_code():
    assert Cadence().by_code() == {0: 182, 1: 91, 2: 30}
    result = next_visits(
        [0, 2], ["2026-01-01"] * 2, as_of="2026-01-01", cadence={0: 100, 1: 50, 2: 10}
    )
    assert result["cadence_days"].tolist() == [100, 10]


# ------------------------------------------------------------- visits that did not meet them


def test_follow_up_due_by_hand():
    d = dt.date
    due = follow_up_due(
        [d(2026, 12, 1)] * 5,
        last_met_on=[d(2026, 9, 1), d(2026, 9, 1), None, d(2026, 11, 20), d(2026, 9, 1)],
        last_visit_on=[d(2026, 9, 1), d(2026, 11, 28), d(2026, 11, 28), d(2026, 11, 20), None],
        planned_on=[None, None, None, d(2027, 1, 5), None],
        unreachable=[False, False, True, False, False],
        follow_up=FollowUp(retry_days=30, attempt_gap_days=7),
    )
    assert [str(x) for x in due] == [
        "2026-12-01",  # last visit met them: the tier date
        "2026-12-05",  # not met on 11-28: not before 7 days later
        "2026-12-28",  # unreachable: 30 days after the last attempt
        "2027-01-05",  # the visitor set the next visit date
        "2026-12-01",  # never visited: the tier date
    ]
    # a later tier date wins over the gap
    later = follow_up_due(
        [d(2027, 3, 1)], last_met_on=[d(2026, 9, 1)], last_visit_on=[d(2026, 11, 28)]
    )
    assert str(later[0]) == "2027-03-01"
    edge = follow_up_due(
        [d(2026, 12, 1)] * 3,
        last_met_on=[None, None, d(2026, 11, 28)],
        last_visit_on=[d(2026, 11, 28), None, d(2026, 11, 28)],
        planned_on=[d(2026, 12, 24), None, None],
        unreachable=[True, True, False],
    )
    assert [str(x) for x in edge] == [
        "2026-12-24",  # the visitor's date wins over the unreachable retry
        "2026-12-01",  # marked but no visit to count from: the tier date
        "2026-12-01",  # met and missed on the same day: days are compared, no gap
    ]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "7"])
def test_follow_up_rejects_bad_days(bad):
    with pytest.raises(CadenceError, match="attempt_gap_days"):
        FollowUp(attempt_gap_days=bad)
