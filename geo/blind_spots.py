"""The blind-spot list in the database: its inputs, the stored list, and reads in scope.

:func:`blind_spot_inputs` reads one row per active resident of a run with what the coverage
rules need (tier, household point, nearest services, last contacts, recent signals);
:func:`store_blind_spots` replaces ``blind_spots``; the read functions answer the page, the
API and the map layer, only within the caller's scope. The rules are :mod:`blindspots`; the job
that ties them together is :mod:`visitmap.usecases.blind_spots`.

Contacts: a met visit (outcome ``met`` or ``crisis_confirmed``), a support record, or a need
recorded for the person (our data has no "signal handled" status: a need recorded on or after
a signal is how handling shows, so the need's day stands for it).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.scope import Scope
from visitmap.errors import FieldError
from visitmap.vocab import BLIND_SPOT_REASONS


class BlindSpotQueryError(FieldError):
    """A bad reason or tier in a blind-spot query."""


def blind_spot_inputs(session: Session, run_id: int, *, as_of: dt.date) -> pd.DataFrame:
    """Return one row per active resident scored in ``run_id`` with the coverage inputs."""
    result = session.execute(
        text("""
        WITH met AS (
            SELECT resident_id, max(visited_at)::date AS day FROM visits
            WHERE outcome IN ('met', 'crisis_confirmed')
              AND visited_at < (CAST(:as_of AS date) + 1)
            GROUP BY resident_id
        ), support AS (
            SELECT resident_id, max(provided_on) AS day FROM support_records
            WHERE provided_on <= :as_of GROUP BY resident_id
        ), need AS (
            SELECT resident_id, max(identified_on) AS day FROM needs
            WHERE identified_on <= :as_of GROUP BY resident_id
        ), signal AS (
            SELECT DISTINCT coalesce(s.resident_id, r.id) AS resident_id
            FROM crisis_signals s
            JOIN residents r ON r.id = s.resident_id OR r.household_id = s.household_id
            WHERE s.observed_on <= :as_of AND s.observed_on > CAST(:as_of AS date) - 365
        ), head AS (
            SELECT household_id, min(id) AS id FROM residents WHERE status = 'active'
            GROUP BY household_id
        )
        SELECT r.id AS resident_id, h.area_id, s.tier, r.household_id,
               (head.id = r.id) AS is_head,
               ST_Y(h.geom) AS lat, ST_X(h.geom) AS lon,
               h.nearest_community_centre_m, h.nearest_senior_or_welfare_m,
               met.day AS last_met, support.day AS last_support, need.day AS last_need,
               (signal.resident_id IS NOT NULL) AS signal_12m
        FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id AND r.status = 'active'
        JOIN households h ON h.id = r.household_id
        JOIN head ON head.household_id = r.household_id
        LEFT JOIN met ON met.resident_id = r.id
        LEFT JOIN support ON support.resident_id = r.id
        LEFT JOIN need ON need.resident_id = r.id
        LEFT JOIN signal ON signal.resident_id = r.id
        WHERE s.run_id = :run
        ORDER BY r.id"""),
        {"run": run_id, "as_of": as_of},
    )
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def unreached_programmes(session: Session) -> dict[int, list[str]]:
    """Return household id -> programmes likely eligible and not received (stored screening)."""
    rows = session.execute(
        text("""SELECT household_id, array_agg(programme ORDER BY programme)
                FROM eligibility_results WHERE likely_eligible AND NOT receiving
                GROUP BY household_id""")
    ).all()
    return {int(h): list(p) for h, p in rows}


def store_blind_spots(session: Session, rows: pd.DataFrame, *, run_id: int, as_of: dt.date) -> int:
    """Replace ``blind_spots`` with ``rows`` (resident_id, area_id, tier, reasons, detail)."""
    session.execute(text("DELETE FROM blind_spots"))
    if rows.empty:
        return 0
    session.execute(
        text("""INSERT INTO blind_spots (resident_id, run_id, area_id, tier, reasons, detail,
                                         computed_on)
                VALUES (:resident_id, :run, :area_id, :tier, :reasons,
                        CAST(:detail AS jsonb), :day)"""),
        [
            {
                "resident_id": int(r.resident_id),
                "run": run_id,
                "area_id": int(r.area_id),
                "tier": int(r.tier),
                "reasons": list(r.reasons),
                "detail": json.dumps(r.detail, ensure_ascii=False),
                "day": as_of,
            }
            for r in rows.itertuples(index=False)
        ],
    )
    return len(rows)


def contact_made(session: Session, resident_ids) -> None:
    """Drop the "no contact" reason of residents a met visit or a support record reached.

    A resident left with no reason leaves the list. The other reasons wait for the next full
    computation (they do not change with one contact).
    """
    ids = sorted({int(i) for i in resident_ids})
    if not ids:
        return
    session.execute(
        text("""DELETE FROM blind_spots WHERE resident_id = ANY(:ids)
                AND reasons = ARRAY['no_contact']::text[]"""),
        {"ids": ids},
    )
    session.execute(
        text("""UPDATE blind_spots SET reasons = array_remove(reasons, 'no_contact'),
                       detail = detail - 'last_contact'
                WHERE resident_id = ANY(:ids) AND 'no_contact' = ANY(reasons)"""),
        {"ids": ids},
    )


def _check(reason: str | None, tier: int | None) -> None:
    if reason is not None and reason not in BLIND_SPOT_REASONS:
        raise BlindSpotQueryError(
            f"unknown reason {reason!r} (known: {', '.join(BLIND_SPOT_REASONS)})", field="reason"
        )
    if tier is not None and tier not in (0, 1, 2):
        raise BlindSpotQueryError("must be 0, 1 or 2", field="tier")


def area_counts(session: Session, scope: Scope) -> list[dict]:
    """Per dong: people on the list, and per reason."""
    where, params = scope.sql("a.code", resident="b.resident_id")
    parts = ", ".join(
        f"count(*) FILTER (WHERE '{code}' = ANY(b.reasons)) AS {code}"
        for code in BLIND_SPOT_REASONS
    )
    rows = session.execute(
        text(f"""
        SELECT a.code, a.name, count(*) AS people, {parts}
        FROM blind_spots b JOIN areas a ON a.id = b.area_id
        WHERE true{where}
        GROUP BY a.code, a.name ORDER BY count(*) DESC, a.code"""),
        params,
    ).mappings()
    return [dict(r) for r in rows]


def people(
    session: Session,
    scope: Scope,
    *,
    area_code: str | None = None,
    reason: str | None = None,
    tier: int | None = None,
    limit: int = 500,
    with_points: bool = False,
) -> list[dict]:
    """Return the people on the list in scope, most reasons and highest tier first."""
    _check(reason, tier)
    where, params = scope.sql("a.code", resident="b.resident_id")
    if area_code is not None:
        where += " AND a.code = :area_code"
        params["area_code"] = area_code
    if reason is not None:
        where += " AND :reason = ANY(b.reasons)"
        params["reason"] = reason
    if tier is not None:
        where += " AND b.tier = :tier"
        params["tier"] = tier
    points = ", ST_Y(h.geom) AS lat, ST_X(h.geom) AS lon" if with_points else ""
    rows = session.execute(
        text(f"""
        SELECT r.external_id AS resident_id, a.code AS area_code, a.name AS area_name,
               b.tier, b.reasons, b.detail, b.computed_on{points}
        FROM blind_spots b
        JOIN residents r ON r.id = b.resident_id
        JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = b.area_id
        WHERE true{where}
        ORDER BY cardinality(b.reasons) DESC, b.tier DESC NULLS LAST, r.external_id
        LIMIT :limit"""),
        {**params, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]
