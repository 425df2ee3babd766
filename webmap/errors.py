"""One table from error classes to HTTP statuses, and one JSON error body, for every blueprint.

:func:`init_app` registers them once on the app (the app factory calls it). An error of
:mod:`visitmap.errors` that a view lets through is answered with its status and the body::

    {"error": "invalid_parameter" | "unauthorized" | "forbidden" | "not_found" | "conflict",
     "message": str(error),
     "parameter": error.field,           # only when the error names a field
     "problems": [{"parameter", "message"}, ...]}   # only for a visit: every bad field

The session of the request is rolled back first: nothing is written on error. Unknown paths
under ``/api`` and ``/tiles`` get the same body with ``not_found``, and an unexpected error
there (500) ``internal_error``.

Everywhere else (the pages) the answer is a page instead: ``templates/error.html`` with the
status, a title and a message in the request's language and the header navigation
(:func:`error_page`), for an error of the table, an HTTP error (400, 403, 404, 405, ...) and
an unexpected one (500, logged by Flask first). A request that asks for JSON only
(``Accept: application/json``) gets the body there too. Pages that show an error in their own
way (the visit form, ``/audit``, ``/routes``) catch it in the view, as before. A
:class:`~visitmap.errors.VisitmapError` of none of the kinds (status 500) is not handled by the
table: Flask logs it and the 500 handler answers.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from geo.visits import VisitError
from visitmap.errors import Conflict, FieldError, Forbidden, NotFound, Unauthorized, VisitmapError
from webmap.auth import wants_json
from webmap.db import get_session

log = logging.getLogger(__name__)

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
    if _json_wanted():
        return _json(error)
    return error_page(status_of(type(error)), detail=str(error))


def _json(error: VisitmapError):
    response = jsonify(error_body(error))
    response.status_code = status_of(type(error))
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="visitmap"'
    return response


def _json_wanted() -> bool:
    """Whether the error is answered in JSON: under /api and /tiles, or when only JSON is asked."""
    if wants_json():
        return True
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return best == "application/json"


def error_page(
    status: int, *, title: str | None = None, message: str | None = None, detail: str | None = None
):
    """Return the error page (``templates/error.html``) with ``status``.

    Parameters
    ----------
    status : int
        The HTTP status, shown on the page; the template has a title and a message for 400,
        401, 403, 404, 405, 409 and 500 in both languages (a general one for others).
    title, message : str, optional
        Instead of the status's own (already in the request's language).
    detail : str, optional
        A line under the message, e.g. the error's own text.

    Returns
    -------
    tuple of (str, int)
        The page and the status, for a view or an error handler to return.
    """
    page = render_template("error.html", code=status, title=title, message=message, detail=detail)
    return page, status


def _http_error(exc: HTTPException):
    """Answer an HTTP error (404 for an unknown path, 405, an ``abort()``) of a page with the page.

    Under /api and /tiles a 404 gets the JSON body (``not_found``); their other HTTP errors
    are left as they were (Flask's answer).
    """
    if exc.code is None or exc.code < 400:
        return exc
    if _json_wanted():
        if exc.code == 404:
            return _json(NotFound(f"no such resource: {request.path}"))
        return exc
    page, status = error_page(exc.code)
    headers = {k: v for k, v in exc.get_headers() if k.lower() in {"allow", "retry-after"}}
    return page, status, headers


_FALLBACK_500 = (
    '<!doctype html><html lang="ko"><meta charset="utf-8"><title>500</title>'
    "<h1>500 · 오류가 났습니다 · Something went wrong</h1>"
    "<p>잠시 후 다시 시도해 주세요. · Please try again in a moment.</p></html>"
)


def _server_error(exc: InternalServerError):
    """Answer an unexpected error (Flask has logged it): the page, or the JSON body under /api.

    The session is rolled back. Should the page itself fail (the database gone, say), a plain
    page in both languages is answered.
    """
    try:
        get_session().rollback()
    except Exception:  # noqa: BLE001 - the error being answered may be the database's
        log.exception("rollback after an unexpected error failed")
    if _json_wanted():
        response = jsonify({"error": "internal_error", "message": "internal server error"})
        response.status_code = 500
        return response
    try:
        return error_page(500)
    except Exception:  # noqa: BLE001 - never a second traceback for the user
        log.exception("the error page failed")
        return _FALLBACK_500, 500, {"Content-Type": "text/html; charset=utf-8"}


def init_app(app: Flask) -> None:
    """Register the handlers: the table's errors below 500, HTTP errors, unexpected errors.

    Every blueprint gets them: JSON under /api and /tiles, the error page elsewhere.
    """
    for cls, (status, _code) in ERROR_TABLE.items():
        if status < 500:
            app.register_error_handler(cls, _answer)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
