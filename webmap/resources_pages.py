"""Resources pages: stock per centre, the forms, the monthly report, sponsorships, suggestions.

Who (docs/resources.md): community-centre staff and leaders manage their dongs' centres, admin
every centre; agency staff read their own provider's donations and stock. Views are thin:
parse, call :mod:`visitmap.usecases.resources` or :mod:`geo` with the caller's centre scope,
commit or roll back, render (Korean first, every text through Flask-Babel). A form with bad
fields is shown again (400) with each error next to its field; nothing is written.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request
from flask import url_for as flask_url_for
from flask_babel import get_locale, gettext

from geo.resource_report import monthly_report, report_totals, suggestions
from geo.resources import TEXT_MAX, CentreScope, ResourceError, centre_scope, donations, stock
from geo.scope import Scope
from geo.sponsorships import sponsorship_status
from visitmap.errors import Forbidden, NotFound
from visitmap.usecases.resources import (
    FORMS,
    form_choices,
    report_csv,
    report_months,
    submit_form,
)
from visitmap.vocab import DONOR_KINDS, NEED_CATEGORIES, SUPPORT_MAJOR, SUPPORT_MINOR
from webmap.access_log import shown
from webmap.auth import current_account
from webmap.db import get_session
from webmap.openapi import api_spec, responses
from webmap.pages import request_scope
from webmap.params import today
from webmap.schemas.resources import SuggestionsOut, SuggestionsQuery

bp = Blueprint("resources", __name__)


def _index() -> int:
    return 0 if str(get_locale()) == "ko" else 1


def _scope() -> CentreScope:
    return centre_scope(get_session(), current_account())


def _lang() -> dict:
    return {"lang": "en"} if str(get_locale()) == "en" else {}


def field_labels() -> dict[str, str]:
    """Return the forms' field labels in the request's language."""
    return {
        "donor": gettext("Donor"),
        "centre": gettext("Centre"),
        "received_on": gettext("Date received"),
        "minor_category": gettext("Category"),
        "item": gettext("Item"),
        "quantity": gettext("Quantity"),
        "unit": gettext("Unit"),
        "amount_krw": gettext("Amount (won)"),
        "expires_on": gettext("Use-by date"),
        "lot": gettext("Stock lot"),
        "to_centre": gettext("To centre"),
        "moved_on": gettext("Date"),
        "name": gettext("Name"),
        "kind": gettext("Kind"),
        "area": gettext("Dong"),
        "household": gettext("Household id"),
        "programme": gettext("Programme"),
        "starts_on": gettext("Start date"),
        "ends_on": gettext("End date"),
        "monthly_amount_krw": gettext("Monthly amount (won)"),
        "continues": gettext("Continues sponsorship"),
        "sponsorship": gettext("Sponsorship"),
        "month": gettext("Month"),
        "from": gettext("From month"),
        "to": gettext("To month"),
    }


def form_titles() -> dict[str, str]:
    """Return the forms' titles in the request's language."""
    return {
        "donation": gettext("Donation received"),
        "transfer": gettext("Transfer to another centre"),
        "discard": gettext("Discard expired stock"),
        "donor": gettext("New donor"),
        "sponsorship": gettext("New sponsorship"),
        "payment": gettext("Sponsorship payment"),
    }


_NUMBERED = (
    (re.compile(r"must be more than 0 and at most ([\d,]+)"), "range"),
    (re.compile(r"more than the ([\d.]+) in stock"), "stock"),
    (re.compile(r"at most (\d+) characters"), "chars"),
)


def reason_text(reason: str) -> str:
    """Return a geo reason (English, fixed wording) as the message shown next to the field."""
    fixed = {
        "required": gettext("Required."),
        "not a date (YYYY-MM-DD)": gettext("Enter a date (YYYY-MM-DD)."),
        "not a month (YYYY-MM)": gettext("Enter a month (YYYY-MM)."),
        "not a number": gettext("Enter a number."),
        "not a whole number": gettext("Enter a whole number."),
        "choose one of the minor categories": gettext("Choose a category."),
        "choose one of the donor kinds": gettext("Choose a kind."),
        "unknown": gettext("Not found."),
        "unknown dong": gettext("No such dong."),
        "not a centre you manage": gettext("Not a centre you manage."),
        "you may not add donors": gettext("You may not change resources."),
        "you may not change resources": gettext("You may not change resources."),
        "in the future": gettext("May not be in the future."),
        "enter a quantity or an amount": gettext("Enter a quantity or an amount."),
        "before the day received": gettext("Before the date received."),
        "choose a lot from the stock": gettext("Choose a lot from the stock."),
        "nothing left in this lot": gettext("Nothing left in this lot."),
        "not a community centre": gettext("Choose a community centre."),
        "the same centre as the lot's": gettext("The lot is already at this centre."),
        "no such household in your dongs": gettext("No such household in your dongs."),
        "before the start": gettext("Before the start date."),
        "unknown sponsorship": gettext("No such sponsorship."),
        "already has a successor": gettext("It already has a successor."),
        "outside the sponsorship's dates": gettext("Outside the sponsorship's dates."),
        "already paid": gettext("This month is already paid."),
        "before the first month": gettext("Before the first month."),
        "at most 10 years": gettext("At most 10 years."),
    }
    if reason in fixed:
        return fixed[reason]
    for pattern, kind in _NUMBERED:
        match = pattern.fullmatch(reason)
        if match and kind == "range":
            return gettext("Must be more than 0 and at most %(n)s.", n=match.group(1))
        if match and kind == "stock":
            return gettext("More than the %(n)s in stock.", n=match.group(1))
        if match and kind == "chars":
            return gettext("At most %(n)s characters.", n=match.group(1))
    return reason


def _minor_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    i = _index()
    return [
        (
            labels[i],
            [(code, spec[1 + i]) for code, spec in SUPPORT_MINOR.items() if spec[0] == major],
        )
        for major, labels in SUPPORT_MAJOR.items()
    ]


def _vocab() -> dict:
    i = _index()
    return {
        "minor": {code: spec[1 + i] for code, spec in SUPPORT_MINOR.items()},
        "major": {code: labels[i] for code, labels in SUPPORT_MAJOR.items()},
        "donor_kinds": {code: labels[i] for code, labels in DONOR_KINDS.items()},
        "needs": {code: labels[i] for code, labels in NEED_CATEGORIES.items()},
    }


@bp.get("/resources")
def stock_page():
    """Show the stock of the caller's centres, expiring lots marked, and the latest donations."""
    scope = _scope()
    session = get_session()
    return render_template(
        "resources.html",
        lots=stock(session, scope, today=today()),
        donations=donations(session, scope, limit=50),
        can_write=scope.can_write,
        vocab=_vocab(),
        titles=form_titles(),
        done=request.args.get("done") if request.args.get("done") in FORMS else None,
    )


