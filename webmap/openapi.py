"""The OpenAPI 3.1 document of the JSON API, served at ``/api/openapi.json``.

spectree generates it from the pydantic models of :mod:`webmap.schemas` that also validate
the requests. Each API view is decorated with :data:`api_spec`
(``@api_spec.validate(json=..., resp=responses(...))``, the query model as the view's
``query`` argument): the decorator parses and checks the query, the JSON body and headers
before the view runs, hands the view the parsed query, and lists the view (its path
parameters, its docstring as summary and description, its models) in the document. A
request that fails is answered with the API's own error body (:func:`invalid_request`).
Responses are checked against their models when the app's ``VALIDATE_RESPONSES`` is set (the
tests set it); tests/webmap/test_openapi.py checks real responses of every endpoint against
the served document with openapi-core.

Why spectree (3.x, Apache-2.0, maintained; its only dependency here is pydantic)
    It decorates the existing Flask views: the app factory, the blueprints, the pages and the
    error handlers stay as they are, and views keep returning ``jsonify`` responses with their
    own media types and headers (GeoJSON, vector tiles, CSV). It validates query, body and
    headers, and optionally the JSON a view returned, against the same models it documents,
    and pydantic 2 writes JSON Schema 2020-12, which is OpenAPI 3.1's own. Its ``before``
    hook lets a failed request be answered in the API's error format.

    apiflask (3.x) replaces ``Flask`` and ``Blueprint`` with its own classes, turns every HTTP
    error of the app into its own JSON body (pages included, unless switched off) and
    serialises what a view returns (views would return dicts, and media types like
    GeoJSON would need work); output is validated only with its pydantic adapter.
    flask-smorest also replaces ``Blueprint``, needs marshmallow schemas (a second schema
    language), answers bad requests with webargs' 422 body, and serialises output
    without validating it.

The document lists only decorated views (spectree's ``strict`` mode): every route under
``/api/`` and ``/tiles/`` but this one. Responses that are not JSON are documented by media
type in :data:`MEDIA_TYPES`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, jsonify, make_response
from spectree import Response, SpecTree
from spectree.plugins.flask_plugin import FlaskPlugin

from geo.visits import VisitError
from visitmap.errors import FieldError
from webmap.schemas import requests as request_models
from webmap.schemas.responses import ErrorBody

#: what an error status means on every endpoint (the sign-in guard answers 400, 401, 403)
ERROR_DESCRIPTIONS = {
    400: "Invalid parameter or body field (named in `parameter`)",
    401: "Not signed in, or an invalid or revoked token",
    403: "The caller's role may not use this",
    404: "Not found (or outside the caller's areas)",
    409: "Conflict with a stored record",
}

#: responses that are not (only) JSON: (path, method, status) -> media type -> schema
MEDIA_TYPES: dict[tuple[str, str, str], dict[str, dict]] = {
    ("/api/residents", "get", "200"): {"application/geo+json": {}},
    ("/tiles/residents/{z}/{x}/{y}.pbf", "get", "200"): {
        "application/vnd.mapbox-vector-tile": {
            "schema": {"type": "string", "contentMediaType": "application/vnd.mapbox-vector-tile"}
        }
    },
    ("/api/analyst/residents", "get", "200"): {
        "application/json": {},
        "text/csv": {"schema": {"type": "string", "contentMediaType": "text/csv"}},
    },
}


class _FlaskPlugin(FlaskPlugin):
    """Check responses only when ``VALIDATE_RESPONSES`` is set, and only JSON bodies.

    spectree's Flask plugin otherwise; the view's response is returned as it is (its media
    type and headers).
    """

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        response = current_app.make_response(resp)
        model = resp_model.find_model(response.status_code) if resp_model else None
        if (
            model is None
            or skip_validation
            or not current_app.config.get("VALIDATE_RESPONSES")
            or not response.is_json
        ):
            return response, None
        try:
            self.model_adapter.validate_json(model, response.get_data())
        except self.model_adapter.validation_error as error:
            body = {"error": "invalid_response", "message": str(error)}
            return make_response(jsonify(body), 500), error
        return response, None


def _parameter(location: tuple) -> str:
    return str(location[0]) if location else "body"


#: pydantic's error types -> the API's wording (others keep pydantic's message)
_WORDING = {
    "missing": "required",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
}


def _message(error: dict, model_name: str) -> str:
    if error["type"] == "invalid":
        return error["msg"]
    if error["type"] == "extra_forbidden":
        fields = getattr(request_models, model_name, None)
        known = ", ".join(getattr(fields, "model_fields", {}))
        return f"unknown field; the fields are {known}"
    return _WORDING.get(error["type"], error["msg"][:1].lower() + error["msg"][1:])


def request_problems(error) -> list[tuple[str, str]]:
    """Name the fields a failed request validation found, each once, with what is wrong.

    Parameters
    ----------
    error : pydantic.ValidationError
        spectree's request validation error.

    Returns
    -------
    list of (str, str)
        (parameter, message) in the order pydantic found them; only the unknown fields
        when there are any.
    """
    errors = error.errors(include_url=False)
    # a misspelt field (resident_id) is named, rather than the one it misses (resident)
    unknown = [item for item in errors if item["type"] == "extra_forbidden"]
    problems: dict[str, str] = {}
    for item in unknown or errors:
        problems.setdefault(_parameter(item["loc"]), _message(item, error.title))
    return list(problems.items())


def invalid_request(req, resp, error, instance, model_adapter, *, listing: bool = False):
    """Answer a request that failed validation with the API's error body (400).

    spectree's ``before`` hook. The body is ``{"error": "invalid_parameter", "parameter",
    "message"}`` (and ``problems`` when ``listing``); a body that is not a JSON object is
    named ``body``.

    Parameters
    ----------
    req, resp, instance, model_adapter
        As spectree passes them (unused).
    error : pydantic.ValidationError or None
        The request's validation error; None when the request is valid.
    listing : bool
        Also list every problem (as POST /api/visits always has).

    Raises
    ------
    visitmap.errors.FieldError
        The first problem, when ``error`` is not None (:mod:`webmap.errors` answers it);
        :class:`geo.visits.VisitError` with every problem when ``listing``.
    """
    if error is None:
        return
    model = getattr(request_models, error.title, None)
    problems = (
        [("body", "must be a JSON object")]
        if isinstance(model, type)
        and issubclass(model, request_models.Body)
        and not isinstance(req.get_json(silent=True), dict)
        else request_problems(error)
    )
    if listing:
        raise VisitError(problems)
    parameter, message = problems[0]
    raise FieldError(message, field=parameter)


def invalid_request_listing(req, resp, error, instance, model_adapter):
    """:func:`invalid_request` with ``problems`` listed (POST /api/visits).

    Parameters
    ----------
    req, resp, error, instance, model_adapter
        As for :func:`invalid_request`.
    """
    invalid_request(req, resp, error, instance, model_adapter, listing=True)


api_spec = SpecTree(
    "flask",
    backend=_FlaskPlugin,
    mode="strict",
    title="복지방문지도 Welfare visit map API",
    version="1",
    description=(
        "Residents of the published score run, by location, tier and visit due date, limited to "
        "the areas the caller may see. Pseudonymous ids only; free text (names, notes) only "
        "in a single resident's record. Every call needs a signed-in session or an API token "
        "(`Authorization: Bearer ...`)."
    ),
    before=invalid_request,
    validation_error_status=400,
    validation_error_model=ErrorBody,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[
        {"name": "token", "data": {"type": "http", "scheme": "bearer"}},
        {"name": "session", "data": {"type": "apiKey", "field_in": "cookie", "name": "session"}},
    ],
    security=[{"token": []}, {"session": []}],
    page_templates={},
)


def responses(ok: Any, *errors: int, status: int = 200) -> Response:
    """Declare the responses of an endpoint.

    ``ok`` (a model, or None for a body that is not JSON) with ``status``, and the
    :class:`~webmap.schemas.responses.ErrorBody` of 400, 401, 403 and each of ``errors``.

    Parameters
    ----------
    ok : type, tuple, dict or None
        The model of the successful response's body (or ``(model, description)``); or, for
        more than one success status, a dict status -> model or ``(model, description)``.
    *errors : int
        Error statuses beyond 400, 401 and 403 (404, 409).
    status : int
        The success status (201 for a record made) when ``ok`` is not a dict.

    Returns
    -------
    spectree.Response
        For ``api_spec.validate(resp=...)``.
    """
    successes = ok if isinstance(ok, dict) else {status: ok}
    codes = {f"HTTP_{code}": model for code, model in successes.items()}
    for code in sorted({400, 401, 403, *errors}):
        codes[f"HTTP_{code}"] = (ErrorBody, ERROR_DESCRIPTIONS[code])
    return Response(**codes)


def openapi_document() -> dict:
    """Return the OpenAPI document of the current app's API (built once per app).

    Returns
    -------
    dict
        The document, JSON-ready.
    """
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = json.loads(json.dumps(api_spec.spec))
        for (path, method, status), media in MEDIA_TYPES.items():
            response = document["paths"][path][method]["responses"][status]
            json_schema = response.get("content", {}).get("application/json", {})
            response["content"] = {
                media_type: schema or json_schema for media_type, schema in media.items()
            }
        current_app.extensions["openapi_document"] = document
    return document
