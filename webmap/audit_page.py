"""The access audit for admins and district-wide leaders: a page, a CSV file and JSON.

``/audit`` is a page, ``/audit.csv`` a file and ``/api/audit`` JSON, all with the same
filters: ``user``, ``resident``, ``since``, ``until``, ``endpoint``. Views parse the request,
call :func:`geo.audit.search_access`, render (Korean first; every text through Flask-Babel,
every value autoescaped).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import get_locale, gettext

from geo.audit import AuditError, search_access
from geo.mapdata.filters import MapQueryError
from geo.settings import SEOUL
from visitmap.errors import Forbidden
from webmap.audit_export import audit_csv, audit_json
from webmap.auth import current_account, wants_json
from webmap.db import get_session
from webmap.openapi import api_spec, responses
from webmap.params import parse_int
from webmap.schemas.requests import AuditQuery
from webmap.schemas.responses import AuditPage

bp = Blueprint("audit", __name__)


@bp.before_request
def _district_wide_only():
    """Refuse the audit (403) to a signed-in caller who is neither an admin nor district-wide.

    Admins and district-wide officials search the audit; a dong official's rows would name
    residents and staff of other dongs, so the role table's leader also needs ``all_areas``.
    """
    account = current_account()
    if account is not None and not (account.has("admin") or account.all_areas):
        if wants_json():
            raise Forbidden("district-wide officials and admins")
        return render_template("forbidden.html"), 403
    return None


#: rows per page of /audit
PAGE_SIZE = 50
#: the most rows /audit.csv writes; more is refused (narrow the dates, or use the command line)
CSV_MAX_ROWS = 50_000
#: a row lists this many residents on the page; the rest are counted
SHOWN_RESIDENTS = 20
#: the request's filter parameters -> search_access's keywords
FILTERS = {
    "user": "username",
    "resident": "resident",
    "since": "since",
    "until": "until",
    "endpoint": "endpoint",
}
FIELD_LABELS = {
    "user": lambda: gettext("User"),
    "resident": lambda: gettext("Resident id"),
    "since": lambda: gettext("From"),
    "until": lambda: gettext("Until"),
    "endpoint": lambda: gettext("Endpoint"),
    "page": lambda: gettext("Page"),
}
#: what to do about a bad value, per parameter
FIELD_HINTS = {
    "resident": lambda: gettext("No resident has this id."),
    "since": lambda: gettext("Enter a date as YYYY-MM-DD."),
    "until": lambda: gettext("Enter a date as YYYY-MM-DD, not before the start date."),
    "page": lambda: gettext("Enter a page number of 1 or more."),
}


def _filters() -> dict:
    """Return the filters given (empty fields left out), as search_access's keywords."""
    values = {}
    for name, keyword in FILTERS.items():
        raw = request.args.get(name, "").strip()
        if raw:
            values[keyword] = raw
    return values


def _parameter(exc: Exception) -> str:
    """Return the request parameter an error names (``user`` for search_access's ``username``)."""
    name = getattr(exc, "parameter", "")
    return {keyword: param for param, keyword in FILTERS.items()}.get(name, name)


def _search(**kwargs) -> list[dict]:
    """Search the audit with :func:`geo.audit.search_access`.

    Its errors are raised again naming the request's parameters (``user``, not
    ``username``), for the JSON body of :mod:`webmap.errors`.
    """
    try:
        return search_access(get_session(), **kwargs)
    except AuditError as exc:
        raise AuditError(_parameter(exc), exc.message) from exc


@bp.get("/audit")
def audit_page():
    """Show the audit rows matching the filters, newest first, 50 to a page.

    A bad filter or page number shows the page again naming it (400).
    """
    filters = _filters()
    error, rows, has_next = None, [], False
    try:
        page = parse_int("page", 1, minimum=1, maximum=1_000_000)
        rows = search_access(
            get_session(), **filters, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
    except (AuditError, MapQueryError) as exc:
        page = 1
        name = _parameter(exc)
        error = {
            "parameter": name,
            "field": FIELD_LABELS.get(name, lambda: name)(),
            "hint": FIELD_HINTS.get(name, lambda: gettext("Check this value."))(),
            "detail": exc.message,
        }
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    given = {name: request.args.get(name, "") for name in FILTERS}
    kept = {name: value for name, value in given.items() if value}

    def page_url(number: int) -> str:
        return url_for("audit.audit_page", **kept, page=number)

    return render_template(
        "audit.html",
        rows=[_shown(row) for row in rows],
        values=given,
        error=error,
        page=page,
        previous_url=page_url(page - 1) if page > 1 and error is None else None,
        next_url=page_url(page + 1) if has_next else None,
        csv_url=url_for("audit.audit_csv_download", **kept),
        locale=str(get_locale()),
    ), (400 if error else 200)


def _shown(row: dict) -> dict:
    """Return a row as the page shows it: Korean time, the first residents and how many more."""
    residents = list(row["resident_ids"])
    return {
        **row,
        "at_text": row["at"].astimezone(SEOUL).strftime("%Y-%m-%d %H:%M:%S"),
        "shown_residents": residents[:SHOWN_RESIDENTS],
        "more_residents": max(0, len(residents) - SHOWN_RESIDENTS),
        "detail_text": None
        if row["detail"] is None
        else json.dumps(row["detail"], ensure_ascii=False, sort_keys=True),
    }


@bp.get("/audit.csv")
def audit_csv_download():
    """Download the matching audit rows as CSV; more than 50,000 rows is a 400."""
    rows = _search(**_filters(), limit=CSV_MAX_ROWS + 1)
    if len(rows) > CSV_MAX_ROWS:
        return jsonify(
            error="too_many_rows",
            parameter="since",
            message=f"more than {CSV_MAX_ROWS} rows match: narrow the dates, or use "
            "`visitmap audit search --format csv`",
        ), 400
    return Response(
        audit_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="access_audit.csv"'},
    )


@bp.get("/api/audit")
@api_spec.validate(resp=responses(AuditPage), tags=["audit"])
def audit_api(query: AuditQuery):
    """Access audit rows, newest first (district-wide officials and admins).

    Who was shown which residents' personal data, when, from which address, through which
    endpoint. Every filter given must match.
    """
    limit, offset = query.limit, query.offset
    rows = _search(**_filters(), limit=limit + 1, offset=offset)
    return jsonify(
        rows=[audit_json(row) for row in rows[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(rows) > limit else None,
    )
