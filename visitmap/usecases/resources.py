"""Resources of the community centres: the forms' choices, their writes, the report as CSV.

The web pages call these with the caller's :class:`geo.resources.CentreScope`; each write runs
in the caller's transaction and raises :class:`geo.resources.ResourceError` (every bad field)
before writing anything. Rules: docs/resources.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from geo.resource_report import REPORT_COLUMNS, monthly_report
from geo.resources import (
    CentreScope,
    ResourceError,
    add_donor,
    all_community_centres,
    centres,
    discard,
    donors,
    record_donation,
    stock,
    transfer,
)
from geo.sponsorships import add_months, add_sponsorship, month_start, record_payment
from geo.sponsorships import sponsorship_choices as _sponsorship_choices

#: The forms: name -> the fields it posts, in the order it shows them.
FORMS: Mapping[str, tuple[str, ...]] = {
    "donation": (
        "donor",
        "centre",
        "received_on",
        "minor_category",
        "item",
        "quantity",
        "unit",
        "amount_krw",
        "expires_on",
    ),
    "transfer": ("lot", "to_centre", "quantity", "moved_on"),
    "discard": ("lot", "quantity", "moved_on"),
    "donor": ("name", "kind", "area"),
    "sponsorship": (
        "donor",
        "household",
        "centre",
        "programme",
        "starts_on",
        "ends_on",
        "monthly_amount_krw",
        "continues",
    ),
    "payment": ("sponsorship", "month", "amount_krw", "received_on"),
}


def _writers() -> dict[str, Callable]:
    return {
        "donation": lambda s, sc, v, u, t: record_donation(s, sc, v, user=u, today=t),
        "transfer": lambda s, sc, v, u, t: transfer(s, sc, v, user=u, today=t),
        "discard": lambda s, sc, v, u, t: discard(s, sc, v, user=u, today=t),
        "donor": lambda s, sc, v, u, t: add_donor(s, sc, v, user=u),
        "sponsorship": lambda s, sc, v, u, t: add_sponsorship(s, sc, v, user=u),
        "payment": lambda s, sc, v, u, t: record_payment(s, sc, v, user=u, today=t),
    }


def submit_form(
    session: Session,
    scope: CentreScope,
    form: str,
    values: Mapping[str, str],
    *,
    user: str,
    today: dt.date,
):
    """Write what ``form`` posted (``values`` by field name); return the new id, if any.

    Raises
    ------
    ResourceError
        Naming every bad field; nothing is written.
    KeyError
        For a form not in :data:`FORMS`.
    """
    if not scope.can_write:
        raise ResourceError([(FORMS[form][0], "you may not change resources")])
    clean = {field: str(values.get(field) or "") for field in FORMS[form]}
    return _writers()[form](session, scope, clean, user, today)


def form_choices(session: Session, scope: CentreScope, form: str, *, today: dt.date) -> dict:
    """Return what the form's selects offer: the caller's centres, donors, lots, etc."""
    choices: dict = {}
    if form in ("donation", "sponsorship"):
        choices["centres"] = centres(session, scope) if scope.can_write else []
        choices["donors"] = donors(session)
    if form in ("transfer", "discard"):
        choices["lots"] = stock(session, scope, today=today)
        choices["to_centres"] = all_community_centres(session)
    if form in ("sponsorship", "payment"):
        choices["sponsorships"] = _sponsorship_choices(session, scope, today=today)
    return choices


def report_months(
    first: str | None, last: str | None, *, today: dt.date
) -> tuple[dt.date, dt.date]:
    """Parse the report's ``from`` and ``to`` months (YYYY-MM); default: the last 12 months.

    Raises
    ------
    ResourceError
        Naming ``from`` or ``to`` when malformed, or ``to`` when before ``from``.
    """
    problems = []
    parsed = {}
    for field, raw, default in (
        ("from", first, add_months(month_start(today), -11)),
        ("to", last, month_start(today)),
    ):
        if not raw:
            parsed[field] = default
            continue
        try:
            parsed[field] = dt.date.fromisoformat(raw.strip()[:7] + "-01")
        except ValueError:
            problems.append((field, "not a month (YYYY-MM)"))
    if not problems and parsed["to"] < parsed["from"]:
        problems.append(("to", "before the first month"))
    if not problems and add_months(parsed["from"], 120) <= parsed["to"]:
        problems.append(("to", "at most 10 years"))
    if problems:
        raise ResourceError(problems)
    return parsed["from"], parsed["to"]


def _cell(value) -> str:
    """Return ``value`` as a CSV cell a spreadsheet will not run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    ``'`` (donor names are free text); None is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    return str(value)


def report_csv(session: Session, scope: CentreScope, *, first: dt.date, last: dt.date) -> str:
    """Return the monthly report as CSV (UTF-8 with a BOM so that spreadsheets read Hangul)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for row in monthly_report(session, scope, first=first, last=last):
        writer.writerow([_cell(row[c]) for c in REPORT_COLUMNS])
    return out.getvalue()
