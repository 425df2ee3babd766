"""One error hierarchy (visitmap.errors), one table to HTTP statuses and one JSON body
(webmap.errors), used by every blueprint (issue 11)."""

from __future__ import annotations

import importlib
import pickle
import pkgutil

import pytest

from geo.mapdata.filters import MapQueryError
from geo.teams import TeamConflict, TeamError, TeamNotFound
from geo.visits import IdempotencyConflict, VisitError
from routing.solomon import SolomonFormatError, SolomonInfeasibleError
from scoring.config import ScoringConfigError
from scoring.rules import RuleError
from visitmap.errors import Conflict, FieldError, Forbidden, NotFound, Unauthorized, VisitmapError
from visitmap.usecases.planning import PlanRequestError, PlanScopeError
from webmap.errors import ERROR_TABLE, error_body, resolve, status_of

PACKAGES = ("geo", "scoring", "routing", "webmap", "visitmap")
#: errors that are nobody's request's fault: HTTP 500, left to Flask (logged)
SERVER_ERRORS = {SolomonInfeasibleError}


def _import_all() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


@pytest.fixture(scope="module")
def error_classes() -> set[type]:
    _import_all()
    return _subclasses(VisitmapError)


def test_the_kinds_map_to_their_statuses():
    assert {cls: status for cls, (status, _) in ERROR_TABLE.items()} == {
        FieldError: 400,
        Unauthorized: 401,
        Forbidden: 403,
        NotFound: 404,
        Conflict: 409,
        VisitmapError: 500,
    }


def test_every_error_class_of_the_packages_has_a_status(error_classes):
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in error_classes}
    # the classes that were separate before issue 11 are all found (the walk imports them)
    assert {
        "geo.accounts.AccountError", "geo.accounts.LoginRefused", "geo.teams.TeamError",
        "geo.teams.TeamNotFound", "geo.teams.TeamConflict", "geo.visits.VisitError",
        "geo.visits.IdempotencyConflict", "geo.analyst_export.ExportError",
        "visitmap.crs.CRSError", "geo.settings.SettingsError", "geo.demo.generate.DemoError",
        "geo.mapdata.filters.MapQueryError",
        "geo.importers.problems.ImportValidationError", "geo.audit.AuditError",
        "scoring.cadence.CadenceError", "scoring.report.ReportError",
        "scoring.config.ScoringConfigError", "scoring.rules.RuleError",
        "scoring.scorers.FeatureTableError", "scoring.audit.AuditError",
        "routing.plan_settings.PlanningError", "routing.solomon.SolomonFormatError",
        "routing.solomon.SolomonInfeasibleError", "visitmap.usecases.planning.PlanRequestError",
        "visitmap.usecases.planning.PlanScopeError", "routing.settings_input.SettingsInputError",
        "webmap.teams_api.BadRequest",
    } <= names  # fmt: skip
    for cls in error_classes:
        status, code = resolve(cls)
        assert status in {400, 401, 403, 404, 409, 500} and code, cls
    # a new error class must choose its kind: only these are "our fault" (500)
    assert {cls for cls in error_classes if status_of(cls) == 500} == SERVER_ERRORS


def test_mixed_classes_take_their_kinds_status():
    assert status_of(TeamConflict) == 409 and status_of(IdempotencyConflict) == 409
    assert status_of(PlanScopeError) == 403 and status_of(TeamNotFound) == 404
    assert status_of(PlanRequestError) == 400 and status_of(MapQueryError) == 400
    with pytest.raises(KeyError):
        resolve(ValueError)


