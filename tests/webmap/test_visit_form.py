"""The visit form, its JSON API and the unreachable list, over HTTP against a committed demo
database of their own (the visits they record would change the shared map database's
counts), and the form in a real headless Chromium at a tablet's size."""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import make_engine, session_scope
from geo.migrate import upgrade
from tests.conftest import load_reference_data, scratch_databases
from tests.webmap.conftest import (
    AS_OF,
    XSS_NAME,
    XSS_NOTE,
    app_for,
    build_scored_demo,
    chromium,
    login,
    served,
)

pytestmark = pytest.mark.db

NOW_LOCAL = dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(scope="module")
def visit_db(engine, database_url, tmp_path_factory):
    with scratch_databases(database_url) as create:
        url = create("visit_form")
        visit_engine = make_engine(url)
        upgrade(visit_engine)
        load_reference_data(visit_engine)
        demo = build_scored_demo(visit_engine, url, tmp_path_factory)
        with session_scope(visit_engine) as session:
            # residents for the tests, one each, in the XSS resident's dong (not it)
            area_id, residents = session.execute(
                text("""SELECT h.area_id, array_agg(r.external_id ORDER BY r.id)
                FROM residents r JOIN households h ON h.id = r.household_id
                WHERE h.area_id = (SELECT h2.area_id FROM residents r2
                    JOIN households h2 ON h2.id = r2.household_id WHERE r2.external_id = :x)
                  AND r.external_id <> :x AND r.status = 'active' GROUP BY h.area_id"""),
                {"x": demo["xss_id"]},
            ).one()
            team = session.execute(
                text("""INSERT INTO visit_teams (external_id, name)
                VALUES ('T-VISIT', '방문팀 가') RETURNING id""")
            ).scalar_one()
            session.execute(
                text("INSERT INTO team_areas (team_id, area_id) VALUES (:t, :a)"),
                {"t": team, "a": area_id},
            )
            session.execute(
                text("""INSERT INTO visit_team_members (external_id, team_id, name, role)
                VALUES ('M-KIM', :t, '김통장', '복지통장'),
                       ('M-LEE', :t, '이간호', '방문간호사')"""),
                {"t": team},
            )
        yield demo | {"engine": visit_engine, "residents": residents}
        visit_engine.dispose()


@pytest.fixture(scope="module")
def app(visit_db):
    with app_for(visit_db["url"]) as app:
        yield app


@pytest.fixture
def client(app):
    with app.test_client() as client:
        yield client


def _resident(visit_db, n: int) -> str:
    """The n-th test resident (each test uses its own)."""
    return visit_db["residents"][n]


def _counts(visit_db) -> tuple:
    with Session(visit_db["engine"]) as session:
        return tuple(
            session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("visits", "needs", "score_updates")
        )


def _key(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page).group(1)


def _form(resident, key, **changes):
    data = {
        "resident": resident,
        "idempotency_key": key,
        "outcome": "met",
        "needs": ["health", "economic"],
        "notes": "방문 메모",
        "member": "M-KIM",
        "visitor_name": "",
        "visited_at": NOW_LOCAL,
        "next_visit_on": "",
        "plan": "",
    }
    return data | changes


def test_the_form_shows_the_resident_in_korean_and_in_english(client, visit_db):
    rid = _resident(visit_db, 0)
    page = client.get(f"/visits/new?resident={rid}").get_data(as_text=True)
    assert "방문 기록" in page and "면담" in page and "일상생활유지" in page
    assert "김통장" in page and "이간호" in page and 'type="datetime-local"' in page
    uuid.UUID(_key(page))
    assert _key(client.get(f"/visits/new?resident={rid}").get_data(as_text=True)) != _key(page)
    english = client.get(f"/visits/new?resident={rid}&lang=en").get_data(as_text=True)
    assert "Record a visit" in english and "Crisis confirmed" in english
    assert "Daily living" in english and "방문 기록" not in english


