"""Sponsorships (sponsor -> household, e.g. "100가정 보듬기"), their monthly payments and alerts.

A sponsorship runs from ``starts_on`` to ``ends_on`` for a monthly amount; a month is *due*
when the sponsorship is active on any day of it and the month has begun, *paid* when a payment
for it is stored. The alert list holds the sponsorships ending within the warnings config's
``sponsorship_ending_days`` (30) that have no successor. Rules: docs/resources.md.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.resources import (
    AMOUNT_MAX,
    CentreScope,
    centre_field,
    date_field,
    lookup_field,
    next_external_id,
    number_field,
    raise_problems,
    text_field,
)
from sharing.config import load_warning_config


def month_start(day: dt.date) -> dt.date:
    """Return the first day of ``day``'s month."""
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    """Return the first day of the month ``n`` months after ``month``'s."""
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _parse_month(problems, values, field) -> dt.date | None:
    raw = (values.get(field) or "").strip()
    try:
        return dt.date.fromisoformat(raw[:7] + "-01") if len(raw) in (7, 10) else None
    except ValueError:
        pass
    problems.append((field, "not a month (YYYY-MM)") if raw else (field, "required"))
    return None


def add_sponsorship(session: Session, scope: CentreScope, values, *, user: str) -> str:
    """Match a sponsor to a household; return the new sponsorship's id.

    ``values``: ``donor``, ``household`` (external id, in the caller's dongs), ``centre``,
    ``programme``, ``starts_on``, ``ends_on``, ``monthly_amount_krw`` and optionally
    ``continues`` (the sponsorship this one succeeds: its ``successor_id`` is set).
    """
    problems = []
    donor_id = lookup_field(
        session, problems, "donors", "donor", (values.get("donor") or "").strip()
    )
    household = (values.get("household") or "").strip()
    household_id = None
    if not household:
        problems.append(("household", "required"))
    else:
        row = session.execute(
            text("""SELECT h.id, a.code FROM households h JOIN areas a ON a.id = h.area_id
                WHERE h.external_id = :x"""),
            {"x": household},
        ).first()
        if row is None or (scope.area_codes is not None and row.code not in scope.area_codes):
            problems.append(("household", "no such household in your dongs"))
        else:
            household_id = row.id
    centre_id = centre_field(
        session, problems, scope, "centre", (values.get("centre") or "").strip()
    )
    programme = text_field(problems, values, "programme")
    starts_on = date_field(problems, values, "starts_on")
    ends_on = date_field(problems, values, "ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(("ends_on", "before the start"))
    amount = number_field(
        problems, values, "monthly_amount_krw", required=True, integer=True, upper=AMOUNT_MAX
    )
    continues = (values.get("continues") or "").strip()
    previous = None
    if continues:
        previous = session.execute(
            text("SELECT id, centre_id, successor_id FROM sponsorships WHERE external_id = :x"),
            {"x": continues},
        ).first()
        if previous is None or not scope.allows(previous.centre_id):
            problems.append(("continues", "unknown sponsorship"))
        elif previous.successor_id is not None:
            problems.append(("continues", "already has a successor"))
    raise_problems(problems)
    external_id = next_external_id(session, "sponsorships", "SP-W")
    new_id = session.execute(
        text("""INSERT INTO sponsorships (external_id, donor_id, household_id, centre_id,
            programme, starts_on, ends_on, monthly_amount_krw, entered_by)
            VALUES (:x, :donor, :h, :c, :prog, :start, :end, :amount, :user) RETURNING id"""),
        {
            "x": external_id,
            "donor": donor_id,
            "h": household_id,
            "c": centre_id,
            "prog": programme,
            "start": starts_on,
            "end": ends_on,
            "amount": amount,
            "user": user,
        },
    ).scalar()
    if previous is not None:
        session.execute(
            text("UPDATE sponsorships SET successor_id = :new WHERE id = :old"),
            {"new": new_id, "old": previous.id},
        )
    return external_id


def record_payment(
    session: Session, scope: CentreScope, values, *, user: str, today: dt.date
) -> None:
    """Record a month's payment.

    ``values``: ``sponsorship``, ``month`` (YYYY-MM), ``amount_krw``, ``received_on``. A month
    already paid, or outside the sponsorship, is refused.
    """
    problems = []
    raw = (values.get("sponsorship") or "").strip()
    sponsorship = None
    if not raw:
        problems.append(("sponsorship", "required"))
    else:
        sponsorship = session.execute(
            text("SELECT id, centre_id, starts_on, ends_on FROM sponsorships WHERE external_id=:x"),
            {"x": raw},
        ).first()
        if sponsorship is None or not (scope.can_write and scope.allows(sponsorship.centre_id)):
            problems.append(("sponsorship", "unknown sponsorship"))
            sponsorship = None
    month = _parse_month(problems, values, "month")
    if sponsorship is not None and month is not None:
        if not (month_start(sponsorship.starts_on) <= month <= sponsorship.ends_on):
            problems.append(("month", "outside the sponsorship's dates"))
        elif session.execute(
            text("SELECT 1 FROM sponsorship_payments WHERE sponsorship_id = :s AND month = :m"),
            {"s": sponsorship.id, "m": month},
        ).first():
            problems.append(("month", "already paid"))
    amount = number_field(
        problems, values, "amount_krw", required=True, integer=True, upper=AMOUNT_MAX
    )
    received_on = date_field(problems, values, "received_on")
    if received_on is not None and received_on > today:
        problems.append(("received_on", "in the future"))
    raise_problems(problems)
    session.execute(
        text("""INSERT INTO sponsorship_payments (sponsorship_id, month, amount_krw, received_on,
            entered_by) VALUES (:s, :m, :a, :r, :user)"""),
        {"s": sponsorship.id, "m": month, "a": amount, "r": received_on, "user": user},
    )


def sponsorship_status(
    session: Session, scope: CentreScope, *, today: dt.date, months: int = 6
) -> dict:
    """Return the sponsorships of the centres in ``scope`` with their monthly status.

    Returns a dict: ``months`` (the last ``months`` month starts, oldest first, ending with
    ``today``'s month), ``rows`` (one per sponsorship active in those months: its ids, donor,
    household and dong, programme, dates, amount, successor, and ``status``: month ->
    ``paid`` / ``missing`` / ``-`` (not active), ``missing_count``), ``alerts`` (the rows
    ending within ``sponsorship_ending_days`` of ``today`` with no successor, soonest first)
    and ``ending_days``.
    """
    ending_days = load_warning_config().omissions["sponsorship_ending_days"]
    last = month_start(today)
    month_list = [add_months(last, -i) for i in range(months - 1, -1, -1)]
    where, params = scope.sql("s.centre_id")
    rows = session.execute(
        text(f"""SELECT s.id, s.external_id, s.programme, s.starts_on, s.ends_on,
            s.monthly_amount_krw, d.external_id AS donor_id, d.name AS donor_name,
            h.external_id AS household_id, a.name AS area_name, p.name AS centre_name,
            n.external_id AS successor_id
            FROM sponsorships s JOIN donors d ON d.id = s.donor_id
            JOIN households h ON h.id = s.household_id JOIN areas a ON a.id = h.area_id
            JOIN providers p ON p.id = s.centre_id
            LEFT JOIN sponsorships n ON n.id = s.successor_id
            WHERE s.ends_on >= :first AND s.starts_on <= :today{where}
            ORDER BY s.ends_on, s.external_id"""),
        params | {"first": month_list[0], "today": today},
    ).mappings()
    rows = [dict(r) for r in rows]
    paid = set()
    if rows:
        paid = {
            (r[0], r[1])
            for r in session.execute(
                text("""SELECT sponsorship_id, month FROM sponsorship_payments
                    WHERE sponsorship_id = ANY(:ids) AND month >= :first"""),
                {"ids": [r["id"] for r in rows], "first": month_list[0]},
            )
        }
    alerts = []
    for row in rows:
        status = {}
        for month in month_list:
            active = month_start(row["starts_on"]) <= month <= row["ends_on"]
            status[month.isoformat()[:7]] = (
                ("paid" if (row["id"], month) in paid else "missing") if active else "-"
            )
        row["status"] = status
        row["missing_count"] = sum(1 for s in status.values() if s == "missing")
        row["days_left"] = (row["ends_on"] - today).days
        if row["successor_id"] is None and 0 <= row["days_left"] <= ending_days:
            alerts.append(row)
    return {
        "months": [m.isoformat()[:7] for m in month_list],
        "rows": rows,
        "alerts": alerts,
        "ending_days": ending_days,
    }


def sponsorship_choices(session: Session, scope: CentreScope, *, today: dt.date) -> list[dict]:
    """Return the sponsorships a payment or a successor may name.

    Those of the centres in ``scope`` that are active or ended within a year.
    """
    where, params = scope.sql("s.centre_id")
    rows = session.execute(
        text(f"""SELECT s.external_id, s.programme, s.ends_on, s.monthly_amount_krw,
            d.name AS donor_name, h.external_id AS household_id
            FROM sponsorships s JOIN donors d ON d.id = s.donor_id
            JOIN households h ON h.id = s.household_id
            WHERE s.ends_on >= :since{where} ORDER BY s.external_id"""),
        params | {"since": today - dt.timedelta(days=365)},
    ).mappings()
    return [dict(r) for r in rows]
