"""Issue 12, the field day without a browser: a stop visited on the plan's day shows as
visited with its outcome, and the plan's progress (n of m done) is in the API, the page and
the exports; the visitor's own day; the localized 404 of an unknown resident."""

from __future__ import annotations

import csv
import io
import re
import uuid
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.visit_states import visit_states_of
from tests.webmap.conftest import AS_OF

pytestmark = pytest.mark.db

GPX = "{http://www.topografix.com/GPX/1/1}"


def visitor_team(map_database) -> str:
    """The team of the test visitor account (the first team, as conftest makes it)."""
    with map_database["engine"].connect() as connection:
        return connection.execute(
            text("""SELECT t.external_id FROM users u JOIN visit_teams t ON t.id = u.team_id
                    WHERE 'visitor' = ANY(u.roles) ORDER BY u.id LIMIT 1""")
        ).scalar_one()


def make_field_plan(map_app, map_database) -> dict:
    """Plan the visitor's team's day AS_OF (a new version) and record a visit to its first stop.

    Returns the team id, the plan (API JSON), the route with most stops and its first stop.
    """
    team = visitor_team(map_database)
    with map_app.test_client() as client:
        made = client.post(
            "/api/routes",
            json={"team_id": team, "date": AS_OF.isoformat(), "time_limit_seconds": 1},
        )
        assert made.status_code == 201, made.json
        plan = made.json
        route = max(plan["routes"], key=lambda r: len(r["stops"]))
        stop = route["stops"][0]
        recorded = client.post(
            "/api/visits",
            json={
                "resident": stop["resident_id"],
                "outcome": "met",
                "visited_at": f"{AS_OF.isoformat()}T10:15:00+09:00",
                # no member and no plan: a visit of no team, so that it widens no visitor's
                # scope (geo.accounts: residents the team visited) for other test modules
                "visitor_name": "현장 시험",
                "idempotency_key": str(uuid.uuid4()),
            },
        )
        assert recorded.status_code in (200, 201), recorded.json
    return {"team": team, "plan": plan, "route": route, "stop": stop}


def drop_plan(map_database, plan_id: int) -> None:
    """Delete a plan again, so that the team's newest plan is what other modules made."""
    with map_database["engine"].begin() as connection:
        connection.execute(text("DELETE FROM route_plans WHERE id = :id"), {"id": plan_id})


@pytest.fixture(scope="module")
def field_plan(map_app, map_database):
    """A plan of the visitor's team on AS_OF, and one of its stops visited that day."""
    made = make_field_plan(map_app, map_database)
    yield made
    drop_plan(map_database, made["plan"]["plan_id"])


def test_a_stop_visited_on_the_day_shows_as_visited_and_counts_as_done(map_client, field_plan):
    plan_id = field_plan["plan"]["plan_id"]
    plan = map_client.get(f"/api/routes/{plan_id}").json
    stops = {s["resident_id"]: s for r in plan["routes"] for s in r["stops"]}
    visited = stops[field_plan["stop"]["resident_id"]]
    assert visited["state"] == "visited" and visited["outcome"] == "met"
    assert visited["state_ko"] == "오늘 방문함 · 면담"
    assert visited["state_en"] == "Visited today · Met"
    assert plan["progress"]["done"] == 1
    assert plan["progress"]["planned"] == len(stops)
    assert plan["progress"]["dropped"] == len(plan["dropped"])
    route = next(r for r in plan["routes"] if r["member_id"] == field_plan["route"]["member_id"])
    assert route["done"] == 1
    # the others are still in words: overdue by band, first visit or due, never a raw day count
    for stop in stops.values():
        if stop["state"] == "overdue":
            assert "지남" in stop["state_ko"] and "overdue" in stop["state_en"]
            assert all(int(n) < 14 for n in re.findall(r"\d+", stop["state_ko"]))


def test_stops_and_the_map_panel_agree_on_the_state(map_client, map_database, field_plan):
    """One state rule: the route's stops say what geo.visit_states says on the plan's day."""
    plan = map_client.get(f"/api/routes/{field_plan['plan']['plan_id']}").json
    stops = {s["resident_id"]: s for r in plan["routes"] for s in r["stops"]}
    with Session(map_database["engine"]) as session:
        states = visit_states_of(session, plan["run_id"], list(stops), AS_OF)
    assert {rid: s["state"] for rid, s in stops.items()} == {
        rid: states[rid]["state"] for rid in stops
    }
    assert len({s["state"] for s in stops.values()}) >= 2  # visited and at least one other


