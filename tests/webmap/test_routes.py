"""Teams and day plans through the command line, the JSON API, the exports and the route page,
on the committed map database (a small Seodaemun demo with its teams and members)."""

from __future__ import annotations

import csv
import html
import io
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.webmap.conftest import AS_OF, XSS_NAME
from visitmap.cli import main

pytestmark = pytest.mark.db

GPX = "{http://www.topografix.com/GPX/1/1}"


@pytest.fixture(scope="module")
def xss_team(map_database) -> str:
    """The team of the dong where the resident with the attack-string name lives."""
    with Session(map_database["engine"]) as session:
        code = session.execute(
            text("""SELECT a.code FROM residents r JOIN households h ON h.id = r.household_id
                    JOIN areas a ON a.id = h.area_id WHERE r.external_id = :id"""),
            {"id": map_database["xss_id"]},
        ).scalar_one()
    return "T-" + code


@pytest.fixture(scope="module")
def planned(map_app, xss_team) -> dict:
    """The xss team's plan for AS_OF, made through the API."""
    with map_app.test_client() as client:
        response = client.post(
            "/api/routes",
            json={"team_id": xss_team, "date": AS_OF.isoformat(), "time_limit_seconds": 0.5},
        )
    assert response.status_code == 201, response.json
    return response.json


def test_cli_plans_and_prints_a_summary(map_database, monkeypatch):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", map_database["url"])
    runner = CliRunner()
    listed = runner.invoke(main, ["teams", "list"])
    assert listed.exit_code == 0, listed.output
    assert "T-1141061500" in listed.output and "active" in listed.output
    result = runner.invoke(
        main,
        ["routes", "plan", "--team", "T-1141061500", "--date", AS_OF.isoformat(),
         "--time-limit", "0.3", "--by", "test"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("plan ") and "T-1141061500" in lines[0]
    plan_id = int(lines[0].split()[1])
    with Session(map_database["engine"]) as session:
        stored = session.execute(
            text("""SELECT count(*) FROM route_plan_stops WHERE plan_id = :id"""), {"id": plan_id}
        ).scalar_one()
        members = session.execute(
            text("""SELECT count(*) FROM visit_team_members m JOIN visit_teams t
                    ON t.id = m.team_id WHERE t.external_id = 'T-1141061500' AND m.active""")
        ).scalar_one()
    visitor_lines = [line for line in lines if line.startswith("  ") and " stops, " in line]
    assert len(visitor_lines) == members
    assert sum(int(line.split(": ")[1].split()[0]) for line in visitor_lines) == stored > 0
    assert any(line.startswith("  dropped: ") for line in lines)

    bad = runner.invoke(main, ["routes", "plan", "--team", "T-none", "--date", "2026-11-01"])
    assert bad.exit_code == 1 and "team 'T-none' does not exist" in bad.output
    bad_date = runner.invoke(main, ["routes", "plan", "--team", "T-1141061500", "--date", "x"])
    assert bad_date.exit_code == 2


def test_cli_team_commands_reject_bad_input(map_database, monkeypatch):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", map_database["url"])
    runner = CliRunner()
    result = runner.invoke(main, ["teams", "create", "T-cli", "--name", "팀", "--area", "123"])
    assert (
        result.exit_code == 1 and "area_codes: '123' is not a 10-digit dong code" in result.output
    )
    with Session(map_database["engine"]) as session:
        assert session.execute(
            text("SELECT count(*) FROM visit_teams WHERE external_id = 'T-cli'")
        ).scalar_one() == 0  # fmt: skip


def test_api_teams_create_members_areas_and_errors(map_client):
    listed = map_client.get("/api/teams").json["teams"]
    assert len(listed) == 14 and all(t["active_members"] >= 3 for t in listed)
    created = map_client.post(
        "/api/teams",
        json={"team_id": "T-api", "name": "API 팀", "base_facility_id": "CC-1141058500",
              "area_codes": ["1141058500"]},
    )  # fmt: skip
    assert created.status_code == 201 and created.json["areas"][0]["code"] == "1141058500"
    assert map_client.post("/api/teams", json={"team_id": "T-api", "name": "x"}).status_code == 409
    bad = map_client.post("/api/teams", json={"team_id": "T-bad", "name": "x", "area_codes": ["1"]})
    assert bad.status_code == 400 and bad.json["parameter"] == "area_codes"
    assert map_client.get("/api/teams/T-bad").status_code == 404
    not_json = map_client.post("/api/teams", data="x", content_type="text/plain")
    assert not_json.status_code == 400 and not_json.json["parameter"] == "body"

    member = map_client.post("/api/teams/T-api/members", json={"member_id": "T-api-M1",
                                                               "name": "김방문"})  # fmt: skip
    assert member.status_code == 201
    assert map_client.post("/api/teams/T-none/members",
                           json={"member_id": "X1", "name": "x"}).status_code == 404  # fmt: skip
    off = map_client.patch("/api/teams/T-api/members/T-api-M1", json={"active": False})
    assert off.status_code == 200 and off.json["members"][0]["active"] is False
    areas = map_client.put("/api/teams/T-api/areas", json={"area_codes": ["1141061500"]})
    assert [a["code"] for a in areas.json["areas"]] == ["1141061500"]
    # no active member: 400 naming the team, nothing stored
    cannot = map_client.post("/api/routes", json={"team_id": "T-api", "date": "2026-11-01"})
    assert cannot.status_code == 400 and "no active member" in cannot.json["message"]


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("", 400, "team"),
        ("?team=T-1141061500", 400, "date"),
        ("?team=T-1141061500&date=2026-13-01", 400, "date"),
        ("?team=T-none&date=2026-11-01", 404, None),
        ("?team=T-1141061500&date=1999-01-01", 404, None),
    ],
)
def test_api_routes_errors(map_client, query, status, parameter):
    response = map_client.get("/api/routes" + query)
    assert response.status_code == status
    assert response.json.get("parameter") == parameter


