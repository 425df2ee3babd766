"""Importers: ``import_file(session, kind, path)`` loads one file all-or-nothing.

Flow: read (CSV / GeoJSON / GeoPackage) -> parse and check every cell (vectorised) ->
COPY the good rows into a temporary staging table -> database checks (areas, references) ->
upsert on the external id. Any problem anywhere raises :class:`ImportValidationError` listing
every bad row, before anything is written; the caller's transaction is then rolled back.
Residents are compared with the stored rows and only changes are written (a re-import of the
same file writes no row); into empty tables they are copied straight in
(:mod:`geo.importers.first_load`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session
from tqdm import tqdm

from geo.importers.fields import ASCII_DIGITS, non_ascii, parse_field
from geo.importers.kinds import SPECS, Batch, ImportSpec
from geo.importers.problems import ImportValidationError, Problem
from geo.importers.reading import SourceTable, read_table

__all__ = ["KINDS", "ImportResult", "ImportValidationError", "Problem", "import_file"]

KINDS = tuple(SPECS)
#: Tables whose planner statistics an import of that kind refreshes (default: its table).
ANALYZED_TABLES = {"residents": ("households", "residents"), "teams": ("visit_teams", "team_areas")}
#: Descriptive text columns that area-stats files may carry; they are not indicators.
TEXT_COLUMNS = {"dong_nm", "sgg_nm", "adm_nm", "sgg_cd", "period", "ref_date", "sido_nm"}


@dataclass(frozen=True)
class ImportResult:
    """What one import did.

    Attributes
    ----------
    kind
        The import kind, one of :data:`KINDS`.
    file
        The file as named in messages (its path unless ``label`` was given).
    rows
        Rows read from the file (blank lines not counted).
    inserted, updated
        Records inserted, and stored records whose values changed (for teams, also the teams
        whose areas or members changed).
    extra
        Further counts of the kind, e.g. ``households inserted`` and ``households updated``
        for residents.
    records
        Records considered when they are not one per row (area-stats: one per dong and
        indicator), else None.
    """

    kind: str
    file: str
    rows: int
    inserted: int
    updated: int
    extra: dict[str, int] = field(default_factory=dict)
    records: int | None = None

    @property
    def unchanged(self) -> int:
        """Records already stored with the same values."""
        return (self.rows if self.records is None else self.records) - self.inserted - self.updated

    def __str__(self) -> str:
        """Summarise the import in the one line the command line prints."""
        extra = "".join(f", {k} {v}" for k, v in self.extra.items())
        values = "" if self.records is None else f" ({self.records} values)"
        return (
            f"{self.file}: {self.rows} rows{values}: {self.inserted} inserted, "
            f"{self.updated} updated, {self.unchanged} unchanged{extra}"
        )


#: Coordinate columns of the point kinds (see docs/import_formats.md).
COORDINATE_COLUMNS = {"lon", "lat", "x", "y", "wkt"}
#: Separators people use instead of the comma; a header of one column holding one is refused.
OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _header_problems(spec: ImportSpec, table: SourceTable, row: int) -> list[Problem]:
    """Return the header's problems: missing columns, other separators, near-miss names.

    Missing required columns; a header written with another separator (one column whose name
    holds ``;``, a tab or ``|``), reported instead of the missing columns; and unknown columns
    that differ from a known one only in case, spacing or hyphens (naming the expected one).
    ``row`` is the row the problems name: 1 for a CSV's header, 0 for the file as a whole.
    """
    present = list(table.frame.columns)
    known = {f.name for f in spec.fields}
    if spec.geometry == "point":
        known |= COORDINATE_COLUMNS
    if spec.wide_numeric:
        known |= TEXT_COLUMNS
    label = table.label
    problems = []
    for name in present:
        folded = re.sub(r"[\s\-]+", "_", name.strip().lower())
        if name not in known and folded in known:
            problems.append(
                Problem(
                    label,
                    row,
                    name,
                    f"unknown column {name!r}: column names are lower-case and exact; "
                    f"expected {folded!r}",
                )
            )
    missing = [name for name in spec.required_columns if name not in present]
    if not missing:
        return problems
    expected = ", ".join(f.name for f in spec.fields)
    separator = next(
        (sep for sep in OTHER_SEPARATORS if len(present) == 1 and sep in present[0]), None
    )
    if separator is not None:
        return problems + [
            Problem(
                label,
                row,
                present[0],
                f"the header is separated by {OTHER_SEPARATORS[separator]}, not commas: "
                f"columns must be separated by commas (expected columns: {expected})",
            )
        ]
    unknown = [n for n in present if n not in known and n not in {p.column for p in problems}]
    found = f"; the file's other columns: {', '.join(unknown)[:300]}" if unknown else ""
    return problems + [
        Problem(label, row, name, f"missing required column{found}") for name in missing
    ]


#: Largest magnitude of an area statistic (a count, rate or amount of one dong).
MAX_INDICATOR = 1e15


def _indicator_problems(
    label: str, column: str, text: pd.Series, numbers: pd.Series, rows: np.ndarray
) -> tuple[np.ndarray, list[Problem]]:
    present = (text != "").to_numpy()
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    foreign = present & non_ascii(text)
    missing = present & np.isnan(values)
    infinite = present & np.isinf(values)
    huge = present & np.isfinite(values) & (np.abs(values) > MAX_INDICATOR)
    problems = []
    for mask, reason in (
        (foreign, f"not a number: {ASCII_DIGITS}"),
        (missing & ~foreign, "not a number"),
        (infinite, "must be a finite number"),
        (huge, f"must lie between {-MAX_INDICATOR:g} and {MAX_INDICATOR:g}"),
    ):
        problems += [Problem(label, int(rows[i]), column, reason) for i in np.flatnonzero(mask)]
    return foreign | missing | infinite | huge, problems


def _parse(spec: ImportSpec, table: SourceTable) -> tuple[pd.DataFrame, np.ndarray, list[Problem]]:
    frame = table.frame
    index = pd.Index(table.row_numbers, name="row")
    parsed = {}
    bad = np.zeros(len(frame), dtype=bool)
    problems: list[Problem] = []
    for fld in spec.fields:
        text = frame[fld.name] if fld.name in frame else pd.Series("", index=frame.index)
        result = parse_field(fld, text.astype(str))
        parsed[fld.name] = result.values.array
        reasons = result.reason
        for i in np.flatnonzero(result.bad):
            reason = reasons if isinstance(reasons, str) else reasons.iat[i]
            problems.append(Problem(table.label, int(table.row_numbers[i]), fld.name, reason))
        bad |= result.bad
    if spec.wide_numeric:
        known = {f.name for f in spec.fields} | TEXT_COLUMNS
        for column in frame.columns:
            if column in known:
                continue
            text = frame[column]
            numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
            wrong, found = _indicator_problems(
                table.label, column, text, numbers, table.row_numbers
            )
            problems += found
            bad |= wrong
            parsed[column] = np.where(wrong, np.nan, numbers.to_numpy(dtype=float))
    out = pd.DataFrame(parsed, index=index)
    if spec.id_column:
        ids = out[spec.id_column]
        dup = ids.notna().to_numpy() & ids.duplicated(keep="first").to_numpy()
        if dup.any():
            first = {}
            for row, value in zip(index, ids, strict=True):
                first.setdefault(value, row)
            for i in np.flatnonzero(dup):
                problems.append(
                    Problem(
                        table.label,
                        int(index[i]),
                        spec.id_column,
                        f"duplicate id {ids.iat[i]!r} (first on row {first[ids.iat[i]]})",
                    )
                )
            bad |= dup
    return out, bad, problems


def import_file(
    session: Session,
    kind: str,
    path: str | Path,
    *,
    rrn_key: bytes = b"",
    crs: str | None = None,
    progress: bool | None = None,
    label: str | None = None,
) -> ImportResult:
    """Import ``path`` as ``kind`` inside the caller's transaction.

    Parameters
    ----------
    session
        An SQLAlchemy session in a transaction; on error the caller must roll it back.
    kind
        One of :data:`KINDS`.
    path
        The file: ``.csv``, ``.geojson`` / ``.json`` or ``.gpkg``.
    rrn_key
        HMAC key for resident registration numbers (``residents`` only).
    crs
        ``--crs`` from the command line, e.g. ``"EPSG:5179"``.
    progress
        Show a progress bar: True, False, or None for "when the terminal is interactive".
    label
        The file's name in messages and in the result (default: ``path`` as given).

    Returns
    -------
    ImportResult
        The counts of rows and records written.

    Raises
    ------
    ImportValidationError
        With every problem found; nothing has been written by this call's upserts.
    ValueError
        For an unknown ``kind``, or a residents file holding registration numbers without
        an ``rrn_key``.
    """
    if kind not in SPECS:
        raise ValueError(f"unknown import kind {kind!r}; choose from {', '.join(KINDS)}")
    spec = SPECS[kind]
    path = Path(path)
    label = label or str(path)
    try:
        table, problems = read_table(path, geometry=spec.geometry, crs=crs, label=label)
    except (OSError, ValueError, RecursionError, MemoryError, csv.Error) as exc:
        # the readers' last line of defence: a hostile file is a problem, never a traceback
        reason = f"not a readable file ({type(exc).__name__}: {str(exc)[:200]})"
        raise ImportValidationError([Problem(label, 0, "-", reason)]) from exc
    if table is None:
        raise ImportValidationError(problems)
    header_row = 1 if path.suffix.lower() == ".csv" else 0
    header = _header_problems(spec, table, header_row)
    if header:
        raise ImportValidationError(problems + header)
    if len(table) == 0:
        raise ImportValidationError([Problem(label, 0, "-", "the file has no rows")])

    parsed, bad, cell_problems = _parse(spec, table)
    problems += cell_problems
    coord_column = "geometry"
    if spec.geometry is not None:
        cols = set(table.frame.columns)
        coord_column = (
            "lon"
            if {"lon", "lat"} <= cols
            else "x"
            if {"x", "y"} <= cols
            else "wkt"
            if "wkt" in cols
            else "geometry"
        )
        geom_rows = {p.row for p in problems if p.column in (coord_column, "lat", "y")}
        bad |= np.isin(table.row_numbers, list(geom_rows)) | shapely.is_missing(table.geometry)
        if spec.geometry == "point":
            parsed["_x"] = np.round(shapely.get_x(table.geometry.astype(object)), 7)
            parsed["_y"] = np.round(shapely.get_y(table.geometry.astype(object)), 7)
    if spec.check is not None:
        extra = spec.check(table.frame.set_axis(parsed.index), parsed, bad, label)
        problems += extra
        bad |= np.isin(parsed.index.to_numpy(), [p.row for p in extra])

    good = ~bad
    good_frame = parsed.loc[good].drop(columns=["_x", "_y"], errors="ignore")
    if spec.wide_numeric:
        good_frame = good_frame.assign(_row=good_frame.index.to_numpy())
    with tqdm(
        total=int(good.sum()),
        desc=f"{kind} {path.name}",
        unit="row",
        disable=None if progress is None else not progress,
        leave=False,
    ) as bar:
        batch = Batch(
            session=session,
            label=label,
            frame=good_frame.reset_index(drop=True),
            row_numbers=table.row_numbers[good],
            geometry=None if table.geometry is None else table.geometry[good],
            rrn_key=rrn_key,
            coord_column=coord_column,
            progress=bar,
        )
        if kind == "residents" and not rrn_key and good_frame["rrn"].notna().any():
            raise ValueError("an RRN HMAC key is needed to import registration numbers")
        result = spec.write(batch, bool(problems))
    problems += result.problems
    if problems:
        raise ImportValidationError(problems)
    if result.inserted or result.updated:
        # fresh statistics, so that queries right after an import (scoring) plan well
        for table_name in ANALYZED_TABLES.get(kind, (spec.table,)):
            session.execute(text(f"ANALYZE {table_name}"))
    return ImportResult(
        kind, label, len(table), result.inserted, result.updated, result.extra, result.records
    )
