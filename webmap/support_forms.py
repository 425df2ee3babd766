"""The support, need and consent forms (tablet first) and their JSON API.

Views are thin: parse the request, call :mod:`visitmap.usecases.support` with the signed-in
account, commit or roll back, render (Korean first; every text through Flask-Babel). A bad
field shows the form again with the message next to the field (400); nothing is written.
Rules: docs/support_records.md.

Length: three forms (each a page, a post and its field messages) and four API operations
over the same use-cases; split, the forms' shared resident picker would be imported back.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, jsonify, redirect, render_template, request
from flask import url_for as flask_url_for
from flask_babel import get_locale, gettext

from geo.support_records import (
    COMMUNITY_CENTRE,
    ITEM_MAX_CHARS,
    RecordIdConflict,
    SupportError,
    consent_state,
    lookup_residents,
    mask_name,
    open_needs,
    provider_row,
    providers,
    stock_lots,
    support_of_resident,
)
from geo.visits import resident_row
from visitmap.errors import Forbidden, NotFound
from visitmap.usecases.support import record_need, record_support, set_consent, writer_for
from visitmap.vocab import (
    NEED_CATEGORIES,
    NEED_STATUSES,
    SUPPORT_FUNDING,
    SUPPORT_MAJOR,
    SUPPORT_MINOR,
    SUPPORT_PERIODS,
)
from webmap.access_log import shown
from webmap.auth import current_account
from webmap.db import get_session
from webmap.openapi import api_spec, invalid_request_listing, responses
from webmap.pages import request_scope
from webmap.params import today
from webmap.schemas.support import (
    ConsentBody,
    ConsentState,
    LookupAnswer,
    LookupQuery,
    NeedBody,
    NeedSummary,
    SupportBody,
    SupportHeaders,
    SupportRecordOut,
)

bp = Blueprint("support", __name__)

#: Each field's label and the message shown next to it, by field name.
FIELD_MESSAGES = {
    "resident": lambda: gettext("Choose a resident you may record for."),
    "record_id": lambda: gettext("This form is no longer valid: reload the page."),
    "need_id": lambda: gettext("This form is no longer valid: reload the page."),
    "provider": lambda: gettext("Choose the provider that gave the support."),
    "minor_category": lambda: gettext("Choose a category from the list."),
    "item": lambda: gettext("Enter what was given (at most %(n)s characters).", n=ITEM_MAX_CHARS),
    "provided_on": lambda: gettext("Must be a date, not in the future."),
    "quantity": lambda: gettext("Enter a quantity above 0 (within the stock), or an amount."),
    "unit": lambda: gettext("Enter the unit of the quantity (e.g. 개, kg, 박스)."),
    "amount_krw": lambda: gettext("Enter a whole number of won, 0 or more."),
    "recurring_period": lambda: gettext("Choose a period from the list."),
    "funding": lambda: gettext("Choose donation or budget."),
    "expires_on": lambda: gettext("Must be a date on or after the day given."),
    "need": lambda: gettext("Choose one of the resident's open needs."),
    "need_met": lambda: gettext("Choose the need this support meets."),
    "from_stock": lambda: gettext("Only a community centre gives from its stock."),
    "category": lambda: gettext("Choose a need domain from the list."),
    "identified_on": lambda: gettext("Must be a date, not in the future."),
    "status": lambda: gettext("Choose open or in progress."),
    "consented": lambda: gettext("Choose whether the resident consents."),
    "decided_on": lambda: gettext("Must be a date, not in the future."),
}


def _index() -> int:
    return 0 if str(get_locale()) == "ko" else 1


def _labels(vocabulary) -> dict[str, str]:
    return {code: labels[_index()] for code, labels in vocabulary.items()}


def _minor_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """Return the minor categories grouped by major, for the select's optgroups."""
    index = _index()
    return [
        (
            major_labels[index],
            [
                (code, minor[1 + index])
                for code, minor in SUPPORT_MINOR.items()
                if minor[0] == major
            ],
        )
        for major, major_labels in SUPPORT_MAJOR.items()
    ]


def _field_errors(problems) -> dict[str, tuple[str, str]]:
    """Return, per bad field, our localized message and the check's own (English) words.

    The page shows the message next to the field and the words, smaller, after it (they
    carry the specifics: the stock left, the day given).
    """
    out = {}
    for field, detail in problems:
        if field not in out:
            out[field] = (FIELD_MESSAGES.get(field, lambda: "")() or detail, detail)
    return out


def _lang() -> dict:
    return {"lang": "en"} if str(get_locale()) == "en" else {}


