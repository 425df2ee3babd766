"""The shared support warnings in PostGIS: load the frames, run the rules, store the warnings.

:func:`compute_all` links resident rows into persons (``sharing.linkage`` into
``resident_links``), loads every frame the rules of ``sharing.rules`` take, and replaces the
whole ``support_warnings`` table in the caller's transaction (the dashboard reads it as
stored). :func:`refresh_for_residents` does the same for the persons of a few residents after
a support record, need or consent was written (their households' sponsorships and all stock
too: an issue from stock changes a lot). :func:`list_warnings` reads the stored warnings with
their external ids for the CLI. docs/support_warnings.md describes the rules.

Length: the ten frames' SQL, the linkage's storage, the COPY of the warnings and the CLI's
reader belong to one table's life cycle (just over 400 lines).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import raw_connection, read_query_frame
from geo.score_runs import PUBLISHED_RUN_SQL
from sharing import rules
from sharing.config import WarningConfig, load_warning_config
from sharing.linkage import link_residents
from visitmap.errors import FieldError, NotFound
from visitmap.vocab import WARNING_KINDS, WARNING_LEVELS

#: Warning kinds not tied to a resident or household: recomputed whole on every refresh.
STOCK_KINDS = ("stock_expiring", "stock_expired")
#: The resident rows of tier 2 (high) in the published run: the only ones whose crisis
#: signals count.
HIGH_ROWS_SQL = (
    f"SELECT resident_id FROM resident_scores WHERE run_id = {PUBLISHED_RUN_SQL} "
    f"AND tier = {rules.HIGH_TIER}"
)
#: Every row of the persons of the rows in ``{high}`` (their visits count for the person).
PERSON_ROWS_SQL = """SELECT id FROM residents WHERE id IN ({high})
    UNION SELECT o.resident_id FROM resident_links o JOIN resident_links h
        ON h.person_id = o.person_id WHERE h.resident_id IN ({high})"""
_DATES = {
    "records": ("provided_on",),
    "needs": ("identified_on",),
    "crisis": ("observed_on",),
    "visits": ("visited_on",),
    "sponsorships": ("starts_on", "ends_on"),
    "payments": ("month",),
    "stock": ("expires_on",),
}


@dataclass
class Computation:
    """What a computation stored: warnings per kind and the seconds of each step."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    links: int = 0

    @property
    def total(self) -> int:
        """Return the number of warnings stored."""
        return sum(self.counts.values())


def _pyformat(sql: str) -> str:
    """``:name`` placeholders (SQLAlchemy) as ``%(name)s`` (psycopg), for COPY."""
    return re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", sql)


def _frame(session: Session, sql: str, params: dict, dates=()) -> pd.DataFrame:
    frame = read_query_frame(session, _pyformat(sql), params, date_as_object=False)
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _person_filter(resident_ids) -> tuple[str, dict]:
    if resident_ids is None:
        return "", {}
    return " AND {column} = ANY(CAST(:ids AS int[]))", {"ids": list(resident_ids)}


