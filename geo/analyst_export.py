"""What analysts get: pseudonymised per-resident rows and counts with small cells suppressed.

Analysts tune the scoring and look for patterns; they need features, scores, tiers and
outcomes, not people. :func:`analyst_residents` gives one row per scored resident under a
keyed pseudonym (HMAC-SHA256 of the resident's id under the pseudonym key: stable across
exports with the same key, unlinkable without it), with the dong but no coordinate, the birth
year but no date, and no name, address, registration number, note or other free text.
:func:`analyst_aggregates` counts residents per dong and tier (and optionally age band) and
suppresses every count from 1 to 4 (docs/analysts.md).

Length: the pseudonymisation and the suppression rules are one privacy policy, kept in one
module so that a reviewer reads all of it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.features import CRISIS_LABEL_SQL
from geo.scope import Scope
from geo.score_runs import published_run_id, unpack_vectors
from geo.settings import read_or_create_key
from visitmap.errors import FieldError
from visitmap.vocab import TIER_NAMES

PSEUDONYM_ENV = "VISITMAP_PSEUDONYM_KEY"
PSEUDONYM_FILE = "pseudonym.key"
PSEUDONYM_HEX_CHARS = 16
#: counts from 1 to this are suppressed (a cell of 0 is shown: it names nobody)
SUPPRESS_BELOW = 5
AGE_BANDS = ((0, 19), (20, 39), (40, 64), (65, 74), (75, 84), (85, 200))
#: Features that are distances from the household to public facilities. Exact, two of them
#: and the dong place a household among a few points (public facility positions, circles of
#: those radii): in the test demo 54 of 300 households to one spot within ~15 m and 71 more
#: to one of two. The export gives them in bands of this many metres (as the band's middle),
#: which leaves a household anywhere in about half of its dong (median; docs/analysts.md).
DISTANCE_FEATURES = ("nearest_community_centre_m", "nearest_senior_or_welfare_m")
DISTANCE_BAND_M = 500

#: the columns of :func:`analyst_residents` before the run's features
RESIDENT_COLUMNS = (
    "pseudonym",
    "area_code",
    "area_name",
    "birth_year",
    "sex",
    "household_size",
    "lives_alone",
    "has_disability",
    "score",
    "tier",
    "tier_name",
    "next_due_on",
    "visits",
    "last_visit_month",
    "last_outcome",
    "crisis_confirmed",
)


class ExportError(FieldError):
    """A bad export request; ``parameter`` names what is wrong."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message, field=parameter)
        self.parameter = parameter


def load_pseudonym_key(var_dir: Path, environ=None) -> bytes:
    """Return the key analysts' pseudonyms are made with.

    The key is ``VISITMAP_PSEUDONYM_KEY`` (at least 32 characters) when set, or else a random
    key made once in ``pseudonym.key`` under ``var_dir`` (mode 0600). It is not the
    registration-number key: an analyst's pseudonyms must not be a way to test registration
    numbers.

    Parameters
    ----------
    var_dir : Path
        The project's var directory.
    environ : mapping, optional
        The environment to read (default :data:`os.environ`).

    Returns
    -------
    bytes
        The key.

    Raises
    ------
    ExportError
        If the key set is shorter than 32 characters or equal to
        ``VISITMAP_RRN_HMAC_KEY``.
    """
    env = os.environ if environ is None else environ
    given = env.get(PSEUDONYM_ENV)
    if given:
        if len(given) < 32:
            raise ExportError("VISITMAP_PSEUDONYM_KEY", "must be at least 32 characters")
        if given == env.get("VISITMAP_RRN_HMAC_KEY"):
            raise ExportError("VISITMAP_PSEUDONYM_KEY", "must not be the registration-number key")
        return given.encode("utf-8")
    return read_or_create_key(Path(var_dir) / PSEUDONYM_FILE, "pseudonym key")


