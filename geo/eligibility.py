"""Eligibility pre-screening in the database: the screening's inputs, its stored results.

:func:`screening_inputs` reads one row per household (active members only) in the shape
:func:`eligibility.screen.screen` takes; :func:`refresh_eligibility` screens every household
and replaces ``eligibility_results`` (rows likely eligible or receiving); the read functions
answer the page, the API, the map filter and the blind-spot list within a caller's scope.

Receiving = the household's imported ``receiving_programmes`` plus, for ``emergency``, an
``emergency_cash`` support record from a public provider in the last 183 days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from eligibility.catalogue import Catalogue, load_catalogue
from eligibility.screen import screen
from geo.db import copy_arrow
from geo.features import read_median_income
from geo.scope import Scope
from visitmap.errors import NotFound

#: A crisis signal this recent makes a household a candidate for emergency support, days.
CRISIS_DAYS = 183


def _inputs_sql(where: str = "") -> str:
    return f"""
    WITH members AS (
        SELECT r.household_id,
               count(*) FILTER (WHERE :year - r.birth_year >= 65) AS members_65,
               count(*) FILTER (WHERE :year - r.birth_year BETWEEN 6 AND 18)
                   AS members_school_age,
               count(*) FILTER (WHERE r.has_disability AND :year - r.birth_year >= 18)
                   AS disabled_adults,
               min(r.id) AS head_id
        FROM residents r
        WHERE r.status = 'active'
        GROUP BY r.household_id
    ), signals AS (
        SELECT DISTINCT coalesce(s.household_id, r.household_id) AS household_id
        FROM crisis_signals s LEFT JOIN residents r ON r.id = s.resident_id
        WHERE s.observed_on <= CAST(:as_of AS date)
          AND s.observed_on > CAST(:as_of AS date) - {CRISIS_DAYS}
    ), emergency AS (
        SELECT DISTINCT r.household_id
        FROM support_records sr
        JOIN providers p ON p.id = sr.provider_id AND p.sector = 'public'
        JOIN residents r ON r.id = sr.resident_id
        WHERE sr.minor_category = 'emergency_cash'
          AND sr.provided_on <= CAST(:as_of AS date)
          AND sr.provided_on > CAST(:as_of AS date) - {CRISIS_DAYS}
    )
    SELECT h.id AS household_id, a.code AS area_code, h.size, h.monthly_income_krw,
           h.assets_krw, m.members_65, m.members_school_age, m.disabled_adults,
           (sg.household_id IS NOT NULL) AS crisis_signal,
           array_to_string(
               h.receiving_programmes
               || CASE WHEN e.household_id IS NULL THEN '{{}}'::text[]
                       ELSE ARRAY['emergency'] END, ';') AS receiving,
           m.head_id
    FROM households h
    JOIN members m ON m.household_id = h.id
    JOIN areas a ON a.id = h.area_id
    LEFT JOIN signals sg ON sg.household_id = h.id
    LEFT JOIN emergency e ON e.household_id = h.id
    WHERE true{where}
    ORDER BY h.id
    """


def screening_inputs(
    session: Session, *, as_of: dt.date, scope: Scope | None = None, household_id: int | None = None
) -> pd.DataFrame:
    """Return one row per household with active members, in the screening's input shape."""
    where, params = (scope or Scope.everything()).sql("a.code", resident=None)
    if household_id is not None:
        where += " AND h.id = :household_id"
        params["household_id"] = household_id
    result = session.execute(
        text(_inputs_sql(where)), {"year": as_of.year, "as_of": as_of, **params}
    )
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    frame["receiving"] = [
        [c for c in str(v).split(";") if c] if isinstance(v, str) else []
        for v in frame["receiving"]
    ]
    frame["crisis_signal"] = frame["crisis_signal"].astype(bool)
    frame["assets_krw"] = pd.to_numeric(frame["assets_krw"], errors="coerce")
    return frame


def screen_households(
    session: Session,
    *,
    as_of: dt.date,
    catalogue: Catalogue | None = None,
    scope: Scope | None = None,
    household_id: int | None = None,
) -> pd.DataFrame:
    """Screen the households (all programmes, eligible or not), with area and head."""
    catalogue = catalogue or load_catalogue()
    inputs = screening_inputs(session, as_of=as_of, scope=scope, household_id=household_id)
    results = screen(inputs, catalogue, read_median_income())
    context = inputs.set_index("household_id")[["area_code", "head_id"]]
    return results.join(context, on="household_id")


@dataclass(frozen=True)
class Refreshed:
    """What a full screening stored."""

    catalogue_version: str
    households: int
    rows: int
    unreached_households: int


