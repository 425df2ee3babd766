"""Who may use what: the role table covers every endpoint, every role against every endpoint,
each role's residents, sign-in, lock-out, idle timeout, CSRF, tokens and headers."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import mapbox_vector_tile
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.accounts import create_token, create_user, revoke_token, set_disabled
from geo.db import session_scope
from geo.demo.accounts import DEMO_ACCOUNTS, create_demo_accounts
from geo.mapdata.tiles import tile_of
from tests.webmap.conftest import AS_OF, TEST_ACCOUNTS
from webmap.access import ACCESS, PUBLIC

pytestmark = pytest.mark.db

BBOX = "126.88,37.54,126.98,37.61"
ROLES = ("leader", "dong", "visitor", "agency", "analyst", "admin")
#: the roles of the test accounts (``dong`` is a leader of one dong)
ACCOUNT_ROLES = {"dong": "leader"}
#: refused beyond the role table: the audit is for district-wide officials and admins
NARROWER = {
    ("dong", e) for e in ("audit.audit_page", "audit.audit_csv_download", "audit.audit_api")
} | {  # issue 13 (helper S): a visitor who is not community-centre staff changes no resources
    ("visitor", e)
    for e in (
        "resources.new_form",
        "resources.submit",
        "resources.sponsorships_page",
        "resources.suggestions_page",
        "resources.suggestions_api",
    )
}
# records (issue 13): a visitor records support and consent only as community-centre staff
# (the test visitor has no organisation)
NARROWER |= {("visitor", e) for e in ACCESS if e.startswith("support.")}


def _sql(map_database, sql: str, **params):
    with Session(map_database["engine"]) as session:
        return session.execute(text(sql), params).all()


@pytest.fixture(scope="module")
def world(map_app, map_database):
    """Ids for the requests: the dong leader's dong and team, a resident inside it and one
    outside, a plan of that team, a visit."""
    with map_app.test_client() as leader:
        team = leader.get("/api/teams").get_json()["teams"]
    dong_user = _sql(
        map_database,
        """SELECT a.code FROM users u JOIN user_areas ua ON ua.user_id = u.id
           JOIN areas a ON a.id = ua.area_id WHERE u.username = :u""",
        u=TEST_ACCOUNTS["dong"][0],
    )[0][0]
    team_id = next(t["team_id"] for t in team if dong_user in t["area_codes"])
    inside, outside = (
        _sql(
            map_database,
            f"""SELECT r.external_id FROM residents r JOIN households h ON h.id = r.household_id
                JOIN areas a ON a.id = h.area_id JOIN resident_scores s ON s.resident_id = r.id
                AND s.run_id = :run WHERE a.code {op} :code AND r.status = 'active'
                ORDER BY s.next_due_on, r.id LIMIT 1""",
            run=map_database["run_id"],
            code=dong_user,
        )[0][0]
        for op in ("=", "<>")
    )
    with map_app.test_client() as leader:
        planned = leader.post(
            "/api/routes",
            json={"team_id": team_id, "date": AS_OF.isoformat(), "time_limit_seconds": 1},
        )
        assert planned.status_code == 201, planned.get_json()
    xss_lonlat = _sql(
        map_database,
        """SELECT ST_X(h.geom), ST_Y(h.geom) FROM residents r
           JOIN households h ON h.id = r.household_id WHERE r.external_id = :id""",
        id=map_database["xss_id"],
    )[0]
    return {
        "xss_lonlat": tuple(xss_lonlat),
        "dong": dong_user,
        "team": team_id,
        "inside": inside,
        "outside": outside,
        "plan": planned.get_json()["plan_id"],
        "xss": map_database["xss_id"],
    }


def _requests(w) -> dict[str, tuple]:
    """One request per endpoint: (method, url, json body or form). Writes carry bodies that
    are refused as invalid (400/404), so that allowed callers change nothing."""
    lon, lat = 126.9368, 37.5791
    x, y = tile_of(lon, lat, 15)
    return {
        "static": ("GET", "/static/map.css", None),
        "auth.login": ("GET", "/login", None),
        "auth.login_post": ("POST", "/login", {"username": "", "password": ""}),
        "auth.logout": ("POST", "/logout", {}),
        "pages.healthz": ("GET", "/healthz", None),
        "pages.favicon": ("GET", "/favicon.ico", None),
        "map.map_page": ("GET", "/", None),
        "pages.overview": ("GET", "/overview", None),
        "api.openapi": ("GET", "/api/openapi.json", None),
        "api.residents": ("GET", f"/api/residents?bbox={BBOX}", None),
        "api.resident": ("GET", f"/api/residents/{w['inside']}", None),
        "api.areas": ("GET", "/api/areas", None),
        "api.score_runs": ("GET", "/api/score-runs", None),
        "api.publish_run": ("POST", "/api/score-runs/999999/publish", {}),
        "tiles.resident_tile": ("GET", f"/tiles/residents/15/{x}/{y}.pbf", None),
        "teams_api.teams": ("GET", "/api/teams", None),
        "teams_api.teams_create": ("POST", "/api/teams", {"json": {}}),
        "teams_api.team": ("GET", f"/api/teams/{w['team']}", None),
        "teams_api.team_add_member": ("POST", f"/api/teams/{w['team']}/members", {"json": {}}),
        "teams_api.team_member_update": (
            "PATCH",
            f"/api/teams/{w['team']}/members/nobody",
            {"json": {}},
        ),
        "teams_api.team_areas": ("PUT", f"/api/teams/{w['team']}/areas", {"json": {}}),
        "teams_api.routes_latest": (
            "GET",
            f"/api/routes?team={w['team']}&date={AS_OF.isoformat()}",
            None,
        ),
        "teams_api.routes_one": ("GET", f"/api/routes/{w['plan']}", None),
        "teams_api.routes_plan": ("POST", "/api/routes", {"json": {}}),
        "routes.route_page": ("GET", f"/routes?team={w['team']}&date={AS_OF.isoformat()}", None),
        "routes.plan_from_page": ("POST", "/routes/plan", {}),
        "routes.route_csv": ("GET", f"/routes/{w['plan']}.csv", None),
        "routes.route_gpx": ("GET", f"/routes/{w['plan']}.gpx", None),
        "routes.my_day": ("GET", "/routes/today", None),
        "routes.my_day_pick": ("POST", "/routes/today", {}),
        "visits.new_visit": ("GET", f"/visits/new?resident={w['inside']}", None),
        "visits.submit_visit": ("POST", "/visits", {}),
        "visits.visit_done": ("GET", "/visits/V-XSS", None),
        "visits.unreachable_page": ("GET", "/unreachable", None),
        "visits.unreachable_api": ("GET", "/api/unreachable", None),
        "visits.api_record_visit": ("POST", "/api/visits", {"json": {}}),
        "audit.audit_page": ("GET", "/audit", None),
        "audit.audit_csv_download": ("GET", "/audit.csv", None),
        "audit.audit_api": ("GET", "/api/audit", None),
        "analyst_api.residents": ("GET", "/api/analyst/residents?limit=5", None),
        "analyst_api.aggregates": ("GET", "/api/analyst/aggregates", None),
        # records (issue 13)
        "support.new_record": ("GET", f"/support/records/new?resident={w['inside']}", None),
        "support.submit_record": ("POST", "/support/records", {}),
        "support.new_need": ("GET", f"/support/needs/new?resident={w['inside']}", None),
        "support.submit_need": ("POST", "/support/needs", {}),
        "support.consent_page": ("GET", f"/support/consent/{w['inside']}", None),
        "support.submit_consent": ("POST", f"/support/consent/{w['inside']}", {}),
        # (well-formed bodies for a resident nobody has: 404 for those allowed, nothing written)
        "support.api_record_support": (
            "POST",
            "/api/support-records",
            {
                "json": {
                    "resident": "R-none",
                    "minor_category": "rice",
                    "item": "쌀",
                    "funding": "budget",
                    "amount_krw": 1,
                }
            },
        ),
        "support.api_record_need": (
            "POST",
            "/api/needs",
            {"json": {"resident": "R-none", "category": "health"}},
        ),
        "support.api_set_consent": (
            "PUT",
            "/api/residents/R-none/consent",
            {"json": {"consented": True}},
        ),
        "support.api_lookup": ("GET", "/api/support/lookup?name=x&birth_year=1950", None),
        # issue 13, helper "dashboard": the support overview and its API
        "support_dashboard.dashboard_page": ("GET", "/support", None),
        "support_dashboard.summary_api": ("GET", "/api/support/summary", None),
        "support_dashboard.warnings_api": ("GET", "/api/support/warnings", None),
        "support_dashboard.areas_api": ("GET", "/api/support/areas", None),
        "support_dashboard.resident_support": (
            "GET",
            f"/api/residents/{w['inside']}/support",
            None,
        ),
        # issue 13, resources (helper S)
        "resources.stock_page": ("GET", "/resources", None),
        "resources.report_page": ("GET", "/resources/report", None),
        "resources.report_csv_download": ("GET", "/resources/report.csv", None),
        "resources.new_form": ("GET", "/resources/new/donation", None),
        "resources.submit": ("POST", "/resources/new/donation", {}),
        "resources.sponsorships_page": ("GET", "/resources/sponsorships", None),
        "resources.suggestions_page": ("GET", "/resources/suggestions?need=N-none", None),
        "resources.suggestions_api": ("GET", "/api/resources/suggestions?need=N-none", None),
        # issue 14: benefit pre-screening
        "eligibility.summary_api": ("GET", "/api/eligibility", None),
        "eligibility.people_api": ("GET", "/api/eligibility/people?limit=1", None),
        "eligibility.resident_api": ("GET", f"/api/residents/{w['inside']}/eligibility", None),
        "eligibility.eligibility_page": ("GET", "/eligibility", None),
        # issue 14: hot spots and the blind-spot list
        "blind_spots.hotspots_api": ("GET", "/api/hotspots", None),
        "blind_spots.areas_api": ("GET", "/api/blindspots/areas", None),
        "blind_spots.people_api": ("GET", "/api/blindspots?limit=1", None),
        "blind_spots.blind_spots_page": ("GET", "/blindspots", None),
        # issue 15: the whole district's day (leaders); the POST without a date is refused
        "district_day.district_page": ("GET", "/routes/district", None),
        "district_day.plan_district": ("POST", "/routes/district", {}),
    }


def _send(client, method: str, url: str, body):
    if body is None:
        return client.open(url, method=method)
    if "json" in body:
        return client.open(url, method=method, json=body["json"])
    return client.open(url, method=method, data=body)


def test_every_endpoint_declares_its_roles_and_every_declaration_is_an_endpoint(map_app):
    endpoints = {rule.endpoint for rule in map_app.url_map.iter_rules()}
    assert sorted(endpoints - set(ACCESS)) == []
    assert sorted(set(ACCESS) - endpoints) == []


def test_an_undeclared_endpoint_is_refused_to_everyone(map_app):
    from webmap.access import allowed

    assert allowed("visits.no_such_view", ("leader", "admin", "visitor")) is False
    assert allowed(None, ("leader",)) is False


def test_the_request_table_covers_every_endpoint(map_app, world):
    endpoints = {rule.endpoint for rule in map_app.url_map.iter_rules()}
    assert set(_requests(world)) == endpoints


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_role_against_every_endpoint(map_app, world, role):
    """A role the table allows is let through (2xx, or 400/404 for the refused bodies); one it
    does not is refused with 403; a caller with no sign-in gets 401 (API) or the login page."""
    problems = []
    with map_app.test_client(role=role) as client:
        for endpoint, (method, url, body) in _requests(world).items():
            response = _send(client, method, url, body)
            response.close()
            rule = ACCESS[endpoint]
            account_role = ACCOUNT_ROLES.get(role, role)
            if rule == PUBLIC:  # (a sign-in with no password is 401: not a role check)
                ok = response.status_code != 403 and "/login" not in (response.location or "")
            elif role is None:
                ok = (
                    response.status_code == 401
                    if url.startswith(("/api/", "/tiles/"))
                    else response.status_code == 302 and "/login" in response.location
                )
            elif account_role in rule and (role, endpoint) not in NARROWER:
                ok = response.status_code not in (401, 403, 500)
            else:
                ok = response.status_code == 403
            if not ok:
                problems.append((endpoint, method, url, response.status_code))
    assert problems == []


def _resident_ids(client) -> set[str]:
    ids, offset = set(), 0
    while offset is not None:
        page = client.get(f"/api/residents?bbox={BBOX}&limit=5000&offset={offset}").get_json()
        ids |= {f["id"] for f in page["features"]}
        offset = page["next_offset"]
    return ids


def test_each_role_sees_only_its_residents(map_app, map_database, world):
    run = map_database["run_id"]
    everyone = {
        r[0]
        for r in _sql(
            map_database,
            """SELECT r.external_id FROM resident_scores s JOIN residents r ON r.id = s.resident_id
               WHERE s.run_id = :run AND r.status = 'active'""",
            run=run,
        )
    }
    with map_app.test_client(role="leader") as client:
        assert _resident_ids(client) == everyone
    with map_app.test_client(role="dong") as client:
        dong = _resident_ids(client)
        areas = client.get("/api/areas").get_json()["areas"]
    in_dong = {
        r[0]
        for r in _sql(
            map_database,
            """SELECT r.external_id FROM residents r JOIN households h ON h.id = r.household_id
               JOIN areas a ON a.id = h.area_id JOIN resident_scores s ON s.resident_id = r.id
               WHERE s.run_id = :run AND a.code = :code AND r.status = 'active'""",
            run=run,
            code=world["dong"],
        )
    }
    assert dong == in_dong and 0 < len(dong) < len(everyone)
    assert [a["code"] for a in areas] == [world["dong"]]

    with map_app.test_client(role="visitor") as client:
        visitor = _resident_ids(client)
    due_or_planned = {
        r[0]
        for r in _sql(
            map_database,
            """SELECT r.external_id FROM residents r JOIN households h ON h.id = r.household_id
               JOIN areas a ON a.id = h.area_id JOIN resident_scores s ON s.resident_id = r.id
               WHERE s.run_id = :run AND a.code = :code AND r.status = 'active'
                 AND (s.next_due_on <= :today OR r.id IN (SELECT resident_id
                      FROM route_plan_stops WHERE plan_id = :plan))""",
            run=run,
            code=world["dong"],
            today=AS_OF,
            plan=world["plan"],
        )
    }
    assert visitor == due_or_planned and 0 < len(visitor) < len(in_dong)

    with map_app.test_client(role="agency") as client:
        agency = _resident_ids(client)
    supported = {
        r[0]
        for r in _sql(
            map_database,
            """SELECT DISTINCT r.external_id FROM support_records sr
               JOIN residents r ON r.id = sr.resident_id
               JOIN resident_scores s ON s.resident_id = r.id AND s.run_id = :run
               WHERE r.status = 'active' AND sr.provider_id = (SELECT provider_id FROM users
                     WHERE username = :u)""",
            run=run,
            u=TEST_ACCOUNTS["agency"][0],
        )
    }
    assert agency == supported and 0 < len(agency) < len(everyone)


def test_analysts_and_admins_see_counts_or_nothing_never_a_resident(map_app, map_database, world):
    lon, lat = world["xss_lonlat"]
    x, y = tile_of(lon, lat, 15)
    with map_app.test_client(role="leader") as client:
        full = mapbox_vector_tile.decode(client.get(f"/tiles/residents/15/{x}/{y}.pbf").data)
    assert full["residents"]["features"]  # the checks below can fail
    with map_app.test_client(role="analyst") as client:
        assert client.get(f"/api/residents/{world['inside']}").status_code == 403
        assert client.get(f"/tiles/residents/15/{x}/{y}.pbf").data == b""
        areas = client.get("/api/areas").get_json()["areas"]
        assert len(areas) == 14 and sum(a["residents_shown"] or 0 for a in areas) > 0
    with map_app.test_client(role="admin") as client:
        assert client.get(f"/tiles/residents/15/{x}/{y}.pbf").data == b""
        assert client.get("/api/areas").get_json()["areas"] == []


def test_a_dong_leader_gets_404_for_every_resident_of_another_dong(map_app, map_database, world):
    others = [
        r[0]
        for r in _sql(
            map_database,
            """SELECT r.external_id FROM residents r JOIN households h ON h.id = r.household_id
               JOIN areas a ON a.id = h.area_id
               WHERE a.code = (SELECT min(code) FROM areas WHERE code <> :code)""",
            code=world["dong"],
        )
    ]
    assert len(others) > 20
    statuses = set()
    before = _audit_rows(map_database, TEST_ACCOUNTS["dong"][0])
    requests = 1 + 2 * len(others) + 5
    with map_app.test_client(role="dong") as client:
        assert client.get(f"/api/residents/{world['inside']}").status_code == 200
        for rid in others:
            statuses.add(client.get(f"/api/residents/{rid}").status_code)
            statuses.add(client.get(f"/visits/new?resident={rid}").status_code)
        for rid in others[:5]:
            posted = client.post(
                "/api/visits",
                json={
                    "resident": rid,
                    "outcome": "met",
                    "visitor_name": "김이음",
                    "visited_at": "2026-10-31T10:00",
                },
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            statuses.add(posted.status_code)
            assert posted.status_code == 404, posted.get_json()
    assert statuses == {404}
    rows = _audit_rows(map_database, TEST_ACCOUNTS["dong"][0])[len(before) :]
    assert len(rows) == requests  # one row per request, the refused ones too
    assert rows[0] == ("api.resident", 200, [world["inside"]])
    assert {(endpoint, status) for endpoint, status, _ in rows[1:]} == {
        ("api.resident", 404),
        ("visits.new_visit", 404),
        ("visits.api_record_visit", 404),
    }
    assert all(ids == [] for _, _, ids in rows[1:])  # nobody was shown


def _audit_rows(map_database, username: str) -> list[tuple]:
    """(endpoint, status, public ids of the residents shown) of ``username``'s audit rows."""
    return [
        (r[0], r[1], list(r[2]))
        for r in _sql(
            map_database,
            """SELECT a.endpoint, a.status, coalesce((SELECT array_agg(r.external_id
                   ORDER BY r.external_id) FROM residents r WHERE r.id = ANY(a.resident_ids)),
                   '{}')
               FROM access_audit a WHERE a.username = :u ORDER BY a.id""",
            u=username,
        )
    ]


