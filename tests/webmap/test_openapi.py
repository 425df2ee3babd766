"""The served OpenAPI document against real answers.

Every operation it lists is called, for success and for its main errors, and openapi-core
checks each response (status, media type, body) against the document, and each successful
request too. A field, a status or a parameter added to a view without its model fails here.
"""

from __future__ import annotations

import json
import uuid

import mapbox_vector_tile
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from sqlalchemy import text
from werkzeug.test import EnvironBuilder

from geo.db import make_engine
from geo.mapdata.tiles import tile_of
from geo.migrate import upgrade
from geo.scope import Scope
from tests.conftest import load_reference_data, scratch_databases
from tests.webmap.conftest import AS_OF, app_for, build_scored_demo

pytestmark = pytest.mark.db

BBOX = "126.88,37.54,126.98,37.61"
DAY = AS_OF.isoformat()
KEY_HEADER = {"Idempotency-Key": str(uuid.uuid4())}
#: (x, y) of a zoom-15 tile and a zoom-8 tile over Seodaemun
Z15, Z8 = tile_of(126.9368, 37.5791, 15), tile_of(126.9368, 37.5791, 8)


@pytest.fixture(scope="module")
def api_db(engine, database_url, tmp_path_factory):
    """Make a scored demo of its own: the cases below write (teams, plans, visits)."""
    with scratch_databases(database_url) as create:
        url = create("openapi")
        api_engine = make_engine(url)
        upgrade(api_engine)
        load_reference_data(api_engine)
        demo = build_scored_demo(api_engine, url, tmp_path_factory)
        with api_engine.connect() as connection:
            team, dong = connection.execute(
                text("""SELECT t.external_id, min(a.code) FROM visit_teams t
                    JOIN team_areas ta ON ta.team_id = t.id JOIN areas a ON a.id = ta.area_id
                    GROUP BY t.id ORDER BY t.id LIMIT 1""")
            ).one()
            residents = connection.execute(
                text("""SELECT r.external_id FROM residents r
                    JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
                    WHERE a.code = :dong AND r.status = 'active' ORDER BY r.id LIMIT 2"""),
                {"dong": dong},
            ).scalars()
            demo |= {"team": team, "dong": dong, "residents": list(residents)}
        yield demo
        api_engine.dispose()


@pytest.fixture(scope="module")
def app(api_db):
    """Serve the demo."""
    with app_for(api_db["url"]) as app:
        yield app


@pytest.fixture(scope="module")
def world(app, api_db) -> dict:
    """Ids for the cases: a demo team, its dong, two of its residents, a plan of it."""
    with app.test_client() as client:
        plan = client.post("/api/routes", json={"team_id": api_db["team"], "date": DAY})
        assert plan.status_code == 201, plan.get_json()
    return {
        "team": api_db["team"],
        "dong": api_db["dong"],
        "resident": api_db["residents"][0],
        "visited": api_db["residents"][1],
        "plan": plan.get_json()["plan_id"],
        "xss": api_db["xss_id"],
        "run": api_db["run_id"],
    }


@pytest.fixture(scope="module")
def openapi(app) -> OpenAPI:
    """Read the served document, itself checked against the OpenAPI 3.1 schema."""
    with app.test_client() as client:
        response = client.get("/api/openapi.json")
    assert response.status_code == 200
    # bodies that are not application/json, as a client reads them
    readers = {
        "application/geo+json": json.loads,
        "application/vnd.mapbox-vector-tile": lambda data: data.decode("latin-1"),
        "text/csv": lambda data: data.decode("utf-8"),
    }
    config = Config(extra_media_type_deserializers=readers)
    return OpenAPI.from_dict(response.get_json(), config=config)


def _visit(world, **changes) -> dict:
    return {"resident": world["visited"], "outcome": "met", "visitor_name": "검사"} | changes


# records (issue 13): a support record of the resident's community centre, given by the
# district-wide leader (who names the provider)
SUPPORT_KEY = {"Idempotency-Key": f"S-{uuid.uuid4()}"}


