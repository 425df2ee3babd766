"""Issue 12: routes follow urgency. Tier first, then state (overdue by band, first visit,
due); the high tier is visited early in the day where the windows allow."""

from __future__ import annotations

import pandas as pd

from routing.candidates import validate_candidates
from routing.plan import PlanSettings, plan_day
from tests.routing.test_plan import BASE, resident, table

FAST = PlanSettings(time_limit_seconds=0.5)


def _priority(**row) -> tuple:
    record = resident("r", east=100) | row
    return validate_candidates(pd.DataFrame.from_records([record]))[0].priority


def test_a_high_tier_overdue_resident_outranks_any_medium_one():
    high = _priority(tier=2, days_overdue=1)
    for state, days in (("overdue", 5000), ("first_visit", 0), ("due", 0), ("overdue", 400)):
        assert high > _priority(tier=1, days_overdue=days, state=state)
    assert _priority(tier=2, days_overdue=0, state="due") > _priority(tier=1, days_overdue=9999)


def test_within_a_tier_overdue_by_band_then_first_visit_then_due():
    a_year = _priority(tier=1, days_overdue=400)
    three_months = _priority(tier=1, days_overdue=100)
    days_3 = _priority(tier=1, days_overdue=3)
    first = _priority(tier=1, days_overdue=0, state="first_visit")
    due = _priority(tier=1, days_overdue=0)
    assert a_year > three_months > days_3 > first > due
    # days inside one band weigh the same (the records are no more precise than the band)
    assert _priority(tier=1, days_overdue=95) == _priority(tier=1, days_overdue=170)


def test_an_unknown_state_is_refused():
    import pytest

    from routing.plan import PlanningError

    with pytest.raises(PlanningError, match="column 'state'"):
        _priority(state="visited")


def test_when_the_day_is_short_the_high_overdue_resident_is_kept_over_a_very_overdue_medium():
    # 09:00-10:00, no break: one visit of either fits, not both.
    settings = PlanSettings(
        time_limit_seconds=0.5,
        day_start=pd.Timestamp("09:00").time(),
        day_end=pd.Timestamp("10:00").time(),
        break_start=None,
        break_end=None,
    )
    rows = [
        resident("medium-12718", east=100, tier=1, days_overdue=12718),
        resident("high-136", east=100, north=30, tier=2, days_overdue=136),
    ]
    plan = plan_day(BASE, ["kim"], table(*rows), settings=settings)
    assert [s.resident_id for r in plan.routes for s in r.stops] == ["high-136"]


def test_high_tier_stops_come_before_medium_ones_when_the_windows_allow():
    # Three high-tier residents 1.2-1.5 km east, three medium ones 150-300 m west, one visitor.
    # By distance alone a tour would pass the near medium ones first or interleave; the
    # high tier gets the morning (visits end by the 12:00 break): 3 x 40 min plus the walks
    # fit, a medium visit more would not.
    rows = [
        resident("high-1", east=1200, tier=2, days_overdue=20),
        resident("high-2", east=1350, north=100, tier=2, days_overdue=20),
        resident("high-3", east=1500, tier=2, days_overdue=20),
        resident("medium-1", east=-150, tier=1, days_overdue=200),
        resident("medium-2", east=-250, north=50, tier=1, days_overdue=200),
        resident("medium-3", east=-300, tier=1, days_overdue=200),
    ]
    plan = plan_day(BASE, ["kim"], table(*rows), settings=FAST)
    (route,) = plan.routes
    order = [stop.resident_id for stop in route.stops]
    assert len(order) == 6
    assert all(name.startswith("high") for name in order[:3]), order
    highs = [stop for stop in route.stops if stop.tier == 2]
    assert all(stop.departure <= pd.Timestamp("12:00").time() for stop in highs)


def test_a_high_tier_resident_available_only_in_the_afternoon_is_still_planned():
    rows = [
        resident("high-pm", east=300, tier=2, days_overdue=20, window=("14:00", "16:00")),
        resident("medium", east=200, tier=1, days_overdue=20),
    ]
    plan = plan_day(BASE, ["kim"], table(*rows), settings=FAST)
    stops = {s.resident_id: s for r in plan.routes for s in r.stops}
    assert set(stops) == {"high-pm", "medium"}
    assert stops["high-pm"].start >= pd.Timestamp("14:00").time()


def test_high_tier_visits_beyond_the_morning_are_planned_in_the_afternoon():
    # 8 high-tier residents next door: the morning holds 4 visits of 40 min, the rest go after
    # the break rather than being dropped.
    rows = [resident(f"h{i}", east=100, tier=2, days_overdue=20) for i in range(8)]
    plan = plan_day(BASE, ["kim"], table(*rows), settings=FAST)
    assert plan.visits == 8


def test_on_a_spread_out_day_every_high_tier_visit_ends_by_the_break():
    # 5 high and 25 medium residents spread over 3 x 3 km, two visitors: by travel and
    # balance alone (the planner before issue 12) 4 of the 5 high-tier visits fell in the
    # afternoon on this instance; now all are in the morning.
    import numpy as np

    rng = np.random.default_rng(4)

    def spread(name, tier, days):
        east, north = (float(v) for v in rng.uniform(-1500, 1500, 2))
        return resident(name, east=east, north=north, tier=tier, days_overdue=days)

    rows = [spread(f"h{i}", 2, 20) for i in range(5)] + [spread(f"m{i}", 1, 200) for i in range(25)]
    plan = plan_day(BASE, ["a", "b"], table(*rows), settings=PlanSettings(time_limit_seconds=1))
    highs = [stop for route in plan.routes for stop in route.stops if stop.tier == 2]
    assert len(highs) == 5
    assert all(stop.departure <= pd.Timestamp("12:00").time() for stop in highs)


def test_the_early_windows_end_the_visit_by_the_break_and_respect_availability():
    from routing.day_problem import prepare_day

    rows = [
        resident("any", east=100, tier=2, days_overdue=5),
        resident("pm", east=100, tier=2, days_overdue=5, window=("14:00", "17:00")),
    ]
    problem = prepare_day(BASE, ["kim"], table(*rows), FAST)
    assert problem.early_deadline == 3 * 3600
    ((first, last),) = problem.early_windows(0)
    assert first == 0 and last == 3 * 3600 - 40 * 60
    assert problem.early_windows(1) is None