def load_frames(
    session: Session, today: dt.date, config: WarningConfig, resident_ids=None
) -> dict[str, pd.DataFrame]:
    """Load the frames of ``sharing.rules`` (its module docstring names their columns).

    Only the rows the rules can use are read: residents with support, an open need, a high
    tier or a link; crisis signals of high-tier rows; visits of high-tier persons.

    Visits come as each resident's latest met visit (the rule needs no more). With
    ``resident_ids`` (database ids of whole persons: every linked row included), only
    those residents, their records, needs, signals, visits and households' sponsorships are
    loaded; stock is always loaded whole.
    """
    where, params = _person_filter(resident_ids)
    params = params | {"today": today, "months": config.omissions["crisis_months"]}
    sql = {
        "residents": f"""
            SELECT r.id AS resident_id, COALESCE(l.person_id, r.id) AS person_id,
                   r.household_id, h.area_id
            FROM residents r JOIN households h ON h.id = r.household_id
            LEFT JOIN resident_links l ON l.resident_id = r.id
            WHERE (r.id IN (SELECT resident_id FROM support_records)
                OR r.id IN (SELECT resident_id FROM needs
                            WHERE status IN ('open', 'in_progress'))
                OR r.id IN ({HIGH_ROWS_SQL})
                OR r.id IN (SELECT resident_id FROM resident_links))
              {where.format(column="r.id")}""",
        "records": f"""
            SELECT id AS record_id, resident_id, provider_id, minor_category, category,
                   provided_on, need_id
            FROM support_records WHERE true{where.format(column="resident_id")}""",
        "needs": f"""
            SELECT id AS need_id, resident_id, category, status, identified_on
            FROM needs WHERE status IN ('open', 'in_progress')
              AND identified_on <= CAST(:today AS date){where.format(column="resident_id")}""",
        "crisis": f"""
            SELECT COALESCE(c.resident_id, r.id) AS resident_id, c.observed_on
            FROM crisis_signals c
            LEFT JOIN residents r ON c.resident_id IS NULL AND r.household_id = c.household_id
            WHERE COALESCE(c.resident_id, r.id) IN ({HIGH_ROWS_SQL})
              AND c.observed_on <= CAST(:today AS date)
              AND c.observed_on >= CAST(:today AS date) - make_interval(months => :months)
              AND COALESCE(c.resident_id, r.id) IS NOT NULL
              {where.format(column="COALESCE(c.resident_id, r.id)")}""",
        "tiers": f"""
            SELECT resident_id, tier FROM resident_scores
            WHERE run_id = {PUBLISHED_RUN_SQL} AND tier = {rules.HIGH_TIER}
              {where.format(column="resident_id")}""",
        "visits": f"""
            SELECT resident_id,
                   max((visited_at AT TIME ZONE 'Asia/Seoul')::date) AS visited_on,
                   'met' AS outcome
            FROM visits WHERE outcome IN ('met', 'crisis_confirmed')
              AND resident_id IN ({PERSON_ROWS_SQL.format(high=HIGH_ROWS_SQL)})
              AND visited_at >= CAST(:today AS date) - make_interval(months => :months + 1)
              {where.format(column="resident_id")}
            GROUP BY resident_id""",
        "sponsorships": """
            SELECT id AS sponsorship_id, household_id, centre_id, starts_on, ends_on,
                   successor_id
            FROM sponsorships""",
        "payments": """
            SELECT p.sponsorship_id, p.month FROM sponsorship_payments p""",
        "households": """
            SELECT id AS household_id, area_id FROM households
            WHERE id IN (SELECT household_id FROM sponsorships)""",
        "stock": """
            SELECT m.centre_id, COALESCE(p.area_id, f.area_id) AS centre_area_id, m.kind,
                   m.minor_category, m.item, m.unit, m.quantity, m.expires_on
            FROM stock_movements m JOIN providers p ON p.id = m.centre_id
            LEFT JOIN facilities f ON f.id = p.facility_id
            WHERE m.expires_on IS NOT NULL""",
    }
    if resident_ids is not None:
        # the sponsorships of the given residents' households
        sql["sponsorships"] = """
            SELECT id AS sponsorship_id, household_id, centre_id, starts_on, ends_on,
                   successor_id
            FROM sponsorships WHERE household_id IN (
                SELECT household_id FROM residents WHERE id = ANY(CAST(:ids AS int[])))"""
    frames = {name: _frame(session, q, params, _DATES.get(name, ())) for name, q in sql.items()}
    for name, columns in (
        ("residents", ("resident_id", "person_id", "household_id")),
        ("records", ("record_id", "resident_id", "provider_id")),
        ("needs", ("need_id", "resident_id")),
    ):
        for column in columns:
            frames[name][column] = frames[name][column].astype("int64")
    frames["records"]["need_id"] = frames["records"]["need_id"].astype(float)
    frames["sponsorships"]["successor_id"] = frames["sponsorships"]["successor_id"].astype(float)
    for name in ("needs", "records", "visits", "stock"):
        for column in ("category", "status", "outcome", "kind", "minor_category", "item", "unit"):
            if column in frames[name]:
                frames[name][column] = frames[name][column].astype(object)
    return frames


# ------------------------------------------------------------------------------ linkage