def test_the_exports_carry_the_states_and_the_progress(map_client, field_plan):
    plan_id = field_plan["plan"]["plan_id"]
    planned = sum(len(r["stops"]) for r in field_plan["plan"]["routes"])
    rows = list(csv.DictReader(io.StringIO(map_client.get(f"/routes/{plan_id}.csv").text[1:])))
    assert {row["plan_progress"] for row in rows} == {f"1/{planned}"}
    visited = [row for row in rows if row["resident_id"] == field_plan["stop"]["resident_id"]]
    assert visited[0]["state"] == "visited" and visited[0]["visit_outcome"] == "met"
    gpx = ET.fromstring(map_client.get(f"/routes/{plan_id}.gpx").data)
    assert gpx.find(f"{GPX}metadata/{GPX}desc").text == (
        f"{planned}곳 중 1곳 완료 / 1 of {planned} done"
    )


def test_the_route_page_header_says_done_planned_dropped_and_due(map_client, field_plan):
    team, plan = field_plan["team"], field_plan["plan"]
    page = map_client.get(f"/routes?team={team}&date={AS_OF.isoformat()}&lang=en").text
    planned = sum(len(r["stops"]) for r in plan["routes"])
    assert f"1 of {planned} stops done" in page
    assert f"not planned today: {len(plan['dropped'])}" in page
    assert f"due in the team's dongs: {plan['candidates']}" in page
    korean = map_client.get(f"/routes?team={team}&date={AS_OF.isoformat()}&lang=ko").text
    assert f"{planned}곳 중 1곳 완료" in korean and "오늘 방문함 · 면담" in korean


def test_the_visitor_picks_themselves_once_and_sees_only_their_stops(map_app, field_plan):
    route = field_plan["route"]
    with map_app.test_client(role="visitor") as client:
        first = client.get(f"/routes/today?date={AS_OF.isoformat()}")
        assert first.status_code == 200 and 'name="member"' in first.text
        picked = client.post("/routes/today", data={"member": route["member_id"]})
        assert picked.status_code == 303
        page = client.get(f"/routes/today?date={AS_OF.isoformat()}").text
        shown = re.findall(r'<li class="stop[^"]*"[^>]* data-resident="([^"]+)"', page)
        assert shown == [s["resident_id"] for s in route["stops"]]
        assert "&amp;from=today" in page
        # "not me" forgets the pick
        client.post("/routes/today", data={"member": ""})
        again = client.get(f"/routes/today?date={AS_OF.isoformat()}")
        assert 'name="member"' in again.text


def test_a_member_of_another_team_cannot_be_picked_outside_the_callers_reach(map_app):
    with map_app.test_client(role="visitor") as client:
        assert client.post("/routes/today", data={"member": "NO-SUCH-MEMBER"}).status_code == 404


@pytest.mark.parametrize(
    ("lang", "words"),
    [("ko", "이 주민을 찾을 수 없습니다"), ("en", "No such resident in your areas")],
)
def test_an_unknown_resident_on_the_form_is_a_localized_404_page(map_client, lang, words):
    response = map_client.get(f"/visits/new?resident=R-NOPE&lang={lang}")
    assert response.status_code == 404
    assert words in response.text and 'id="error"' in response.text
    assert "Not Found</h1>" not in response.text


def test_the_form_links_back_to_the_route_it_came_from(map_client, field_plan):
    plan_id, stop = field_plan["plan"]["plan_id"], field_plan["stop"]
    page = map_client.get(f"/visits/new?resident={stop['resident_id']}&plan={plan_id}").text
    assert f'href="/routes?team={field_plan["team"]}&amp;date={AS_OF.isoformat()}"' in page
    today = map_client.get(
        f"/visits/new?resident={stop['resident_id']}&plan={plan_id}&from=today"
    ).text
    assert f'href="/routes/today?date={AS_OF.isoformat()}"' in today
