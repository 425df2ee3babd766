"""The feature table computed in PostGIS (the same definitions as scoring.features).

:func:`load_features` runs a few flat SQL queries per call (:func:`features_sql`) and joins
them in numpy; :func:`load_feature_inputs` reads the raw
tables for :func:`scoring.features.compute_features`, so notebooks and tests can check that
both give the same numbers.

Length: the feature SQL and its numpy assembly are one definition (the same as
:mod:`scoring.features`), kept in one place so they cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import read_query_frame
from geo.scope import Scope
from geo.settings import PROJECT_ROOT
from scoring.features import (
    CONTACT_OUTCOMES,
    DEFAULT_CADENCE_DAYS,
    DEFAULT_PREVIOUS_TIER,
    FEATURE_NAMES,
    MET_OUTCOMES,
    SIGNAL_WINDOWS_DAYS,
    median_income_krw,
)
from visitmap.vocab import CRISIS_SIGNAL_KINDS

MEDIAN_INCOME_FILE = PROJECT_ROOT / "data" / "standard_median_income.csv"

#: The end of the Korean calendar day :as_of (visits before it happened on or before that day):
#: one constant, where converting every visit's time to a Korean date cost ~0.24 s more on the
#: Seoul demo's 262,565 visits (EXPLAIN ANALYZE, 545 vs 311 ms).
VISITED_BY_END_OF_SQL = "((CAST(:as_of AS date) + 1)::timestamp AT TIME ZONE 'Asia/Seoul')"

#: The label rule over a resident's visits ``v`` (grouped per resident): 1 = a visit confirmed
#: a crisis; 0 = met at least once and no crisis confirmed; NULL = never met. The learned
#: scorer trains on it (geo.score_runs.LABELS_SQL uses the same expression).
CRISIS_LABEL_SQL = (
    "(bool_or(v.outcome = 'crisis_confirmed') "
    f"FILTER (WHERE v.outcome IN ({', '.join(repr(o) for o in MET_OUTCOMES)})))::int"
)


def read_median_income() -> pd.DataFrame:
    """Read the standard median income table (data/standard_median_income.csv)."""
    return pd.read_csv(MEDIAN_INCOME_FILE)


@dataclass(frozen=True)
class FeatureTable:
    """Features by resident external id, and the context a score run keeps beside them.

    ``context`` has db_id (residents.id), household_id (external), area_code, birth_year,
    registered_on, last_met_on (NaT if never met), previous_tier (the previous run's tier
    code; NaN if not scored then or no previous run), previous_tier_since (the day the
    resident entered that tier, kept by that run; NaT where unknown), crisis_label (the
    learned scorer's label from visits up to ``as_of``, :data:`CRISIS_LABEL_SQL`; NA if
    never met), and for
    the due date (:func:`scoring.cadence.follow_up_due`) last_visit_on (any outcome),
    planned_on (the next visit date set on the latest visit) and unreachable_since. Dates
    are datetime64 columns, NaT where missing.
    """

    features: pd.DataFrame
    context: pd.DataFrame
    as_of: dt.date


def features_sql(
    previous_run_id: int | None, scope: Scope, resident_db_ids=None, id_range=None
) -> dict[str, tuple[str, dict]]:
    """Return the feature queries and their fixed parameters (``as_of`` etc. are bound later).

    Flat queries, all aggregation done by PostgreSQL: ``residents`` (one row per active
    resident in scope, with the unreachable mark), ``households`` (their households: size,
    income, assets, distances, dong), ``visits`` (last contact, last met and last visit date,
    and the crisis label, per visited resident), ``planned`` (the next visit date set on each
    resident's latest visit, where a form visit set one), ``signals`` (counts per subject,
    kind and window) and, with a previous run, ``previous_tiers`` (its residents as one id
    list per tier). They are joined in numpy by database id: at a million residents that is
    ~1.7 s faster than one SQL join
    that repeats each household's columns for every member, and ~2x faster than spreading 24
    mostly-zero count columns through the join and the COPY (docs/benchmarks.md).

    Parameters
    ----------
    previous_run_id : int or None
        The score run whose tiers are the previous tiers; None for no ``previous_tiers``.
    scope : Scope
        The residents to compute features for.
    resident_db_ids : iterable of int, optional
        residents.id values that narrow all of the queries to those residents (e.g. the one
        resident a recorded visit rescores); None means every resident in scope.
    id_range : tuple of (int, int), optional
        Only the residents whose residents.id is in this closed range (a chunk of a rescore,
        issue 15: a range keeps every query on its indexes, where a list of 250,000 ids made
        a chunk's queries twice as slow).

    Returns
    -------
    dict
        Query name to (SQL text with ``:name`` placeholders, parameters bound so far).
        ``:as_of`` (and ``:previous_run_id``) are left to the caller.
    """
    scope_sql, scope_params = scope.sql()
    params = dict(scope_params)
    only_people = only_households = only_visits = only_signals = ""
    if not scope.is_everything:
        only_people = (
            " AND r.household_id IN (SELECT h.id FROM households h "
            f"JOIN areas a ON a.id = h.area_id WHERE true{scope_sql})"
        )
        # the households of the residents in scope (the households query has no resident)
        only_households, _ = Scope(scope.area_codes).sql()
        if scope.per_resident:
            only_households += (
                " AND h.id IN (SELECT household_id FROM residents WHERE id = ANY(:scope_residents))"
            )
    if resident_db_ids is not None:
        params["resident_db_ids"] = [int(i) for i in resident_db_ids]
        only_people += " AND r.id = ANY(:resident_db_ids)"
        only_households += (
            " AND h.id IN (SELECT household_id FROM residents WHERE id = ANY(:resident_db_ids))"
        )
        only_visits = " AND v.resident_id = ANY(:resident_db_ids)"
        only_signals = (
            " AND (s.resident_id = ANY(:resident_db_ids) OR s.household_id IN "
            "(SELECT household_id FROM residents WHERE id = ANY(:resident_db_ids)))"
        )
    if id_range is not None:
        params["id_lo"], params["id_hi"] = (int(i) for i in id_range)
        between = "BETWEEN :id_lo AND :id_hi"
        only_people += f" AND r.id {between}"
        only_households += f" AND h.id IN (SELECT household_id FROM residents WHERE id {between})"
        only_visits += f" AND v.resident_id {between}"
        only_signals += (
            f" AND (s.resident_id {between} OR s.household_id IN "
            f"(SELECT household_id FROM residents WHERE id {between}))"
        )
    contact = ", ".join(f"'{o}'" for o in CONTACT_OUTCOMES)
    met = ", ".join(f"'{o}'" for o in MET_OUTCOMES)
    residents = f"""
    SELECT r.id AS db_id, r.external_id AS resident_id, r.household_id AS household_db_id,
           r.birth_year, r.registered_on, r.lives_alone::int AS lives_alone,
           r.has_disability::int AS has_disability, r.unreachable_since
    FROM residents r
    WHERE r.status = 'active'{only_people}
    """
    households = f"""
    SELECT h.id AS household_db_id, h.external_id AS household_id, a.code AS area_code,
           h.size AS household_size, h.monthly_income_krw, coalesce(h.assets_krw, 0) AS assets_krw,
           h.nearest_community_centre_m, h.nearest_senior_or_welfare_m
    FROM households h JOIN areas a ON a.id = h.area_id
    WHERE true{only_households}
    """
    visits = f"""
    SELECT v.resident_id AS db_id,
           (max(v.visited_at) FILTER (WHERE v.outcome IN ({contact}))
               AT TIME ZONE 'Asia/Seoul')::date AS last_contact_on,
           (max(v.visited_at) FILTER (WHERE v.outcome IN ({met}))
               AT TIME ZONE 'Asia/Seoul')::date AS last_met_on,
           (max(v.visited_at) AT TIME ZONE 'Asia/Seoul')::date AS last_visit_on,
           {CRISIS_LABEL_SQL} AS crisis_label
    FROM visits v
    WHERE v.visited_at < {VISITED_BY_END_OF_SQL}{only_visits}
    GROUP BY v.resident_id
    """
    # the next visit date the visitor set on each resident's latest visit (only residents
    # with a form visit that set one are looked at; NULL when the latest visit set none)
    planned = f"""
    SELECT DISTINCT ON (v.resident_id) v.resident_id AS db_id, v.next_visit_on AS planned_on
    FROM visits v
    WHERE v.visited_at < {VISITED_BY_END_OF_SQL}{only_visits}
      AND v.resident_id IN (SELECT resident_id FROM visits WHERE next_visit_on IS NOT NULL)
    ORDER BY v.resident_id, v.visited_at DESC, v.id DESC
    """
    windows = ", ".join(
        f"count(*) FILTER (WHERE s.observed_on > CAST(:as_of AS date) - {days}) AS n_{window}"
        for window, days in SIGNAL_WINDOWS_DAYS.items()
    )
    longest = max(SIGNAL_WINDOWS_DAYS.values())
    signals = f"""
    SELECT s.resident_id AS resident_db_id, s.household_id AS household_db_id, s.kind,
           {windows}
    FROM crisis_signals s
    WHERE s.observed_on <= CAST(:as_of AS date)
      AND s.observed_on > CAST(:as_of AS date) - {longest}{only_signals}
    GROUP BY s.resident_id, s.household_id, s.kind
    """
    narrow = {k: v for k, v in params.items() if k in ("resident_db_ids", "id_lo", "id_hi")}
    queries = {
        "residents": (residents, params),
        "households": (households, params),
        "visits": (visits, narrow),
        "planned": (planned, narrow),
        "signals": (signals, narrow),
    }
    if previous_run_id is not None:
        # The previous run's residents as one comma-separated id list per tier (three rows):
        # ~0.6 s at a million residents (query and parsing), where a row per resident took ~1.6 s
        # and the join ~1.5 s more.
        only_previous = (
            " AND resident_id = ANY(:resident_db_ids)" if resident_db_ids is not None else ""
        )
        if id_range is not None:
            only_previous += " AND resident_id BETWEEN :id_lo AND :id_hi"
        # grouped by the day each entered its tier too: still a few rows (tiers x run days)
        queries["previous_tiers"] = (
            f"""SELECT tier AS previous_tier, tier_since AS previous_tier_since,
                string_agg(resident_id::text, ',') AS db_ids
            FROM resident_scores WHERE run_id = :previous_run_id{only_previous}
            GROUP BY tier, tier_since""",
            narrow,
        )
    return queries


def _pyformat(sql: str) -> str:
    """``:name`` placeholders (SQLAlchemy) as ``%(name)s`` (psycopg), for COPY."""
    return re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", sql)


def _days(values) -> np.ndarray:
    """Return a column of dates (datetime64, or all-missing objects) as datetime64[D]."""
    values = np.asarray(values)
    if values.dtype.kind != "M":  # a column with no date at all comes as None objects
        values = pd.to_datetime(pd.Series(values, dtype=object)).to_numpy()
    return values.astype("datetime64[D]")


def _previous_tiers(db_ids: pd.Series, lists: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Return each resident's tier in the previous run and the day it entered it.

    NaN and NaT where the resident was not scored in it (or, for the day, where the run
    did not keep it). ``lists`` holds the run's residents as one comma-separated id list per
    tier and ``tier_since`` day.
    """
    out = np.full(len(db_ids), np.nan)
    since = np.full(len(db_ids), np.datetime64("NaT"), dtype="datetime64[D]")
    if lists is None:
        return out, since
    index = pd.Index(db_ids)
    days = _days(lists["previous_tier_since"])
    for tier, day, ids in zip(lists["previous_tier"], days, lists["db_ids"], strict=True):
        position = index.get_indexer(np.fromstring(ids, dtype=np.int64, sep=","))
        out[position[position >= 0]] = tier
        since[position[position >= 0]] = day
    return out, since


def _signal_counts(
    db_ids: np.ndarray, household_rows: np.ndarray, household_db_ids: np.ndarray, signals
) -> dict[str, np.ndarray]:
    """Per-resident signal counts (totals and by kind, per window) from the grouped signals.

    ``db_ids`` are the residents' database ids and ``household_rows`` the position of each
    resident's household in ``household_db_ids``. A resident-level signal counts for its
    resident; a household-level one for every active member of the household (as
    scoring.features does). Returns one count column per name.
    """
    names = [
        name
        for window in SIGNAL_WINDOWS_DAYS
        for name in [f"crisis_signals_{window}"]
        + [f"signals_{kind}_{window}" for kind in CRISIS_SIGNAL_KINDS]
    ]
    width = len(names)
    flat = np.zeros(len(db_ids) * width, dtype=np.int64)  # row-major (resident, name)
    kind_codes = {kind: k for k, kind in enumerate(CRISIS_SIGNAL_KINDS)}
    own = signals[signals["resident_db_id"].notna()]
    own_rows = pd.Index(db_ids).get_indexer(own["resident_db_id"].to_numpy(dtype=np.int64))
    # household signals: one entry per active member (members grouped by household position)
    shared = signals[signals["household_db_id"].notna()]
    signal_households = pd.Index(household_db_ids).get_indexer(
        shared["household_db_id"].to_numpy(dtype=np.int64)
    )
    by_household = np.argsort(household_rows, kind="stable")
    first = np.searchsorted(household_rows[by_household], signal_households, side="left")
    last = np.searchsorted(household_rows[by_household], signal_households, side="right")
    size = np.where(signal_households >= 0, last - first, 0)
    entry = np.repeat(np.arange(len(shared)), size)
    member_rows = by_household[
        np.repeat(first, size) + np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    ]
    for rows, table, picks in (
        (own_rows, own, np.flatnonzero(own_rows >= 0)),  # skip residents not in the table
        (member_rows, shared, entry),
    ):
        rows = rows[picks] if table is own else rows
        kinds = np.array([kind_codes[k] for k in table["kind"].to_numpy()], dtype=np.int64)
        kinds = kinds[picks] if len(kinds) else kinds
        for w, window in enumerate(SIGNAL_WINDOWS_DAYS):
            n = table[f"n_{window}"].to_numpy(dtype=np.int64)[picks]
            base = rows * width + w * (1 + len(CRISIS_SIGNAL_KINDS))
            np.add.at(flat, base, n)  # the window's total
            np.add.at(flat, base + 1 + kinds, n)  # by kind
    counts = flat.reshape(len(db_ids), width)
    return {name: counts[:, j] for j, name in enumerate(names)}


def load_features(
    session: Session,
    scope: Scope,
    *,
    as_of: dt.date,
    previous_run_id: int | None = None,
    cadence_days: dict[int, int] | None = None,
    median_income: pd.DataFrame | None = None,
    resident_db_ids=None,
    id_range=None,
) -> FeatureTable:
    """Compute the feature table of the active residents in ``scope`` in PostGIS.

    Parameters
    ----------
    session : Session
        The database session; its transaction gets ``SET LOCAL jit = off``.
    scope : Scope
        The residents to compute features for.
    as_of : date
        The Korean calendar day the features describe: visits up to its end, signals up to
        it, ages in its year.
    previous_run_id : int, optional
        The score run whose tiers are the previous tiers (``previous_tier`` in the context,
        NaN for a resident not scored in it).
    cadence_days : dict of int to int, optional
        Days between visits per tier code (default
        :data:`scoring.features.DEFAULT_CADENCE_DAYS`), for ``days_overdue``.
    median_income : DataFrame, optional
        The standard median income table (default :func:`read_median_income`).
    resident_db_ids : iterable of int, optional
        Only the residents with these residents.id values.
    id_range : tuple of (int, int), optional
        Only the residents whose residents.id is in this closed range (:func:`features_sql`).

    Returns
    -------
    FeatureTable
        Rows ordered by the residents' database ids.
    """
    cadence = DEFAULT_CADENCE_DAYS if cadence_days is None else cadence_days
    table = read_median_income() if median_income is None else median_income
    queries = features_sql(previous_run_id, scope, resident_db_ids, id_range)
    bound = {"as_of": as_of}
    if previous_run_id is not None:
        bound["previous_run_id"] = previous_run_id
    # The query's cost estimate triggers PostgreSQL's JIT, which costs ~2 s and saves nothing.
    session.execute(text("SET LOCAL jit = off"))
    previous_sql, previous_params = queries.pop("previous_tiers", (None, None))
    frames = {
        name: read_query_frame(
            session,
            _pyformat(sql),
            params | bound,
            text_columns=("resident_id", "household_id", "area_code", "kind"),
            date_as_object=False,
        )
        for name, (sql, params) in queries.items()
    }
    if previous_sql is not None:  # three rows of long text: a plain query, not the CSV reader
        frames["previous_tiers"] = pd.DataFrame(
            session.execute(text(previous_sql), previous_params | bound).all(),
            columns=["previous_tier", "previous_tier_since", "db_ids"],
        )
    # Rows come in the planner's order; order by the database id (an integer sort, where an
    # ORDER BY external_id in SQL spilled ~300 MB to disk at 1M rows).
    residents = frames["residents"]
    order = np.argsort(residents["db_id"].to_numpy(), kind="stable")
    db_id = residents["db_id"].to_numpy()[order]
    column = {name: residents[name].to_numpy()[order] for name in residents.columns}
    households = frames["households"]
    household_db_ids = households["household_db_id"].to_numpy()
    row = pd.Index(household_db_ids).get_indexer(column["household_db_id"])
    values: dict[str, np.ndarray] = {
        "lives_alone": column["lives_alone"],
        "age_years": as_of.year - column["birth_year"],
        "has_disability": column["has_disability"],
        "household_size": households["household_size"].to_numpy()[row],
    }
    for name in ("nearest_community_centre_m", "nearest_senior_or_welfare_m"):
        values[name] = households[name].to_numpy(dtype=float)[row]
    median = median_income_krw(table, as_of.year, values["household_size"])
    income = households["monthly_income_krw"].to_numpy(dtype=float)[row]
    values["income_to_median_ratio"] = income / median
    values["assets_million_krw"] = households["assets_krw"].to_numpy(dtype=float)[row] / 1e6
    # visit aggregates: dates, or missing where a resident has none
    visits = frames["visits"]
    visit_row = pd.Index(visits["db_id"].to_numpy()).get_indexer(db_id)
    has_visits = visit_row >= 0
    as_of_day = np.datetime64(as_of, "D")
    registered = _days(column["registered_on"])
    last_on: dict[str, np.ndarray] = {}
    for name in ("last_contact_on", "last_met_on", "last_visit_on"):
        days = _days(visits[name])
        last_on[name] = np.full(len(db_id), np.datetime64("NaT"), dtype="datetime64[D]")
        last_on[name][has_visits] = days[visit_row[has_visits]]
    since = {
        name: (as_of_day - np.where(np.isnat(day), registered, day)).astype(np.int64)
        for name, day in last_on.items()
        if name != "last_visit_on"
    }
    values["days_since_last_contact"] = since["last_contact_on"]
    values["days_since_met_visit"] = since["last_met_on"]
    values.update(_signal_counts(db_id, row, household_db_ids, frames["signals"]))
    previous_tier, previous_since = _previous_tiers(pd.Series(db_id), frames.get("previous_tiers"))
    tiers = np.where(np.isnan(previous_tier), DEFAULT_PREVIOUS_TIER, previous_tier).astype(int)
    cadence_of = np.array([cadence[t] for t in range(max(cadence) + 1)], dtype=np.int64)
    values["days_overdue"] = np.maximum(values["days_since_met_visit"] - cadence_of[tiers], 0)
    index = pd.Index(
        column["resident_id"], name="resident_id", dtype=residents["resident_id"].dtype
    )
    matrix = np.empty((len(db_id), len(FEATURE_NAMES)), dtype=float)
    for j, name in enumerate(FEATURE_NAMES):
        matrix[:, j] = values[name]
    features = pd.DataFrame(matrix, index=index, columns=list(FEATURE_NAMES), copy=False)
    label = np.full(len(db_id), -1, dtype=np.int64)
    if len(visits):
        crisis = visits["crisis_label"].to_numpy(dtype=float, na_value=np.nan)[visit_row]
        known = has_visits & ~np.isnan(crisis)
        label[known] = crisis[known]
    planned = frames["planned"]
    planned_row = pd.Index(planned["db_id"].to_numpy()).get_indexer(db_id)
    planned_on = np.full(len(db_id), np.datetime64("NaT"), dtype="datetime64[D]")
    planned_on[planned_row >= 0] = _days(planned["planned_on"])[planned_row[planned_row >= 0]]
    dates = {  # datetime64 columns (NaT where missing): no Python object per resident
        "registered_on": registered,
        "last_met_on": last_on["last_met_on"],
        "last_visit_on": last_on["last_visit_on"],
        "planned_on": planned_on,
        "previous_tier_since": previous_since,
        # the mark as it stood at as_of (a backdated run does not see later marks)
        "unreachable_since": np.where(
            _days(column["unreachable_since"]) <= as_of_day,
            _days(column["unreachable_since"]),
            np.datetime64("NaT"),
        ),
    }
    dates = {name: day.astype("datetime64[s]") for name, day in dates.items()}
    context = pd.DataFrame(
        {
            "db_id": db_id,
            "household_id": households["household_id"].to_numpy()[row],
            "area_code": households["area_code"].to_numpy()[row],
            "birth_year": column["birth_year"],
            "registered_on": dates["registered_on"],
            "last_met_on": dates["last_met_on"],
            "previous_tier": previous_tier,
            "previous_tier_since": dates["previous_tier_since"],
            "last_visit_on": dates["last_visit_on"],
            "planned_on": dates["planned_on"],
            "unreachable_since": dates["unreachable_since"],
            "crisis_label": pd.arrays.IntegerArray(
                np.maximum(label, 0).astype(np.int8), mask=label < 0
            ),
        },
        index=index,
    )
    return FeatureTable(features, context, as_of)


def load_feature_inputs(session: Session, scope: Scope) -> dict[str, pd.DataFrame]:
    """Read the raw tables :func:`scoring.features.compute_features` takes.

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        Which residents: the active residents in scope, their households (a GeoDataFrame,
        in EPSG:4326), their visits (all of them, whatever the date) and the crisis signals
        in scope; every facility.

    Returns
    -------
    dict of str to DataFrame
        ``residents``, ``households``, ``facilities``, ``visits``, ``signals``, as
        :func:`scoring.features.compute_features` names its arguments.
    """
    scope_sql, params = scope.sql()
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