def test_unknown_or_out_of_scope_residents_are_not_found(client, visit_db, monkeypatch):
    from geo.scope import Scope

    assert client.get("/visits/new?resident=R-NOBODY").status_code == 404
    rid = _resident(visit_db, 0)
    monkeypatch.setattr("webmap.visits.request_scope", lambda: Scope.of_areas(["0000000000"]))
    assert client.get(f"/visits/new?resident={rid}").status_code == 404
    counts = _counts(visit_db)
    assert client.post("/visits", data=_form(rid, str(uuid.uuid4()))).status_code == 404
    response = client.post(
        "/api/visits",
        json={"resident": rid, "outcome": "met", "visitor_name": "x"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    # out of scope is 404 like an unknown resident: existence does not leak
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert _counts(visit_db) == counts


def test_attack_strings_render_as_text(client, visit_db):
    page = client.get(f"/visits/new?resident={visit_db['xss_id']}").get_data(as_text=True)
    assert XSS_NAME not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    key = _key(page)
    response = client.post(
        "/visits", data=_form(visit_db["xss_id"], key, notes=XSS_NOTE, outcome="not_home")
    )
    assert response.status_code == 303
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>globalThis" not in done and "&lt;script&gt;globalThis.x=2" in done
    assert XSS_NAME not in done


def test_submit_changes_due_date_and_last_visit_at_once_and_a_retry_records_nothing(
    client, visit_db
):
    rid = _resident(visit_db, 1)
    before = client.get(f"/api/residents/{rid}").get_json()
    areas_before = client.get("/api/areas").get_json()["areas"]
    counts = _counts(visit_db)
    key = _key(client.get(f"/visits/new?resident={rid}").get_data(as_text=True))
    form = _form(rid, key, next_visit_on="2027-01-15")
    first = client.post("/visits", data=form)
    assert first.status_code == 303
    second = client.post("/visits", data=form)
    assert second.headers["Location"] == first.headers["Location"]
    assert _counts(visit_db) == (counts[0] + 1, counts[1] + 2, counts[2] + 1)
    after = client.get(f"/api/residents/{rid}").get_json()
    assert after["next_due_on"] == "2027-01-15" != before["next_due_on"]
    assert after["last_visit"]["outcome"] == "met" and after["last_visit"]["visitor"] == "김통장"
    assert after["last_visit"]["visited_on"] == NOW_LOCAL[:10]
    assert {n["category"] for n in after["open_needs"]} >= {"health", "economic"}
    done = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "방문이 기록되었습니다" in done and "2027-01-15" in done and "지도로 돌아가기" in done
    # the dong's cached counts moved the resident out of "overdue" (due 2027 > TODAY)
    areas_after = client.get("/api/areas").get_json()["areas"]
    overdue = (
        {a["code"]: sum(a["overdue_counts"].values()) for a in areas_before},
        {a["code"]: sum(a["overdue_counts"].values()) for a in areas_after},
    )
    was_overdue = dt.date.fromisoformat(before["next_due_on"]) < AS_OF
    changed = {c for c in overdue[0] if overdue[0][c] != overdue[1][c]}
    assert changed == ({before["area_code"]} if was_overdue else set())
    assert sum(overdue[0].values()) - sum(overdue[1].values()) == int(was_overdue)


def test_invalid_fields_are_named_and_nothing_is_written(client, visit_db):
    rid = _resident(visit_db, 2)
    cases = {
        "outcome": {"outcome": "visited"},
        "needs": {"needs": ["health", "money"]},
        "notes": {"notes": "가" * 2001},
        "next_visit_on": {"next_visit_on": "2020-01-01"},
        "visited_at": {"visited_at": "2099-01-01T10:00"},
        "idempotency_key": {"idempotency_key": "not-a-uuid"},
        "visitor_name": {"member": "", "visitor_name": ""},
    }
    for field, change in cases.items():
        counts = _counts(visit_db)
        response = client.post("/visits", data=_form(rid, str(uuid.uuid4())) | change)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, field
        assert f'data-field="{field}"' in page and "방문이 기록되지 않았습니다" in page
        assert _counts(visit_db) == counts, field


def test_api_records_once_per_key_and_refuses_another_payload(client, visit_db):
    rid = _resident(visit_db, 3)
    key = str(uuid.uuid4())
    body = {
        "resident": rid,
        "outcome": "crisis_confirmed",
        "needs": ["safety"],
        "visitor_name": "최",
    }
    counts = _counts(visit_db)
    first = client.post("/api/visits", json=body, headers={"Idempotency-Key": key})
    again = client.post("/api/visits", json=body, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["visit_id"] == again.get_json()["visit_id"] == f"form-{key}"
    assert again.get_json()["replayed"] is True
    assert _counts(visit_db) == (counts[0] + 1, counts[1] + 1, counts[2] + 1)
    other = client.post(
        "/api/visits", json=body | {"notes": "다른 내용"}, headers={"Idempotency-Key": key}
    )
    assert other.status_code == 409
    assert other.get_json()["parameter"] == "idempotency_key"
    bad = client.post(
        "/api/visits", json=body | {"outcome": "nope", "idempotency_key": str(uuid.uuid4())}
    )
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "outcome"
    assert _counts(visit_db) == (counts[0] + 1, counts[1] + 1, counts[2] + 1)
    from geo.scope import Scope
    from geo.score_runs import load_visit_labels

    with Session(visit_db["engine"]) as session:
        labels = load_visit_labels(session, Scope.everything(), as_of=dt.date(2099, 1, 1))
    assert labels[rid] == 1  # the learned scorer's label rule reads the form's visit


def test_unreachable_page_and_api(client, visit_db):
    rid = _resident(visit_db, 4)
    for day in (3, 4, 5):
        response = client.post(
            "/api/visits",
            json={
                "resident": rid,
                "outcome": "not_home",
                "member": "M-LEE",
                "visited_at": f"2026-11-{day:02d}T10:00:00+09:00",
                "idempotency_key": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 201
    assert response.get_json()["unreachable_since"] == "2026-11-05"
    assert response.get_json()["next_due_on"] == "2026-12-05"
    listed = client.get("/api/unreachable").get_json()["residents"]
    # (demo residents missed three times in a row by the demo's teams are listed too)
    assert [r["attempts"] for r in listed if r["resident_id"] == rid] == [3]
    page = client.get("/unreachable").get_data(as_text=True)
    assert "연락두절 주민" in page and rid in page and "2026-11-05" in page
    assert "Unreachable residents" in client.get("/unreachable?lang=en").get_data(as_text=True)
    assert 'href="/unreachable"' in client.get("/").get_data(as_text=True)


@pytest.fixture(scope="module")
def server(app):
    with served(app) as url:
        yield url


def test_a_tablet_fills_and_submits_the_form(server, visit_db):
    rid = _resident(visit_db, 5)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, server)
        page.goto(f"{server}/visits/new?resident={rid}")
        page.locator('input[name="outcome"][value="met"]').check()
        page.locator('input[name="needs"][value="daily_living"]').check()
        page.locator('textarea[name="notes"]').fill("<b>굵게</b> 식사 지원 필요")
        page.locator('input[name="next_visit_on"]').fill("2027-02-01")
        page.locator("#member").select_option("M-LEE")
        page.locator("#submit").click()
        page.wait_for_selector("#done", timeout=15_000)
        assert page.locator("#done-due").inner_text().strip() == "2027-02-01"
        assert page.locator("#done-notes").inner_text() == "<b>굵게</b> 식사 지원 필요"
        assert page.locator("#done-outcome").inner_text() == "면담"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 800  # nothing wider than the tablet
        assert errors == []


def test_command_line_records_a_visit_and_lists_the_unreachable(visit_db, monkeypatch):
    from click.testing import CliRunner

    from visitmap.cli import main

    monkeypatch.setenv("VISITMAP_DATABASE_URL", visit_db["url"])
    monkeypatch.setenv("VISITMAP_UNREACHABLE_AFTER", "2")
    rid = _resident(visit_db, 6)
    runner = CliRunner()
    key = str(uuid.uuid4())
    args = ["visits", "record", rid, "unreachable", "--visitor", "박", "--at", "2026-11-06T09:00"]
    result = runner.invoke(main, [*args, "--key", key])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"recorded form-{key}")
    again = runner.invoke(main, [*args, "--key", key])
    assert again.output.startswith(f"already recorded form-{key}")
    result = runner.invoke(main, ["visits", "record", rid, "not_home", "--visitor", "박"])
    assert "unreachable since" in result.output
    listed = runner.invoke(main, ["visits", "unreachable"])
    assert listed.exit_code == 0 and rid in listed.output
    line = next(line for line in listed.output.splitlines() if rid in line)
    assert line.split()[-2:] == ["2", NOW_LOCAL[:10]]
    bad = runner.invoke(main, ["visits", "record", rid, "gone", "--visitor", "박"])
    assert bad.exit_code == 1 and "outcome: unknown outcome 'gone'" in bad.output


def test_tiles_show_the_new_state_right_after_a_submit(client, visit_db):
    import mapbox_vector_tile

    from geo.mapdata.tiles import tile_of

    with Session(visit_db["engine"]) as session:
        # an overdue resident among those no other test uses (the demo's teams keep most
        # residents visited on time)
        rid = session.execute(
            text("""SELECT r.external_id FROM residents r
                JOIN resident_scores s ON s.resident_id = r.id AND s.run_id = :run
                WHERE r.external_id = ANY(:ids) AND s.next_due_on < :day
                ORDER BY r.id LIMIT 1"""),
            {"run": visit_db["run_id"], "ids": visit_db["residents"][11:], "day": AS_OF},
        ).scalar_one()
        lon, lat = session.execute(
            text("""SELECT ST_X(h.geom), ST_Y(h.geom) FROM residents r
            JOIN households h ON h.id = r.household_id WHERE r.external_id = :id"""),
            {"id": rid},
        ).one()

    def state():
        # a tile has one feature per point (issue 15): the overdue residents at the resident's
        # point are those of the feature drawn there in the tile of overdue residents only
        x, y = tile_of(lon, lat, 15)
        tile = mapbox_vector_tile.decode(
            client.get(f"/tiles/residents/15/{x}/{y}.pbf?overdue=true").data
        )
        n = 2**15
        px = ((lon + 180) / 360 * n - x) * 4096
        py = 4096 - ((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n - y) * 4096
        here = [
            f["properties"]["n"]
            for f in tile.get("residents", {"features": []})["features"]
            if math.dist(f["geometry"]["coordinates"], (px, py)) < 2
        ]
        x, y = tile_of(lon, lat, 8)
        areas = mapbox_vector_tile.decode(client.get(f"/tiles/residents/8/{x}/{y}.pbf").data)
        overdue = sum(
            value
            for f in areas["areas"]["features"]
            for key, value in f["properties"].items()
            if key.startswith("overdue_")
        )
        return sum(here), overdue

    late_here, overdue_before = state()
    was_overdue = late_here > 0
    response = client.post(
        "/api/visits",
        json={
            "resident": rid,
            "outcome": "met",
            "visitor_name": "정",
            "next_visit_on": "2027-03-01",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201
    assert state() == (late_here - 1, overdue_before - 1)
    assert was_overdue  # the demo's residents are mostly overdue: the check can fail


_VALID = {"outcome": "met", "visitor_name": "한"}


def test_api_names_an_unknown_field(client, visit_db):
    """A misspelt field (resident_id for resident) is named, not taken as a missing one."""
    counts = _counts(visit_db)
    response = client.post(
        "/api/visits",
        json={"resident_id": _resident(visit_db, 8), "idempotency_key": str(uuid.uuid4())} | _VALID,
    )
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "resident_id"
    assert "unknown field" in response.get_json()["message"]
    assert _counts(visit_db) == counts


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("needs", 5),
        ("needs", True),
        ("needs", False),
        ("needs", "health"),
        ("needs", {"health": 1}),
        ("needs", [1]),
        ("needs", ["health", None]),
        ("needs", ["heal\x00th"]),
        ("outcome", 5),
        ("outcome", ["met"]),
        ("outcome", {"met": True}),
        ("notes", 5),
        ("notes", ["메모"]),
        ("notes", "a\x00b"),
        ("visitor_name", 7),
        ("visitor_name", ["한"]),
        ("member", True),
        ("member", 12),
        ("next_visit_on", 20270101),
        ("next_visit_on", ["2027-01-01"]),
        ("next_visit_on", "9999-12-31"),
        ("visited_at", 1_700_000_000),
        ("visited_at", True),
        ("visited_at", "0001-01-01T00:00"),
        ("visited_at", "9999-12-31T23:59-12:00"),
        ("idempotency_key", 5),
        ("idempotency_key", ["x"]),
        ("plan", True),
        ("plan", 1.5),
        ("plan", [1]),
        ("plan", "abc"),
        ("plan", 10**20),
        ("plan", "99999999999999999999"),
        ("plan", -1),
        ("resident", 5),
        ("resident", ["R"]),
        ("resident", "R\x00"),
    ],
)
def test_api_wrong_types_answer_400_naming_the_field(client, visit_db, field, value):
    """No JSON value gives a 500: every field's type is checked, and nothing is written."""
    body = {"resident": _resident(visit_db, 8), "idempotency_key": str(uuid.uuid4())} | _VALID
    counts = _counts(visit_db)
    response = client.post("/api/visits", json=body | {field: value})
    assert response.status_code == 400, response.get_data(as_text=True)
    payload = response.get_json()
    assert payload["error"] == "invalid_parameter" and payload["parameter"] == field
    assert _counts(visit_db) == counts


def _visit_input(resident: str, key: str):
    from geo.visits import VisitInput

    return VisitInput(
        resident_id=resident,
        outcome="met",
        idempotency_key=key,
        needs=("health", "family"),
        visitor_name="동시",
    )


def test_two_transactions_with_one_key_record_one_visit(visit_db):
    """The second submit waits for the first transaction (the resident's row lock), then
    finds the key and returns the same visit: one visit, one set of needs, one score update."""
    from geo.scope import Scope
    from visitmap.usecases.visits import record_visit

    engine, rid, key = visit_db["engine"], _resident(visit_db, 9), str(uuid.uuid4())
    counts = _counts(visit_db)
    results, errors = {}, []

    def second():
        try:
            with Session(engine) as session:
                results["second"] = record_visit(session, Scope.everything(), visit)
                session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    visit = _visit_input(rid, key)
    with Session(engine) as first:
        results["first"] = record_visit(first, Scope.everything(), visit)
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1.5)
        assert thread.is_alive()  # blocked by the first, uncommitted transaction
        first.commit()
    thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    assert results["first"]["replayed"] is False and results["second"]["replayed"] is True
    assert results["first"]["visit_id"] == results["second"]["visit_id"] == f"form-{key}"
    assert _counts(visit_db) == (counts[0] + 1, counts[1] + 2, counts[2] + 1)


def test_two_requests_with_one_key_at_once_get_the_same_visit(server, app, visit_db):
    token = app.config["TEST_TOKENS"]["leader"]
    import json
    import urllib.error
    import urllib.request

    rid, key = _resident(visit_db, 10), str(uuid.uuid4())
    body = json.dumps(
        {"resident": rid, "outcome": "not_home", "needs": ["safety"], "visitor_name": "동시"}
    ).encode()
    counts = _counts(visit_db)
    start = threading.Barrier(2)
    answers = []

    def post():
        request = urllib.request.Request(
            f"{server}/api/visits",
            data=body,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                "Authorization": f"Bearer {token}",
            },
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append((response.status, json.loads(response.read())))
        except urllib.error.HTTPError as error:
            answers.append((error.code, json.loads(error.read())))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _ in answers) == [200, 201], answers
    assert {answer["visit_id"] for _, answer in answers} == {f"form-{key}"}
    assert _counts(visit_db) == (counts[0] + 1, counts[1] + 1, counts[2] + 1)


@pytest.fixture(scope="module")
def edge_town(database_url):
    """A committed database of its own: one dong's resident scored medium in a run as of
    2025-06-01 (met the day before; alone, 95, disabled, no income: 41 points), and nobody
    high. A not-found visit today makes it high (over a year since met: +16 = 57 points)."""
    from geo.scope import Scope
    from scoring.config import default_config
    from tests.geo.test_visit_records import _household
    from tests.geo.test_visit_records import _resident as make_resident
    from visitmap.usecases.scoring_runs import score_residents

    with scratch_databases(database_url) as create:
        url = create("visit_cache")
        edge_engine = make_engine(url)
        upgrade(edge_engine)
        load_reference_data(edge_engine)
        with session_scope(edge_engine) as db:
            area = db.execute(text("SELECT id FROM areas ORDER BY code LIMIT 1")).scalar_one()
            poor = _household(db, "H-EDGE", area, income=0)
            rid = make_resident(db, "R-EDGE", poor, birth_year=1930, alone=True, disability=True)
            rich = _household(db, "H-RICH", area, income=9_000_000)
            make_resident(db, "R-RICH", rich, birth_year=1990, alone=False, disability=False)
            db.execute(
                text("""INSERT INTO visits (external_id, resident_id, visited_at, visitor, outcome)
                VALUES ('V-MET', :rid, '2025-05-31T10:00+09:00', 'test', 'met')"""),
                {"rid": rid},
            )
            run = score_residents(
                db,
                Scope.everything(),
                method="weighted",
                config=default_config(),
                as_of=dt.date(2025, 6, 1),
                created_by="t",
                publish=True,
            ).stored.run_id
        yield {"url": url, "engine": edge_engine, "run": run}
        edge_engine.dispose()


def test_a_visit_recorded_by_another_process_shows_in_this_ones_caches(edge_town):
    """The web process remembers the run's caches as built (heat cells: nothing to build);
    the command line, a second process, records the visit that makes the resident high; the
    web process then shows it in the heat cells and the dong counts without restarting."""
    import os
    import subprocess
    import sys

    from geo.mapdata.queries import heat_points
    from geo.scope import Scope

    # not the shared test date
    with app_for(edge_town["url"], TODAY="2026-11-22") as web:
        client = web.test_client()

        def state():
            with Session(web.extensions["visitmap_engine"]) as session:
                heat = heat_points(session, Scope.everything(), run_id=edge_town["run"])
            areas = client.get("/api/areas").get_json()["areas"]
            return len(heat), sum(a["tier_counts"]["high"] for a in areas)

        assert client.get("/").status_code == 200  # builds and remembers the caches
        assert state() == (0, 0)
        command = [sys.executable, "-c", "from visitmap.cli import main; main()"]
        done = subprocess.run(
            [*command, "visits", "record", "R-EDGE", "not_home", "--visitor", "박"],
            env=os.environ | {"VISITMAP_DATABASE_URL": edge_town["url"]},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        with Session(edge_town["engine"]) as session:
            tier = session.execute(
                text("""SELECT s.tier FROM resident_scores s JOIN residents r
                ON r.id = s.resident_id WHERE r.external_id = 'R-EDGE' AND s.run_id = :run"""),
                {"run": edge_town["run"]},
            ).scalar_one()
        assert tier == 2  # the visit made it high: the check below can fail
        assert state() == (1, 1)


@pytest.mark.parametrize(("lang", "label"), [("ko", "방문 기록"), ("en", "Record a visit")])
def test_the_map_panel_links_to_the_visit_form(server, visit_db, lang, label):
    rid = visit_db["xss_id"]  # an id shown with textContent; the link's label is ours
    with chromium() as browser:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, server)
        page.goto(f"{server}/?lang={lang}")
        page.wait_for_function("window.visitmap !== undefined", timeout=15_000)
        page.evaluate(f"visitmap.openPanel({rid!r})")
        link = page.locator("#resident-panel a.vm-record-visit")
        link.wait_for(timeout=15_000)
        assert link.inner_text() == label
        assert link.get_attribute("href") == f"/visits/new?resident={rid}"
        link.click()
        page.wait_for_selector('input[name="idempotency_key"]', state="attached", timeout=15_000)
        assert page.url == f"{server}/visits/new?resident={rid}"
        assert errors == []


def test_odd_form_and_url_values_are_400_or_404_not_500(client, visit_db):
    rid = _resident(visit_db, 2)
    counts = _counts(visit_db)
    assert client.get("/visits/new?resident=R%00").status_code == 404
    assert client.get(f"/visits/new?resident={rid}&plan=%C2%B2").status_code == 404
    assert client.get(f"/visits/new?resident={rid}&plan=99999999999999999999").status_code == 404
    assert client.get("/visits/form-%00").status_code == 404
    assert client.post("/visits", data=_form("R\x00", str(uuid.uuid4()))).status_code == 404
    for plan in ("²", "99999999999999999999", "-3"):
        response = client.post("/visits", data=_form(rid, str(uuid.uuid4()), plan=plan))
        assert response.status_code == 400, plan
        assert 'data-field="plan"' in response.get_data(as_text=True)
    response = client.post("/visits", data=_form(rid, str(uuid.uuid4()), notes="a\x00b"))
    assert response.status_code == 400 and 'data-field="notes"' in response.get_data(as_text=True)
    assert _counts(visit_db) == counts


def test_the_openapi_document_lists_exactly_the_fields_the_api_takes(client):
    from geo.visits import TEXT_FIELDS

    document = client.get("/api/openapi.json").get_json()
    body = document["paths"]["/api/visits"]["post"]
    ref = body["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {*TEXT_FIELDS, "needs", "plan"}
    assert schema["additionalProperties"] is False