def _render_form(form: str, scope: CentreScope, values: dict, errors=(), status: int = 200):
    labels = field_labels()
    field_errors = {}
    for field, reason in errors:
        field_errors.setdefault(field, reason_text(reason))
    body = render_template(
        "resources_form.html",
        form=form,
        title=form_titles()[form],
        fields=FORMS[form],
        labels=labels,
        values=values,
        field_errors=field_errors,
        choices=form_choices(get_session(), scope, form, today=today()),
        minor_groups=_minor_groups(),
        vocab=_vocab(),
        today=today().isoformat(),
        text_max=TEXT_MAX,
    )
    return body, status


def _form_name(form: str) -> str:
    if form not in FORMS:
        abort(404)
    return form


@bp.get("/resources/new/<form>")
def new_form(form: str):
    """Show an empty resources form (donation, transfer, discard, donor, sponsorship, payment)."""
    form = _form_name(form)
    scope = _scope()
    if not scope.can_write:
        raise Forbidden("you may not change resources")
    values = {key: request.args.get(key, "") for key in FORMS[form]}
    return _render_form(form, scope, values)


@bp.post("/resources/new/<form>")
def submit(form: str):
    """Write what the form posted; show it again with its errors (400) or go back (303)."""
    form = _form_name(form)
    scope = _scope()
    if not scope.can_write:
        raise Forbidden("you may not change resources")
    session = get_session()
    values = {key: request.form.get(key, "") for key in FORMS[form]}
    try:
        made = submit_form(
            session, scope, form, values, user=current_account().username, today=today()
        )
    except ResourceError as error:
        session.rollback()
        return _render_form(form, scope, values, errors=error.problems, status=400)
    session.commit()
    if form == "donor":  # a donor is added on the way to recording their donation
        return redirect(
            flask_url_for("resources.new_form", form="donation", donor=made, **_lang()), code=303
        )
    target = "resources.sponsorships_page" if form in ("sponsorship", "payment") else None
    if target:
        return redirect(flask_url_for(target, done=form, **_lang()), code=303)
    return redirect(flask_url_for("resources.stock_page", done=form, **_lang()), code=303)


