"""One table from error classes to HTTP statuses, and one JSON error body, for every blueprint.

:func:`init_app` registers them once on the app (the app factory calls it). An error of
:mod:`visitmap.errors` that a view lets through is answered with its status and the body::

    {"error": "invalid_parameter" | "unauthorized" | "forbidden" | "not_found" | "conflict",
     "message": str(error),
     "parameter": error.field,           # only when the error names a field
     "problems": [{"parameter", "message"}, ...]}   # only for a visit: every bad field

The session of the request is rolled back first: nothing is written on error. Pages that
show an error in HTML (the visit form, ``/audit``, ``/routes``) catch it in the view, as
before; unknown paths under ``/api`` and ``/tiles`` get the same body with ``not_found``, other
unknown paths Flask's page. A :class:`~visitmap.errors.VisitmapError` of none of the kinds
(status 500) is not handled here: Flask logs it and answers 500.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from geo.visits import VisitError
from visitmap.errors import Conflict, FieldError, Forbidden, NotFound, Unauthorized, VisitmapError
from webmap.auth import wants_json
from webmap.db import get_session

#: error class -> (HTTP status, the body's ``error``). An error takes the row of the first of
#: its classes (``__mro__``) found here: ``TeamConflict(Conflict, TeamError)`` is a 409.
ERROR_TABLE: dict[type[VisitmapError], tuple[int, str]] = {
    FieldError: (400, "invalid_parameter"),
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    VisitmapError: (500, "internal_error"),
}


def resolve(error_class: type[VisitmapError]) -> tuple[int, str]:
    """Return the (status, ``error`` code) of an error class.

    The row of the first of its classes (``__mro__``) found in :data:`ERROR_TABLE`.

    Parameters
    ----------
    error_class : type
        A subclass of :class:`~visitmap.errors.VisitmapError`.

    Returns
    -------
    tuple of (int, str)
        The HTTP status and the body's ``error`` value.

    Raises
    ------
    KeyError
        If ``error_class`` is not a :class:`~visitmap.errors.VisitmapError`.
    """
    for cls in error_class.__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    raise KeyError(f"{error_class.__name__} is not a VisitmapError")


def status_of(error_class: type[VisitmapError]) -> int:
    """Return the HTTP status of an error class (:func:`resolve`)."""
    return resolve(error_class)[0]


def error_body(error: VisitmapError) -> dict:
    """Return the JSON error body of ``error`` (the module's docstring gives its keys)."""
    body = {"error": resolve(type(error))[1], "message": str(error)}
    if error.field is not None:
        body["parameter"] = error.field
    if isinstance(error, VisitError):
        body["problems"] = [{"parameter": f, "message": m} for f, m in error.problems]
    return body


def _answer(error: VisitmapError):
    get_session().rollback()
    return _json(error)


def _json(error: VisitmapError):
    response = jsonify(error_body(error))
    response.status_code = status_of(type(error))
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="visitmap"'
    return response


def _not_found(exc: HTTPException):
    """Answer a 404 with the JSON body under /api and /tiles, and with Flask's page elsewhere."""
    if wants_json():
        return _json(NotFound(f"no such resource: {request.path}"))
    return exc


def init_app(app: Flask) -> None:
    """Answer every error of the table below 500 with :func:`error_body`, on every blueprint."""
    for cls, (status, _code) in ERROR_TABLE.items():
        if status < 500:
            app.register_error_handler(cls, _answer)
    app.register_error_handler(404, _not_found)