def _resident_card(session, resident_id: str, writer) -> dict | None:
    """Return the resident the form is for, as the caller may see them, or None if not theirs."""
    if not resident_id:
        return None
    row = resident_row(session, writer.scope, resident_id)
    if row is None:
        return None
    in_scope = resident_row(session, request_scope(), resident_id) is not None
    shown([resident_id])
    return {
        "db_id": row["id"],
        "resident_id": row["external_id"],
        "name": row["name"] if in_scope else mask_name(row["name"]),
        "area_name": row["area_name"],
        "area_code": row["area_code"],
    }


def _lookup(session, writer) -> tuple[list[dict] | None, dict]:
    """Return residents found by ``?name=&birth_year=`` (None if not asked), field errors."""
    name = (request.args.get("name") or "").strip()
    year_raw = (request.args.get("birth_year") or "").strip()
    if not name and not year_raw:
        return None, {}
    errors = {}
    if not name:
        errors["name"] = gettext("Enter the full name.")
    year = int(year_raw) if year_raw.isascii() and year_raw.isdigit() else None
    if year is None or not 1900 <= year <= 2100:
        errors["birth_year"] = gettext("Enter the year of birth (4 digits).")
    if errors:
        return None, {field: (message, "") for field, message in errors.items()}
    return _lookup_rows(session, writer, name, year), {}


def _lookup_rows(session, writer, name: str, year: int) -> list[dict]:
    rows = lookup_residents(session, writer.scope, name, year)
    visible = request_scope()
    out = []
    for row in rows:
        full = resident_row(session, visible, row["resident_id"]) is not None
        out.append(
            {
                "resident_id": row["resident_id"],
                "name": row["name"] if full else mask_name(row["name"]),
                "masked": not full,
                "birth_year": row["birth_year"],
                "area_code": row["area_code"],
                "area_name": row["area_name"],
            }
        )
    shown(r["resident_id"] for r in out)
    return out


def _provider_choices(session, writer) -> list[dict] | None:
    """Return the providers the caller may name, or None when the record is of their own."""
    return providers(session) if writer.may_choose_provider else None


def _render_support(session, writer, values, *, problems=(), conflict=False, status=200):
    resident = _resident_card(session, values.get("resident", ""), writer)
    found, lookup_errors = (None, {}) if resident else _lookup(session, writer)
    provider_id = values.get("provider") or writer.provider_id
    provider = provider_row(session, provider_id) if provider_id else None
    lots = (
        stock_lots(session, provider["id"])
        if provider is not None and provider["kind"] == COMMUNITY_CENTRE
        else []
    )
    field_errors = _field_errors(problems)
    body = render_template(
        "support_form.html",
        values=values,
        resident=resident,
        found=found,
        lookup_errors=lookup_errors,
        needs=open_needs(session, resident["db_id"]) if resident else [],
        need_labels=_labels(NEED_CATEGORIES),
        need_status_labels=_labels(NEED_STATUSES),
        minor_groups=_minor_groups(),
        minor_labels={code: m[1 + _index()] for code, m in SUPPORT_MINOR.items()},
        funding=_labels(SUPPORT_FUNDING),
        periods=_labels(SUPPORT_PERIODS),
        provider=provider,
        provider_choices=_provider_choices(session, writer),
        lots=lots,
        item_max=ITEM_MAX_CHARS,
        field_errors=field_errors,
        conflict=conflict,
        saved=values.get("saved_summary"),
        today=today().isoformat(),
        locale=str(get_locale()),
    )
    return body, status


def _writer(consent: bool = False):
    return writer_for(get_session(), current_account(), consent=consent)


def _form_values() -> dict:
    values = {key: request.form.get(key, "") for key in request.form}
    values.pop("csrf_token", None)
    return values


def _stock_lot(values: dict) -> dict:
    """Turn the form's stock lot choice into the record's fields (``from_stock``)."""
    lot = values.get("stock_lot") or ""
    if not lot:
        return values
    parts = lot.split("|")
    if len(parts) != 4:
        return values | {"from_stock": "bad"}
    minor, item, unit, expires_on = parts
    return values | {
        "from_stock": "on",
        "minor_category": minor,
        "item": item,
        "unit": unit,
        "expires_on": expires_on,
    }


