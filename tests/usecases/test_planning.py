"""A team's day planned from PostGIS and stored (visitmap.usecases.planning, geo.route_plans): small
hand-built cases around 연희동 주민센터, in the per-test rolled-back transaction."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

import visitmap.usecases.planning
from geo.route_plans import latest_plan_id, load_plan, team_candidates
from geo.scope import Scope
from geo.teams import TeamNotFound, add_member, create_team
from routing.plan import DropReason, PlanSettings
from routing.settings_input import SettingsInputError, plan_settings_from
from visitmap.usecases.planning import PlanRequestError, PlanScopeError, plan_capped, plan_team_day
from visitmap.vocab import ROUTE_DROP_REASONS

pytestmark = pytest.mark.db

DAY = dt.date(2026, 11, 24)
YEONHUI, SINCHON = "1141061500", "1141058500"
#: degrees of longitude and latitude per 100 m at 37.57 N (about; the planner measures in
#: EPSG:5179)
LON_100M = 100 / (111_320 * 0.7926)
LAT_100M = 100 / 110_990
FAST = PlanSettings(time_limit_seconds=0.3)


def test_drop_reason_codes_match_the_planner():
    assert set(ROUTE_DROP_REASONS) == {str(reason) for reason in DropReason}


@pytest.fixture
def team(db):
    """Team T-Y: base 연희동 주민센터, dong 연희동, one active visitor, and a score run."""
    create_team(
        db, team_id="T-Y", name="연희 방문팀", base_facility_id="CC-1141061500",
        area_codes=[YEONHUI],
    )  # fmt: skip
    add_member(db, "T-Y", member_id="V1", name="김방문")
    base = db.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM facilities WHERE external_id = 'CC-1141061500'")
    ).one()
    run_id = db.execute(
        text("""INSERT INTO score_runs (created_by, method, config_version, parameters, as_of,
                feature_names, input_counts, inputs_digest, tier_counts, metrics,
                published_at, published_by)
                VALUES ('test', 'weighted', 'v1', '{}', :day, '{}', '{}', 'd', '{}', '{}',
                now(), 'test')
                RETURNING id"""),
        {"day": DAY},
    ).scalar_one()
    db.execute(
        text(
            f"CREATE TABLE resident_scores_run_{run_id} PARTITION OF resident_scores "
            f"FOR VALUES IN ({run_id})"
        )
    )
    return {"db": db, "run_id": run_id, "base": tuple(base)}


def add_resident(team, rid, *, east_m, tier, overdue, dong=YEONHUI, status="active",
                 window=(None, None), north_m=0):  # fmt: skip
    """A resident ``east_m`` metres east (and ``north_m`` north) of the base, scored in the
    team's run with ``next_due_on = DAY - overdue``."""
    db = team["db"]
    lon = team["base"][0] + east_m / 100 * LON_100M
    lat = team["base"][1] + north_m / 100 * LAT_100M
    pk = db.execute(
        text("""
        WITH h AS (INSERT INTO households (external_id, area_id, size, monthly_income_krw, geom)
                   SELECT :hid, id, 1, 0, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
                   FROM areas WHERE code = :dong RETURNING id)
        INSERT INTO residents (external_id, household_id, name, birth_year, sex, lives_alone,
            has_disability, registered_on, status, available_from, available_until)
        SELECT :rid, id, :name, 1940, 'F', true, false, '2020-01-01', :status, :af, :au FROM h
        RETURNING id"""),
        {
            "hid": "H-" + rid, "rid": rid, "name": f"주민 {rid}", "lon": lon, "lat": lat,
            "dong": dong, "status": status, "af": window[0], "au": window[1],
        },
    ).scalar_one()  # fmt: skip
    db.execute(
        text("""INSERT INTO resident_scores VALUES
                (:run, :pk, 0.5, :tier, :due, '\\x00000000', '\\x00000000')"""),
        {"run": team["run_id"], "pk": pk, "tier": tier, "due": DAY - dt.timedelta(days=overdue)},
    )
    return pk


def _team_pk(db, team_id="T-Y"):
    return db.execute(
        text("SELECT id FROM visit_teams WHERE external_id = :t"), {"t": team_id}
    ).scalar()


