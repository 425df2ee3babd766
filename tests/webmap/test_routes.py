"""Teams and day plans through the command line, the JSON API, the exports and the route page,
on the committed map database (a small Seodaemun demo with its teams and members)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.scope import Scope
from tests.webmap.conftest import AS_OF, XSS_NAME, XSS_NOTE
from visitmap.cli import main
from visitmap.vocab import overdue_band

pytestmark = pytest.mark.db

GPX = "{http://www.topografix.com/GPX/1/1}"


FORMULA_NAME = '=HYPERLINK("http://x")'
XSS_TEAM = "T-xss"


@pytest.fixture(scope="module")
def xss_team(map_app, map_database) -> str:
    """Team T-xss for the dong where the resident with the attack-string name lives, with a
    member named XSS_NOTE (added through the API) and a team name holding control characters
    (as an imported file might), and a neighbour named like a spreadsheet formula."""
    engine = map_database["engine"]
    with Session(engine) as session:
        code = session.execute(
            text("""SELECT a.code FROM residents r JOIN households h ON h.id = r.household_id
                    JOIN areas a ON a.id = h.area_id WHERE r.external_id = :id"""),
            {"id": map_database["xss_id"]},
        ).scalar_one()
        base = session.execute(
            text("""SELECT f.external_id FROM visit_teams t JOIN facilities f
                    ON f.id = t.base_facility_id WHERE t.external_id = :t"""),
            {"t": "T-" + code},
        ).scalar_one()
    with map_app.test_client() as client:
        created = client.post(
            "/api/teams",
            json={"team_id": XSS_TEAM, "name": "XSS 팀", "base_facility_id": base,
                  "area_codes": [code]},
        )  # fmt: skip
        assert created.status_code == 201, created.json
        for member_id, name in (("X-1", "김이음"), ("X-2", XSS_NOTE), ("X-3", "박나눔")):
            added = client.post(
                f"/api/teams/{XSS_TEAM}/members", json={"member_id": member_id, "name": name}
            )
            assert added.status_code == 201, added.json
    with Session(engine) as session:
        session.execute(
            text("UPDATE visit_teams SET name = :n WHERE external_id = :t"),
            {"n": "XSS 팀\x01\x0b\ufffe", "t": XSS_TEAM},
        )
        # the most urgent other resident of the dong gets a formula-like name; it and the
        # top-scored (high tier) XSS resident are due, so both are surely planned (scores are
        # left alone: other tests compare the map's counts with them)
        formula = session.execute(
            text("""SELECT r.id FROM resident_scores s JOIN residents r ON r.id = s.resident_id
                    JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
                    WHERE s.run_id = :run AND a.code = :c AND r.status = 'active'
                      AND r.external_id <> :x AND s.next_due_on <= :day
                    ORDER BY s.tier DESC, s.next_due_on, r.external_id LIMIT 1"""),
            {"run": map_database["run_id"], "c": code, "x": map_database["xss_id"], "day": AS_OF},
        ).scalar_one()
        session.execute(
            text("UPDATE residents SET name = :n WHERE id = :id"),
            {"n": FORMULA_NAME, "id": formula},
        )
        xss = session.execute(
            text("""SELECT s.tier, s.next_due_on FROM resident_scores s
                    JOIN residents r ON r.id = s.resident_id
                    WHERE s.run_id = :run AND r.external_id = :x"""),
            {"run": map_database["run_id"], "x": map_database["xss_id"]},
        ).one()
        assert xss.tier == 2 and xss.next_due_on <= AS_OF, xss
        session.commit()
    return XSS_TEAM


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


@pytest.fixture
def outsider(monkeypatch):
    """The web app's caller sees only another dong (the way tests restrict the scope)."""
    scope = Scope.of_areas(["1141052000"])
    for module in ("webmap.routes_page", "webmap.teams_api"):
        monkeypatch.setattr(f"{module}.request_scope", lambda: scope)
    return scope


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
    listed = [t for t in map_client.get("/api/teams").json["teams"] if t["team_id"][2:].isdigit()]
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
    # each stop in words, none visited yet; the progress counts them
    assert all(s["state"] in ("overdue", "first_visit", "due") and s["state_ko"] for s in stops)
    assert planned["progress"] == {
        "planned": len(stops), "done": 0, "dropped": len(planned["dropped"])
    }  # fmt: skip

    # "lowest priority" drops rank at or below every planned visit (tier, then overdue band);
    # the demo's teams keep a day's due list short, so an hour's day (the day before, to
    # leave AS_OF's plan the latest) makes it full
    def rank(visit):
        return (visit["tier"], overdue_band(visit["days_overdue"]))

    with map_client.application.test_client() as client:
        short = client.post(
            "/api/routes",
            json={"team_id": xss_team, "date": (AS_OF - dt.timedelta(days=1)).isoformat(),
                  "time_limit_seconds": 0.5, "day_end": "10:00", "break": "none"},
        ).json  # fmt: skip
    short_stops = [s for r in short["routes"] for s in r["stops"]]
    least_urgent = min(rank(s) for s in short_stops)
    lowest = [d for d in short["dropped"] if d["reason"] == "day_full_lowest_priority"]
    assert lowest and all(rank(d) <= least_urgent for d in lowest)
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
    assert not any(r["name"].startswith(("=", "+", "@", "-")) for r in rows)
    assert "'" + FORMULA_NAME in [r["name"] for r in rows]
    assert any(r["visitor"] == XSS_NOTE for r in rows)
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
        assert [child.tag for child in rte][:3] == [f"{GPX}name", f"{GPX}desc", f"{GPX}number"]
        points = rte.findall(f"{GPX}rtept")
        assert len(points) == len(route["stops"]) + 2  # from the base and back
        for point, stop in zip(points[1:-1], route["stops"], strict=True):
            assert abs(float(point.get("lat")) - stop["lat"]) < 1e-6
            assert abs(float(point.get("lon")) - stop["lon"]) < 1e-6
            assert point.find(f"{GPX}name").text == f"{stop['order']}. {stop['resident_id']}"
    # residents appear by pseudonymous id only
    assert XSS_NAME.encode() not in response.data and FORMULA_NAME.encode() not in response.data
    # characters XML 1.0 does not allow (here in the team's name) are replaced
    title = root.find(f"{GPX}metadata/{GPX}name").text
    assert title.startswith("XSS 팀\ufffd\ufffd\ufffd ") and "\x01" not in title


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
    assert XSS_NAME not in page and XSS_NOTE not in page
    assert map_database["xss_id"] in {s["resident_id"] for s in stops}
    assert html.escape(XSS_NAME) in page and html.escape(XSS_NOTE) in page
    # no free text in the map's script (folium tooltips are JavaScript template literals)
    scripts = "".join(re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S))
    assert "bindTooltip" in scripts and "globalThis" not in scripts and "${" not in scripts
    assert "XSS" not in scripts and "방문자 2" in scripts
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