@bp.get("/support/records/new")
def new_record():
    """Show the support form for ``?resident=`` (or find them by ``?name=&birth_year=``).

    ``?saved=<record id>`` shows the record just saved above a fresh form.
    """
    session = get_session()
    writer = _writer()
    resident_id = request.args.get("resident", "").strip()
    values = {
        "resident": resident_id,
        "record_id": f"S-{uuid.uuid4()}",
        "provided_on": today().isoformat(),
        "need": request.args.get("need", ""),
        "funding": "",
    }
    saved = request.args.get("saved")
    if saved and resident_id:
        values["saved_summary"] = support_of_resident(session, saved, resident_id)
    if resident_id and _resident_card(session, resident_id, writer) is None:
        return _render_support(
            session,
            writer,
            values | {"resident": ""},
            problems=[("resident", resident_id)],
            status=404,
        )
    return _render_support(session, writer, values)


@bp.post("/support/records")
def submit_record():
    """Record the support the form posted; on success back to the form with the record shown.

    Bad fields show the form again with each message next to its field (400); a record id
    used for another record shows a conflict (409). Nothing is written on error.
    """
    session = get_session()
    values = _form_values()
    try:
        summary = record_support(session, current_account(), _stock_lot(values), today=today())
    except SupportError as error:
        session.rollback()
        writer = _writer()
        conflict = isinstance(error, RecordIdConflict)
        return _render_support(
            session,
            writer,
            values,
            problems=[] if conflict else error.problems,
            conflict=conflict,
            status=409 if conflict else 400,
        )
    session.commit()
    target = flask_url_for(
        "support.new_record",
        resident=summary["resident_id"],
        saved=summary["record_id"],
        **_lang(),
    )
    return redirect(target, code=303)


def _render_need(session, writer, values, *, problems=(), conflict=False, status=200):
    resident = _resident_card(session, values.get("resident", ""), writer)
    found, lookup_errors = (None, {}) if resident else _lookup(session, writer)
    body = render_template(
        "need_form.html",
        values=values,
        resident=resident,
        found=found,
        lookup_errors=lookup_errors,
        needs=open_needs(session, resident["db_id"]) if resident else [],
        need_labels=_labels(NEED_CATEGORIES),
        need_status_labels=_labels(NEED_STATUSES),
        field_errors=_field_errors(problems),
        conflict=conflict,
        saved=values.get("saved"),
        today=today().isoformat(),
        locale=str(get_locale()),
    )
    return body, status


@bp.get("/support/needs/new")
def new_need():
    """Show the need form for ``?resident=`` (or find them by name and birth year)."""
    session = get_session()
    writer = _writer()
    resident_id = request.args.get("resident", "").strip()
    values = {
        "resident": resident_id,
        "need_id": f"N-{uuid.uuid4()}",
        "identified_on": today().isoformat(),
        "status": "open",
        "saved": request.args.get("saved", ""),
    }
    if resident_id and _resident_card(session, resident_id, writer) is None:
        return _render_need(
            session,
            writer,
            values | {"resident": ""},
            problems=[("resident", resident_id)],
            status=404,
        )
    return _render_need(session, writer, values)


@bp.post("/support/needs")
def submit_need():
    """Record the need the form posted; on success back to the form with the need listed."""
    session = get_session()
    values = _form_values()
    try:
        summary = record_need(
            session, current_account(), values, today=today(), source="support form"
        )
    except SupportError as error:
        session.rollback()
        conflict = isinstance(error, RecordIdConflict)
        return _render_need(
            session,
            _writer(),
            values,
            problems=[] if conflict else error.problems,
            conflict=conflict,
            status=409 if conflict else 400,
        )
    session.commit()
    target = flask_url_for(
        "support.new_need", resident=summary["resident_id"], saved=summary["need_id"], **_lang()
    )
    return redirect(target, code=303)


def _render_consent(session, writer, resident_id, values, *, problems=(), status=200):
    resident = _resident_card(session, resident_id, writer)
    if resident is None:
        abort(404)
    body = render_template(
        "consent_form.html",
        resident=resident,
        state=consent_state(session, resident["db_id"]),
        values=values,
        field_errors=_field_errors(problems),
        today=today().isoformat(),
        locale=str(get_locale()),
    )
    return body, status


@bp.get("/support/consent/<resident_id>")
def consent_page(resident_id: str):
    """Show a resident's consent to sharing, its log, and the form to change it."""
    session = get_session()
    writer = _writer(consent=True)
    values = {"decided_on": today().isoformat(), "saved": request.args.get("saved", "")}
    return _render_consent(session, writer, resident_id, values)