def test_candidates_are_due_in_the_teams_dongs_and_scope_ranked_by_tier_then_overdue(team):
    db = team["db"]
    add_resident(team, "R-low-late", east_m=100, tier=0, overdue=30)
    add_resident(team, "R-high-0", east_m=200, tier=2, overdue=0)
    add_resident(team, "R-high-9", east_m=300, tier=2, overdue=9)
    add_resident(team, "R-mid-3", east_m=400, tier=1, overdue=3)
    add_resident(team, "R-not-due", east_m=500, tier=2, overdue=-1)
    add_resident(team, "R-moved", east_m=600, tier=2, overdue=5, status="moved")
    add_resident(team, "R-sinchon", east_m=700, tier=2, overdue=50, dong=SINCHON)
    frame = team_candidates(
        db, Scope.everything(), team_pk=_team_pk(db), run_id=team["run_id"], day=DAY
    )
    assert frame["resident_id"].tolist() == ["R-high-9", "R-high-0", "R-mid-3", "R-low-late"]
    assert frame["days_overdue"].tolist() == [9, 0, 3, 30]
    assert frame["area_code"].unique().tolist() == [YEONHUI]
    outside = team_candidates(
        db, Scope.of_areas([SINCHON]), team_pk=_team_pk(db), run_id=team["run_id"], day=DAY
    )
    assert outside.empty


def test_stops_on_a_line_are_visited_in_order_and_stored(team):
    db = team["db"]
    for i, metres in enumerate((300, 100, 200)):
        add_resident(team, f"R-{metres}", east_m=metres, north_m=1000, tier=1, overdue=i)
    stored = plan_team_day(db, Scope.everything(), "T-Y", DAY, created_by="t", settings=FAST)
    assert (stored.version, stored.candidates) == (1, 3)
    plan = load_plan(db, Scope.everything(), stored.plan_id)
    (route,) = plan["routes"]
    order = [s["resident_id"] for s in route["stops"]]
    assert order in (["R-100", "R-200", "R-300"], ["R-300", "R-200", "R-100"])
    assert [s["order"] for s in route["stops"]] == [1, 2, 3]
    starts = [s["start"] for s in route["stops"]]
    assert starts == sorted(starts) and starts[0] >= dt.time(9, 0)
    # a line 1 km north of the base: 1,005 m out, two 100 m legs, 1,044 m back, x 1.3 detour
    assert abs(route["travel_metres"] - 2924) <= 15
    assert plan["dropped"] == [] and plan["hidden_stops"] == 0
    # outside the caller's scope nothing of the residents is sent
    hidden = load_plan(db, Scope.of_areas([SINCHON]), stored.plan_id)
    assert hidden["routes"][0]["stops"] == [] and hidden["hidden_stops"] == 3


def test_full_day_drops_the_lowest_priority_with_reasons(team):
    db = team["db"]
    add_resident(team, "R-high", east_m=100, tier=2, overdue=1)
    add_resident(team, "R-mid-20", east_m=150, tier=1, overdue=20)  # band 2주 이상
    add_resident(team, "R-mid-1", east_m=120, tier=1, overdue=1)
    add_resident(team, "R-low", east_m=110, tier=0, overdue=40)
    add_resident(team, "R-later", east_m=130, tier=2, overdue=-3)
    short = PlanSettings(
        day_start=dt.time(9, 0), day_end=dt.time(10, 30), break_start=None, break_end=None,
        time_limit_seconds=0.3,
    )  # fmt: skip
    stored = plan_team_day(db, Scope.everything(), "T-Y", DAY, created_by="t", settings=short)
    plan = load_plan(db, Scope.everything(), stored.plan_id)
    planned = {s["resident_id"] for s in plan["routes"][0]["stops"]}
    # 90 minutes: high (40 min) + medium (30 min) + walking; the next one does not fit
    assert planned == {"R-high", "R-mid-20"}
    assert [(d["resident_id"], d["reason"]) for d in plan["dropped"]] == [
        ("R-mid-1", "day_full_lowest_priority"),
        ("R-low", "day_full_lowest_priority"),
    ]
    # not-due residents are not candidates at all
    assert stored.candidates == 4
    assert all(s["departure"] <= dt.time(10, 30) for s in plan["routes"][0]["stops"])