def test_a_narrow_scope_may_not_plan_the_team(map_client, planned, outsider, map_database):
    before = _plan_count(map_database)
    api = map_client.post("/api/routes", json={"team_id": XSS_TEAM, "date": AS_OF.isoformat()})
    assert api.status_code == 403 and api.json["error"] == "forbidden"
    page = map_client.post("/routes/plan", data={"team": XSS_TEAM, "date": AS_OF.isoformat()})
    assert page.status_code == 403
    assert "담당 지역이 이 팀의 모든 동을 포함하지 않아" in page.data.decode()
    assert _plan_count(map_database) == before


def _plan_count(map_database) -> int:
    with Session(map_database["engine"]) as session:
        return session.execute(text("SELECT count(*) FROM route_plans")).scalar_one()


def test_a_narrow_scope_sees_no_resident_of_the_plan(map_client, planned, outsider):
    residents = {s["resident_id"] for r in planned["routes"] for s in r["stops"]}
    residents |= {d["resident_id"] for d in planned["dropped"]}
    assert residents
    plan_id = planned["plan_id"]
    shown = map_client.get(f"/api/routes/{plan_id}").json
    assert all(r["stops"] == [] for r in shown["routes"]) and shown["dropped"] == []
    assert shown["hidden_stops"] == sum(len(r["stops"]) for r in planned["routes"])
    rows = list(csv.reader(io.StringIO(map_client.get(f"/routes/{plan_id}.csv").data.decode())))
    assert len(rows) == 1  # the header only
    gpx = map_client.get(f"/routes/{plan_id}.gpx").data.decode()
    page = map_client.get(f"/routes?team={XSS_TEAM}&date={AS_OF.isoformat()}").data.decode()
    for rid in residents:
        assert rid not in gpx and rid not in page
    assert 'class="stop"' not in page


