"""Daily visit plan: small cases checkable by hand, invariants, the priority guarantee, input
validation. Points are placed in metres from the base on EPSG:5179, so distances are exact:
on foot (4 km/h, detour 1.3) 100 m straight = 130 m walked = 117 s."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from routing.day_problem import DropReason, prepare_day
from routing.plan import (
    DayPlan,
    PlanningError,
    PlanSettings,
    greedy_nearest_neighbour_plan,
    plan_day,
)
from routing.plan_settings import DEFAULT_SETTINGS
from routing.schedule import explain_drops, repair_priorities

BASE = (126.931, 37.566)  # 연희동 주민센터 (Yeonhui-dong community centre), Seoul
FAST = PlanSettings(time_limit_seconds=0.5)
_TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:5179", always_xy=True)
_BASE_XY = _TO_METRIC.transform(*BASE)


def lonlat_at(east: float, north: float = 0.0) -> tuple[float, float]:
    """The lon/lat of the point ``east`` and ``north`` metres from the base (EPSG:5179)."""
    return _TO_METRIC.transform(_BASE_XY[0] + east, _BASE_XY[1] + north, direction="INVERSE")


def resident(resident_id, east, north=0.0, *, tier=1, days_overdue=0, window=(None, None)):
    lon, lat = lonlat_at(east, north)
    return {
        "resident_id": resident_id,
        "lon": lon,
        "lat": lat,
        "tier": tier,
        "days_overdue": days_overdue,
        "available_from": window[0],
        "available_until": window[1],
    }


def table(*rows) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows))


def visited(plan: DayPlan) -> list[list[str]]:
    return [[stop.resident_id for stop in route.stops] for route in plan.routes]


def minutes(value: dt.time) -> float:
    return value.hour * 60 + value.minute + value.second / 60


def assert_plan_is_valid(plan: DayPlan, candidates: pd.DataFrame, settings: PlanSettings):
    """Working hours, break, windows, service times and accounting of every candidate."""
    rows = candidates.set_index("resident_id")
    seen = [stop.resident_id for route in plan.routes for stop in route.stops]
    dropped = [visit.resident_id for visit in plan.dropped]
    assert sorted(seen + dropped) == sorted(candidates["resident_id"])
    lunch = (minutes(settings.break_start), minutes(settings.break_end))
    for route in plan.routes:
        assert minutes(settings.day_start) <= minutes(route.leave_base)
        assert minutes(route.back_at_base) <= minutes(settings.day_end)
        previous_end = minutes(route.leave_base)
        for stop in route.stops:
            row = rows.loc[stop.resident_id]
            start, end = minutes(stop.start), minutes(stop.departure)
            assert end - start == pytest.approx(settings.service_minutes_by_tier[stop.tier])
            assert previous_end <= minutes(stop.arrival) <= start
            assert end <= lunch[0] or start >= lunch[1], f"{stop} overlaps the break"
            if isinstance(row["available_from"], str):
                assert start >= minutes(dt.time.fromisoformat(row["available_from"]))
            if isinstance(row["available_until"], str):
                assert end <= minutes(dt.time.fromisoformat(row["available_until"]))
            previous_end = end
        legs = sum(stop.travel_metres for stop in route.stops)
        assert route.travel_metres >= legs
        assert route.work_minutes == pytest.approx(route.travel_minutes + route.service_minutes)


# -- small cases checkable by hand ----------------------------------------------------------


def test_stops_on_a_line_are_visited_in_order():
    # A line 300 m north of the base: the shortest loop runs along it, one way or the other.
    rows = [resident(f"R{k}", east=250 * k, north=300) for k in (3, 1, 4, 2)]
    plan = plan_day(BASE, ["kim"], table(*rows), settings=FAST)
    (order,) = visited(plan)
    assert order in (["R1", "R2", "R3", "R4"], ["R4", "R3", "R2", "R1"])
    assert [stop.travel_metres for stop in plan.routes[0].stops][1:] == [325, 325, 325]
    assert plan.dropped == ()


def test_greedy_nearest_walks_the_line_outwards():
    rows = [resident(f"R{k}", east=200 * k) for k in (3, 1, 2)]
    plan = greedy_nearest_neighbour_plan(BASE, ["kim"], table(*rows), settings=FAST)
    assert visited(plan) == [["R1", "R2", "R3"]]
    stops = plan.routes[0].stops
    assert [stop.travel_metres for stop in stops] == [260, 260, 260]
    # 260 m at 4 km/h = 234 s; medium tier = 30 min each.
    assert stops[0].start == dt.time(9, 3, 54)
    assert stops[1].start == dt.time(9, 37, 48)
    assert plan.routes[0].travel_metres == 260 * 3 + 780


def test_car_mode_uses_car_speed_and_detour():
    settings = dataclasses.replace(FAST, travel_mode="car")
    plan = plan_day(BASE, ["kim"], table(resident("R1", east=1000)), settings=settings)
    route = plan.routes[0]
    assert route.travel_metres == 2 * 1400  # detour 1.4
    assert route.travel_minutes == pytest.approx(2 * 1400 / (20_000 / 60))  # 20 km/h


def test_windows_working_hours_and_break_are_respected():
    rows = [
        resident("afternoon", east=300, window=("14:00", "15:00")),
        resident("early", east=-300, window=(None, "10:00")),
        resident("before-lunch", east=200, north=200, window=("11:30", "12:30")),
        resident("across-lunch", east=-200, north=200, window=("11:45", "13:40")),
        resident("late", east=100, north=-400, window=("17:00", None)),
        *(resident(f"any{k}", east=80 * k, north=-80 * k) for k in range(1, 6)),
    ]
    candidates = table(*rows)
    greedy = greedy_nearest_neighbour_plan(BASE, ["kim"], candidates, settings=FAST)
    assert_plan_is_valid(greedy, candidates, FAST)
    plan = plan_day(BASE, ["kim"], candidates, settings=FAST)
    assert_plan_is_valid(plan, candidates, FAST)
    assert plan.visits == len(rows)  # everything fits in one day
    starts = {s.resident_id: s.start for s in plan.routes[0].stops}
    # 11:45-13:40 with a 30 min visit and no overlap with 12:00-13:00: only from 13:00.
    assert dt.time(13, 0) <= starts["across-lunch"] <= dt.time(13, 10)
    # 11:30-12:30 and the break at 12:00: the visit is 11:30-12:00 exactly.
    assert starts["before-lunch"] == dt.time(11, 30)


def test_a_window_out_of_reach_and_a_far_resident_say_why():
    rows = [
        resident("near", east=100),
        resident("not-due", east=100, days_overdue=-3),
        resident("evening", east=100, window=("18:30", "19:30")),
        resident("first-minutes", east=1000, window=("09:00", "09:40")),  # 19.5 min walk
        resident("far", east=20_000),  # 20 km: 6.5 h each way on foot
    ]
    plan = plan_day(BASE, ["kim"], table(*rows), settings=FAST)
    assert visited(plan) == [["near"]]
    reasons = {visit.resident_id: visit.reason for visit in plan.dropped}
    assert reasons == {
        "not-due": DropReason.NOT_DUE,
        "evening": DropReason.WINDOW_UNREACHABLE,
        "first-minutes": DropReason.WINDOW_UNREACHABLE,
        "far": DropReason.TOO_FAR,
    }
    far = next(visit for visit in plan.dropped if visit.resident_id == "far")
    assert far.message_en.startswith("too far from the base")
    assert "거점" in far.message_ko


def test_when_the_day_is_full_the_lowest_priority_visits_are_dropped():
    # 20 medium-tier residents in one building 100 m away (130 m, 117 s on foot), 30 min each.
    # Morning: 117 s + 5 visits = 152 min (6 would end after 12:00); afternoon from 13:00:
    # 9 visits and the walk back = 272 min of the 300 (10 would not be back by 18:00). So 14
    # visits fit and the 6 least urgent are dropped: 3 merely due, 3 overdue under two weeks
    # (band "N일 지남"), while the 14 overdue two weeks or more are planned.
    days = [0, 0, 0, 4, 5, 6] + [14 * d for d in range(1, 15)]
    rows = [resident(f"R{i:02d}", east=100, days_overdue=d) for i, d in enumerate(days, 1)]
    plan = plan_day(BASE, ["kim"], table(*rows), settings=FAST)
    assert plan.visits == 14
    assert sorted(visit.resident_id for visit in plan.dropped) == [f"R{d:02d}" for d in range(1, 7)]
    assert {visit.reason for visit in plan.dropped} == {DropReason.DAY_FULL_LOWEST_PRIORITY}
    assert [visit.days_overdue for visit in plan.dropped] == [4, 5, 6, 0, 0, 0]


def test_a_far_high_tier_resident_is_kept_over_a_near_low_tier_one():
    # 09:00-10:30 without a break. High tier 1000 m away: 19.5 min each way + 40 min = 79 min.
    # Low tier 100 m away: 2 + 20 + 2 min. Both: 2 + 20 + 17.6 + 40 + 19.5 = 99 min > 90.
    settings = dataclasses.replace(FAST, day_end=dt.time(10, 30), break_start=None, break_end=None)
    rows = [
        resident("near-low", east=100, tier=0, days_overdue=100),
        resident("far-high", east=1000, tier=2, days_overdue=1),
    ]
    plan = plan_day(BASE, ["kim"], table(*rows), settings=settings)
    assert visited(plan) == [["far-high"]]
    assert [(v.resident_id, v.reason) for v in plan.dropped] == [
        ("near-low", DropReason.DAY_FULL_LOWEST_PRIORITY)
    ]
    assert plan.routes[0].back_at_base <= dt.time(10, 30)


def test_work_is_balanced_between_two_visitors():
    # Mirror images east and west: one long route or two short ones walk the same distance.
    rows = [resident(f"E{k}", east=300 * k) for k in (1, 2, 3)]
    rows += [resident(f"W{k}", east=-300 * k) for k in (1, 2, 3)]
    plan = plan_day(BASE, ["kim", "lee"], table(*rows), settings=FAST)
    assert sorted(len(route.stops) for route in plan.routes) == [3, 3]
    assert plan.work_spread_minutes < 1
    assert {frozenset(stop[0] for stop in route) for route in visited(plan)} == {
        frozenset("E"),
        frozenset("W"),
    }


def test_random_day_is_valid_and_priority_stable():
    rng = np.random.default_rng(7)
    windows = [(None, None), ("13:30", "16:00"), (None, "11:00"), ("10:00", "12:30")]
    rows = [
        resident(
            f"R{k:02d}",
            east=rng.uniform(-1200, 1200),
            north=rng.uniform(-1200, 1200),
            tier=int(rng.integers(0, 3)),
            days_overdue=int(rng.integers(-5, 40)),
            window=windows[int(rng.integers(0, 4))],
        )
        for k in range(40)
    ]
    candidates = table(*rows)
    plan = plan_day(BASE, ["kim", "lee"], candidates, settings=FAST)
    assert_plan_is_valid(plan, candidates, FAST)
    reasons = plan.dropped_by_reason
    assert DropReason.NOT_CHOSEN not in reasons
    assert (
        reasons.get(DropReason.DAY_FULL_LOWEST_PRIORITY, 0)
        + reasons.get(DropReason.DAY_FULL_NO_ROOM, 0)
        > 0
    )
    greedy = greedy_nearest_neighbour_plan(BASE, ["kim", "lee"], candidates, settings=FAST)
    assert_plan_is_valid(greedy, candidates, FAST)
    frame = plan.stops_frame()
    assert len(frame) == plan.visits and list(frame.columns[:3]) == [
        "visitor",
        "order",
        "resident_id",
    ]


def test_repair_replaces_a_planned_visit_by_a_more_urgent_dropped_one():
    # Two residents in one building, room for one visit: a plan holding the low-priority one
    # is repaired; the greedy explanation would have said "not chosen".
    settings = dataclasses.replace(FAST, day_end=dt.time(9, 40), break_start=None, break_end=None)
    rows = [resident("urgent", east=100, days_overdue=30), resident("later", east=100)]
    problem = prepare_day(BASE, ["kim"], table(*rows), settings)
    routes, dropped = [[1]], {0}
    assert explain_drops(problem, routes, dropped) == {0: DropReason.NOT_CHOSEN}
    assert repair_priorities(problem, routes, dropped) == 1
    assert routes == [[0]] and dropped == {1}
    assert explain_drops(problem, routes, dropped) == {1: DropReason.DAY_FULL_LOWEST_PRIORITY}


def test_working_clock_maps_the_break_both_ways():
    settings = DEFAULT_SETTINGS
    assert settings.working_seconds == 8 * 3600
    assert settings.to_working_clock(dt.time(12, 30)) == 3 * 3600
    assert settings.to_working_clock(dt.time(14, 0)) == 4 * 3600
    assert settings.to_wall_clock(3 * 3600, side="end") == dt.time(12, 0)
    assert settings.to_wall_clock(3 * 3600, side="start") == dt.time(13, 0)


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.drop(columns="tier"), r"lacks column\(s\) \['tier'\]"),
        (lambda df: df.assign(tier=[1, 3]), r"column 'tier', row 1 \(resident_id 'R2'\)"),
        (lambda df: df.assign(days_overdue=[1.5, 2]), r"column 'days_overdue', row 0"),
        (lambda df: df.assign(lon=[np.nan, 126.9]), r"column 'lon', row 0"),
        (lambda df: df.assign(resident_id=["R1", "R1"]), r"row 1 .*repeats row 0"),
        (lambda df: df.assign(resident_id=["R1", None]), r"column 'resident_id', row 1"),
        (lambda df: df.assign(available_from=["9:00x", None]), r"'available_from', row 0"),
        (
            lambda df: df.assign(available_from=["15:00", None], available_until=["14:00", None]),
            r"column 'available_until', row 0 .*not after",
        ),
        (lambda df: df.assign(lat=[37.5, 45.0]), r"column 'lat', row 1 .*inside South Korea"),
        (lambda df: df.set_axis(["a", "b"]).assign(tier=[1, 7]), r"column 'tier', row 'b'"),
    ],
)
def test_bad_candidate_values_name_the_column_and_row(change, message):
    candidates = change(table(resident("R1", east=100), resident("R2", east=200)))
    with pytest.raises(PlanningError, match=message):
        plan_day(BASE, ["kim"], candidates, settings=FAST)


@pytest.mark.parametrize(
    ("base", "visitors", "message"),
    [
        (("x", 37.5), ["kim"], "base must be"),
        (BASE, [], "visitors is empty"),
        (BASE, ["kim", "kim"], "unique"),
        (BASE, "kim", "list of names"),
    ],
)
def test_bad_base_or_visitors(base, visitors, message):
    with pytest.raises(PlanningError, match=message):
        plan_day(base, visitors, table(resident("R1", east=100)), settings=FAST)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"day_start": dt.time(18), "day_end": dt.time(9)}, "not before day_end"),
        ({"break_start": dt.time(8), "break_end": dt.time(9)}, "inside working hours"),
        ({"break_end": None}, "both break_start and break_end"),
        ({"service_minutes_by_tier": (20, 30)}, "3 positive integers"),
        ({"travel_mode": "bike"}, "travel_mode"),
        ({"detour_factor": 0.8}, "at least 1"),
        ({"time_limit_seconds": 0}, "time_limit_seconds"),
    ],
)
def test_bad_settings(changes, message):
    with pytest.raises(PlanningError, match=message):
        PlanSettings(**changes)