def test_every_view_of_residents_is_audited_with_the_residents_shown(map_app, map_database, world):
    lon, lat = world["xss_lonlat"]
    leader = TEST_ACCOUNTS["leader"][0]
    before = len(_audit_rows(map_database, leader))
    x15, y15 = tile_of(lon, lat, 15)
    x13, y13 = tile_of(lon, lat, 13)
    with map_app.test_client(role="leader") as client:
        page = client.get(f"/api/residents?bbox={BBOX}&limit=7").get_json()
        client.get(f"/api/residents/{world['xss']}")
        plan = client.get(f"/api/routes/{world['plan']}").get_json()
        client.get(f"/routes/{world['plan']}.csv")
        client.get(f"/routes/{world['plan']}.gpx")
        client.get(f"/visits/new?resident={world['xss']}")
        unreachable = client.get("/api/unreachable").get_json()["residents"]
        tile = mapbox_vector_tile.decode(client.get(f"/tiles/residents/15/{x15}/{y15}.pbf").data)
        client.get(f"/tiles/residents/13/{x13}/{y13}.pbf")  # counts per dong: not audited
        client.get("/api/areas")  # not audited
    rows = _audit_rows(map_database, leader)[before:]
    in_plan = sorted(
        [s["resident_id"] for r in plan["routes"] for s in r["stops"]]
        + [d["resident_id"] for d in plan["dropped"]]
    )
    assert len(in_plan) > 0
    assert rows[:7] == [
        ("api.residents", 200, sorted(f["id"] for f in page["features"])),
        ("api.resident", 200, [world["xss"]]),
        ("teams_api.routes_one", 200, in_plan),
        ("routes.route_csv", 200, in_plan),
        ("routes.route_gpx", 200, in_plan),
        ("visits.new_visit", 200, [world["xss"]]),
        ("visits.unreachable_api", 200, sorted(r["resident_id"] for r in unreachable)),
    ]
    assert len(rows) == 8 and rows[7][:2] == ("tiles.resident_tile", 200)
    count, detail = _sql(
        map_database,
        """SELECT resident_count, detail FROM access_audit WHERE username = :u
           ORDER BY id DESC LIMIT 1""",
        u=leader,
    )[0]
    # one feature per point, carrying how many residents it shows (issue 15)
    assert count == sum(f["properties"]["n"] for f in tile["residents"]["features"]) > 0
    assert detail["tile"] == [15, x15, y15]