def pseudonym(external_id: str, key: bytes) -> str:
    """Return the pseudonym of the resident with ``external_id`` under ``key``.

    The pseudonym is the first 16 hex digits of the HMAC-SHA256 of the external id.
    """
    digest = hmac.new(key, external_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_CHARS]


def _run(session: Session, run_id: int | None) -> tuple[int, list[str]]:
    run_id = published_run_id(session) if run_id is None else run_id
    names = (
        session.execute(
            text("SELECT feature_names FROM score_runs WHERE id = :id"), {"id": run_id}
        ).scalar()
        if run_id is not None
        else None
    )
    if names is None:
        raise ExportError("run", "no such score run" if run_id is not None else "no score run yet")
    return run_id, list(names)


def analyst_residents(
    session: Session, scope: Scope, *, pseudonym_key: bytes, run_id: int | None = None
) -> pd.DataFrame:
    """Return one pseudonymised row per resident of a score run in ``scope``.

    The distances to facilities (:data:`DISTANCE_FEATURES`) are given in bands
    (:func:`banded_distance`): exact, they would locate the household within its dong.

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        The residents the caller may see.
    pseudonym_key : bytes
        The key of the pseudonyms (:func:`load_pseudonym_key`).
    run_id : int, optional
        The score run (default: the published run).

    Returns
    -------
    DataFrame
        :data:`RESIDENT_COLUMNS` then the run's features (``f_<name>``, float), ordered by
        pseudonym.

    Raises
    ------
    ExportError
        If there is no such score run, or none yet.
    """
    run_id, feature_names = _run(session, run_id)
    scope_sql, params = scope.sql()
    rows = session.execute(
        text(f"""
        WITH v AS (
            SELECT v.resident_id, count(*) AS visits,
                   to_char(max(v.visited_at) AT TIME ZONE 'Asia/Seoul', 'YYYY-MM')
                       AS last_visit_month,
                   (array_agg(v.outcome ORDER BY v.visited_at DESC, v.id DESC))[1]
                       AS last_outcome,
                   {CRISIS_LABEL_SQL} AS crisis_confirmed
            FROM visits v GROUP BY v.resident_id)
        SELECT r.external_id, a.code AS area_code, a.name AS area_name, r.birth_year, r.sex,
               h.size AS household_size, r.lives_alone, r.has_disability, s.score, s.tier,
               s.next_due_on, coalesce(v.visits, 0) AS visits, v.last_visit_month,
               v.last_outcome, v.crisis_confirmed, s.features
        FROM resident_scores s JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        LEFT JOIN v ON v.resident_id = r.id
        WHERE s.run_id = :run{scope_sql}"""),
        params | {"run": run_id},
    ).mappings()
    records, features = [], []
    for row in rows:
        record = {k: row[k] for k in RESIDENT_COLUMNS if k in row}
        record["pseudonym"] = pseudonym(row["external_id"], pseudonym_key)
        record["tier_name"] = TIER_NAMES[int(row["tier"])]
        records.append(record)
        features.append(unpack_vectors(row["features"]))
    frame = pd.DataFrame.from_records(records, columns=list(RESIDENT_COLUMNS))
    values = np.vstack(features) if features else np.empty((0, len(feature_names)))
    for index, name in enumerate(feature_names):
        column = values[:, index].astype(float)
        if name in DISTANCE_FEATURES:
            column = banded_distance(column)
        frame[f"f_{name}"] = column
    frame["crisis_confirmed"] = frame["crisis_confirmed"].astype("Int64")
    return frame.sort_values("pseudonym", kind="stable").reset_index(drop=True)


def banded_distance(metres: np.ndarray) -> np.ndarray:
    """Return distances in metres as the middle of their :data:`DISTANCE_BAND_M` band.

    0-499 m gives 250, 500-999 m gives 750, and so on; missing (NaN) stays missing.
    """
    return np.floor(np.asarray(metres, dtype=float) / DISTANCE_BAND_M) * DISTANCE_BAND_M + (
        DISTANCE_BAND_M / 2
    )


