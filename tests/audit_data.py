"""Synthetic residents and audit rows for the access audit's tests (geo, CLI, web)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text

from geo.db import make_engine, session_scope
from geo.migrate import upgrade

#: a dong code and outline of the synthetic area made when no reference data is loaded
AREA_CODE = "1141099999"


def add_residents(session, external_ids: list[str]) -> dict[str, int]:
    """Synthetic residents (one household each) in the first area, made when there is none;
    returns public id -> database id."""
    area_id = session.execute(text("SELECT id FROM areas ORDER BY id LIMIT 1")).scalar()
    if area_id is None:
        area_id = session.execute(
            text("""INSERT INTO areas (code, name, district_code, district_name, geom)
                VALUES (:code, '시험동', '11410', '서대문구',
                    ST_Multi(ST_MakeEnvelope(126.93, 37.56, 126.94, 37.57, 4326)))
                RETURNING id"""),
            {"code": AREA_CODE},
        ).scalar_one()
    ids = {}
    for external_id in external_ids:
        ids[external_id] = session.execute(
            text("""WITH h AS (INSERT INTO households (external_id, area_id, size,
                    monthly_income_krw, geom)
                    SELECT :hid, id, 1, 0, ST_PointOnSurface(geom) FROM areas WHERE id = :area
                    RETURNING id)
                INSERT INTO residents (external_id, household_id, birth_year, sex, lives_alone,
                    has_disability, registered_on)
                SELECT :rid, id, 1950, 'F', true, false, '2020-01-01' FROM h
                RETURNING id"""),
            {"hid": f"H-{external_id}", "rid": external_id, "area": area_id},
        ).scalar_one()
    return ids


def insert_audit(
    session,
    *,
    at: dt.datetime | str | None = None,
    username: str = "kim",
    endpoint: str = "api.resident",
    resident_ids: list[int] = (),
    detail: dict | None = None,
    path: str | None = None,
) -> int:
    """An audit row written as-is (any ``at``; the triggers allow every INSERT)."""
    return session.execute(
        text("""INSERT INTO access_audit (at, username, role, address, method, endpoint, path,
                status, resident_ids, resident_count, detail)
            VALUES (coalesce(CAST(:at AS timestamptz), now()), :username, 'leader',
                '10.0.0.7', 'GET', :endpoint, :path, 200, CAST(:ids AS bigint[]), :count,
                CAST(:detail AS jsonb))
            RETURNING id"""),
        {
            "at": at,
            "username": username,
            "endpoint": endpoint,
            "path": path,
            "ids": list(resident_ids),
            "count": len(resident_ids),
            "detail": None if detail is None else json.dumps(detail),
        },
    ).scalar_one()


def audit_database(create, name: str) -> str:
    """A fresh database ``name`` (``create`` is the scratch_database factory, which prefixes
    the test database's name) at the newest schema with residents R-A1..R-A3; its URL."""
    url = create(name)
    engine = make_engine(url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            add_residents(session, ["R-A1", "R-A2", "R-A3"])
    finally:
        engine.dispose()
    return url