def test_api_route_plan_json(map_client, planned, xss_team):
    assert planned["team_id"] == xss_team and planned["plan_date"] == AS_OF.isoformat()
    stops = [s for r in planned["routes"] for s in r["stops"]]
    assert stops and all(s["reasons_ko"] and s["reasons_en"] for s in stops)
    for route in planned["routes"]:
        assert [s["order"] for s in route["stops"]] == list(range(1, len(route["stops"]) + 1))
        assert all(s["arrival"] >= "09:00" and s["departure"] <= "18:00" for s in route["stops"])
    # "lowest priority" drops rank at or below every planned visit (tier, then days overdue)
    least_urgent = min((s["tier"], s["days_overdue"]) for s in stops)
    lowest = [d for d in planned["dropped"] if d["reason"] == "day_full_lowest_priority"]
    assert lowest and all((d["tier"], d["days_overdue"]) <= least_urgent for d in lowest)
    latest = map_client.get(f"/api/routes?team={xss_team}&date={AS_OF.isoformat()}")
    assert latest.status_code == 200 and latest.json["plan_id"] == planned["plan_id"]
    assert map_client.get("/api/routes/99999999").status_code == 404
    assert "/api/routes" in map_client.get("/api/openapi.json").json["paths"]


def test_csv_has_one_row_per_stop_in_order(map_client, planned):
    response = map_client.get(f"/routes/{planned['plan_id']}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    stops = [(r["visitor"], s) for r in planned["routes"] for s in r["stops"]]
    assert len(rows) == len(stops)
    for row, (visitor, stop) in zip(rows, stops, strict=True):
        assert (row["visitor"], row["resident_id"], row["order"], row["arrival"]) == (
            visitor, stop["resident_id"], str(stop["order"]), stop["arrival"],
        )  # fmt: skip
    # a formula-looking name is defused
    assert not any(r["name"].startswith(("=", "+", "@")) for r in rows)
    assert map_client.get("/routes/99999999.csv").status_code == 404


def test_gpx_is_gpx_1_1_with_one_route_per_visitor(map_client, planned):
    response = map_client.get(f"/routes/{planned['plan_id']}.gpx")
    assert response.status_code == 200 and response.mimetype == "application/gpx+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{GPX}gpx" and root.get("version") == "1.1" and root.get("creator")
    children = [child.tag for child in root]
    # GPX 1.1 order: metadata, wpt*, rte*, trk*
    assert children == [f"{GPX}metadata", f"{GPX}wpt"] + [f"{GPX}rte"] * len(planned["routes"])
    for rte, route in zip(root.findall(f"{GPX}rte"), planned["routes"], strict=True):
        assert [child.tag for child in rte][:2] == [f"{GPX}name", f"{GPX}number"]
        points = rte.findall(f"{GPX}rtept")
        assert len(points) == len(route["stops"]) + 2  # from the base and back
        for point, stop in zip(points[1:-1], route["stops"], strict=True):
            assert abs(float(point.get("lat")) - stop["lat"]) < 1e-6
            assert abs(float(point.get("lon")) - stop["lon"]) < 1e-6
            assert point.find(f"{GPX}name").text == f"{stop['order']}. {stop['resident_id']}"
    # residents appear by pseudonymous id only
    assert XSS_NAME.encode() not in response.data


def test_route_page_lists_stops_escapes_names_and_links_the_visit_form(
    map_client, planned, map_database, xss_team
):
    response = map_client.get(f"/routes?team={xss_team}&date={AS_OF.isoformat()}")
    assert response.status_code == 200
    page = response.data.decode()
    stops = [s for r in planned["routes"] for s in r["stops"]]
    assert page.count('class="stop"') == len(stops)
    assert page.count("route-stop") == len(stops)  # numbered markers (in the map's script)
    first = stops[0]
    assert f"/visits/new?resident={first['resident_id']}&amp;plan={planned['plan_id']}" in page
    assert XSS_NAME not in page
    if map_database["xss_id"] in {s["resident_id"] for s in stops}:
        assert html.escape(XSS_NAME) in page
    assert '<html lang="ko">' in page and "방문 경로" in page
    english = map_client.get(f"/routes?team={xss_team}&date={AS_OF.isoformat()}&lang=en")
    assert "Visit routes" in english.data.decode()
    printing = map_client.get(f"/routes?team={xss_team}&date={AS_OF.isoformat()}&print=1")
    assert '<body class="print">' in printing.data.decode()


def test_route_page_without_plan_offers_to_plan(map_client):
    empty = map_client.get("/routes?team=T-1141052000&date=2026-10-01")
    assert empty.status_code == 200 and b'id="plan-button"' in empty.data
    planned = map_client.post("/routes/plan", data={"team": "T-1141052000", "date": "2026-10-01"})
    assert planned.status_code == 303
    shown = map_client.get(planned.headers["Location"])
    assert b'id="plan-button"' not in shown.data and b'id="plan-summary"' in shown.data
    assert map_client.get("/routes?team=T-none").status_code == 404
    assert map_client.get("/routes?team=T-1141052000&date=nope").status_code == 400