def refresh_links(session: Session, resident_ids=None) -> int:
    """Link resident rows into persons and store the links (``resident_links``).

    Without ``resident_ids`` every resident is linked and the table replaced; with them, the
    residents of the same name and birth year as any of them are linked again and their rows
    replaced. Returns the number of linked rows stored.
    """
    # only rows that can be linked: a name and birth year shared by a row without an HMAC
    # (grouped here, where reading 1M rows took 5 s). rrn_hmac is UNIQUE in this schema, so
    # no two rows share an HMAC; sharing.linkage still handles it for other sources.
    where = """WHERE (r.name, r.birth_year) IN (
            SELECT name, birth_year FROM residents WHERE name IS NOT NULL
            GROUP BY name, birth_year HAVING count(*) >= 2 AND count(*) > count(rrn_hmac))"""
    params: dict = {}
    if resident_ids is not None:
        where = """WHERE (r.name, r.birth_year) IN (
            SELECT name, birth_year FROM residents WHERE id = ANY(CAST(:ids AS int[])))"""
        params = {"ids": list(resident_ids)}
    residents = read_query_frame(
        session,
        _pyformat(f"""SELECT r.id AS resident_id, r.name, r.birth_year, h.address,
                   encode(r.rrn_hmac, 'hex') AS rrn_hmac
            FROM residents r JOIN households h ON h.id = r.household_id {where}"""),
        params,
        text_columns=("name", "address", "rrn_hmac"),
    )
    links = link_residents(residents)
    if resident_ids is None:
        session.execute(text("DELETE FROM resident_links"))
    else:
        session.execute(
            text("DELETE FROM resident_links WHERE resident_id = ANY(CAST(:ids AS int[]))"),
            {"ids": [int(i) for i in residents["resident_id"]]},
        )
    if len(links):
        session.execute(
            text("""INSERT INTO resident_links (resident_id, person_id, method, match_probability)
                    VALUES (:resident_id, :person_id, :method, :match_probability)"""),
            [
                {
                    "resident_id": int(r.resident_id),
                    "person_id": int(r.person_id),
                    "method": r.method,
                    "match_probability": None
                    if pd.isna(r.match_probability)
                    else float(r.match_probability),
                }
                for r in links.itertuples()
            ],
        )
    return len(links)


# ------------------------------------------------------------------------------ storing

_COPY_COLUMNS = (
    "level",
    "kind",
    "resident_id",
    "household_id",
    "area_id",
    "provider_ids",
    "record_ids",
    "need_id",
    "sponsorship_id",
    "minor_category",
    "since",
    "detail",
)