def small(count) -> bool:
    """Return whether ``count`` is one an analyst may not see (1 to :data:`SUPPRESS_BELOW` - 1)."""
    return count is not None and 0 < count < SUPPRESS_BELOW


def suppress_area_summaries(summaries: list[dict]) -> list[dict]:
    """Return the rows of :func:`geo.mapdata.queries.area_summaries` as an analyst sees them.

    The per-dong tier counts (and, separately, the overdue counts) are protected as a table
    by :func:`protected_cells` (a dong's total and a tier's total over all dongs are known
    elsewhere: the overview, the score runs), the hidden cells None. A dong with a hidden
    cell, or with a small count of residents shown or scored, loses its totals and rate too
    (they would give the cell back by subtraction). The rows given are not changed.
    """
    out = [dict(s) for s in summaries]
    if not out:
        return out
    touched = set()
    for key in ("tier_counts", "overdue_counts"):
        table = pd.Series(
            {(s["code"], tier): n for s in out for tier, n in s[key].items()},
            dtype="int64",
        )
        table.index.names = ["code", "tier"]
        hidden = protected_cells(table)
        for s in out:
            counts = dict(s[key])
            for tier in counts:
                if hidden[(s["code"], tier)]:
                    counts[tier] = None
                    touched.add(s["code"])
            s[key] = counts
    for s in out:
        if s["code"] in touched or small(s["residents_shown"]) or small(s["residents_scored"]):
            s["residents_shown"] = s["residents_scored"] = s["high_per_1000"] = None
    return out


def _age_band(age: int) -> str:
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}" if high < 200 else f"{low}+"
    return "unknown"


def protected_cells(counts: pd.Series) -> pd.Series:
    """Return which cells of a table of counts to leave out (True).

    Primary: every count from 1 to :data:`SUPPRESS_BELOW` - 1. Secondary (against
    complementary disclosure): a line of the table (the cells that differ in one dimension
    only, e.g. one dong's tiers, or one tier across the dongs) whose total can be known
    elsewhere (a dong's residents, a run's tier counts, the table without the age bands)
    must not hold exactly one hidden cell, or the total minus the cells shown gives it back.
    While some line does, one more of its cells is hidden: the one that pairs up most of its
    other lines (and leaves fewest with a single hidden cell), then a positive count before a
    0, then the smallest; until no line does (a greedy rule, not the fewest cells possible).
    A line of one cell is its own total and is left as it is (nothing in it to pair with).

    Parameters
    ----------
    counts : Series
        The table's counts, with one index level per dimension of the table (e.g. dong,
        age band, tier).

    Returns
    -------
    Series of bool
        True for each cell to hide, on the index of ``counts``.
    """
    values = counts.to_numpy()
    hidden = (values > 0) & (values < SUPPRESS_BELOW)
    names = list(counts.index.names)
    lines: list[np.ndarray] = []
    for dim in names:
        others = [n for n in names if n != dim]
        if not others:
            lines.append(np.arange(len(values)))
            continue
        groups = counts.groupby(level=others, sort=False, dropna=False).indices
        lines.extend(p for p in groups.values() if len(p) > 1)
    lines_of: list[list[int]] = [[] for _ in range(len(values))]
    for number, positions in enumerate(lines):
        for position in positions:
            lines_of[position].append(number)

    def gain(cell: int, line: int) -> int:
        """Score hiding ``cell`` by what it does to its lines other than ``line``.

        +1 for each that held one hidden cell (now paired), -1 for each that held none (now
        holding one).
        """
        total = 0
        for other in lines_of[cell]:
            if other != line:
                count = hidden[lines[other]].sum()
                total += 1 if count == 1 else -1 if count == 0 else 0
        return total

    changed = True
    while changed:
        changed = False
        for number, positions in enumerate(lines):
            if hidden[positions].sum() != 1:
                continue
            shown = positions[~hidden[positions]]
            if len(shown) == 0:
                continue
            # best for the other lines, then a positive count before a 0, then the smallest
            best = min(shown, key=lambda c: (-gain(c, number), values[c] == 0, values[c], c))
            hidden[best] = True
            changed = True
    return pd.Series(hidden, index=counts.index)


