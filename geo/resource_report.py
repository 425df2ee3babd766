"""The monthly collection and distribution report, and suggestions for an open need.

Report: one row per (month, minor category, dong, donor, unit). *Collected* is what donors
gave the centres in scope (donations: quantity and won), in the centre's dong. *Distributed*
is what those centres gave out: the quantity of their ``issued`` stock movements and the won
of their donation-funded support records, in the recipient's dong (the centre's dong for an
issue without a record); the donor of a distribution is not traced (empty). Transfers and
discards are neither (they are stock moves, on the stock page).

Suggestions: for an open need, the stock (not expired, balance > 0) of the minor categories
whose need domain is the need's, at every centre, nearest first (distance from the resident's
dong's community centre, or the dong's label point, to each centre's site or its dong's label
point); and the agencies that gave those categories to residents of dongs within
:data:`geo.resources.NEARBY_METRES` in the last :data:`geo.resources.AGENCY_LOOKBACK_DAYS`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.resources import AGENCY_LOOKBACK_DAYS, NEARBY_METRES, SIGNED_QUANTITY_SQL, CentreScope
from geo.scope import Scope
from visitmap.vocab import SUPPORT_MINOR

REPORT_COLUMNS = (
    "month",
    "major_category",
    "minor_category",
    "area_code",
    "area_name",
    "donor_id",
    "donor_name",
    "unit",
    "collected_quantity",
    "collected_krw",
    "distributed_quantity",
    "distributed_krw",
)


def monthly_report(
    session: Session, scope: CentreScope, *, first: dt.date, last: dt.date
) -> list[dict]:
    """Return the report's rows for the months from ``first`` to ``last`` (month starts).

    Sorted by month, major and minor category, dong, donor, unit; sums are 0 where nothing
    moved that way. Columns: :data:`REPORT_COLUMNS`.
    """
    end = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    d_where, params = scope.sql("dn.centre_id")
    m_where, _ = scope.sql("m.centre_id")
    s_where, _ = scope.sql("s.provider_id")
    rows = session.execute(
        text(f"""
        WITH parts AS (
          SELECT date_trunc('month', dn.received_on)::date AS month, dn.minor_category,
                 ca.code AS area_code, ca.name AS area_name, d.external_id AS donor_id,
                 d.name AS donor_name, COALESCE(dn.unit, '') AS unit,
                 COALESCE(dn.quantity, 0) AS cq, COALESCE(dn.amount_krw, 0) AS ckrw,
                 0::float AS dq, 0::bigint AS dkrw
          FROM donations dn JOIN donors d ON d.id = dn.donor_id
          JOIN providers p ON p.id = dn.centre_id LEFT JOIN areas ca ON ca.id = p.area_id
          WHERE dn.received_on >= :first AND dn.received_on < :end{d_where}
          UNION ALL
          SELECT date_trunc('month', m.moved_on)::date, m.minor_category,
                 COALESCE(ra.code, ca.code), COALESCE(ra.name, ca.name), '', '', m.unit,
                 0, 0, m.quantity, 0
          FROM stock_movements m JOIN providers p ON p.id = m.centre_id
          LEFT JOIN areas ca ON ca.id = p.area_id
          LEFT JOIN support_records sr ON sr.id = m.support_record_id
          LEFT JOIN residents r ON r.id = sr.resident_id
          LEFT JOIN households h ON h.id = r.household_id
          LEFT JOIN areas ra ON ra.id = h.area_id
          WHERE m.kind = 'issued' AND m.moved_on >= :first AND m.moved_on < :end{m_where}
          UNION ALL
          SELECT date_trunc('month', s.provided_on)::date, s.minor_category, a.code, a.name,
                 '', '', '', 0, 0, 0, s.amount_krw
          FROM support_records s JOIN residents r ON r.id = s.resident_id
          JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
          WHERE s.funding = 'donation' AND s.amount_krw IS NOT NULL
            AND s.provided_on >= :first AND s.provided_on < :end{s_where})
        SELECT month, minor_category, area_code, area_name, donor_id, donor_name, unit,
               SUM(cq) AS collected_quantity, SUM(ckrw) AS collected_krw,
               SUM(dq) AS distributed_quantity, SUM(dkrw) AS distributed_krw
        FROM parts GROUP BY 1, 2, 3, 4, 5, 6, 7"""),
        params | {"first": first, "end": end},
    ).mappings()
    out = []
    for r in rows:
        row = dict(r)
        row["month"] = row["month"].isoformat()[:7]
        row["major_category"] = SUPPORT_MINOR[row["minor_category"]][0]
        row["collected_quantity"] = round(float(row["collected_quantity"]), 6)
        row["distributed_quantity"] = round(float(row["distributed_quantity"]), 6)
        row["collected_krw"] = int(row["collected_krw"])
        row["distributed_krw"] = int(row["distributed_krw"])
        out.append({c: row[c] for c in REPORT_COLUMNS})
    majors = list(dict.fromkeys(m for m, *_ in SUPPORT_MINOR.values()))
    minors = list(SUPPORT_MINOR)
    out.sort(
        key=lambda r: (
            r["month"],
            majors.index(r["major_category"]),
            minors.index(r["minor_category"]),
            r["area_code"] or "",
            r["donor_id"],
            r["unit"],
        )
    )
    return out


def report_totals(rows: list[dict]) -> dict:
    """Return the sums of the report's four figures over ``rows``."""
    keys = ("collected_quantity", "collected_krw", "distributed_quantity", "distributed_krw")
    return {k: sum(r[k] for r in rows) for k in keys}