def test_errors_keep_their_messages_fields_and_builtin_bases():
    team = TeamError("name", "must not be empty")
    assert str(team) == "name: must not be empty"
    assert (team.field, team.message) == ("name", "must not be empty")
    assert isinstance(team, ValueError) and isinstance(TeamNotFound("x"), LookupError)
    query = MapQueryError("bbox", "required")
    assert (str(query), query.parameter, query.field, query.message) == (
        "bbox: required", "bbox", "bbox", "required",
    )  # fmt: skip
    visit = VisitError([("outcome", "unknown"), ("notes", "too long")])
    assert str(visit) == "outcome: unknown; notes: too long" and visit.field == "outcome"
    assert str(RuleError("bad rule")) == "bad rule" and RuleError("bad rule").field is None
    config = ScoringConfigError("must be a number", source="a.toml", key="tiers.high")
    assert str(config) == "a.toml: tiers.high: must be a number"
    assert (config.field, config.message) == ("tiers.high", "must be a number")
    assert str(pickle.loads(pickle.dumps(config))) == str(config)
    solomon = SolomonFormatError("c101.txt", 3, "due date", "not a number")
    assert str(solomon) == "c101.txt, line 3, due date: not a number"
    assert (solomon.field, solomon.message) == ("due date", "not a number")
    assert isinstance(SolomonInfeasibleError("x"), RuntimeError)
    assert str(FieldError("no field")) == "no field"


def test_one_body_shape():
    assert error_body(TeamNotFound("team 'T' does not exist")) == {
        "error": "not_found",
        "message": "team 'T' does not exist",
    }
    assert error_body(PlanScopeError("team_id", "outside your areas")) == {
        "error": "forbidden",
        "message": "team_id: outside your areas",
        "parameter": "team_id",
    }
    assert error_body(IdempotencyConflict([("idempotency_key", "used before")])) == {
        "error": "conflict",
        "message": "idempotency_key: used before",
        "parameter": "idempotency_key",
        "problems": [{"parameter": "idempotency_key", "message": "used before"}],
    }


def _shape(response, status: int, error: str, parameter: str | None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) - {"problems"} == {"error", "message"} | (
        {"parameter"} if parameter else set()
    )
    assert body["error"] == error and body.get("parameter") == parameter
    assert body["message"].startswith(f"{parameter}: " if parameter else "")
    return body


@pytest.mark.db
def test_every_blueprint_answers_the_one_body(map_app):
    with map_app.test_client() as client:  # the district-wide leader
        # api, tiles: MapQueryError, NotFound; an unknown path: the 404 handler
        _shape(client.get("/api/residents?bbox=1,2"), 400, "invalid_parameter", "bbox")
        _shape(client.get("/api/residents/R-NONE"), 404, "not_found", None)
        _shape(client.get("/tiles/residents/25/0/0.pbf"), 400, "invalid_parameter", "z")
        _shape(client.get("/api/no-such-thing"), 404, "not_found", None)
        # teams_api: BadRequest, TeamNotFound, TeamConflict
        _shape(client.get("/api/routes"), 400, "invalid_parameter", "team")
        _shape(client.get("/api/teams/T-none"), 404, "not_found", None)
        taken = client.post("/api/teams", json={"team_id": "T-1141061500", "name": "x"})
        _shape(taken, 409, "conflict", "team_id")
        # visits: VisitError (with every problem), NotFound
        unknown = client.post("/api/visits", json={"resident_id": "x", "visitor": "y"})
        body = _shape(unknown, 400, "invalid_parameter", "resident_id")
        assert [p["parameter"] for p in body["problems"]] == ["resident_id", "visitor"]
        # a well-formed body for an unknown resident (a malformed body is a 400 first)
        whole = {"resident": "R-NONE", "outcome": "met", "visitor_name": "y",
                 "idempotency_key": "0b0e1c52-6a3e-4a8e-9d3c-5f1b2c3d4e5f"}  # fmt: skip
        _shape(client.post("/api/visits", json=whole), 404, "not_found", None)
        # audit: AuditError, named as the request names it
        _shape(client.get("/api/audit?since=soon"), 400, "invalid_parameter", "since")
        # pages keep their pages
        page = client.get("/visits/no-such-visit")
        assert page.status_code == 404 and page.mimetype == "text/html"
    with map_app.test_client(role="analyst") as client:  # analyst_api: ExportError
        refused = client.get("/api/analyst/residents?format=xml")
        _shape(refused, 400, "invalid_parameter", "format")
    with map_app.test_client(role="dong") as client:  # audit: Forbidden from before_request
        _shape(client.get("/api/audit"), 403, "forbidden", None)
