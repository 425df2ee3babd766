"""The OpenAPI 3.1 document of the JSON API (served at ``/api/openapi.json``)."""

from __future__ import annotations

from visitmap.vocab import CRISIS_SIGNAL_KINDS, NEED_CATEGORIES, VISIT_OUTCOMES
from webmap.analyst_api import ANALYST_PATHS
from webmap.openapi_audit import AUDIT_PATHS
from webmap.openapi_teams import TEAM_ROUTE_PATHS

_ERROR = {
    "description": "Invalid parameter",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_NOT_FOUND = {
    "description": "Unknown id or score run",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


#: POST /api/visits: text fields are strings; other fields are refused (400, named).
VISIT_BODY = {
    "type": "object",
    "required": ["resident", "outcome"],
    "additionalProperties": False,
    "properties": {
        "resident": {"type": "string", "description": "Resident id"},
        "outcome": {"type": "string", "enum": sorted(VISIT_OUTCOMES)},
        "needs": {"type": "array", "items": {"type": "string", "enum": sorted(NEED_CATEGORIES)}},
        "notes": {"type": "string"},
        "next_visit_on": {"type": "string", "format": "date"},
        "visited_at": {"type": "string", "format": "date-time"},
        "member": {"type": "string", "description": "Team member id"},
        "visitor_name": {"type": "string", "description": "When no member is chosen"},
        "idempotency_key": {"type": "string", "format": "uuid"},
        "plan": {"type": ["integer", "string"], "description": "Route plan id"},
    },
}


def _param(name: str, description: str, schema: dict, *, where="query", required=False) -> dict:
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }


RUN = _param("run", "Score run id (default: the latest run).", {"type": "integer", "minimum": 1})
FILTERS = [
    _param(
        "area",
        "Dong codes (10 digits), comma-separated.",
        {"type": "string", "pattern": "^[0-9]{10}(,[0-9]{10})*$"},
    ),
    _param(
        "tier",
        "Tiers, comma-separated: high, medium, low.",
        {"type": "string", "example": "high"},
    ),
    _param(
        "overdue",
        "true: only residents whose next visit is past due; false: only the others.",
        {"type": "boolean"},
    ),
    _param(
        "signal",
        "Only residents with a crisis signal of this kind in the last 365 days.",
        {"type": "string", "enum": list(CRISIS_SIGNAL_KINDS)},
    ),
]


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "복지방문지도 Welfare visit map API",
            "version": "1",
            "description": (
                "Residents of the latest score run, by location, tier and visit due date, "
                "limited to the areas the caller may see. Pseudonymous ids only; free text "
                "(names, notes) only in a single resident's record."
            ),
        },
        "paths": {
            **TEAM_ROUTE_PATHS,
            **AUDIT_PATHS,
            **ANALYST_PATHS,
            "/api/residents": {
                "get": {
                    "summary": "Residents in a bounding box (GeoJSON, paged, highest score first)",
                    "parameters": [
                        _param(
                            "bbox",
                            "minlon,minlat,maxlon,maxlat in degrees (EPSG:4326).",
                            {"type": "string", "example": "126.90,37.55,126.95,37.60"},
                            required=True,
                        ),
                        *FILTERS,
                        _param(
                            "limit",
                            "Page size.",
                            {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500},
                        ),
                        _param(
                            "offset", "Page start.", {"type": "integer", "minimum": 0, "default": 0}
                        ),
                        RUN,
                    ],
                    "responses": {
                        "200": {
                            "description": "A FeatureCollection with paging fields",
                            "content": {
                                "application/geo+json": {
                                    "schema": {"$ref": "#/components/schemas/ResidentPage"}
                                }
                            },
                        },
                        "400": _ERROR,
                        "404": _NOT_FOUND,
                    },
                }
            },
            "/api/residents/{resident_id}": {
                "get": {
                    "summary": "One resident's panel: tier, score, reasons, visits, needs, support",
                    "parameters": [
                        _param(
                            "resident_id",
                            "Pseudonymous resident id.",
                            {"type": "string"},
                            where="path",
                            required=True,
                        ),
                        RUN,
                    ],
                    "responses": {
                        "200": {
                            "description": "The resident",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ResidentPanel"}
                                }
                            },
                        },
                        "400": _ERROR,
                        "404": _NOT_FOUND,
                    },
                }
            },
            "/api/areas": {
                "get": {
                    "summary": "Dongs with residents scored, counts per tier and overdue",
                    "parameters": [*FILTERS, RUN],
                    "responses": {
                        "200": {"description": "Areas with counts"},
                        "400": _ERROR,
                        "404": _NOT_FOUND,
                    },
                }
            },
            "/api/score-runs": {
                "get": {
                    "summary": "Score runs, newest first",
                    "parameters": [
                        _param(
                            "limit",
                            "How many.",
                            {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                        )
                    ],
                    "responses": {"200": {"description": "Runs"}, "400": _ERROR},
                }
            },
            "/api/visits": {
                "post": {
                    "summary": "Record a visit (as the visit form does; docs/visits.md)",
                    "description": (
                        "JSON object: resident, outcome, needs (codes), notes, next_visit_on, "
                        "member (team member id) or visitor_name, visited_at (ISO 8601; "
                        "default now; without an offset: Korean time), plan, "
                        "idempotency_key (UUID; or the Idempotency-Key header). The resident "
                        "is rescored in the latest run at once. A retry with the same key "
                        "returns the same visit (200); the same key with another payload is "
                        "refused (409). Every field but needs (a list of strings) and plan "
                        "(an integer id) is a string; a wrong type is a 400 naming it."
                    ),
                    "parameters": [
                        _param(
                            "Idempotency-Key",
                            "UUID; a retried request records no second visit.",
                            {"type": "string", "format": "uuid"},
                            where="header",
                        )
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": VISIT_BODY}},
                    },
                    "responses": {
                        "201": {"description": "Recorded: the visit and the score change"},
                        "200": {"description": "Recorded before with this key (replayed)"},
                        "400": _ERROR,
                        "409": {
                            "description": "The key was used for a different visit",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        },
                    },
                }
            },
            "/api/unreachable": {
                "get": {
                    "summary": "Residents marked unreachable in the caller's areas",
                    "responses": {"200": {"description": "Residents, longest unreachable first"}},
                }
            },
            "/tiles/residents/{z}/{x}/{y}.pbf": {
                "get": {
                    "summary": "Mapbox vector tile: per-dong counts to z13, residents from z14",
                    "parameters": [
                        _param("z", "Zoom", {"type": "integer"}, where="path", required=True),
                        _param("x", "Column", {"type": "integer"}, where="path", required=True),
                        _param("y", "Row", {"type": "integer"}, where="path", required=True),
                        *FILTERS,
                        RUN,
                    ],
                    "responses": {
                        "200": {
                            "description": "Tile (may be empty)",
                            "content": {"application/vnd.mapbox-vector-tile": {}},
                        },
                        "400": _ERROR,
                        "404": _NOT_FOUND,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {
                            "type": "string",
                            "enum": ["invalid_parameter", "not_found", "conflict"],
                        },
                        "parameter": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
                "ResidentPage": {
                    "type": "object",
                    "required": ["type", "features", "total", "limit", "offset"],
                    "properties": {
                        "type": {"const": "FeatureCollection"},
                        "features": {"type": "array"},
                        "run_id": {"type": ["integer", "null"]},
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "next_offset": {"type": ["integer", "null"]},
                    },
                },
                "ResidentPanel": {
                    "type": "object",
                    "required": ["resident_id", "tier", "score", "reasons_ko", "reasons_en"],
                    "properties": {
                        "resident_id": {"type": "string"},
                        "name": {"type": ["string", "null"]},
                        "tier": {"type": "integer", "enum": [0, 1, 2]},
                        "tier_name": {"type": "string", "enum": ["low", "medium", "high"]},
                        "score": {"type": "number"},
                        "reasons_ko": {"type": "array", "items": {"type": "string"}},
                        "reasons_en": {"type": "array", "items": {"type": "string"}},
                        "next_due_on": {"type": "string", "format": "date"},
                        "days_overdue": {"type": "integer"},
                        "last_visit": {"type": ["object", "null"]},
                        "open_needs": {"type": "array"},
                        "recent_support": {"type": "array"},
                    },
                },
            }
        },
    }
