"""Database side of an import: COPY into a temporary staging table, checks, upsert."""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import raw_connection
from geo.importers.problems import Problem

PG_TYPES = {
    "text": "text",
    "choice": "text",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "date": "date",
    "datetime": "timestamptz",
}
COPY_CHUNK_ROWS = 50_000


def create_stage(session: Session, name: str, columns: dict[str, str]) -> None:
    """Create the temporary table ``name`` with ``row_no`` and ``columns`` (name -> kind)."""
    cols = ", ".join(f'"{c}" {PG_TYPES.get(k, k)}' for c, k in columns.items())
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(
        text(f"CREATE TEMP TABLE {name} (row_no integer PRIMARY KEY, {cols}) ON COMMIT DROP")
    )


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.map(lambda v: "" if pd.isna(v) else v.isoformat())
        elif pd.api.types.is_bool_dtype(series) or str(series.dtype) == "boolean":
            out[column] = series.map(lambda v: "" if pd.isna(v) else ("t" if v else "f"))
        else:
            out[column] = series
    return pd.DataFrame(out, index=frame.index)


def copy_frame(
    session: Session, name: str, frame: pd.DataFrame, row_numbers: np.ndarray, progress=None
) -> None:
    """COPY ``frame`` (with its ``row_numbers``) into staging table ``name``."""
    data = _csv_ready(frame)
    data.insert(0, "row_no", row_numbers)
    columns = ", ".join(f'"{c}"' for c in data.columns)
    cursor = raw_connection(session).cursor()
    with cursor.copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        for start in range(0, len(data), COPY_CHUNK_ROWS):
            chunk = data.iloc[start : start + COPY_CHUNK_ROWS]
            buffer = io.StringIO()
            chunk.to_csv(buffer, header=False, index=False, na_rep="")
            copy.write(buffer.getvalue())
            if progress is not None:
                progress.update(len(chunk))


def problems_from_query(
    session: Session,
    sql: str,
    label: str,
    column: str,
    reason: str,
    row_map: dict[int, int] | None = None,
    **params,
) -> list[Problem]:
    """Run ``sql`` (returning ``row_no`` and optionally ``value``) and make problems of it.

    ``reason`` may contain ``{value}``.
    """
    rows = session.execute(text(sql), params).all()
    return [
        Problem(label, int(r[0]), column, reason.format(value=r[1] if len(r) > 1 else ""))
        for r in rows
    ]


def missing_reference_problems(
    session: Session,
    stage: str,
    column: str,
    target: str,
    label: str,
    what: str,
    target_key: str = "external_id",
) -> list[Problem]:
    """Rows whose ``column`` names no ``target`` record."""
    sql = (
        f'SELECT s.row_no, s."{column}" FROM {stage} s LEFT JOIN {target} t '
        f'ON t.{target_key} = s."{column}" WHERE s."{column}" IS NOT NULL AND t.id IS NULL '
        "ORDER BY s.row_no"
    )
    return problems_from_query(session, sql, label, column, f"unknown {what} {{value!r}}")


def assign_area(session: Session, stage: str, label: str, column: str) -> list[Problem]:
    """Set ``area_id`` of each staged point (lon, lat) to the loaded area that covers it.

    A point on a shared boundary goes to the area with the smallest code, so the result
    does not depend on the order of rows.
    """
    session.execute(text(f"ALTER TABLE {stage} ADD COLUMN area_id integer"))
    if session.execute(text("SELECT NOT EXISTS (SELECT 1 FROM areas)")).scalar():
        return [
            Problem(
                label,
                0,
                "-",
                "no areas are loaded; import areas first (visitmap import areas FILE)",
            )
        ]
    session.execute(
        text(f"""
        UPDATE {stage} s SET area_id = (
            SELECT a.id FROM areas a
            WHERE ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
            ORDER BY a.code LIMIT 1)""")
    )
    return problems_from_query(
        session,
        f"SELECT row_no FROM {stage} WHERE area_id IS NULL ORDER BY row_no",
        label,
        column,
        "the point lies in none of the loaded areas",
    )


def upsert(
    session: Session,
    *,
    target: str,
    select_sql: str,
    key: Iterable[str],
    columns: Iterable[str],
    conflict: str | None = None,
    return_keys: bool = False,
):
    """Insert or update ``target`` from ``select_sql`` (key columns first, then ``columns``).

    A row is updated only if a value differs, so a repeated import changes nothing.

    Returns
    -------
    (inserted, updated)
        Counts, or with ``return_keys`` the lists of the first key column's values.
    """
    key = list(key)
    columns = list(columns)
    all_cols = ", ".join(key + columns)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    old = ", ".join(f"t.{c}" for c in columns)
    new = ", ".join(f"EXCLUDED.{c}" for c in columns)
    if len(columns) == 1:
        old, new = f"ROW({old})", f"ROW({new})"
    up = f"""
        WITH up AS (
            INSERT INTO {target} AS t ({all_cols})
            {select_sql}
            ON CONFLICT ({conflict or ", ".join(key)}) DO UPDATE SET {sets}
            WHERE ({old}) IS DISTINCT FROM ({new})
            RETURNING t.{key[0]} AS key, (xmax = 0) AS inserted)"""
    if return_keys:
        rows = session.execute(text(up + " SELECT key, inserted FROM up")).all()
        return [k for k, new in rows if new], [k for k, new in rows if not new]
    counts = (
        " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
    )
    inserted, updated = session.execute(text(up + counts)).one()
    return int(inserted), int(updated)