def test_the_application_cannot_change_or_delete_the_audit(map_database):
    with session_scope(map_database["engine"]) as session:
        session.execute(
            text("""INSERT INTO access_audit (username, endpoint, resident_count)
                VALUES ('x', 'api.resident', 0)""")
        )
    from sqlalchemy.exc import DBAPIError

    for statement in (
        "UPDATE access_audit SET username = 'y'",
        "DELETE FROM access_audit",
        "TRUNCATE access_audit",
    ):
        with pytest.raises(DBAPIError), session_scope(map_database["engine"]) as session:
            session.execute(text(statement))


def test_another_teams_plan_is_404_for_a_visitor_and_a_dong_leader(map_app, map_database, world):
    other_team = _sql(
        map_database,
        """SELECT t.external_id FROM visit_teams t WHERE t.external_id <> :t
           AND EXISTS (SELECT 1 FROM team_areas ta WHERE ta.team_id = t.id) ORDER BY t.id
           LIMIT 1""",
        t=world["team"],
    )[0][0]
    with map_app.test_client(role="leader") as client:
        planned = client.post(
            "/api/routes",
            json={"team_id": other_team, "date": AS_OF.isoformat(), "time_limit_seconds": 1},
        )
        assert planned.status_code == 201
    plan = planned.get_json()["plan_id"]
    for role in ("visitor", "dong"):
        with map_app.test_client(role=role) as client:
            assert client.get(f"/api/routes/{world['plan']}").status_code == 200
            for url in (
                f"/api/routes/{plan}",
                f"/routes/{plan}.csv",
                f"/routes/{plan}.gpx",
                f"/api/teams/{other_team}",
                f"/api/routes?team={other_team}&date={AS_OF.isoformat()}",
            ):
                assert client.get(url).status_code == 404, (role, url)
            refused = client.post(
                "/api/routes", json={"team_id": other_team, "date": AS_OF.isoformat()}
            )
            assert refused.status_code == 404
            listed = {t["team_id"] for t in client.get("/api/teams").get_json()["teams"]}
            assert other_team not in listed and world["team"] in listed