def refresh_eligibility(
    session: Session, *, as_of: dt.date, catalogue: Catalogue | None = None
) -> Refreshed:
    """Screen every household and replace ``eligibility_results`` in the caller's transaction."""
    catalogue = catalogue or load_catalogue()
    results = screen_households(session, as_of=as_of, catalogue=catalogue)
    kept = results[results["likely_eligible"] | results["receiving"]]
    session.execute(text("DELETE FROM eligibility_results"))
    table = pa.table(
        {
            "household_id": pa.array(kept["household_id"].to_numpy(dtype=np.int64)),
            "programme": pa.array(kept["programme"].astype(str).tolist()),
            "catalogue_version": pa.array([catalogue.version] * len(kept)),
            "screened_on": pa.array([as_of] * len(kept), type=pa.date32()),
            "likely_eligible": pa.array(kept["likely_eligible"].to_numpy(dtype=bool)),
            "receiving": pa.array(kept["receiving"].to_numpy(dtype=bool)),
            "reason_ko": pa.array(kept["reason_ko"].astype(str).tolist()),
            "reason_en": pa.array(kept["reason_en"].astype(str).tolist()),
        }
    )
    if len(kept):
        copy_arrow(session, "eligibility_results", table)
    unreached = kept[kept["likely_eligible"] & ~kept["receiving"]]["household_id"].nunique()
    return Refreshed(
        catalogue.version, int(results["household_id"].nunique()), len(kept), int(unreached)
    )


def area_summary(session: Session, scope: Scope) -> pd.DataFrame:
    """Per dong and programme: households likely eligible, receiving, and eligible unreached."""
    where, params = scope.sql("a.code", resident=None)
    rows = session.execute(
        text(f"""
        SELECT a.code AS area_code, a.name AS area_name, e.programme,
               count(*) FILTER (WHERE e.likely_eligible) AS eligible,
               count(*) FILTER (WHERE e.receiving) AS receiving,
               count(*) FILTER (WHERE e.likely_eligible AND NOT e.receiving) AS unreached
        FROM eligibility_results e
        JOIN households h ON h.id = e.household_id
        JOIN areas a ON a.id = h.area_id
        WHERE true{where}
        GROUP BY a.code, a.name, e.programme
        ORDER BY a.code, e.programme"""),
        params,
    ).mappings()
    return pd.DataFrame(
        list(rows),
        columns=["area_code", "area_name", "programme", "eligible", "receiving", "unreached"],
    )


def unreached_people(
    session: Session,
    scope: Scope,
    *,
    area_code: str | None = None,
    programme: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Households likely eligible and not receiving, one row per household and programme.

    Each names the household's reference person (its smallest active resident id, the one the
    page links to), the dong and the deciding rule.
    """
    where, params = scope.sql("a.code", resident="r.id")
    if area_code is not None:
        where += " AND a.code = :area_code"
        params["area_code"] = area_code
    if programme is not None:
        where += " AND e.programme = :programme"
        params["programme"] = programme
    rows = session.execute(
        text(f"""
        SELECT r.id AS resident_db_id, r.external_id AS resident_id, r.name,
               a.code AS area_code, a.name AS area_name, h.size AS household_size,
               e.programme, e.reason_ko, e.reason_en, e.screened_on
        FROM eligibility_results e
        JOIN households h ON h.id = e.household_id
        JOIN areas a ON a.id = h.area_id
        JOIN LATERAL (
            SELECT id, external_id, name FROM residents
            WHERE household_id = h.id AND status = 'active' ORDER BY id LIMIT 1
        ) r ON true
        WHERE e.likely_eligible AND NOT e.receiving{where}
        ORDER BY a.code, r.external_id, e.programme
        LIMIT :limit"""),
        {**params, "limit": limit},
    ).mappings()
    return pd.DataFrame(
        list(rows),
        columns=[
            "resident_db_id",
            "resident_id",
            "name",
            "area_code",
            "area_name",
            "household_size",
            "programme",
            "reason_ko",
            "reason_en",
            "screened_on",
        ],
    )


def resident_household(session: Session, scope: Scope, resident_id: str) -> tuple[int, int]:
    """Return (resident db id, household id) of a resident in scope; else :class:`NotFound`."""
    where, params = scope.sql("a.code", resident="r.id")
    row = session.execute(
        text(f"""
        SELECT r.id, r.household_id FROM residents r
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE r.external_id = :rid{where}"""),
        {"rid": resident_id, **params},
    ).first()
    if row is None:
        raise NotFound(f"no resident {resident_id!r}")
    return int(row[0]), int(row[1])