#: The point of a provider: its facility's site, else its dong's label point.
_CENTRE_POINT = "COALESCE(f.geom, pa.label_point)"


def suggestions(session: Session, resident_scope: Scope, need_id: str, *, today: dt.date):
    """Return what could meet the open need ``need_id``, or None if it is not in scope.

    Returns a dict: ``need`` (id, category, status, identified_on, dong), ``minor_categories``
    (those of the need's domain), ``stock`` (lots with a balance, not expired, nearest centre
    first, then soonest expiry: centre id and name, distance_m, same_dong, minor, item, unit,
    expires_on, quantity) and ``agencies`` (providers other than community centres that gave
    those categories to residents of nearby dongs in the last year: id, name, records,
    residents, nearest_m; nearest first, then most records).
    """
    where, params = resident_scope.sql("a.code", "r.id")
    need = (
        session.execute(
            text(f"""SELECT n.external_id AS need_id, r.external_id AS resident_id,
            n.category, n.status, n.identified_on,
            a.id AS area_id, a.code AS area_code, a.name AS area_name
            FROM needs n JOIN residents r ON r.id = n.resident_id
            JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
            WHERE n.external_id = :need{where}"""),
            params | {"need": need_id},
        )
        .mappings()
        .first()
    )
    if need is None:
        return None
    need = dict(need)
    minors = [code for code, spec in SUPPORT_MINOR.items() if spec[3] == need["category"]]
    origin = f"""(SELECT COALESCE(
        (SELECT f.geom FROM providers p JOIN facilities f ON f.id = p.facility_id
         WHERE p.area_id = {int(need["area_id"])} AND p.kind = 'community_centre'
         ORDER BY p.id LIMIT 1),
        (SELECT label_point FROM areas WHERE id = {int(need["area_id"])})))"""
    stock_rows = session.execute(
        text(f"""SELECT p.external_id AS centre_id, p.name AS centre_name,
            COALESCE(p.area_id = :area, false) AS same_dong,
            round(ST_Distance({_CENTRE_POINT}::geography, {origin}::geography))::int
                AS distance_m,
            m.minor_category, m.item, m.unit, m.expires_on,
            SUM({SIGNED_QUANTITY_SQL}) AS quantity
            FROM stock_movements m JOIN providers p ON p.id = m.centre_id
            LEFT JOIN facilities f ON f.id = p.facility_id
            LEFT JOIN areas pa ON pa.id = p.area_id
            WHERE m.minor_category = ANY(:minors)
              AND (m.expires_on IS NULL OR m.expires_on >= :today)
            GROUP BY p.external_id, p.name, p.area_id, f.geom, pa.label_point,
                m.minor_category, m.item, m.unit, m.expires_on
            HAVING SUM({SIGNED_QUANTITY_SQL}) > 1e-9
            ORDER BY same_dong DESC, distance_m NULLS LAST, m.expires_on NULLS LAST,
                p.external_id, m.minor_category, m.item"""),
        {"area": need["area_id"], "minors": minors, "today": today},
    ).mappings()
    agency_rows = session.execute(
        text("""WITH near AS (
              SELECT a.id, ST_Distance(a.label_point::geography, o.label_point::geography)
                AS metres
              FROM areas a, areas o WHERE o.id = :area
                AND ST_DWithin(a.label_point::geography, o.label_point::geography, :radius))
            SELECT p.external_id AS provider_id, p.name AS provider_name,
                count(*) AS records, count(DISTINCT s.resident_id) AS residents,
                round(min(near.metres))::int AS nearest_m
            FROM support_records s JOIN providers p ON p.id = s.provider_id
            JOIN residents r ON r.id = s.resident_id
            JOIN households h ON h.id = r.household_id JOIN near ON near.id = h.area_id
            WHERE s.minor_category = ANY(:minors) AND s.provided_on > :since
              AND s.provided_on <= :today AND p.kind IS DISTINCT FROM 'community_centre'
            GROUP BY p.external_id, p.name
            ORDER BY nearest_m, records DESC, p.external_id"""),
        {
            "area": need["area_id"],
            "radius": NEARBY_METRES,
            "minors": minors,
            "since": today - dt.timedelta(days=AGENCY_LOOKBACK_DAYS),
            "today": today,
        },
    ).mappings()
    stock_list = []
    for r in stock_rows:
        row = dict(r)
        row["quantity"] = round(float(row["quantity"]), 6)
        stock_list.append(row)
    del need["area_id"]
    return {
        "need": need,
        "minor_categories": minors,
        "stock": stock_list,
        "agencies": [dict(r) for r in agency_rows],
    }