def _support(world, **changes) -> dict:
    return {
        "resident": world["resident"],
        "provider": f"P-CC-{world['dong']}",
        "minor_category": "side_dishes",
        "item": "밑반찬",
        "quantity": 2,
        "unit": "세트",
        "funding": "donation",
        "recurring_period": "weekly",
    } | changes


#: (case, operation, method, url, options, expected status); urls and bodies may name the
#: ids of `world` ({team}, {plan}, ...); options: json (a body or a function of world),
#: data, role (whose token; None: none), headers, scope (the caller's areas, for a 403).
#: Run in this order: the team cases build on each other.
CASES = [
    # the map
    ("residents", "/api/residents", "GET", f"/api/residents?bbox={BBOX}&limit=5", {}, 200),
    ("residents filtered", "/api/residents", "GET",
     f"/api/residents?bbox={BBOX}&area={{dong}}&tier=high,medium&overdue=false"
     "&signal=gas_arrears&offset=1", {}, 200),
    ("residents repeated parameter", "/api/residents", "GET",
     f"/api/residents?bbox={BBOX}&limit=2&limit=x&tier=high&tier=purple", {}, 200),
    ("residents empty box", "/api/residents", "GET", "/api/residents?bbox=0,0,1,1", {}, 200),
    ("residents bad bbox", "/api/residents", "GET", "/api/residents?bbox=1,2,3", {}, 400),
    ("residents no bbox", "/api/residents", "GET", "/api/residents", {}, 400),
    ("residents bad limit", "/api/residents", "GET",
     f"/api/residents?bbox={BBOX}&limit=0", {}, 400),
    ("residents unknown run", "/api/residents", "GET",
     f"/api/residents?bbox={BBOX}&run=999999", {}, 404),
    ("residents signed out", "/api/residents", "GET",
     f"/api/residents?bbox={BBOX}", {"role": None}, 401),
    ("residents role", "/api/residents", "GET",
     f"/api/residents?bbox={BBOX}", {"role": "analyst"}, 403),
    ("resident", "/api/residents/{resident_id}", "GET", "/api/residents/{xss}", {}, 200),
    ("resident plain", "/api/residents/{resident_id}", "GET", "/api/residents/{resident}",
     {}, 200),
    ("resident unknown", "/api/residents/{resident_id}", "GET", "/api/residents/R-none",
     {}, 404),
    ("resident bad run", "/api/residents/{resident_id}", "GET",
     "/api/residents/{xss}?run=x", {}, 400),
    ("areas", "/api/areas", "GET", "/api/areas?tier=high", {}, 200),
    ("areas analyst", "/api/areas", "GET", "/api/areas", {"role": "analyst"}, 200),
    ("areas bad tier", "/api/areas", "GET", "/api/areas?tier=purple", {}, 400),
    ("areas unknown run", "/api/areas", "GET", "/api/areas?run=999999", {}, 404),
    ("score runs", "/api/score-runs", "GET", "/api/score-runs?limit=3", {}, 200),
    ("score runs bad limit", "/api/score-runs", "GET", "/api/score-runs?limit=ten", {}, 400),
    ("publish run", "/api/score-runs/{run_id}/publish", "POST",
     "/api/score-runs/{run}/publish", {}, 200),
    ("publish run unknown", "/api/score-runs/{run_id}/publish", "POST",
     "/api/score-runs/999999/publish", {}, 404),
    ("publish run role", "/api/score-runs/{run_id}/publish", "POST",
     "/api/score-runs/{run}/publish", {"role": "visitor"}, 403),
    ("tile residents", "/tiles/residents/{z}/{x}/{y}.pbf", "GET",
     f"/tiles/residents/15/{Z15[0]}/{Z15[1]}.pbf", {}, 200),
    ("tile dongs", "/tiles/residents/{z}/{x}/{y}.pbf", "GET",
     f"/tiles/residents/8/{Z8[0]}/{Z8[1]}.pbf?overdue=true", {}, 200),
    ("tile bad zoom", "/tiles/residents/{z}/{x}/{y}.pbf", "GET", "/tiles/residents/25/0/0.pbf",
     {}, 400),
    ("tile unknown run", "/tiles/residents/{z}/{x}/{y}.pbf", "GET",
     f"/tiles/residents/8/{Z8[0]}/{Z8[1]}.pbf?run=999999", {}, 404),
    # teams
    ("teams", "/api/teams", "GET", "/api/teams", {}, 200),
    ("teams signed out", "/api/teams", "GET", "/api/teams", {"role": None}, 401),
    ("team", "/api/teams/{team_id}", "GET", "/api/teams/{team}", {}, 200),
    ("team unknown", "/api/teams/{team_id}", "GET", "/api/teams/T-none", {}, 404),
    ("team create", "/api/teams", "POST", "/api/teams",
     {"json": {"team_id": "T-OAS", "name": "문서팀", "area_codes": []}}, 201),
    ("team create again", "/api/teams", "POST", "/api/teams",
     {"json": {"team_id": "T-OAS", "name": "문서팀"}}, 409),
    ("team create bad codes", "/api/teams", "POST", "/api/teams",
     {"json": {"team_id": "T-OAS2", "name": "x", "area_codes": ["1"]}}, 400),
    ("team create not json", "/api/teams", "POST", "/api/teams",
     {"data": "x", "content_type": "text/plain"}, 400),
    ("member add", "/api/teams/{team_id}/members", "POST", "/api/teams/T-OAS/members",
     {"json": {"member_id": "M-OAS", "name": "문서", "role": "복지통장"}}, 201),
    ("member add again", "/api/teams/{team_id}/members", "POST", "/api/teams/T-OAS/members",
     {"json": {"member_id": "M-OAS", "name": "문서"}}, 409),
    ("member add no name", "/api/teams/{team_id}/members", "POST", "/api/teams/T-OAS/members",
     {"json": {"member_id": "M-OAS2"}}, 400),
    ("member add unknown team", "/api/teams/{team_id}/members", "POST",
     "/api/teams/T-none/members", {"json": {"member_id": "M-OAS3", "name": "x"}}, 404),
    ("member update", "/api/teams/{team_id}/members/{member_id}", "PATCH",
     "/api/teams/T-OAS/members/M-OAS", {"json": {"active": False}}, 200),
    ("member update bad", "/api/teams/{team_id}/members/{member_id}", "PATCH",
     "/api/teams/T-OAS/members/M-OAS", {"json": {"active": "no"}}, 400),
    ("member update unknown", "/api/teams/{team_id}/members/{member_id}", "PATCH",
     "/api/teams/T-OAS/members/M-none", {"json": {"active": True}}, 404),
    ("areas add", "/api/teams/{team_id}/areas", "POST", "/api/teams/T-OAS/areas",
     {"json": {"area_codes": ["1141069000"]}}, 200),
    ("areas set", "/api/teams/{team_id}/areas", "PUT", "/api/teams/T-OAS/areas",
     {"json": {"area_codes": ["1141069000", "1141070000"]}}, 200),
    ("areas set bad", "/api/teams/{team_id}/areas", "PUT", "/api/teams/T-OAS/areas",
     {"json": {"area_codes": "1141069000"}}, 400),
    ("areas add unknown team", "/api/teams/{team_id}/areas", "POST", "/api/teams/T-none/areas",
     {"json": {"area_codes": ["1141069000"]}}, 404),
    # day plans
    ("plan", "/api/routes", "POST", "/api/routes",
     {"json": {"team_id": "{team}", "date": DAY, "time_limit_seconds": 0.5,
               "service_minutes": {"high": 40}, "break": None, "travel_mode": "foot"}}, 201),
    ("plan bad setting", "/api/routes", "POST", "/api/routes",
     {"json": {"team_id": "{team}", "date": DAY, "speed_kmh": 500}}, 400),
    ("plan bad date", "/api/routes", "POST", "/api/routes",
     {"json": {"team_id": "{team}", "date": "soon"}}, 400),
    ("plan unknown team", "/api/routes", "POST", "/api/routes",
     {"json": {"team_id": "T-none", "date": DAY}}, 404),
    ("plan outside scope", "/api/routes", "POST", "/api/routes",
     {"json": {"team_id": "{team}", "date": DAY}, "scope": "1141072000"}, 403),
    ("plan of the day", "/api/routes", "GET", "/api/routes?team={team}&date=" + DAY, {}, 200),
    ("plan of the day none", "/api/routes", "GET", "/api/routes?team={team}&date=2020-01-01",
     {}, 404),
    ("plan of the day bad date", "/api/routes", "GET", "/api/routes?team={team}&date=x", {}, 400),
    ("plan of the day no team", "/api/routes", "GET", "/api/routes?date=" + DAY, {}, 400),
    ("stored plan", "/api/routes/{plan_id}", "GET", "/api/routes/{plan}", {}, 200),
    ("stored plan unknown", "/api/routes/{plan_id}", "GET", "/api/routes/999999", {}, 404),
    # visits
    ("visit", "/api/visits", "POST", "/api/visits",
     {"json": lambda w: _visit(w, needs=["health"], notes="메모"), "headers": KEY_HEADER}, 201),
    ("visit replayed", "/api/visits", "POST", "/api/visits",
     {"json": lambda w: _visit(w, needs=["health"], notes="메모"), "headers": KEY_HEADER}, 200),
    ("visit key reused", "/api/visits", "POST", "/api/visits",
     {"json": lambda w: _visit(w, notes="다른 내용"), "headers": KEY_HEADER}, 409),
    ("visit unknown field", "/api/visits", "POST", "/api/visits",
     {"json": lambda w: _visit(w) | {"resident_id": "x"}}, 400),
    ("visit wrong type", "/api/visits", "POST", "/api/visits",
     {"json": lambda w: _visit(w, plan=True)}, 400),
    ("visit unknown resident", "/api/visits", "POST", "/api/visits",
     {"json": lambda w: _visit(w, resident="R-none")}, 404),
    ("unreachable", "/api/unreachable", "GET", "/api/unreachable", {}, 200),
    ("unreachable role", "/api/unreachable", "GET", "/api/unreachable", {"role": "visitor"}, 403),
    # the access audit
    ("audit", "/api/audit", "GET", "/api/audit?limit=5&endpoint=api.resident", {}, 200),
    ("audit all", "/api/audit", "GET", "/api/audit?limit=50", {}, 200),
    ("audit bad day", "/api/audit", "GET", "/api/audit?since=yesterday", {}, 400),
    ("audit dong leader", "/api/audit", "GET", "/api/audit", {"role": "dong"}, 403),
    # analysts
    ("analyst rows", "/api/analyst/residents", "GET", "/api/analyst/residents?limit=3",
     {"role": "analyst"}, 200),
    ("analyst csv", "/api/analyst/residents", "GET", "/api/analyst/residents?format=csv",
     {"role": "analyst"}, 200),
    ("analyst bad format", "/api/analyst/residents", "GET",
     "/api/analyst/residents?format=xlsx", {"role": "analyst"}, 400),
    ("aggregates", "/api/analyst/aggregates", "GET", "/api/analyst/aggregates",
     {"role": "analyst"}, 200),
    ("aggregates by age", "/api/analyst/aggregates", "GET",
     "/api/analyst/aggregates?by_age=true", {"role": "analyst"}, 200),
    ("aggregates bad", "/api/analyst/aggregates", "GET", "/api/analyst/aggregates?by_age=1",
     {"role": "analyst"}, 400),
    # records (issue 13): support records, needs, consent, look-up
    ("support", "/api/support-records", "POST", "/api/support-records",
     {"json": _support, "headers": SUPPORT_KEY}, 201),
    ("support replayed", "/api/support-records", "POST", "/api/support-records",
     {"json": _support, "headers": SUPPORT_KEY}, 200),
    ("support key reused", "/api/support-records", "POST", "/api/support-records",
     {"json": lambda w: _support(w, item="다른 반찬"), "headers": SUPPORT_KEY}, 409),
    ("support bad fields", "/api/support-records", "POST", "/api/support-records",
     {"json": lambda w: _support(w, item="", provided_on="2099-01-01")}, 400),
    ("support unknown category", "/api/support-records", "POST", "/api/support-records",
     {"json": lambda w: _support(w, minor_category="caviar")}, 400),
    ("support unknown resident", "/api/support-records", "POST", "/api/support-records",
     {"json": lambda w: _support(w, resident="R-none")}, 404),
    ("support role", "/api/support-records", "POST", "/api/support-records",
     {"json": _support, "role": "analyst"}, 403),
    ("need", "/api/needs", "POST", "/api/needs",
     {"json": lambda w: {"resident": w["resident"], "category": "health",
                         "identified_on": DAY}}, 201),
    ("need bad domain", "/api/needs", "POST", "/api/needs",
     {"json": lambda w: {"resident": w["resident"], "category": "wealth"}}, 400),
    ("need unknown resident", "/api/needs", "POST", "/api/needs",
     {"json": {"resident": "R-none", "category": "health"}}, 404),
    ("consent", "/api/residents/{resident_id}/consent", "PUT",
     "/api/residents/{resident}/consent", {"json": {"consented": True, "decided_on": DAY}}, 200),
    ("consent bad", "/api/residents/{resident_id}/consent", "PUT",
     "/api/residents/{resident}/consent", {"json": {"consented": "yes"}}, 400),
    ("consent unknown resident", "/api/residents/{resident_id}/consent", "PUT",
     "/api/residents/R-none/consent", {"json": {"consented": True}}, 404),
    ("consent agency", "/api/residents/{resident_id}/consent", "PUT",
     "/api/residents/{resident}/consent", {"json": {"consented": True}, "role": "agency"}, 403),
    ("support lookup", "/api/support/lookup", "GET", "/api/support/lookup?name=김&birth_year=1950",
     {"role": "agency"}, 200),
    ("support lookup no year", "/api/support/lookup", "GET", "/api/support/lookup?name=김",
     {}, 400),
    # issue 13, helper "dashboard": the support overview (종합현황판)
    ("support summary", "/api/support/summary", "GET", "/api/support/summary?level=red", {},
     200),
    ("support summary agency", "/api/support/summary", "GET", "/api/support/summary",
     {"role": "agency"}, 200),
    ("support summary bad level", "/api/support/summary", "GET",
     "/api/support/summary?level=pink", {}, 400),
    ("support warnings", "/api/support/warnings", "GET",
     "/api/support/warnings?area={dong}&limit=5", {}, 200),
    ("support warnings bad kind", "/api/support/warnings", "GET",
     "/api/support/warnings?kind=nope", {}, 400),
    ("support warnings role", "/api/support/warnings", "GET", "/api/support/warnings",
     {"role": "visitor"}, 403),
    ("support areas", "/api/support/areas", "GET", "/api/support/areas", {}, 200),
    ("support areas signed out", "/api/support/areas", "GET", "/api/support/areas",
     {"role": None}, 401),
    ("resident support", "/api/residents/{resident_id}/support", "GET",
     "/api/residents/{resident}/support", {}, 200),
    ("resident support unknown", "/api/residents/{resident_id}/support", "GET",
     "/api/residents/R-none/support", {}, 404),
    # issue 13, resources (helper S)
    ("suggestions", "/api/resources/suggestions", "GET",
     "/api/resources/suggestions?need=N-0000001", {}, 200),
    ("suggestions unknown need", "/api/resources/suggestions", "GET",
     "/api/resources/suggestions?need=N-none", {}, 404),
    ("suggestions no need", "/api/resources/suggestions", "GET",
     "/api/resources/suggestions", {}, 400),
    ("suggestions agency", "/api/resources/suggestions", "GET",
     "/api/resources/suggestions?need=N-0000001", {"role": "agency"}, 403),
    # issue 14: benefit pre-screening
    ("eligibility summary", "/api/eligibility", "GET", "/api/eligibility", {}, 200),
    ("eligibility summary agency", "/api/eligibility", "GET", "/api/eligibility",
     {"role": "agency"}, 403),
    ("eligibility people", "/api/eligibility/people", "GET",
     "/api/eligibility/people?area={dong}&limit=5", {}, 200),
    ("eligibility people bad programme", "/api/eligibility/people", "GET",
     "/api/eligibility/people?programme=caviar", {}, 400),
    ("resident eligibility", "/api/residents/{resident_id}/eligibility", "GET",
     "/api/residents/{resident}/eligibility", {}, 200),
    ("resident eligibility unknown", "/api/residents/{resident_id}/eligibility", "GET",
     "/api/residents/R-none/eligibility", {}, 404),
    # issue 14: hot spots and the blind-spot list
    ("hotspots", "/api/hotspots", "GET", "/api/hotspots?unit=dong", {}, 200),
    ("hotspots bad unit", "/api/hotspots", "GET", "/api/hotspots?unit=hexagon", {}, 400),
    ("blind spot areas", "/api/blindspots/areas", "GET", "/api/blindspots/areas", {}, 200),
    ("blind spot areas agency", "/api/blindspots/areas", "GET", "/api/blindspots/areas",
     {"role": "agency"}, 403),
    ("blind spots", "/api/blindspots", "GET", "/api/blindspots?area={dong}&tier=2", {}, 200),
    ("blind spots bad reason", "/api/blindspots", "GET", "/api/blindspots?reason=lonely", {},
     400),
]  # fmt: skip


