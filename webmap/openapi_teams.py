"""OpenAPI paths of the teams and day-plan API (:mod:`webmap.teams_api`), merged into the
document of :mod:`webmap.openapi`."""

from __future__ import annotations

_ERROR_SCHEMA = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
BAD = {"description": "Invalid parameter or body field", "content": _ERROR_SCHEMA}
MISSING = {"description": "Unknown team, member or plan", "content": _ERROR_SCHEMA}
CONFLICT = {"description": "The id exists already", "content": _ERROR_SCHEMA}


def _json_body(description: str, properties: dict, required: list[str]) -> dict:
    return {
        "required": True,
        "description": description,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": required, "properties": properties}
            }
        },
    }


def _path(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


TEAM = _path("team_id", "Team id, e.g. T-1141061500.")
AREA_CODES = {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{10}$"}}

TEAM_ROUTE_PATHS = {
    "/api/teams": {
        "get": {
            "summary": "Visit teams: base, dong codes, member counts",
            "responses": {"200": {"description": "Teams by id"}},
        },
        "post": {
            "summary": "Create a team",
            "requestBody": _json_body(
                "The base is a facility id (the dong community centre).",
                {
                    "team_id": {"type": "string"},
                    "name": {"type": "string"},
                    "base_facility_id": {"type": ["string", "null"]},
                    "area_codes": AREA_CODES,
                },
                ["team_id", "name"],
            ),
            "responses": {"201": {"description": "The team"}, "400": BAD, "409": CONFLICT},
        },
    },
    "/api/teams/{team_id}": {
        "get": {
            "summary": "One team with its dongs and members",
            "parameters": [TEAM],
            "responses": {"200": {"description": "The team"}, "404": MISSING},
        }
    },
    "/api/teams/{team_id}/members": {
        "post": {
            "summary": "Add an active member (a visitor)",
            "parameters": [TEAM],
            "requestBody": _json_body(
                "Member ids are unique across teams.",
                {
                    "member_id": {"type": "string"},
                    "name": {"type": "string"},
                    "role": {"type": ["string", "null"]},
                },
                ["member_id", "name"],
            ),
            "responses": {
                "201": {"description": "The member"},
                "400": BAD,
                "404": MISSING,
                "409": CONFLICT,
            },
        }
    },
    "/api/teams/{team_id}/members/{member_id}": {
        "patch": {
            "summary": "Activate or deactivate a member (inactive members are not planned)",
            "parameters": [TEAM, _path("member_id", "Member id.")],
            "requestBody": _json_body("", {"active": {"type": "boolean"}}, ["active"]),
            "responses": {"200": {"description": "The team"}, "400": BAD, "404": MISSING},
        }
    },
    "/api/teams/{team_id}/areas": {
        "post": {
            "summary": "Add dongs to a team",
            "parameters": [TEAM],
            "requestBody": _json_body("", {"area_codes": AREA_CODES}, ["area_codes"]),
            "responses": {"200": {"description": "The team"}, "400": BAD, "404": MISSING},
        },
        "put": {
            "summary": "Set the team's dongs (replacing the others)",
            "parameters": [TEAM],
            "requestBody": _json_body("", {"area_codes": AREA_CODES}, ["area_codes"]),
            "responses": {"200": {"description": "The team"}, "400": BAD, "404": MISSING},
        },
    },
    "/api/routes": {
        "get": {
            "summary": "The newest plan of a team for a day",
            "parameters": [
                {"name": "team", "in": "query", "required": True, "schema": {"type": "string"}},
                {
                    "name": "date",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "format": "date"},
                },
            ],  # fmt: skip
            "responses": {"200": {"description": "The plan"}, "400": BAD, "404": MISSING},
        },
        "post": {
            "summary": "Plan a team's day (stored as a new version) and return it",
            "requestBody": _json_body(
                "Candidates: the team's residents due or overdue on the day in the latest "
                "score run (the caller's areas must cover all the team's dongs, else 403); "
                "visitors: the team's active members. The optional settings are stored with "
                "the plan; an invalid one is a 400 naming it.",
                {
                    "team_id": {"type": "string"},
                    "date": {"type": "string", "format": "date"},
                    "time_limit_seconds": {"type": "number", "minimum": 0.1, "maximum": 30},
                    "day_start": {
                        "type": "string",
                        "pattern": "^[0-2]?[0-9]:[0-5][0-9]$",
                        "example": "09:00",
                    },
                    "day_end": {"type": "string", "example": "18:00"},
                    "break": {
                        "type": ["string", "null"],
                        "example": "12:00-13:00",
                        "description": "HH:MM-HH:MM inside working hours; null: none",
                    },
                    "service_minutes": {
                        "type": "object",
                        "properties": {
                            t: {"type": "integer", "minimum": 1, "maximum": 480}
                            for t in ("high", "medium", "low")
                        },
                        "additionalProperties": False,
                    },
                    "speed_kmh": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                    "detour_factor": {"type": "number", "minimum": 1, "maximum": 5},
                    "travel_mode": {"type": "string", "enum": ["foot", "car"]},
                    "seed": {"type": "integer", "minimum": 0},
                },  # fmt: skip
                ["team_id", "date"],
            ),
            "responses": {
                "201": {"description": "The plan"},
                "400": BAD,
                "403": {"description": "The caller's areas do not cover all the team's dongs"},
                "404": MISSING,
            },
        },
    },
    "/api/routes/{plan_id}": {
        "get": {
            "summary": "A stored plan: routes per visitor with timed stops and top reasons, "
            "dropped visits with reasons (residents outside the caller's areas left out)",
            "parameters": [
                {"name": "plan_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {"200": {"description": "The plan"}, "404": MISSING},
        }
    },
}
