"""Eligibility pre-screening on the web (issue 14): a page per dong and its JSON API.

``/eligibility`` shows per dong the households likely eligible, receiving, and likely
eligible but not receiving, per programme; ``?area=`` lists that dong's people with the rule
that decided each. ``/api/eligibility``, ``/api/eligibility/people`` and
``/api/residents/<id>/eligibility`` answer the same in JSON. Answers naming residents are
audited (:func:`webmap.access_log.shown`) and hold only the caller's scope.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import get_locale

from eligibility.catalogue import load_catalogue
from visitmap.usecases.eligibility import (
    programme_labels,
    resident_screening,
    summary,
    unreached,
)
from webmap.access_log import shown
from webmap.db import get_session
from webmap.openapi import api_spec, responses
from webmap.pages import request_scope
from webmap.params import today
from webmap.schemas.eligibility import (
    EligibilityQuery,
    EligibilitySummary,
    ResidentEligibility,
    UnreachedList,
)

bp = Blueprint("eligibility", __name__)


def _ko() -> bool:
    return str(get_locale()) == "ko"


def _name(labels: dict, code: str) -> str:
    ko, en = labels.get(code, (code, code))
    return ko if _ko() else en


def _summary_rows() -> list[dict]:
    labels = programme_labels()
    rows = summary(get_session(), request_scope())
    return [
        {**row, "programme_name": _name(labels, row["programme"])}
        for row in rows.to_dict("records")
    ]


def _people(area, programme, limit) -> list[dict]:
    labels = programme_labels()
    rows = unreached(
        get_session(), request_scope(), area_code=area, programme=programme, limit=limit
    )
    shown(rows["resident_id"].tolist())
    return [
        {
            "resident_id": r["resident_id"],
            "area_code": r["area_code"],
            "area_name": r["area_name"],
            "household_size": int(r["household_size"]),
            "programme": r["programme"],
            "programme_name": _name(labels, r["programme"]),
            "reason": r["reason_ko"] if _ko() else r["reason_en"],
            "screened_on": r["screened_on"].isoformat(),
        }
        for r in rows.to_dict("records")
    ]


@bp.get("/api/eligibility")
@api_spec.validate(resp=responses(EligibilitySummary), tags=["eligibility"])
def summary_api():
    """Count per dong and programme: likely eligible, receiving, eligible and not receiving."""
    return jsonify(catalogue_version=load_catalogue().version, areas=_summary_rows())


@bp.get("/api/eligibility/people")
@api_spec.validate(resp=responses(UnreachedList, 400), tags=["eligibility"])
def people_api(query: EligibilityQuery):
    """List the people whose household is likely eligible and not receiving, with the rule."""
    return jsonify(people=_people(query.area or None, query.programme or None, query.limit))


@bp.get("/api/residents/<resident_id>/eligibility")
@api_spec.validate(
    resp=responses(ResidentEligibility, 404),
    tags=["eligibility"],
    path_parameter_descriptions={"resident_id": "Pseudonymous resident id."},
)
def resident_api(resident_id: str):
    """Screen a resident's household now against every programme, eligible or not.

    A resident out of the caller's scope is 404, like one that does not exist.
    """
    day = today()
    _, rows = resident_screening(get_session(), request_scope(), resident_id, as_of=day)
    shown([resident_id])
    labels = programme_labels()
    return jsonify(
        resident_id=resident_id,
        catalogue_version=load_catalogue().version,
        screened_on=day.isoformat(),
        programmes=[
            {
                "programme": r["programme"],
                "programme_name": _name(labels, r["programme"]),
                "likely_eligible": bool(r["likely_eligible"]),
                "receiving": bool(r["receiving"]),
                "rule": r["rule"],
                "reason": r["reason_ko"] if _ko() else r["reason_en"],
                "reason_ko": r["reason_ko"],
                "reason_en": r["reason_en"],
            }
            for r in rows.to_dict("records")
        ],
    )


@bp.get("/eligibility")
def eligibility_page():
    """Show per dong who is likely eligible and not receiving; a dong opens its people."""
    area = request.args.get("area") or None
    programme = request.args.get("programme") or None
    labels = programme_labels()
    rows = _summary_rows()
    dongs: dict[str, dict] = {}
    for row in rows:
        dong = dongs.setdefault(
            row["area_code"], {"code": row["area_code"], "name": row["area_name"], "counts": {}}
        )
        dong["counts"][row["programme"]] = row
    people = _people(area, programme, 1000) if area else []
    return render_template(
        "eligibility.html",
        dongs=list(dongs.values()),
        programmes=[(code, _name(labels, code)) for code in labels],
        area=area,
        area_name=dongs.get(area, {}).get("name", area) if area else None,
        programme=programme,
        people=people,
        catalogue_version=load_catalogue().version,
    )
