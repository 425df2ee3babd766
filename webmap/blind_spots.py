"""Blind spots on the web (복지사각지대, issue 14): the list page, its API, the map layers' data.

``/blindspots`` shows per dong the people on the blind-spot list and per reason; ``?area=``
opens that dong's people with their reasons in words. ``/api/blindspots`` (people, with their
points for the map layer) and ``/api/blindspots/areas`` answer in JSON; ``/api/hotspots`` gives
the hot-spot layer its cells. Answers naming residents are audited and hold only the caller's
scope.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import get_locale, gettext

from geo.blind_spots import area_counts, people
from visitmap.usecases.eligibility import programme_labels
from visitmap.usecases.hotspots import map_cells
from visitmap.vocab import BLIND_SPOT_REASONS
from webmap import style
from webmap.access_log import shown
from webmap.db import get_session
from webmap.openapi import api_spec, responses
from webmap.pages import request_scope
from webmap.schemas.blind_spots import (
    BlindSpotAreas,
    BlindSpotList,
    BlindSpotQuery,
    HotspotCollection,
    HotspotQuery,
)

bp = Blueprint("blind_spots", __name__)


def _ko() -> bool:
    return str(get_locale()) == "ko"


def reason_texts(reasons: list[str], detail: dict) -> list[str]:
    """Say each reason and its facts in the request's language (plain text, never HTML)."""
    ko = _ko()
    labels = programme_labels()
    out = []
    for code in reasons:
        label = BLIND_SPOT_REASONS[code][0 if ko else 1]
        if code == "eligible_unreached":
            names = [labels.get(p, (p, p))[0 if ko else 1] for p in detail.get("programmes", [])]
            out.append(f"{label}: {', '.join(names)}")
        elif code == "hotspot":
            spot = detail.get("hotspot", {})
            out.append(f"{label} (Gi* z {spot.get('z')}, q {spot.get('q')})")
        elif code == "far_from_help":
            minutes = detail.get("walk_minutes")
            out.append(
                f"{label}: "
                + (
                    gettext("about %(n)s minutes on foot", n=minutes)
                    if minutes is not None
                    else gettext("no service site known")
                )
            )
        elif code == "no_contact":
            last = detail.get("last_contact")
            out.append(
                f"{label}: "
                + (
                    gettext("last contact %(day)s", day=last)
                    if last
                    else gettext("no contact on record")
                )
            )
    return out


def _people(area, reason, tier, limit) -> list[dict]:
    rows = people(
        get_session(),
        request_scope(),
        area_code=area,
        reason=reason,
        tier=tier,
        limit=limit,
        with_points=True,
    )
    shown(r["resident_id"] for r in rows)
    return [
        {
            **r,
            "reasons": list(r["reasons"]),
            "reason_texts": reason_texts(list(r["reasons"]), r["detail"]),
            "computed_on": r["computed_on"].isoformat(),
        }
        for r in rows
    ]


@bp.get("/api/hotspots")
@api_spec.validate(resp=responses(HotspotCollection, 400), tags=["blind spots"])
def hotspots_api(query: HotspotQuery):
    """Give the published run's hot and cold spots (Gi*, FDR) in the caller's dongs."""
    unit = query.unit or "h3_9"
    run_id, features = map_cells(get_session(), request_scope(), unit)
    return jsonify(type="FeatureCollection", run_id=run_id, unit=unit, features=features)


@bp.get("/api/blindspots/areas")
@api_spec.validate(resp=responses(BlindSpotAreas), tags=["blind spots"])
def areas_api():
    """Count the people on the blind-spot list per dong, in total and per reason."""
    return jsonify(areas=area_counts(get_session(), request_scope()))


@bp.get("/api/blindspots")
@api_spec.validate(resp=responses(BlindSpotList, 400), tags=["blind spots"])
def people_api(query: BlindSpotQuery):
    """List the people on the blind-spot list with their reasons and points."""
    return jsonify(
        people=_people(query.area or None, query.reason or None, query.tier, query.limit)
    )


@bp.get("/blindspots")
def blind_spots_page():
    """Show per dong who is on the blind-spot list and why; a dong opens its people."""
    area = request.args.get("area") or None
    reason = request.args.get("reason") or None
    if reason not in BLIND_SPOT_REASONS:
        reason = None
    areas = area_counts(get_session(), request_scope())
    listed = _people(area, reason, None, 1000) if area else []
    index = 0 if _ko() else 1
    return render_template(
        "blind_spots.html",
        areas=areas,
        area=area,
        area_name=next((a["name"] for a in areas if a["code"] == area), area),
        reason=reason,
        reasons=[(code, labels[index]) for code, labels in BLIND_SPOT_REASONS.items()],
        people=listed,
        tier_labels={code: style.TIER_LABELS[code][index] for code in style.TIER_LABELS},
    )