# --- sign-in, lock-out, timeout, CSRF, tokens ---------------------------------------------------


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login_form(client) -> str:
    return client.get("/login").get_data(as_text=True)


def _sign_in(client, username: str, password: str):
    token = _csrf(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def person(map_database):
    """A fresh leader account of all dongs: (user name, password)."""
    username = f"p{time.time_ns() % 10**12}"
    with session_scope(map_database["engine"]) as session:
        create_user(
            session, username, display_name="검사", roles=["leader"], all_areas=True,
            password="correct-horse-battery",
        )  # fmt: skip
    return username, "correct-horse-battery"


def _events(map_database, username: str) -> list[str]:
    return [
        r[0]
        for r in _sql(
            map_database,
            "SELECT event FROM login_events WHERE username = :u ORDER BY id",
            u=username,
        )  # fmt: skip
    ]


def test_sign_in_and_out_in_korean_and_english(map_app, person):
    with map_app.test_client(role=None) as client:
        page = client.get("/login").get_data(as_text=True)
        assert "로그인" in page and "아이디" in page
        assert "Sign in" in client.get("/login?lang=en").get_data(as_text=True)
        assert client.get("/").status_code == 302
        wrong = _sign_in(client, person[0], "not-the-password")
        assert wrong.status_code == 401
        assert "The user name or password is not correct." in wrong.get_data(as_text=True)
        assert _sign_in(client, *person).status_code == 302
        assert client.get("/").status_code == 200
        token = _csrf(client.get(f"/visits/new?resident={'R-0000001'}").get_data(as_text=True))
        assert client.post("/logout", data={"csrf_token": token}).status_code == 302
        assert client.get("/").status_code == 302


def test_the_login_page_sends_only_to_this_site(map_app, person):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        with map_app.test_client(role=None) as client:
            token = _csrf(client.get("/login").get_data(as_text=True))
            response = client.post(
                "/login",
                data={"username": person[0], "password": person[1], "csrf_token": token,
                      "next": target},
            )  # fmt: skip
            assert response.status_code == 302 and response.location == "/", target


def test_five_failures_lock_the_account_for_ten_minutes_and_are_logged(
    map_app, map_database, person
):
    username, password = person
    with map_app.test_client(role=None) as client:
        for _ in range(4):
            assert _sign_in(client, username, "wrong-password!").status_code == 401
        locked = _sign_in(client, username, "wrong-password!")
        assert locked.status_code == 401 and "잠겼습니다" in locked.get_data(as_text=True)
        # even the right password waits
        assert _sign_in(client, username, password).status_code == 401
        until = _sql(map_database, "SELECT locked_until FROM users WHERE username = :u",
                     u=username)[0][0]  # fmt: skip
        remaining = until - dt.datetime.now(dt.UTC)
        assert dt.timedelta(minutes=9) < remaining <= dt.timedelta(minutes=10)
        with session_scope(map_database["engine"]) as session:  # ten minutes later
            session.execute(
                text("UPDATE users SET locked_until = now() - interval '1 second' "
                     "WHERE username = :u"), {"u": username},
            )  # fmt: skip
        assert _sign_in(client, username, password).status_code == 302
    assert _events(map_database, username) == [
        *["failed"] * 5, "locked", "locked_attempt", "login"
    ]  # fmt: skip


def test_a_session_idle_for_30_minutes_ends(map_app, map_database, person):
    with map_app.test_client(role=None) as client:
        _sign_in(client, *person)
        assert client.get("/overview").status_code == 200
        with client.session_transaction() as session:
            session["seen"] = int(time.time()) - 29 * 60
        assert client.get("/overview").status_code == 200
        with client.session_transaction() as session:
            session["seen"] = int(time.time()) - 31 * 60
        response = client.get("/overview")
        assert response.status_code == 302 and "/login" in response.location
        assert client.get("/api/areas").status_code == 401
    assert _events(map_database, person[0])[-1] == "timeout"


def test_a_password_change_or_disable_ends_sessions_and_tokens_at_once(
    map_app, map_database, person
):
    from geo.accounts import set_password

    username, password = person
    with session_scope(map_database["engine"]) as session:
        token, _ = create_token(session, username, "script")
    # (no `with`: a kept request context would share its `g` with the other client's requests)
    client, machine = map_app.test_client(role=None), map_app.test_client(role=None)
    if True:
        machine.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        _sign_in(client, username, password)
        assert client.get("/api/areas").status_code == 200
        assert machine.get("/api/areas").status_code == 200
        with session_scope(map_database["engine"]) as session:
            set_password(session, username, "another-long-password")
        assert client.get("/api/areas").status_code == 401
        assert machine.get("/api/areas").status_code == 200  # a token is not a password
        with session_scope(map_database["engine"]) as session:
            set_disabled(session, username, True)
        assert machine.get("/api/areas").status_code == 401
        assert _sign_in(client, username, "another-long-password").status_code == 401


def test_a_revoked_token_stops_working_at_once(map_app, map_database, person):
    with session_scope(map_database["engine"]) as session:
        token, info = create_token(session, person[0], "nightly export")
    with map_app.test_client(role=None) as client:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        assert client.get(f"/api/residents?bbox={BBOX}&limit=1").status_code == 200
        with session_scope(map_database["engine"]) as session:
            revoke_token(session, info.id)
        response = client.get(f"/api/residents?bbox={BBOX}&limit=1")
        assert response.status_code == 401
        assert response.get_json()["message"] == "invalid or revoked token"
    stored = _sql(map_database, "SELECT token_sha256 FROM api_tokens WHERE id = :i", i=info.id)
    assert token.encode() not in bytes(stored[0][0])  # only its hash is kept


def test_csrf_is_required_for_cookie_sessions_not_for_tokens(map_app, map_database, world, person):
    before = _sql(map_database, "SELECT count(*) FROM visits")[0][0]
    body = {"resident": world["inside"], "outcome": "met", "visitor_name": "x"}
    with map_app.test_client(role=None) as client:
        _sign_in(client, *person)
        # a page on another origin posting with the user's cookie: no token
        refused = client.post("/api/visits", json=body, headers={"Origin": "https://evil.example"})
        assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"
        form = client.post("/visits", data=body | {"idempotency_key": "x"})
        assert form.status_code == 400 and "양식이 만료되었거나" in form.get_data(as_text=True)
        assert client.post("/login", data={"username": "a", "password": "b"}).status_code == 400
        page = client.get(f"/visits/new?resident={world['inside']}").get_data(as_text=True)
        with_token = client.post(
            "/api/visits", json=body | {"outcome": "no such outcome"},
            headers={"X-CSRFToken": _csrf(page)},
        )  # fmt: skip
        assert with_token.status_code == 400 and with_token.get_json()["parameter"] == "outcome"
    with map_app.test_client(role="leader") as machine:  # a token: no cookie, no CSRF
        response = machine.post("/api/visits", json=body | {"outcome": "no such outcome"})
        assert response.status_code == 400 and response.get_json()["parameter"] == "outcome"
    assert _sql(map_database, "SELECT count(*) FROM visits")[0][0] == before


def test_security_headers(map_app):
    with map_app.test_client() as client:
        for url in ("/", "/login", "/overview", "/api/areas"):
            headers = client.get(url).headers
            assert headers["X-Frame-Options"] == "DENY", url
            assert headers["X-Content-Type-Options"] == "nosniff", url
            csp = headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
            assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], url