def _cell(value) -> str:
    """Return one CSV cell of COPY: empty for NULL, arrays as ``{1,2}``, JSON as text."""
    if isinstance(value, list):
        return "{" + ",".join(str(int(v)) for v in value) + "}"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def store_warnings(session: Session, warnings: pd.DataFrame) -> None:
    """Append ``warnings`` (the frame of ``sharing.rules``) to ``support_warnings`` by COPY."""
    warnings = warnings.assign(
        **{
            column: [v if isinstance(v, list) else [] for v in warnings[column]]
            for column in ("provider_ids", "record_ids")
        }
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in warnings.loc[:, list(_COPY_COLUMNS)].itertuples(index=False):
        writer.writerow([_cell(v) for v in row])
    cursor = raw_connection(session).cursor()
    names = ", ".join(_COPY_COLUMNS)
    with cursor.copy(f"COPY support_warnings ({names}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def _counts(warnings: pd.DataFrame) -> dict[str, int]:
    counts = warnings["kind"].value_counts()
    return {kind: int(counts.get(kind, 0)) for kind in WARNING_KINDS}


def compute_all(
    session: Session, today: dt.date, config: WarningConfig | None = None, *, link: bool = True
) -> Computation:
    """Compute every warning on ``today`` and replace ``support_warnings`` with them.

    In the caller's transaction: links (when ``link``), the delete and the inserts commit
    together, so the dashboard never sees half a table.
    """
    config = config or load_warning_config()
    done = Computation()
    clock = time.perf_counter()
    if link:
        done.links = refresh_links(session)
        done.seconds["link"] = time.perf_counter() - clock
    clock = time.perf_counter()
    frames = load_frames(session, today, config)
    done.seconds["load"] = time.perf_counter() - clock
    clock = time.perf_counter()
    warnings = rules.all_warnings(frames, config, today)
    done.seconds["rules"] = time.perf_counter() - clock
    clock = time.perf_counter()
    session.execute(text("DELETE FROM support_warnings"))
    store_warnings(session, warnings)
    done.seconds["store"] = time.perf_counter() - clock
    done.counts = _counts(warnings)
    return done


def refresh_for_residents(
    session: Session, resident_ids, today: dt.date, config: WarningConfig | None = None
) -> Computation:
    """Recompute the warnings of the persons of ``resident_ids`` (database ids) after a write.

    Their links are refreshed first; then the warnings of every row of those persons, of
    their households' sponsorships, and all stock warnings are replaced, in the caller's
    transaction. Residents not found are ignored.
    """
    config = config or load_warning_config()
    ids = sorted({int(i) for i in resident_ids})
    done = Computation()
    if not ids:
        return done
    done.links = refresh_links(session, ids)
    persons = session.execute(
        text("""
            WITH given AS (
                SELECT COALESCE(l.person_id, r.id) AS person_id FROM residents r
                LEFT JOIN resident_links l ON l.resident_id = r.id
                WHERE r.id = ANY(CAST(:ids AS int[])))
            SELECT r.id, r.household_id FROM residents r
            LEFT JOIN resident_links l ON l.resident_id = r.id
            WHERE COALESCE(l.person_id, r.id) IN (SELECT person_id FROM given)"""),
        {"ids": ids},
    ).all()
    rows = [r.id for r in persons]
    households = sorted({r.household_id for r in persons})
    frames = load_frames(session, today, config, rows)
    warnings = rules.all_warnings(frames, config, today)
    session.execute(
        text("""DELETE FROM support_warnings
                WHERE resident_id = ANY(CAST(:rows AS int[]))
                   OR household_id = ANY(CAST(:households AS int[]))
                   OR kind IN ('stock_expiring', 'stock_expired')"""),
        {"rows": rows, "households": households},
    )
    store_warnings(session, warnings)
    done.counts = _counts(warnings)
    return done


# ------------------------------------------------------------------------------ reading


def list_warnings(
    session: Session, *, area: str | None = None, level: str | None = None, kind: str | None = None
) -> pd.DataFrame:
    """Return the stored warnings with external ids, one row each (reads only).

    Columns: level, kind, area (dong code), area_name, resident (external id), household,
    records (';'-joined external ids), providers (';'-joined external ids), minor_category,
    since, need, sponsorship, detail (JSON text). Ordered red first, then by dong and kind.

    Raises
    ------
    FieldError
        ``level`` or ``kind`` is not a known code (the field is named).
    NotFound
        No dong has the code ``area``.
    """
    if level is not None and level not in WARNING_LEVELS:
        raise FieldError(f"unknown warning level {level!r}", field="level")
    if kind is not None and kind not in WARNING_KINDS:
        raise FieldError(f"unknown warning kind {kind!r}", field="kind")
    if area is not None:
        found = session.execute(text("SELECT 1 FROM areas WHERE code = :c"), {"c": area}).first()
        if found is None:
            raise NotFound(f"no dong has the code {area!r} (area)")
    rows = session.execute(
        text("""
            SELECT w.level, w.kind, a.code AS area, a.name AS area_name,
                   r.external_id AS resident, h.external_id AS household,
                   (SELECT string_agg(s.external_id, ';' ORDER BY s.external_id)
                      FROM support_records s WHERE s.id = ANY(w.record_ids)) AS records,
                   (SELECT string_agg(p.external_id, ';' ORDER BY p.external_id)
                      FROM providers p WHERE p.id = ANY(w.provider_ids)) AS providers,
                   w.minor_category, w.since, n.external_id AS need,
                   sp.external_id AS sponsorship, w.detail::text AS detail
            FROM support_warnings w JOIN areas a ON a.id = w.area_id
            LEFT JOIN residents r ON r.id = w.resident_id
            LEFT JOIN households h ON h.id = w.household_id
            LEFT JOIN needs n ON n.id = w.need_id
            LEFT JOIN sponsorships sp ON sp.id = w.sponsorship_id
            WHERE (CAST(:area AS text) IS NULL OR a.code = :area)
              AND (CAST(:level AS text) IS NULL OR w.level = :level)
              AND (CAST(:kind AS text) IS NULL OR w.kind = :kind)
            ORDER BY w.level <> 'red', w.level, a.code, w.kind, r.external_id, w.id"""),
        {"area": area, "level": level, "kind": kind},
    ).all()
    columns = (
        "level",
        "kind",
        "area",
        "area_name",
        "resident",
        "household",
        "records",
        "providers",
        "minor_category",
        "since",
        "need",
        "sponsorship",
        "detail",
    )
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(columns), dtype=object)
    return frame.where(frame.notna(), None)
