"""Database side of an import: COPY into a temporary staging table, checks, writes.

Most kinds write with :func:`upsert`; residents with :func:`sync`, which compares the staged
rows with the table first and writes only what changed (and, for a first load, rebuilds the
indexes after the insert instead of maintaining them row by row).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import copy_arrow
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
        text(f"CREATE TEMP TABLE {name} (row_no integer NOT NULL, {cols}) ON COMMIT DROP")
    )


def copy_frame(
    session: Session, name: str, frame: pd.DataFrame, row_numbers: np.ndarray, progress=None
) -> None:
    """COPY ``frame`` (with its ``row_numbers``) into staging table ``name``."""
    data = frame.copy()
    data.insert(0, "row_no", row_numbers)
    copy_arrow(
        session,
        name,
        pa.Table.from_pandas(data, preserve_index=False),
        progress=progress,
        chunk_rows=COPY_CHUNK_ROWS,
    )


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
    """Return a problem for each staged row whose ``column`` names no ``target`` record."""
    sql = (
        f'SELECT s.row_no, s."{column}" FROM {stage} s LEFT JOIN {target} t '
        f'ON t.{target_key} = s."{column}" WHERE s."{column}" IS NOT NULL AND t.id IS NULL '
        "ORDER BY s.row_no"
    )
    return problems_from_query(session, sql, label, column, f"unknown {what} {{value!r}}")


def area_ids_for_points(session: Session, lon: np.ndarray, lat: np.ndarray) -> np.ndarray | None:
    """Return the id of the loaded area covering each lon/lat point (-1 where none).

    None when no areas are loaded. Point-in-polygon runs in GEOS (shapely STRtree) on the
    areas read once from PostGIS, the same predicate as ``ST_Intersects``. A point on a shared
    boundary goes to the area with the smallest code, so the result does not depend on the
    order of rows.
    """
    rows = session.execute(text("SELECT id, ST_AsBinary(geom) FROM areas ORDER BY code")).all()
    if not rows:
        return None
    ids = np.array([r[0] for r in rows])
    tree = shapely.STRtree(shapely.from_wkb([bytes(r[1]) for r in rows]))
    # once per distinct point: members of a household share one
    distinct, inverse = np.unique(
        np.asarray(lon, dtype=float) + 1j * np.asarray(lat, dtype=float), return_inverse=True
    )
    points = shapely.points(distinct.real, distinct.imag)
    point_index, area_index = tree.query(points, predicate="intersects")
    first = np.full(len(points), len(ids))
    np.minimum.at(first, point_index, area_index)  # smallest code wins
    found = first < len(ids)
    return np.where(found, ids[np.minimum(first, len(ids) - 1)], -1)[inverse.ravel()]


def point_area_problems(
    area_ids: np.ndarray | None, row_numbers: np.ndarray, label: str, column: str
) -> list[Problem]:
    """Return problems for points outside every loaded area (or one when none are loaded)."""
    if area_ids is None:
        return [
            Problem(
                label,
                0,
                "-",
                "no areas are loaded; import areas first (visitmap import areas FILE)",
            )
        ]
    return [
        Problem(label, int(r), column, "the point lies in none of the loaded areas")
        for r in row_numbers[area_ids < 0]
    ]


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

    Parameters
    ----------
    target
        The table written.
    select_sql
        A ``SELECT`` whose columns are the ``key`` columns, then ``columns``, in order.
    key
        The columns that identify a record; the first one is what ``return_keys`` returns.
    columns
        The columns set on insert and on update.
    conflict
        The conflict target (default: the ``key`` columns).
    return_keys
        Return the inserted and updated keys instead of their counts.

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


#: Fewest new rows for which :func:`sync` drops a table's secondary indexes and foreign keys
#: and builds them again after the insert (and only when the new rows also outnumber the
#: stored ones): one index build costs less than as many index insertions.
BULK_MIN_ROWS = 20_000


def sync(
    session: Session,
    *,
    target: str,
    select_sql: str,
    key: str,
    columns: Iterable[str],
    bulk_min_rows: int | None = None,
    rows: int | None = None,
) -> tuple[int, int]:
    """Write the rows of ``select_sql`` into ``target``: insert new keys, update changed rows.

    Unlike :func:`upsert` (``INSERT ... ON CONFLICT``), which probes and locks every stored
    row it meets, the rows are first compared with the table in one hash join on ``key``
    (``IS DISTINCT FROM`` over ``columns``), so a re-import of the same file reads the
    table and writes nothing. New rows are inserted in ``key`` order, so the unique b-tree
    on the key grows at its right edge. When at least ``bulk_min_rows`` rows are new and
    they outnumber the stored ones (a first load), the table's secondary indexes, unique
    constraints and foreign keys are dropped before the insert and made again after it,
    under the same names and definitions, in the caller's transaction: a build from sorted
    input and one anti-join per foreign key instead of a lookup per row. That takes an
    ``ACCESS EXCLUSIVE`` lock on ``target`` until the transaction ends.

    Parameters
    ----------
    session
        The caller's session (its transaction).
    target
        The table written.
    select_sql
        A ``SELECT`` of the ``key`` column, then ``columns``, in order, one row per key.
    key
        The column that identifies a record (unique in ``target`` and in the rows).
    columns
        The columns set on insert and on update.
    bulk_min_rows
        Fewest new rows for the rebuild of indexes (default :data:`BULK_MIN_ROWS`).
    rows
        How many rows ``select_sql`` gives at most: into an empty table they are inserted
        without a comparison, with the rebuild of indexes if they are enough. None: the
        rows are compared and counted first, as for a table holding rows.

    Returns
    -------
    (inserted, updated)
        How many rows were inserted, and how many stored rows changed.
    """
    columns = list(columns)
    names = [key, *columns]
    limit = BULK_MIN_ROWS if bulk_min_rows is None else bulk_min_rows
    cols = ", ".join(names)
    if not session.execute(text(f"SELECT EXISTS (SELECT FROM {target})")).scalar_one():
        # an empty table: every row is new, nothing to compare
        rebuild = rows is not None and rows >= limit and owns(session, target)
        insert = (
            f"INSERT INTO {target} ({cols}) SELECT * FROM ({select_sql}) AS s({cols}) "
            f"ORDER BY s.{key}"
        )
        return _insert(session, target, insert, rebuild=rebuild), 0
    source = f"sync_{target}"
    session.execute(text(f"DROP TABLE IF EXISTS {source}"))
    session.execute(
        text(
            f"CREATE TEMP TABLE {source} ON COMMIT DROP AS "
            f"SELECT * FROM ({select_sql}) AS s({', '.join(names)})"
        )
    )
    old = ", ".join(f"t.{c}" for c in columns)
    new = ", ".join(f"s.{c}" for c in columns)
    if len(columns) == 1:
        old, new = f"ROW({old})", f"ROW({new})"
    sets = ", ".join(f"{c} = s.{c}" for c in columns)
    updated = session.execute(
        text(
            f"UPDATE {target} AS t SET {sets} FROM {source} AS s "
            f"WHERE t.{key} = s.{key} AND ({old}) IS DISTINCT FROM ({new})"
        )
    ).rowcount
    new_rows = (
        f"FROM {source} AS s WHERE NOT EXISTS (SELECT FROM {target} AS t WHERE t.{key} = s.{key})"
    )
    fresh = session.execute(text(f"SELECT count(*) {new_rows}")).scalar_one()
    if not fresh:
        return 0, updated
    stored = session.execute(
        text(f"SELECT count(*) FROM (SELECT FROM {target} LIMIT :n) AS t"), {"n": fresh}
    ).scalar_one()
    rebuild = fresh >= limit and stored < fresh and owns(session, target)
    insert = (
        f"INSERT INTO {target} ({cols}) SELECT {', '.join(f's.{c}' for c in names)} "
        f"{new_rows} ORDER BY s.{key}"
    )
    return _insert(session, target, insert, rebuild=rebuild), updated


def _insert(session: Session, target: str, insert_sql: str, *, rebuild: bool) -> int:
    """Run ``insert_sql`` and return the rows inserted.

    With ``rebuild``, ``target``'s secondary indexes and keys are dropped before and made again
    after it.
    """
    made_again = drop_secondary(session, target) if rebuild else []
    inserted = session.execute(text(insert_sql)).rowcount
    make_again(session, made_again)
    return inserted


def make_again(session: Session, statements: list[str]) -> None:
    """Run the statements of :func:`drop_secondary` that make indexes and constraints again."""
    if statements:
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for statement in statements:
            session.execute(text(statement))


def owns(session: Session, table: str) -> bool:
    """Whether the current role owns ``table`` (needed to drop and make its indexes)."""
    return bool(
        session.execute(
            text(
                "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class "
                "WHERE oid = CAST(:t AS regclass)"
            ),
            {"t": table},
        ).scalar_one()
    )


def drop_secondary(session: Session, table: str) -> list[str]:
    """Drop ``table``'s indexes, unique and foreign-key constraints except its primary key.

    Returns the statements that make them again, indexes and unique constraints first (so the
    foreign keys check against built indexes).
    """
    constraints = session.execute(
        text(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f') "
            # a unique constraint that a foreign key points at stays
            "AND NOT EXISTS (SELECT FROM pg_constraint f WHERE f.contype = 'f' "
            "AND f.conindid = pg_constraint.conindid AND pg_constraint.contype = 'u') "
            "ORDER BY contype DESC, conname"
        ),
        {"t": table},
    ).all()
    indexes = session.execute(
        text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid "
            "AND k.conrelid = i.indrelid) ORDER BY c.relname"
        ),
        {"t": table},
    ).all()
    for name, _, _ in constraints:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    return (
        [definition for _, definition in indexes]
        + [
            f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}'
            for n, kind, d in constraints
            if kind == "u"
        ]
        + [
            f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}'
            for n, kind, d in constraints
            if kind == "f"
        ]
    )