def test_availability_window_and_break_are_respected(team):
    db = team["db"]
    add_resident(team, "R-afternoon", east_m=100, tier=2, overdue=0,
                 window=(dt.time(14, 0), dt.time(15, 0)))  # fmt: skip
    add_resident(team, "R-any", east_m=200, tier=1, overdue=0)
    stored = plan_team_day(db, Scope.everything(), "T-Y", DAY, created_by="t", settings=FAST)
    stops = {s["resident_id"]: s for s in load_plan(db, Scope.everything(), stored.plan_id)[
        "routes"][0]["stops"]}  # fmt: skip
    assert dt.time(14, 0) <= stops["R-afternoon"]["start"]
    assert stops["R-afternoon"]["departure"] <= dt.time(15, 0)
    for stop in stops.values():
        assert stop["departure"] <= dt.time(12, 0) or stop["start"] >= dt.time(13, 0)


def test_planning_again_stores_a_new_version(team):
    db = team["db"]
    add_resident(team, "R-1", east_m=100, tier=2, overdue=0)
    first = plan_team_day(db, Scope.everything(), "T-Y", DAY, created_by="t", settings=FAST)
    second = plan_team_day(db, Scope.everything(), "T-Y", DAY, created_by="t", settings=FAST)
    assert (first.version, second.version) == (1, 2)
    assert latest_plan_id(db, "T-Y", DAY) == second.plan_id
    assert load_plan(db, Scope.everything(), first.plan_id)["latest_version"] == 2
    assert latest_plan_id(db, "T-Y", DAY + dt.timedelta(days=1)) is None


def test_teams_that_cannot_be_planned_say_why(team):
    db = team["db"]
    with pytest.raises(TeamNotFound):
        plan_team_day(db, Scope.everything(), "T-none", DAY, created_by="t", settings=FAST)
    create_team(db, team_id="T-nobase", name="거점 없는 팀", area_codes=[YEONHUI])
    with pytest.raises(PlanRequestError, match="no base facility") as caught:
        plan_team_day(db, Scope.everything(), "T-nobase", DAY, created_by="t", settings=FAST)
    assert caught.value.kind == "no_base"
    create_team(db, team_id="T-empty", name="빈 팀", base_facility_id="CC-1141061500")
    with pytest.raises(PlanRequestError, match="no active member"):
        plan_team_day(db, Scope.everything(), "T-empty", DAY, created_by="t", settings=FAST)
    assert db.execute(text("SELECT count(*) FROM route_plans")).scalar() == 0


def test_over_the_cap_the_planner_runs_once_on_the_most_urgent_visitable(monkeypatch):
    """30 candidates, one visitor, an hour's day (at most 3 visits of 20 min): with a cap of
    5, the head holds the 5 most urgent visitable candidates plus the unreachable ones before
    them; the planner runs once and the rest are lowest priority."""
    calls = []
    real = visitmap.usecases.planning.plan_day

    def counting(base, visitors, table, **kwargs):
        calls.append(table["resident_id"].tolist())
        return real(base, visitors, table, **kwargs)

    monkeypatch.setattr(visitmap.usecases.planning, "plan_day", counting)
    base = (126.9300, 37.5700)
    rows = [("R-far-1", 20_000, 2, 50), ("R-far-2", 20_000, 2, 40)]  # hours away on foot
    rows += [(f"R-{i:02}", 100 + 20 * i, 0, 30 - i) for i in range(28)]
    candidates = pd.DataFrame(
        {
            "resident_id": [r[0] for r in rows],
            "lon": [base[0] + r[1] / 100 * LON_100M for r in rows],
            "lat": [base[1]] * len(rows),
            "tier": [r[2] for r in rows],
            "days_overdue": [r[3] for r in rows],
            "available_from": [None] * len(rows),
            "available_until": [None] * len(rows),
        }
    )
    hour = PlanSettings(day_start=dt.time(9, 0), day_end=dt.time(10, 0), break_start=None,
                        break_end=None, time_limit_seconds=0.2)  # fmt: skip
    plan = plan_capped(base, ["V1"], candidates, settings=hour, max_candidates=5)
    assert calls == [["R-far-1", "R-far-2", "R-00", "R-01", "R-02", "R-03", "R-04"]]
    reasons = {d.resident_id: d.reason for d in plan.dropped}
    assert reasons["R-far-1"] == reasons["R-far-2"] == DropReason.TOO_FAR
    assert all(reasons[f"R-{i:02}"] == DropReason.DAY_FULL_LOWEST_PRIORITY for i in range(5, 28))
    assert 0 < plan.visits <= 3 and plan.visits + len(plan.dropped) == len(rows)
    # under the cap (or when the team could visit them all), one plan over everything
    calls.clear()
    plan_capped(base, ["V1"], candidates.iloc[:6], settings=hour, max_candidates=5)
    assert len(calls) == 1 and len(calls[0]) == 6