def _report_range():
    try:
        return report_months(request.args.get("from"), request.args.get("to"), today=today())
    except ResourceError as error:
        return error


@bp.get("/resources/report")
def report_page():
    """Show the monthly collection and distribution report (category x month x dong x donor)."""
    scope = _scope()
    months = _report_range()
    errors, rows = {}, []
    if isinstance(months, ResourceError):
        errors = {field: reason_text(reason) for field, reason in months.problems}
        first = last = None
        status = 400
    else:
        first, last = months
        rows = monthly_report(get_session(), scope, first=first, last=last)
        status = 200
    return render_template(
        "resources_report.html",
        rows=rows,
        totals=report_totals(rows),
        first=request.args.get("from") or (first.isoformat()[:7] if first else ""),
        last=request.args.get("to") or (last.isoformat()[:7] if last else ""),
        field_errors=errors,
        labels=field_labels(),
        vocab=_vocab(),
    ), status


@bp.get("/resources/report.csv")
def report_csv_download():
    """Download the monthly report as CSV (same ``from`` and ``to`` as the page)."""
    months = _report_range()
    if isinstance(months, ResourceError):
        raise months
    first, last = months
    body = report_csv(get_session(), _scope(), first=first, last=last)
    name = f"resources_report_{first.isoformat()[:7]}_{last.isoformat()[:7]}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/resources/sponsorships")
def sponsorships_page():
    """Show each sponsorship's monthly status (paid / missing) and the alerts before the end."""
    scope = _scope()
    if not scope.can_write:
        raise Forbidden("sponsorships are for community-centre staff, leaders and admins")
    status = sponsorship_status(get_session(), scope, today=today())
    return render_template(
        "resources_sponsorships.html",
        status=status,
        can_write=scope.can_write,
        titles=form_titles(),
        done=request.args.get("done") if request.args.get("done") in FORMS else None,
    )


def _suggestions(need: str):
    if not _scope().can_write:
        raise Forbidden("suggestions are for community-centre staff, leaders and admins")
    account = current_account()
    # admin sees no resident, but may see a need's suggestions (category and dong, no name)
    scope = Scope.everything() if account.has("admin") else request_scope()
    found = suggestions(get_session(), scope, need, today=today()) if need else None
    if found is None:
        raise NotFound(f"no open need {need!r} in your areas")
    shown([found["need"]["resident_id"]])
    return found


@bp.get("/resources/suggestions")
def suggestions_page():
    """Show what could meet an open need (``?need=``): stock nearby and agencies nearby."""
    found = _suggestions(request.args.get("need", ""))
    return render_template("resources_suggestions.html", found=found, vocab=_vocab())


@bp.get("/api/resources/suggestions")
@api_spec.validate(resp=responses(SuggestionsOut, 404), tags=["resources"])
def suggestions_api(query: SuggestionsQuery):
    """Suggest what could meet an open need: stock at the nearest centres, agencies nearby.

    Stock of the need's domain's minor categories (not expired, balance above 0), the need's
    own dong's centre first, then by distance; agencies that gave those categories to
    residents of dongs within 3 km in the last 12 months (docs/resources.md).
    """
    found = _suggestions(query.need)
    need = found["need"] | {"identified_on": found["need"]["identified_on"].isoformat()}
    stock_rows = [
        r | {"expires_on": r["expires_on"].isoformat() if r["expires_on"] else None}
        for r in found["stock"]
    ]
    return jsonify(found | {"need": need, "stock": stock_rows})
