"""The feature table computed in PostGIS (the same definitions as scoring.features).

:func:`load_features` runs one SQL query per call; :func:`load_feature_inputs` reads the raw
tables for :func:`scoring.features.compute_features`, so notebooks and tests can check that
both give the same numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import read_query_frame
from geo.scope import Scope
from geo.settings import PROJECT_ROOT
from geo.vocab import CRISIS_SIGNAL_KINDS
from scoring.features import (
    CONTACT_OUTCOMES,
    DEFAULT_CADENCE_DAYS,
    DEFAULT_PREVIOUS_TIER,
    FEATURE_NAMES,
    MET_OUTCOMES,
    SIGNAL_WINDOWS_DAYS,
    median_income_krw,
)

MEDIAN_INCOME_FILE = PROJECT_ROOT / "data" / "standard_median_income.csv"


def read_median_income() -> pd.DataFrame:
    """The standard median income table (data/standard_median_income.csv)."""
    return pd.read_csv(MEDIAN_INCOME_FILE)


@dataclass(frozen=True)
class FeatureTable:
    """Features by resident external id, and the context a score run keeps beside them.

    ``context`` has db_id (residents.id), household_id (external), area_code, birth_year,
    registered_on and last_met_on (None if never met).
    """

    features: pd.DataFrame
    context: pd.DataFrame
    as_of: dt.date


def _scope_sql(scope: Scope) -> tuple[str, dict]:
    if scope.is_everything:
        return "", {}
    return " AND a.code = ANY(:scope_codes)", {"scope_codes": sorted(scope.area_codes or [])}


def _previous_tier_sql(previous_run_id: int | None) -> str:
    if previous_run_id is None:
        return "NULL::smallint"
    return (
        "(SELECT ps.tier FROM resident_scores ps WHERE ps.run_id = :previous_run_id "
        "AND ps.resident_id = r.id)"
    )


def features_sql(previous_run_id: int | None, scope: Scope) -> tuple[str, dict]:
    """The feature query and its fixed parameters (``as_of`` and tables are bound later)."""
    signal_columns = []
    for window, days in SIGNAL_WINDOWS_DAYS.items():
        since = f"s.observed_on > CAST(:as_of AS date) - {days}"
        signal_columns.append(f"count(*) FILTER (WHERE {since}) AS crisis_signals_{window}")
        for kind in CRISIS_SIGNAL_KINDS:
            signal_columns.append(
                f"count(*) FILTER (WHERE {since} AND s.kind = '{kind}') AS signals_{kind}_{window}"
            )
    scope_sql, params = _scope_sql(scope)
    contact = ", ".join(f"'{o}'" for o in CONTACT_OUTCOMES)
    met = ", ".join(f"'{o}'" for o in MET_OUTCOMES)
    # Visits and signals are aggregated on their own tables (they are small beside the
    # residents) and joined once to the people; no CTE is scanned twice and nothing is sorted.
    sql = f"""
    WITH last_visits AS (
        SELECT v.resident_id,
               max((v.visited_at AT TIME ZONE 'Asia/Seoul')::date)
                   FILTER (WHERE v.outcome IN ({contact})) AS last_contact_on,
               max((v.visited_at AT TIME ZONE 'Asia/Seoul')::date)
                   FILTER (WHERE v.outcome IN ({met})) AS last_met_on
        FROM visits v
        WHERE (v.visited_at AT TIME ZONE 'Asia/Seoul')::date <= CAST(:as_of AS date)
        GROUP BY v.resident_id
    ),
    resident_signals AS (
        SELECT s.resident_id, {", ".join(signal_columns)}
        FROM crisis_signals s
        WHERE s.resident_id IS NOT NULL AND s.observed_on <= CAST(:as_of AS date)
        GROUP BY s.resident_id
    ),
    household_signals AS (
        SELECT s.household_id, {", ".join(signal_columns)}
        FROM crisis_signals s
        WHERE s.household_id IS NOT NULL AND s.observed_on <= CAST(:as_of AS date)
        GROUP BY s.household_id
    ),
    median AS (
        SELECT * FROM unnest(CAST(:sizes AS int[]), CAST(:medians AS float8[]))
            AS m(size, median_income_krw)
    )
    SELECT r.external_id AS resident_id, r.id AS db_id,
           h.external_id AS household_id,
           a.code AS area_code, r.birth_year, r.registered_on, lv.last_met_on,
           r.lives_alone::int AS lives_alone,
           :as_of_year - r.birth_year AS age_years,
           h.size AS household_size,
           r.has_disability::int AS has_disability,
           CAST(:as_of AS date) - coalesce(lv.last_contact_on, r.registered_on)
               AS days_since_last_contact,
           h.nearest_community_centre_m, h.nearest_senior_or_welfare_m,
           h.monthly_income_krw / m.median_income_krw AS income_to_median_ratio,
           coalesce(h.assets_krw, 0) / 1e6 AS assets_million_krw,
           {
        ", ".join(
            f"coalesce(rs.{name}, 0) + coalesce(hs.{name}, 0) AS {name}"
            for name in (c.split(" AS ")[-1] for c in signal_columns)
        )
    },
           CAST(:as_of AS date) - coalesce(lv.last_met_on, r.registered_on)
               AS days_since_met_visit,
           {_previous_tier_sql(previous_run_id)} AS previous_tier
    FROM residents r
    JOIN households h ON h.id = r.household_id
    JOIN areas a ON a.id = h.area_id
    JOIN median m ON m.size = h.size
    LEFT JOIN last_visits lv ON lv.resident_id = r.id
    LEFT JOIN resident_signals rs ON rs.resident_id = r.id
    LEFT JOIN household_signals hs ON hs.household_id = r.household_id
    WHERE r.status = 'active'{scope_sql}
    """
    return sql, params


def _pyformat(sql: str) -> str:
    """``:name`` placeholders (SQLAlchemy) as ``%(name)s`` (psycopg), for COPY."""
    return re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", sql)


def load_features(
    session: Session,
    scope: Scope,
    *,
    as_of: dt.date,
    previous_run_id: int | None = None,
    cadence_days: dict[int, int] | None = None,
    median_income: pd.DataFrame | None = None,
) -> FeatureTable:
    """The feature table of the active residents in ``scope``, computed in PostGIS."""
    cadence = DEFAULT_CADENCE_DAYS if cadence_days is None else cadence_days
    table = read_median_income() if median_income is None else median_income
    sizes = list(range(1, 21))
    medians = median_income_krw(table, as_of.year, sizes).tolist()
    sql, params = features_sql(previous_run_id, scope)
    params |= {"as_of": as_of, "as_of_year": as_of.year, "sizes": sizes, "medians": medians}
    if previous_run_id is not None:
        params["previous_run_id"] = previous_run_id
    # The query's cost estimate triggers PostgreSQL's JIT, which costs ~2 s and saves nothing.
    session.execute(text("SET LOCAL jit = off"))
    frame = read_query_frame(
        session, _pyformat(sql), params, text_columns=("resident_id", "household_id", "area_code")
    )
    # The query leaves rows in the order the planner produced them; order by the database id
    # (an integer sort, where ORDER BY external_id in SQL spilled ~300 MB to disk at 1M rows).
    frame = frame.sort_values("db_id", kind="stable").set_index("resident_id")
    tiers = frame["previous_tier"].fillna(DEFAULT_PREVIOUS_TIER).astype(int)
    frame["days_overdue"] = (frame["days_since_met_visit"] - tiers.map(cadence)).clip(lower=0)
    features = frame[list(FEATURE_NAMES)].astype(float)
    context = frame[
        ["db_id", "household_id", "area_code", "birth_year", "registered_on", "last_met_on"]
    ]
    return FeatureTable(features, context, as_of)


def load_feature_inputs(session: Session, scope: Scope) -> dict[str, pd.DataFrame]:
    """The raw tables :func:`scoring.features.compute_features` takes, for active residents
    in ``scope`` (households as a GeoDataFrame in EPSG:4326)."""
    scope_sql, params = _scope_sql(scope)
    conn = session.connection()
    residents = pd.read_sql_query(
        text(f"""
        SELECT r.external_id AS resident_id, h.external_id AS household_id, r.birth_year,
               r.lives_alone, r.has_disability, r.registered_on
        FROM residents r JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = h.area_id WHERE r.status = 'active'{scope_sql}"""),
        conn,
        params=params,
    )
    households = gpd.read_postgis(
        text(f"""
        SELECT DISTINCT h.external_id AS household_id, h.size, h.monthly_income_krw,
               h.assets_krw, h.geom
        FROM households h JOIN areas a ON a.id = h.area_id
        JOIN residents r ON r.household_id = h.id
        WHERE r.status = 'active'{scope_sql}"""),
        conn,
        geom_col="geom",
        params=params,
    )
    facilities = gpd.read_postgis(text("SELECT kind, geom FROM facilities"), conn, geom_col="geom")
    visits = pd.read_sql_query(
        text(f"""
        SELECT r.external_id AS resident_id, v.visited_at, v.outcome
        FROM visits v JOIN residents r ON r.id = v.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE r.status = 'active'{scope_sql}"""),
        conn,
        params=params,
    )
    signals = pd.read_sql_query(
        text(f"""
        SELECT r.external_id AS resident_id, h.external_id AS household_id, s.kind,
               s.observed_on
        FROM crisis_signals s
        LEFT JOIN residents r ON r.id = s.resident_id
        LEFT JOIN households h ON h.id = coalesce(s.household_id, r.household_id)
        JOIN areas a ON a.id = h.area_id WHERE true{scope_sql}"""),
        conn,
        params=params,
    )
    # a resident-level signal carries only the resident; a household-level one only the household
    signals.loc[signals["resident_id"].notna(), "household_id"] = None
    return {
        "residents": residents,
        "households": households.rename_geometry("geometry"),
        "facilities": facilities.rename_geometry("geometry"),
        "visits": visits,
        "signals": signals,
    }
