"""OpenAPI path of the access audit's API (:mod:`webmap.audit_page`), to be merged into the
document of :mod:`webmap.openapi` (``**AUDIT_PATHS`` in its ``paths``)."""

from __future__ import annotations

from webmap.audit_page import API_LIMIT, API_MAX_LIMIT

_ERROR_SCHEMA = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


_DAY_OR_TIME = {"type": "string", "example": "2026-12-01"}

AUDIT_PATHS = {
    "/api/audit": {
        "get": {
            "summary": "Access audit rows, newest first (leaders and admins)",
            "description": (
                "Who was shown which residents' personal data, when, from which address, "
                "through which endpoint. Every filter given must match."
            ),
            "parameters": [
                _query(
                    "user", "User name, exactly (token:NAME for API tokens).", {"type": "string"}
                ),  # fmt: skip
                _query(
                    "resident",
                    "Resident: public id (e.g. R-0002268) or database id.",
                    {"type": "string"},
                ),
                _query(
                    "since",
                    "From this Korean day (YYYY-MM-DD) or ISO date-time, inclusive.",
                    _DAY_OR_TIME,
                ),
                _query(
                    "until",
                    "Up to this Korean day (YYYY-MM-DD) or ISO date-time, inclusive.",
                    _DAY_OR_TIME,
                ),
                _query(
                    "endpoint", "Endpoint name, exactly (e.g. api.resident).", {"type": "string"}
                ),  # fmt: skip
                _query(
                    "limit",
                    "Page size.",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": API_MAX_LIMIT,
                        "default": API_LIMIT,
                    },  # fmt: skip
                ),
                _query("offset", "Rows to skip.", {"type": "integer", "minimum": 0, "default": 0}),
            ],
            "responses": {
                "200": {
                    "description": (
                        "{rows, limit, offset, next_offset}; each row: id, at (ISO, Korean "
                        "time), user_id, username, role, address, method, endpoint, path, "
                        "status, resident_count, resident_ids (public ids), detail"
                    )
                },
                "400": {"description": "Invalid parameter", "content": _ERROR_SCHEMA},
            },
        }
    }
}