def test_api_plan_settings_are_validated_and_stored(map_client, xss_team):
    bad = map_client.post(
        "/api/routes",
        json={"team_id": xss_team, "date": AS_OF.isoformat(), "day_start": "10:00",
              "day_end": "09:00"},
    )  # fmt: skip
    assert bad.status_code == 400 and bad.json["parameter"] == "day_end"
    for field, value in (("service_minutes", {"high": "x"}), ("speed_kmh", "fast"),
                         ("break", "noon"), ("detour_factor", 9)):  # fmt: skip
        wrong = map_client.post(
            "/api/routes", json={"team_id": xss_team, "date": AS_OF.isoformat(), field: value}
        )
        assert wrong.status_code == 400 and wrong.json["parameter"] == field, wrong.json
    short = map_client.post(
        "/api/routes",
        json={"team_id": xss_team, "date": "2026-11-02", "day_start": "09:00",
              "day_end": "10:00", "break": None, "service_minutes": {"high": 45},
              "speed_kmh": 3.5, "time_limit_seconds": 0.3},
    )  # fmt: skip
    assert short.status_code == 201, short.json
    settings = short.json["settings"]
    assert (settings["day_end"], settings["break_start"], settings["speed_kmh"]) == (
        "10:00", None, 3.5,
    )  # fmt: skip
    assert settings["service_minutes_by_tier"][2] == 45
    stops = [s for r in short.json["routes"] for s in r["stops"]]
    assert all(s["departure"] <= "10:00" for s in stops)


def test_cli_plan_settings(map_database, monkeypatch):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", map_database["url"])
    runner = CliRunner()
    common = ["routes", "plan", "--team", "T-1141061500", "--date", "2026-11-03",
              "--time-limit", "0.3"]  # fmt: skip
    bad = runner.invoke(main, [*common, "--start", "10:00", "--end", "09:00"])
    assert bad.exit_code == 2 and "--end" in bad.output and "must end after it starts" in bad.output
    bad_service = runner.invoke(main, [*common, "--service-minutes", "urgent=5"])
    assert bad_service.exit_code == 2 and "--service-minutes" in bad_service.output
    full = runner.invoke(main, common)
    options = ["--end", "10:30", "--break", "none", "--speed-kmh", "5", "--detour", "1.2",
               "--service-minutes", "high=45"]  # fmt: skip
    short = runner.invoke(main, [*common, *options])
    assert full.exit_code == short.exit_code == 0, short.output
    visits = [int(out.output.split(": ")[1].split()[0]) for out in (full, short)]
    assert 0 < visits[1] < visits[0]
    assert "settings: 09:00-10:30, break none, service high 45" in short.output
    assert "foot 5 km/h x1.2" in short.output


def test_routes_without_a_team_lists_the_teams_and_the_map_links_it(map_client):
    page = map_client.get("/routes").data.decode()
    assert 'id="team-list"' in page and "팀과 날짜를 고르세요" in page
    assert page.count("/routes?team=T-") >= 14 and 'type="date"' in page
    assert 'href="/routes"' in map_client.get("/").data.decode()


def test_plan_refusals_are_in_korean_on_the_page(map_client):
    created = map_client.post(
        "/api/teams", json={"team_id": "T-nobody", "name": "빈 팀",
                            "base_facility_id": "CC-1141058500", "area_codes": ["1141058500"]},
    )  # fmt: skip
    assert created.status_code == 201
    page = map_client.post("/routes/plan", data={"team": "T-nobody", "date": "2026-11-01"})
    assert page.status_code == 400
    text_ = page.data.decode()
    assert "이 팀에는 방문할 수 있는 활동 중인 팀원이 없습니다." in text_
    assert "no active member" not in text_


#: the route page's plan form with the default settings (as a browser submits it)
DEFAULT_FORM = {"travel_mode": "foot", "day_start": "09:00", "day_end": "18:00",
                "break_start": "12:00", "break_end": "13:00", "speed_kmh": "",
                "service_high": "40", "service_medium": "30", "service_low": "20"}  # fmt: skip
FORM_TEAM = "T-1141061500"


def _latest_plan(map_database, team: str, day: str) -> tuple[dict, int]:
    """The settings and stop count of the team's newest plan for the day."""
    with Session(map_database["engine"]) as session:
        row = session.execute(
            text("""SELECT p.settings, (SELECT count(*) FROM route_plan_stops s
                                        WHERE s.plan_id = p.id) AS stops
                    FROM route_plans p JOIN visit_teams t ON t.id = p.team_id
                    WHERE t.external_id = :t AND p.plan_date = :d
                    ORDER BY p.version DESC LIMIT 1"""),
            {"t": team, "d": day},
        ).one()
    return row.settings, row.stops


def test_the_page_plans_a_car_day_and_shows_its_settings_again(map_client, map_database):
    form = DEFAULT_FORM | {"team": FORM_TEAM, "date": "2026-11-05", "travel_mode": "car"}
    response = map_client.post("/routes/plan", data=form)
    assert response.status_code == 303, response.data.decode()
    settings, stops = _latest_plan(map_database, FORM_TEAM, "2026-11-05")
    assert settings["travel_mode"] == "car" and settings["speed_kmh"] is None and stops > 0
    assert (settings["day_start"], settings["break_start"]) == ("09:00", "12:00")
    page = map_client.get(response.headers["Location"]).data.decode()
    assert 'id="replan-button"' in page
    # the re-plan form is pre-filled with the shown plan's settings
    assert re.search(r'value="car" checked', page) and not re.search(r'value="foot" checked', page)