@bp.post("/support/consent/<resident_id>")
def submit_consent(resident_id: str):
    """Set or withdraw the consent the form posted; on success back to the page."""
    session = get_session()
    values = _form_values()
    try:
        set_consent(session, current_account(), resident_id, values, today=today(), source="form")
    except SupportError as error:
        session.rollback()
        return _render_consent(
            session,
            _writer(consent=True),
            resident_id,
            values,
            problems=error.problems,
            status=404 if error.field == "resident" else 400,
        )
    session.commit()
    target = flask_url_for("support.consent_page", resident_id=resident_id, saved=1, **_lang())
    return redirect(target, code=303)


# ----------------------------------------------------------------------------- JSON API


def _body_with_key(field: str) -> dict:
    body = request.get_json(silent=True)
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        if body.get(field) not in (None, key):
            raise SupportError([(field, "differs from the Idempotency-Key header")])
        body = body | {field: key}
    return body


def _resident_or_404(session, writer, body: dict) -> None:
    resident = body.get("resident")
    if isinstance(resident, str) and resident_row(session, writer.scope, resident) is None:
        # unknown or outside the caller's reach alike: existence does not leak
        raise NotFound(f"no resident {resident!r}")


@bp.post("/api/support-records")
@api_spec.validate(
    json=SupportBody,
    headers=SupportHeaders,
    resp=responses(
        {
            201: (SupportRecordOut, "Recorded"),
            200: (SupportRecordOut, "Recorded before with this record id (replayed)"),
        },
        404,
        409,
    ),
    before=invalid_request_listing,
    tags=["support"],
)
def api_record_support():
    """Record support given to a resident (as the support form does; docs/support_records.md).

    Agency staff record their own organisation's support for any resident of the district;
    community-centre staff and leaders for the residents of their dongs. ``record_id`` (or
    the ``Idempotency-Key`` header) makes a retry safe: the same id and values answer the
    stored record (200, ``replayed``), other values are refused (409). ``from_stock`` also
    writes the centre's ``issued`` stock movement. Every bad field is listed (400).
    """
    session = get_session()
    writer = _writer()
    body = _body_with_key("record_id")
    body.setdefault("record_id", f"S-{uuid.uuid4()}")
    _resident_or_404(session, writer, body)
    summary = record_support(session, current_account(), body, today=today())
    session.commit()
    shown([summary["resident_id"]])
    return jsonify(summary), 200 if summary["replayed"] else 201


@bp.post("/api/needs")
@api_spec.validate(
    json=NeedBody,
    headers=SupportHeaders,
    resp=responses(
        {
            201: (NeedSummary, "Recorded"),
            200: (NeedSummary, "Recorded before with this need id (replayed)"),
        },
        404,
        409,
    ),
    before=invalid_request_listing,
    tags=["support"],
)
def api_record_need():
    """Record a need found for a resident (``need_id`` or ``Idempotency-Key``: safe retry)."""
    session = get_session()
    writer = _writer()
    body = _body_with_key("need_id")
    body.setdefault("need_id", f"N-{uuid.uuid4()}")
    _resident_or_404(session, writer, body)
    summary = record_need(session, current_account(), body, today=today(), source="api")
    session.commit()
    shown([summary["resident_id"]])
    return jsonify(summary), 200 if summary["replayed"] else 201


@bp.put("/api/residents/<resident_id>/consent")
@api_spec.validate(
    json=ConsentBody,
    resp=responses(ConsentState, 404),
    before=invalid_request_listing,
    tags=["support"],
    path_parameter_descriptions={"resident_id": "Resident id."},
)
def api_set_consent(resident_id: str):
    """Set or withdraw a resident's consent to sharing support records, and log it.

    Community-centre staff, leaders (their dongs) and admins. Setting the state the resident
    already has, with the same date, changes nothing (``changed`` false).
    """
    session = get_session()
    writer = _writer(consent=True)
    if resident_row(session, writer.scope, resident_id) is None:
        raise NotFound(f"no resident {resident_id!r}")
    body = request.get_json(silent=True)
    state = set_consent(session, current_account(), resident_id, body, today=today(), source="api")
    session.commit()
    shown([resident_id])
    return jsonify(state)


@bp.get("/api/support/lookup")
@api_spec.validate(resp=responses(LookupAnswer), tags=["support"])
def api_lookup(query: LookupQuery):
    """Find residents by exact name and birth year, to record support for them.

    Leaders and community-centre staff search their dongs; agency staff and admins the whole
    district, but see a resident's full name only once it is in their scope (otherwise
    masked: 김*수). At most 20.
    """
    session = get_session()
    writer = _writer()
    name = (query.name or "").strip()
    if not name:
        raise SupportError([("name", "enter the full name")])
    return jsonify(residents=_lookup_rows(session, writer, name, query.birth_year))


__all__ = ["Forbidden", "bp"]
