"""A hand-built shared-support scenario for the warnings' tests (geo, CLI).

On :data:`TODAY`, in the first dong: 김순자 under two resident ids (R-SW-1 with an rrn HMAC,
R-SW-2 without, same name, birth year and address) gets rice from P-SW-A (as R-SW-1) and
P-SW-B (as R-SW-2) five days apart: one duplicate across the two ids. R-SW-3 has a need
identified 40 days ago that nobody met (open need) and one 25 days ago (due soon); R-SW-4 gets
side dishes from two providers 20 days apart (near-duplicate). The centre P-SW-C holds a lot of
rice expiring in 10 days and one expired yesterday. Everything else is quiet.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

TODAY = dt.date(2026, 6, 30)
ADDRESS = "서울특별시 서대문구 연희로 12 101호"


def _one(session, sql: str, **params) -> int:
    return session.execute(text(sql), params).scalar_one()


def build(session) -> dict[str, int]:
    """Insert the scenario; returns external id -> database id."""
    area = _one(session, "SELECT id FROM areas ORDER BY code LIMIT 1")
    ids: dict[str, int] = {"area": area}
    for provider in ("P-SW-A", "P-SW-B", "P-SW-C"):
        ids[provider] = _one(
            session,
            """INSERT INTO providers (external_id, name, sector, kind, area_id)
               VALUES (:e, :e, 'private', :k, :a) RETURNING id""",
            e=provider,
            k="community_centre" if provider == "P-SW-C" else "agency",
            a=area,
        )
    people = {
        "R-SW-1": ("김순자", 1941, ADDRESS, b"\x01" * 32),
        "R-SW-2": ("김순자", 1941, ADDRESS, None),
        "R-SW-3": ("박영수", 1950, "서울특별시 서대문구 통일로 1", None),
        "R-SW-4": ("이말순", 1945, "서울특별시 서대문구 통일로 2", None),
    }
    for rid, (name, year, address, rrn) in people.items():
        ids[rid] = _one(
            session,
            """WITH h AS (INSERT INTO households (external_id, area_id, size,
                   monthly_income_krw, address, geom)
                   SELECT :h, id, 1, 0, :addr, ST_PointOnSurface(geom) FROM areas WHERE id = :a
                   RETURNING id)
               INSERT INTO residents (external_id, household_id, name, rrn_hmac, birth_year, sex,
                   lives_alone, has_disability, registered_on)
               SELECT :r, id, :n, :rrn, :y, 'F', true, false, '2020-01-01' FROM h
               RETURNING id""",
            h=f"H-{rid}",
            addr=address,
            a=area,
            r=rid,
            n=name,
            rrn=rrn,
            y=year,
        )

    def record(external_id, resident, provider, minor, days_ago, category="daily_living"):
        ids[external_id] = _one(
            session,
            """INSERT INTO support_records (external_id, resident_id, provider_id, category,
                   item, quantity, unit, provided_on, minor_category, funding, entered_by)
               VALUES (:e, :r, :p, :c, :i, 1, '개', :d, :m, 'donation', 'test') RETURNING id""",
            e=external_id,
            r=ids[resident],
            p=ids[provider],
            c=category,
            i=minor,
            d=TODAY - dt.timedelta(days=days_ago),
            m=minor,
        )

    record("S-SW-1", "R-SW-1", "P-SW-A", "rice", 10)
    record("S-SW-2", "R-SW-2", "P-SW-B", "rice", 5)
    record("S-SW-3", "R-SW-4", "P-SW-A", "side_dishes", 40)
    record("S-SW-4", "R-SW-4", "P-SW-B", "side_dishes", 20)
    for need, days_ago in (("N-SW-1", 40), ("N-SW-2", 25)):
        ids[need] = _one(
            session,
            """INSERT INTO needs (external_id, resident_id, category, status, identified_on,
                   entered_by)
               VALUES (:e, :r, 'health', 'open', :d, 'test') RETURNING id""",
            e=need,
            r=ids["R-SW-3"],
            d=TODAY - dt.timedelta(days=days_ago),
        )
    for days in (10, -1):
        session.execute(
            text("""INSERT INTO stock_movements (centre_id, kind, moved_on, minor_category,
                       item, unit, quantity, expires_on, entered_by)
                    VALUES (:c, 'received', :on, 'rice', '쌀 10kg', '포', 5, :x, 'test')"""),
            {
                "c": ids["P-SW-C"],
                "on": TODAY - dt.timedelta(days=30),
                "x": TODAY + dt.timedelta(days=days),
            },
        )
    return ids
