"""Visit cadence: due dates and days overdue worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from scoring.cadence import (
    CadenceError,
    FollowUp,
    due_dates,
    follow_up_due,
    next_visits,
    tier_since,
    visit_states,
)
from scoring.config import Cadence, default_config

AS_OF = dt.date(2026, 4, 1)


def test_due_dates_by_hand():
    tiers = pd.Series([2, 1, 0, 2, 1], index=pd.Index(["a", "b", "c", "d", "e"], name="id"))
    result = next_visits(
        tiers,
        [dt.date(2026, 1, 10), None, "2026-03-01", "2026-03-02", pd.NaT],
        tier_since=["2019-05-05", "2026-01-01", None, None, "2026-03-01"],
        as_of=AS_OF,
    )
    # a: high, met 2026-01-10 + 30 = 2026-02-09; to 2026-04-01: 19 (Feb) + 31 (Mar) + 1 = 51.
    # b: medium, never met, in medium since 2026-01-01: first visit + 60 = 2026-03-02
    #    (31 + 28 + 1); overdue 29 (to 2026-03-31) + 1 = 30.
    # c: low, met 2026-03-01 + 182 = 2026-08-30: not due.
    # d: high, met 2026-03-02 + 30 = 2026-04-01: due today, 0 days overdue.
    # e: medium, never met, in medium since 2026-03-01 + 60 = 2026-04-30: not due.
    assert result.index.tolist() == ["a", "b", "c", "d", "e"]
    assert [d.date().isoformat() for d in result["next_due_on"]] == [
        "2026-02-09",
        "2026-03-02",
        "2026-08-30",
        "2026-04-01",
        "2026-04-30",
    ]
    assert result["days_overdue"].tolist() == [51, 30, 0, 0, 0]
    assert result["is_due"].tolist() == [True, True, False, True, False]
    assert result["cadence_days"].tolist() == [30, 60, 182, 30, 60]
    assert result["never_met"].tolist() == [False, True, False, False, True]
    assert [d.date().isoformat() for d in result["started_on"]] == [
        "2026-01-10",
        "2026-01-01",
        "2026-03-01",
        "2026-03-02",
        "2026-03-01",
    ]


def test_never_met_high_scored_on_d_is_due_on_d_plus_14():
    d = dt.date(2026, 11, 1)
    result = next_visits([2, 1, 0], [None] * 3, tier_since=[d] * 3, as_of=d)
    assert [x.date() for x in result["next_due_on"]] == [
        dt.date(2026, 11, 15),  # high: 14 days
        dt.date(2026, 12, 31),  # medium: 60 days
        dt.date(2027, 5, 2),  # low: 182 days (30 + 31 + 31 + 28 + 31 + 30 + 1)
    ]
    # no tier_since: first scored today
    assert next_visits([2], [None], as_of=d)["next_due_on"][0].date() == dt.date(2026, 11, 15)
    # the configuration's first-visit days, or a mapping
    custom = next_visits(
        [2, 2], [None, "2026-10-01"], tier_since=[d, d], as_of=d, first_visit={"high": 3}
    )
    assert [x.date() for x in custom["next_due_on"]] == [
        dt.date(2026, 11, 4),
        dt.date(2026, 10, 31),
    ]


def test_registration_date_no_longer_starts_the_clock():
    """A resident registered decades ago and never met is not decades overdue."""
    context = pd.DataFrame(
        {
            "registered_on": pd.to_datetime(["1967-03-01"]),
            "last_met_on": pd.to_datetime([None]),
            "last_visit_on": pd.to_datetime([None]),
            "planned_on": pd.to_datetime([None]),
            "unreachable_since": pd.to_datetime([None]),
        }
    )
    due = due_dates([0], context, as_of=dt.date(2026, 11, 1), tier_since=[dt.date(2026, 11, 1)])
    assert str(due[0]) == "2027-05-02"


def test_met_resident_is_due_last_met_plus_cadence_whatever_tier_since():
    context = pd.DataFrame(
        {
            "last_met_on": pd.to_datetime(["2026-09-01"]),
            "last_visit_on": pd.to_datetime(["2026-09-01"]),
            "planned_on": pd.to_datetime([None]),
            "unreachable_since": pd.to_datetime([None]),
        }
    )
    due = due_dates(
        [2], context, as_of=dt.date(2026, 11, 1), tier_since=[dt.date(2026, 10, 20)],
        cadence=default_config(), first_visit=default_config(),
    )  # fmt: skip
    assert str(due[0]) == "2026-10-01"  # 2026-09-01 + 30


def test_tier_since_is_carried_while_the_tier_stays():
    d = dt.date
    since = tier_since(
        [2, 2, 1, 0, 1],
        [2, 1, 1, None, 1],
        [d(2026, 6, 1), d(2026, 6, 1), d(2026, 12, 1), d(2026, 6, 1), None],
        as_of=d(2026, 11, 1),
    )
    assert [str(x) for x in since] == [
        "2026-06-01",  # same tier: carried
        "2026-11-01",  # tier changed: the run's day
        "2026-11-01",  # carried date after the run (a backdated run): the run's day
        "2026-11-01",  # not scored before
        "2026-11-01",  # the previous run kept no day
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
        "never_met",
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


# ------------------------------------------------------------------------------ visit states


def test_visit_states_precedence_by_hand():
    d = dt.date
    today = d(2026, 12, 5)
    result = visit_states(
        [
            d(2026, 12, 1),  # 0 moved away, overdue too
            d(2026, 11, 1),  # 1 unreachable (its due date is the retry date), visited today
            d(2026, 12, 1),  # 2 visited today, overdue before the visit
            d(2026, 12, 1),  # 3 overdue, never met
            d(2026, 9, 1),  # 4 overdue, met before: 95 days
            d(2026, 12, 19),  # 5 never met, first visit due
            d(2026, 12, 5),  # 6 met, due today: not overdue
            None,  # 7 not scored, never met
        ],
        today=today,
        last_met_on=[None, None, d(2026, 12, 5), None, d(2026, 6, 1), None, d(2026, 9, 6), None],
        last_visit_on=[None, today, today, None, d(2026, 6, 1), None, d(2026, 9, 6), None],
        last_outcome=[None, "not_home", "met", None, "met", None, "met", None],
        unreachable_since=[None, d(2026, 11, 20), None, None, None, None, None, None],
        active=[False, True, True, True, True, True, True, True],
    )
    assert result["state"].tolist() == [
        "inactive",
        "unreachable",
        "visited",
        "overdue",
        "overdue",
        "first_visit",
        "due",
        "first_visit",
    ]
    assert result["days_overdue"].tolist() == [4, 34, 4, 4, 95, 0, 0, 0]
    assert result["overdue_band"].tolist() == [0, 2, 0, 0, 3, -1, -1, -1]
    assert [None if pd.isna(x) else x.date().isoformat() for x in result["retry_on"]] == [
        None, "2026-11-01", None, None, None, None, None, None,
    ]  # fmt: skip
    assert result["never_met"].tolist() == [True, True, False, True, False, True, False, True]
    assert result.loc[2, "last_outcome"] == "met"
    assert result.loc[1, "last_visit_on"].date() == today


def test_visit_states_defaults_and_future_unreachable_mark():
    today = dt.date(2026, 12, 5)
    result = visit_states(
        [dt.date(2026, 12, 10)], today=today, unreachable_since=[dt.date(2026, 12, 6)]
    )
    # a mark after today is not yet a state; nobody visited, so never met
    assert result["state"].tolist() == ["first_visit"]
    assert visit_states([], today=today).empty