def test_a_shorter_day_from_the_page_plans_fewer_visits(map_client, map_database):
    day = "2026-11-06"
    full = map_client.post("/routes/plan", data=DEFAULT_FORM | {"team": FORM_TEAM, "date": day})
    assert full.status_code == 303
    full_settings, full_stops = _latest_plan(map_database, FORM_TEAM, day)
    assert full_settings["day_end"] == "18:00" and full_settings["break_start"] == "12:00"
    short_form = DEFAULT_FORM | {"team": FORM_TEAM, "date": day, "day_end": "12:00",
                                 "break_start": "", "break_end": "", "no_break": "1"}  # fmt: skip
    short = map_client.post("/routes/plan", data=short_form)
    assert short.status_code == 303
    settings, stops = _latest_plan(map_database, FORM_TEAM, day)
    assert (settings["day_start"], settings["day_end"], settings["break_start"]) == (
        "09:00", "12:00", None,
    )  # fmt: skip
    assert 0 < stops < full_stops
    page = map_client.get(short.headers["Location"]).data.decode()
    assert 'name="day_end" value="12:00"' in page and 'name="no_break" value="1" checked' in page


def test_invalid_page_settings_show_the_problem_and_plan_nothing(map_client, map_database):
    before = _plan_count(map_database)
    form = DEFAULT_FORM | {"team": FORM_TEAM, "date": "2026-11-07", "day_start": "10:00",
                           "day_end": "09:00"}  # fmt: skip
    bad = map_client.post("/routes/plan", data=form)
    page = bad.data.decode()
    assert bad.status_code == 400
    assert "근무 종료: 근무 종료 시각은 시작 시각보다 늦어야 합니다." in page
    # the form comes back with the values given, the wrong field marked
    assert 'name="day_start" value="10:00"' in page
    assert re.search(r'name="day_end" value="09:00" required aria-invalid="true"', page)
    for field, value, message in (
        ("speed_kmh", "0", "이동 속도 (km/h): 속도는 0보다 크고"),
        ("service_high", "4.5", "방문당 시간 (분): 등급마다"),
        ("break_end", "", "점심시간: 점심시간의 시작과 종료를"),
        ("travel_mode", "bike", "이동 수단: 도보 또는 차량을"),
    ):
        data = DEFAULT_FORM | {"team": FORM_TEAM, "date": "2026-11-07", field: value}
        wrong = map_client.post("/routes/plan", data=data)
        assert wrong.status_code == 400 and message in wrong.data.decode(), field
    english = map_client.post("/routes/plan?lang=en", data=form | {"speed_kmh": "0"})
    assert english.status_code == 400
    assert "Day ends: The day must end after it starts." in english.data.decode()
    assert _plan_count(map_database) == before


def test_the_plan_form_is_korean_by_default_and_english_on_request(map_client):
    url = "/routes?team=T-1141052000&date=2026-09-01"
    korean = map_client.get(url).data.decode()
    for label in ("이동 수단", "도보", "차량", "근무 시작", "근무 종료", "점심시간 없음",
                  "설정 더 보기", "방문당 시간 (분)"):  # fmt: skip
        assert label in korean, label
    assert "Travel mode" not in korean and 'type="time"' in korean
    # the defaults are pre-filled
    assert 'name="day_start" value="09:00"' in korean and 'name="break_end" value="13:00"' in korean
    assert 'name="service_high" value="40"' in korean and 'value="foot" checked' in korean
    english = map_client.get(url + "&lang=en").data.decode()
    for label in ("Travel mode", "On foot", "By car", "Day starts", "Lunch break", "No break",
                  "More settings", "Minutes per visit"):  # fmt: skip
        assert label in english, label
    assert "이동 수단" not in english


def test_a_plan_records_the_signed_in_account_as_its_author(map_client, xss_team):
    planned = map_client.post(
        "/api/routes",
        json={"team_id": xss_team, "date": "2026-11-03", "time_limit_seconds": 0.3},
    )
    assert planned.status_code == 201, planned.json
    assert planned.json["created_by"] == "t.leader"
    forged = map_client.post(
        "/api/routes",
        json={"team_id": xss_team, "date": "2026-11-03", "created_by": "someone.else"},
    )
    # a body cannot name another author: the field is not part of the request
    assert forged.status_code == 201 and forged.json["created_by"] == "t.leader"