def _fill(value, world):
    if callable(value):
        return value(world)
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("operation", "method", "url", "options", "status"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_answers_match_the_document(
    app, world, openapi, monkeypatch, operation, method, url, options, status
):
    """Check a real answer (and a successful request) against the document."""
    options = dict(options)
    if "scope" in options:  # the caller's areas (as planning sees them) narrowed to one dong
        scope = Scope.of_areas([options.pop("scope")])
        monkeypatch.setattr("webmap.teams_api.request_scope", lambda: scope)
    role = options.pop("role", "leader")
    kwargs = {k: _fill(v, world) for k, v in options.items()}
    with app.test_client(role=role) as client:
        response = client.open(_fill(url, world), method=method, **kwargs)
        # the same request again, for openapi-core (the app has read the first one's body)
        sent = EnvironBuilder(
            _fill(url, world), method=method, environ_base=client.environ_base, **kwargs
        ).get_request()
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    request = WerkzeugOpenAPIRequest(sent)
    openapi.validate_response(request, WerkzeugOpenAPIResponse(response))
    if status < 400:
        openapi.validate_request(request)
    if response.mimetype == "application/vnd.mapbox-vector-tile":
        assert mapbox_vector_tile.decode(response.data)  # the tiles hold features
    elif response.mimetype == "text/csv":
        assert response.data.decode("utf-8").startswith("pseudonym,")
    if status >= 400:
        assert response.get_json()["error"] and response.get_json()["message"]


def test_every_operation_is_called_for_success_and_an_error(app):
    """Check that the cases cover every operation, each for success and an error."""
    with app.test_client() as client:
        document = client.get("/api/openapi.json").get_json()
    operations = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    called = {(case[1], case[2]) for case in CASES}
    assert called == operations
    for operation in operations:
        statuses = {case[5] for case in CASES if (case[1], case[2]) == operation}
        assert min(statuses) < 300 <= max(statuses), operation