def test_nul_bytes_anywhere_in_an_api_call_are_a_json_400(map_app, world):
    with map_app.test_client() as client:
        for method, url, body in [
            ("GET", "/api/residents/R-0%00", None),
            ("GET", f"/api/residents?bbox={BBOX}&tier=%00", None),
            ("GET", "/api/teams/T%00", None),
            ("GET", "/api/routes?team=%00&date=2026-11-01", None),
            ("GET", "/tiles/residents/15/1%00/2.pbf", None),
            ("POST", "/api/teams", {"json": {"team_id": "T\x00", "name": "x"}}),
            ("POST", "/api/routes", {"json": {"team_id": "T\x00"}}),
            ("POST", "/api/visits", {"json": {"resident": world["inside"], "notes": "a\x00"}}),
            ("PUT", f"/api/teams/{world['team']}/areas", {"json": {"area_codes": ["1\x00"]}}),
        ]:
            response = _send(client, method, url, body)
            assert response.status_code in (400, 404), (url, response.status_code)
            assert response.is_json, url


def test_the_demo_accounts_are_made_once_and_sign_in(map_app, map_database):
    with session_scope(map_database["engine"]) as session:
        first = create_demo_accounts(session)
    with session_scope(map_database["engine"]) as session:
        again = create_demo_accounts(session)
    assert sorted(first) == sorted(a.username for a in DEMO_ACCOUNTS) and again == []
    for account in DEMO_ACCOUNTS:
        with map_app.test_client(role=None) as client:
            assert _sign_in(client, account.username, account.password).status_code == 302
            assert client.get("/").status_code == 200, account.username


def test_the_login_page_lists_the_demo_accounts_only_in_demo_mode(map_app):
    with map_app.test_client(role=None) as client:
        assert "demo-accounts" not in client.get("/login").get_data(as_text=True)
    map_app.config["DEMO_MODE"] = True
    try:
        with map_app.test_client(role=None) as client:
            page = client.get("/login").get_data(as_text=True)
    finally:
        map_app.config["DEMO_MODE"] = False
    assert 'id="demo-accounts"' in page and "leader-pass-2026" in page
