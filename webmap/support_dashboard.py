"""The dashboard of the shared support records (종합현황판): a page, its JSON API, map colours.

``/support`` shows red (경고), yellow (주의) and blue (정상) counts per dong and per agency,
with filters (dong, level, kind, provider) and a drill-down to the warnings' people and
their records. ``/api/support/summary``, ``/api/support/warnings`` and
``/api/residents/<id>/support`` answer the same in JSON; ``/api/support/areas`` gives the map
layer "지원 경고" its colour per dong. Records are shaped by :mod:`geo.support_visibility`
(consent rules per role); the warnings are read as stored (:mod:`geo.support_dashboard`).
Every answer that names residents is audited (:func:`webmap.access_log.shown`).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import get_locale, gettext

from geo.settings import SEOUL
from geo.support_dashboard import (
    DashboardFilterError,
    WarningFilters,
    area_levels,
    filter_dongs,
    find_resident,
    list_warnings,
    resident_warnings,
    summary,
)
from geo.support_visibility import Viewer, consent_of, person_ids, visible_records
from sharing.config import load_warning_config
from visitmap.errors import NotFound
from visitmap.vocab import SUPPORT_MINOR, WARNING_KINDS, WARNING_LEVELS
from webmap.access_log import shown
from webmap.auth import current_account
from webmap.db import get_session
from webmap.openapi import api_spec, responses
from webmap.params import today
from webmap.schemas.support_dashboard import (
    AreaLevels,
    ResidentSupport,
    SupportOverview,
    WarningListQuery,
    WarningPage,
    WarningQuery,
)

bp = Blueprint("support_dashboard", __name__)

#: warnings shown per page of /support
PAGE_SIZE = 30
_CONFIG = None


def _config():
    global _CONFIG  # noqa: PLW0603 - read once per process; the file does not change
    if _CONFIG is None:
        _CONFIG = load_warning_config()
    return _CONFIG


def _viewer() -> Viewer:
    return Viewer.of(current_account())


def _filters(query) -> WarningFilters:
    return WarningFilters(
        area=query.area or None,
        level=query.level or None,
        kind=query.kind or None,
        provider=query.provider or None,
    )


def _shown_warnings(page: dict) -> None:
    shown(w["resident_id"] for w in page["warnings"])


@bp.get("/api/support/summary")
@api_spec.validate(resp=responses(SupportOverview), tags=["support"])
def summary_api(query: WarningQuery):
    """Count red, yellow and blue per dong and per agency (종합현황판)."""
    return jsonify(summary(get_session(), _viewer(), today=today(), filters=_filters(query)))


@bp.get("/api/support/warnings")
@api_spec.validate(resp=responses(WarningPage), tags=["support"])
def warnings_api(query: WarningListQuery):
    """List the stored warnings, red first, with their people and records as seen."""
    page = list_warnings(
        get_session(),
        _viewer(),
        config=_config(),
        filters=_filters(query),
        limit=query.limit,
        offset=query.offset,
    )
    _shown_warnings(page)
    return jsonify(page)


@bp.get("/api/support/areas")
@api_spec.validate(resp=responses(AreaLevels), tags=["support"])
def areas_api():
    """Give red and yellow counts and a level per dong, for the map layer "지원 경고"."""
    return jsonify(areas=area_levels(get_session(), _viewer()))


@bp.get("/api/residents/<resident_id>/support")
@api_spec.validate(
    resp=responses(ResidentSupport, 404),
    tags=["support"],
    path_parameter_descriptions={"resident_id": "Pseudonymous resident id."},
)
def resident_support(resident_id: str):
    """Show a resident's support records shaped by consent and role, and their warnings.

    A resident the caller may see nothing of is 404, like one that does not exist.
    """
    session = get_session()
    viewer = _viewer()
    found = find_resident(session, resident_id)
    if found is None:
        raise NotFound(f"resident {resident_id!r} not found")
    rid, area_code = found
    records = visible_records(session, viewer, rid, area_code, config=_config())
    if viewer.kind == "agency":
        visible = any(r["shape"] == "full" for r in records)
    else:
        visible = viewer.sees_area(area_code)
    if not visible:
        raise NotFound(f"resident {resident_id!r} not found")
    shown([resident_id])
    return jsonify(
        resident_id=resident_id,
        consent=consent_of(session, person_ids(session, [rid])[rid]),
        warnings=resident_warnings(session, rid),
        records=records,
    )


def _korean_time(iso: str | None) -> str | None:
    """Write an ISO time as Korean time to the minute (``2026-11-02 09:30``)."""
    if iso is None:
        return None
    return dt.datetime.fromisoformat(iso).astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")


def _labels() -> dict:
    return {
        "levels": {
            "red": gettext("Warning (red)"),
            "yellow": gettext("Caution (yellow)"),
            "blue": gettext("Normal (blue)"),
        },
        "kinds": {k: v[1] if _korean() else v[2] for k, v in WARNING_KINDS.items()},
    }


def _korean() -> bool:
    return str(get_locale()) == "ko"


@bp.get("/support")
def dashboard_page():
    """Show the 종합현황판: counts per dong and agency, filters, drill-down."""
    session = get_session()
    viewer = _viewer()
    values = {k: request.args.get(k, "").strip() for k in ("area", "level", "kind", "provider")}
    filters = WarningFilters(**{k: v or None for k, v in values.items()})
    try:
        page_no = max(1, int(request.args.get("page", "1") or 1))
    except ValueError:
        page_no = 1
    error, counts, page = None, None, {"warnings": [], "total": 0}
    try:
        counts = summary(session, viewer, today=today(), filters=filters)
        page = list_warnings(
            session,
            viewer,
            config=_config(),
            filters=filters,
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
    except DashboardFilterError as exc:
        error = {"field": exc.field, "detail": exc.message}
        counts = summary(session, viewer, today=today())
    _shown_warnings(page)
    kept = {k: v for k, v in values.items() if v}

    def link(**changes) -> str:
        return url_for("support_dashboard.dashboard_page", **(kept | changes))

    return render_template(
        "support_dashboard.html",
        counts=counts,
        page=page,
        values=values,
        error=error,
        link=link,
        page_no=page_no,
        has_next=page["total"] > page_no * PAGE_SIZE,
        labels=_labels(),
        computed_text=_korean_time(counts["computed_at"]),
        levels=list(WARNING_LEVELS),
        kinds=[(k, v[1] if _korean() else v[2]) for k, v in WARNING_KINDS.items()],
        dongs=filter_dongs(session, viewer),
        korean=_korean(),
        minor_labels={k: v[1] for k, v in SUPPORT_MINOR.items()},
    ), (400 if error else 200)
