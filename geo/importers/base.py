"""Shared machinery of the import kinds: the parsed batch, results, specs and staging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from geo.importers.fields import Field
from geo.importers.problems import Problem
from geo.importers.staging import (
    area_ids_for_points,
    copy_frame,
    create_stage,
    missing_reference_problems,
    point_area_problems,
    problems_from_query,
    upsert,
)

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}"


def _id(name: str, required: bool = True) -> Field:
    return Field(
        name,
        "text",
        required=required,
        pattern=ID_PATTERN,
        describe="an id: letters, digits, _ . : -",
    )


@dataclass
class Batch:
    """Parsed rows of one file, ready for the database.

    Attributes
    ----------
    session
        The caller's session (its transaction).
    label
        The file as named in messages.
    frame
        Typed values of the rows that passed the file's checks, with a plain 0-based index.
    row_numbers
        For each row of ``frame``, the number reported in messages.
    geometry
        Shapely geometries in lon/lat (EPSG:4326), or None for non-spatial kinds.
    rrn_key
        HMAC key for resident registration numbers.
    coord_column
        The coordinate column that point problems name (``lon``, ``x``, ``wkt`` or
        ``geometry``).
    progress
        The tqdm progress bar that the COPY advances, or None.
    """

    session: Session
    label: str
    frame: pd.DataFrame  # typed values of the good rows
    row_numbers: np.ndarray
    geometry: np.ndarray | None
    rrn_key: bytes
    coord_column: str = "lon"
    progress: object = None

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the lon and lat of the rows' points, in degrees."""
        return shapely.get_x(self.geometry), shapely.get_y(self.geometry)


@dataclass
class WriteResult:
    """What a kind's write step did, or the problems that stopped it.

    Attributes
    ----------
    inserted, updated
        Records inserted, and stored records whose values changed.
    problems
        Problems found against the database; when there are any, nothing was upserted.
    extra
        Further counts, copied to :attr:`geo.importers.ImportResult.extra`.
    records
        Records considered, when not one per row (area-stats).
    """

    inserted: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)
    records: int | None = None  # records considered, when not one per row (area-stats)


@dataclass(frozen=True)
class ImportSpec:
    """How one import kind is read, checked and written.

    Attributes
    ----------
    kind
        The kind's name, e.g. ``"residents"``.
    fields
        The columns of the file.
    id_column
        The column whose values must be unique within the file (the external id), or None.
    geometry
        ``"point"``, ``"polygon"`` or None (no geometry).
    write
        ``write(batch, check_only)``: stage the rows, check them against the database and,
        unless ``check_only`` (the file has problems already), upsert them.
    check
        ``check(raw, parsed, bad, label)``: further checks of rows across columns, returning
        problems; ``raw`` holds the file's strings and ``parsed`` the typed values (both
        indexed by row number), ``bad`` marks rows already found bad.
    table
        The table whose planner statistics an import refreshes, unless
        :data:`geo.importers.ANALYZED_TABLES` names others.
    wide_numeric
        Every column that is neither a field nor a known text column is a numeric indicator
        (area-stats).
    """

    kind: str
    fields: tuple[Field, ...]
    id_column: str | None
    geometry: str | None
    write: Callable[[Batch, bool], WriteResult]
    check: Callable[[pd.DataFrame, pd.DataFrame, np.ndarray, str], list[Problem]] | None = None
    table: str = ""
    wide_numeric: bool = False

    @property
    def required_columns(self) -> list[str]:
        """Names of the required columns."""
        return [f.name for f in self.fields if f.required]


def _stage(
    batch: Batch, name: str, frame: pd.DataFrame, kinds: dict[str, str], with_point: bool = False
) -> list[Problem]:
    """COPY ``frame`` into staging table ``name``; with points, also their lon, lat and area.

    Returns the problems of points that lie in none of the loaded areas.
    """
    columns = dict(kinds)
    problems: list[Problem] = []
    if with_point:
        lon, lat = batch.coords()
        area_ids = area_ids_for_points(batch.session, lon, lat)
        problems = point_area_problems(area_ids, batch.row_numbers, batch.label, batch.coord_column)
        columns.update(lon="float", lat="float", area_id="int")
        area = pd.array(
            np.zeros(len(frame), dtype=int) if area_ids is None else area_ids, dtype="Int64"
        )
        area[area < 0] = pd.NA
        frame = frame.assign(lon=lon, lat=lat, area_id=area)
    create_stage(batch.session, name, columns)
    copy_frame(batch.session, name, frame[list(columns)], batch.row_numbers, batch.progress)
    return problems


def _kinds(fields: tuple[Field, ...], *names: str) -> dict[str, str]:
    by_name = {f.name: f.kind for f in fields}
    return {n: by_name[n] for n in names}


def _referencing_writer(
    *, stage, fields, references, target, columns, select_sql, after_birth: str | None = None
):
    """Make the write step of a kind whose rows only reference other records by external id.

    ``references`` lists ``(column, table, what)``: every value must name a stored record.
    ``after_birth`` names a date (or date-time) column that cannot lie before the birth year
    of the row's resident (``resident_id``). The returned ``write`` also takes, by keyword,
    another ``select_sql`` (one built per file) and ``extra_check(batch)`` returning more
    problems once the rows are staged.
    """

    def write(
        batch: Batch, check_only: bool, *, select_sql: str = select_sql, extra_check=None
    ) -> WriteResult:
        names = [f.name for f in fields]
        _stage(batch, stage, batch.frame.reindex(columns=names), _kinds(fields, *names))
        problems = [] if extra_check is None else extra_check(batch)
        for column, table, what in references:
            problems += missing_reference_problems(
                batch.session, stage, column, table, batch.label, what
            )
        if after_birth:
            problems += problems_from_query(
                batch.session,
                f"""SELECT s.row_no, r.birth_year FROM {stage} s
                    JOIN residents r ON r.external_id = s.resident_id
                    WHERE s.{after_birth}
                          < make_timestamptz(r.birth_year, 1, 1, 0, 0, 0, 'Asia/Seoul')
                    ORDER BY s.row_no""",
                batch.label,
                after_birth,
                "lies before the resident's birth year {value}",
            )
        if problems or check_only:
            return WriteResult(problems=problems)
        inserted, updated = upsert(
            batch.session,
            target=target,
            key=["external_id"],
            columns=columns,
            select_sql=select_sql,
        )
        return WriteResult(inserted, updated)

    return write