def analyst_aggregates(
    session: Session,
    scope: Scope,
    *,
    run_id: int | None = None,
    by_age: bool = False,
    as_of_year: int,
) -> pd.DataFrame:
    """Count the residents of a score run in ``scope`` per dong and tier, small cells hidden.

    Every count from 1 to 4 is suppressed (empty), and so is, where needed, a second cell of
    each row and column (and, by age, of each dong and tier across the bands) that would
    otherwise hold only one suppressed cell (:func:`protected_cells`). No total is given. A
    cell of 0 is shown unless a line needed it as its second hidden cell.

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        The residents the caller may see.
    run_id : int, optional
        The score run (default: the published run).
    by_age : bool, optional
        Also count per age band (:data:`AGE_BANDS`).
    as_of_year : int
        The year ages are counted at (age = ``as_of_year`` - birth year).

    Returns
    -------
    DataFrame
        One row per dong (and age band): ``area_code``, ``area_name`` (``age_band``), then a
        nullable-integer column per tier name; hidden cells are missing.

    Raises
    ------
    ExportError
        If there is no such score run, or none yet.
    """
    run_id, _names = _run(session, run_id)
    scope_sql, params = scope.sql(resident="r.id")
    rows = session.execute(
        text(f"""
        SELECT a.code AS area_code, a.name AS area_name, r.birth_year, s.tier, count(*) AS n
        FROM resident_scores s JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE s.run_id = :run{scope_sql}
        GROUP BY a.code, a.name, r.birth_year, s.tier"""),
        params | {"run": run_id},
    ).all()
    frame = pd.DataFrame(rows, columns=["area_code", "area_name", "birth_year", "tier", "n"])
    keys = ["area_code", "area_name"]
    if by_age:
        frame["age_band"] = [_age_band(as_of_year - int(y)) for y in frame["birth_year"]]
        keys.append("age_band")
    frame["tier_name"] = frame["tier"].map(lambda t: TIER_NAMES[int(t)])
    table = frame.pivot_table(index=keys, columns="tier_name", values="n", aggfunc="sum")
    table = table.reindex(columns=list(TIER_NAMES.values())).fillna(0).astype(int)
    table.columns.name = "tier_name"
    # the cells as one Series per (dong[, band], tier); area_name goes with area_code
    by_code = table.droplevel("area_name")
    hidden = protected_cells(by_code.stack()).unstack("tier_name")
    hidden = hidden.reindex(index=by_code.index, columns=table.columns)
    out = table.astype("Int64").mask(hidden.to_numpy(dtype=bool)).reset_index()
    out.columns.name = None
    return out


def features_from_export(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Split an analyst export into the notebooks' inputs.

    Parameters
    ----------
    frame : DataFrame
        An export of :func:`analyst_residents`, e.g. read back from its CSV.

    Returns
    -------
    features : DataFrame
        One float column per feature (``f_`` prefix dropped), indexed by pseudonym.
    context : DataFrame
        The ``area_code`` column, as text.
    labels : Series of int
        Crisis confirmed (1) or not (0), for the residents met only.
    """
    frame = frame.set_index("pseudonym")
    names = [c for c in frame.columns if c.startswith("f_")]
    features = frame[names].rename(columns=lambda c: c.removeprefix("f_")).astype(float)
    context = frame[["area_code"]].astype({"area_code": str})
    labels = frame["crisis_confirmed"].dropna().astype(int)
    return features, context, labels