def test_only_a_scope_covering_all_the_teams_dongs_may_plan(team):
    db = team["db"]
    add_resident(team, "R-1", east_m=100, tier=2, overdue=0)
    assign = db.execute(
        text("""INSERT INTO team_areas (team_id, area_id)
                SELECT :t, id FROM areas WHERE code = :c"""),
        {"t": _team_pk(db), "c": SINCHON},
    )
    assert assign.rowcount == 1
    for scope in (Scope.of_areas([YEONHUI]), Scope.of_areas([SINCHON]), Scope.of_areas([])):
        with pytest.raises(PlanScopeError, match="do not cover all dongs") as caught:
            plan_team_day(db, scope, "T-Y", DAY, created_by="t", settings=FAST)
        assert caught.value.kind == "scope"
    assert db.execute(text("SELECT count(*) FROM route_plans")).scalar() == 0
    both = Scope.of_areas([YEONHUI, SINCHON])
    assert plan_team_day(db, both, "T-Y", DAY, created_by="t", settings=FAST).plan.visits == 1


def test_settings_from_input_shorten_the_day_and_are_stored(team):
    db = team["db"]
    for i in range(8):
        add_resident(team, f"R-{i}", east_m=100 + 30 * i, tier=1, overdue=i)
    full = plan_team_day(db, Scope.everything(), "T-Y", DAY, created_by="t", settings=FAST)
    short = plan_settings_from(
        {"day_start": "09:00", "day_end": "10:30", "break": "none",
         "service_minutes": "medium=25", "speed_kmh": 5, "detour_factor": 1.2,
         "time_limit_seconds": 0.3}
    )  # fmt: skip
    shorter = plan_team_day(db, Scope.everything(), "T-Y", DAY, created_by="t", settings=short)
    assert full.plan.visits == 8 and 0 < shorter.plan.visits < full.plan.visits
    stored = db.execute(
        text("SELECT settings FROM route_plans WHERE id = :id"), {"id": shorter.plan_id}
    ).scalar_one()
    assert stored["day_end"] == "10:30" and stored["break_start"] is None
    assert stored["service_minutes_by_tier"] == [20, 25, 40]
    assert (stored["speed_kmh"], stored["detour_factor"]) == (5.0, 1.2)


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"day_start": "10:00", "day_end": "09:00"}, "day_end", "must end after it starts"),
        ({"day_start": "9시"}, "day_start", "HH:MM"),
        ({"break": "12:00"}, "break", "HH:MM-HH:MM"),
        ({"day_end": "11:00", "break": "12:00-13:00"}, "break", "inside working hours"),
        ({"service_minutes": "high=0"}, "service_minutes", "whole minutes"),
        ({"service_minutes": {"urgent": 5}}, "service_minutes", "per tier"),
        ({"speed_kmh": -1}, "speed_kmh", "above 0"),
        ({"detour_factor": 0.9}, "detour_factor", "from 1 to 5"),
        ({"travel_mode": "bike"}, "travel_mode", "foot or car"),
        ({"color": "red"}, "color", "unknown setting"),
    ],
)
def test_bad_settings_name_the_field(fields, field, reason):
    with pytest.raises(SettingsInputError) as caught:
        plan_settings_from(fields)
    assert caught.value.field == field and reason in str(caught.value)
