"""Loading the demo: real reference data and generated residents, in one transaction.

The reference data come from ``data/``, the residents from the generator's files; all go
through the real importers. A file of more than ``chunk_rows`` rows (the visits of a
city-scale demo: 34 million at 10 million residents) is imported in chunks of that many
rows, each through the importer, all in the same transaction
(:func:`import_file_in_chunks`), so memory is bounded by the chunk.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geo.db import session_scope
from geo.importers import ImportResult, ImportValidationError, import_file
from geo.importers.problems import Problem
from geo.settings import PROJECT_ROOT
from geo.visit_scores import refresh_unreachable

DATA_DIR = PROJECT_ROOT / "data"
LOG = logging.getLogger(__name__)
#: Rows imported at a time from one generated file (a larger file is imported in chunks).
CHUNK_ROWS = 500_000

#: Reference data per region: (import kind, file in data/).
REFERENCE_FILES = {
    "seodaemun": [
        ("areas", "seodaemun_admdong_2021.geojson"),
        ("area-stats", "seodaemun_dong_indicators.csv"),
        ("facilities", "seodaemun_facilities.csv"),
    ],
    "seoul": [
        ("areas", "seoul_admdong_2021.geojson"),
        ("area-stats", "seoul_dong_population_2021q2.csv"),
        ("area-stats", "seodaemun_dong_indicators.csv"),
        ("facilities", "seodaemun_facilities.csv"),
    ],
}


def read_manifest(demo_dir: Path) -> dict | None:
    """Return the generator's manifest in ``demo_dir``, or None if there is none."""
    path = Path(demo_dir) / "manifest.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def load_demo(
    engine: Engine,
    demo_dir: Path,
    *,
    rrn_key: bytes,
    progress: bool | None = None,
    report: Callable[[ImportResult], None] | None = None,
    unreachable_after: int = 3,
    chunk_rows: int = CHUNK_ROWS,
) -> list[ImportResult]:
    """Import the reference data and the generated files of ``demo_dir`` in one transaction.

    Running it again changes nothing: every import upserts on its external ids.
    """
    with session_scope(engine) as session:
        return load_demo_files(
            session,
            demo_dir,
            rrn_key=rrn_key,
            progress=progress,
            report=report,
            unreachable_after=unreachable_after,
            chunk_rows=chunk_rows,
        )


def load_demo_files(
    session: Session,
    demo_dir: Path,
    *,
    rrn_key: bytes,
    progress: bool | None = None,
    report: Callable[[ImportResult], None] | None = None,
    unreachable_after: int = 3,
    chunk_rows: int = CHUNK_ROWS,
) -> list[ImportResult]:
    """Import everything into the caller's transaction (see :func:`load_demo`).

    The generator's files are imported in the manifest's order, the shared-support kinds
    (donors, donations, stock movements, sponsorships and their payments, consents) last;
    a file the manifest counts no rows in is skipped. The hidden ``ground_truth.csv`` and
    ``support_truth.csv`` are never imported. Then mark the residents the imported visits did
    not find ``unreachable_after`` times in a row (:func:`geo.visit_scores.refresh_unreachable`).

    Parameters
    ----------
    session : Session
        The transaction to write in (not committed here).
    demo_dir : Path
        The generator's output: ``manifest.json`` and the files it names.
    rrn_key : bytes
        The registration-number HMAC key (:func:`geo.settings.load_rrn_key`).
    progress : bool or None, optional
        Show progress bars: True, False, or None for "when the terminal is interactive".
    report : callable, optional
        Called with each file's :class:`~geo.importers.ImportResult` as it is imported.
    unreachable_after : int, optional
        Visits in a row that found nobody before a resident is marked unreachable.
    chunk_rows : int, optional
        A generated file of more rows is imported in chunks of this many
        (:func:`import_file_in_chunks`).

    Returns
    -------
    list of ImportResult
        One per file, reference data first.

    Raises
    ------
    FileNotFoundError
        If ``demo_dir`` holds no manifest.
    """
    manifest = read_manifest(demo_dir)
    if manifest is None:
        raise FileNotFoundError(f"{demo_dir}/manifest.json not found; generate the demo first")
    region = manifest["region"]
    plan = [(kind, DATA_DIR / name) for kind, name in REFERENCE_FILES[region]]
    # a generated file with no rows (a tiny demo: no sponsorships, no needs) is left out,
    # since an import refuses an empty file
    counts = manifest.get("counts", {})
    plan += [
        (kind, Path(demo_dir) / name)
        for kind, name in manifest["import_order"].items()
        if counts.get(kind, 1) > 0
    ]
    results = []
    for kind, path in plan:
        rows = counts.get(kind, 0) if path.parent != DATA_DIR else 0
        if rows > chunk_rows:
            result = import_file_in_chunks(
                session, kind, path, rows=rows, chunk_rows=chunk_rows, rrn_key=rrn_key,
                progress=progress, label=_short(path),
            )  # fmt: skip
        else:
            result = import_file(
                session, kind, path, rrn_key=rrn_key, progress=progress, label=_short(path)
            )
        results.append(result)
        if report is not None:
            report(result)
    refresh_unreachable(session, after=unreachable_after)
    return results


def import_file_in_chunks(
    session: Session,
    kind: str,
    path: Path,
    *,
    rows: int,
    chunk_rows: int = CHUNK_ROWS,
    rrn_key: bytes = b"",
    progress: bool | None = None,
    label: str | None = None,
) -> ImportResult:
    """Import a large generated CSV file ``chunk_rows`` rows at a time, in the caller's transaction.

    Each chunk (the header and the next ``chunk_rows`` lines) is written to a temporary file
    and imported by :func:`geo.importers.import_file`, so memory is bounded by the chunk. A
    problem names the row of the whole file; each chunk done is logged (``logging``, INFO,
    with the time so far). Used for the generator's own files, whose
    cells hold no line breaks: the file must have exactly ``rows`` lines after its header
    (the manifest's count), else it is refused (and the caller's transaction must be rolled
    back, as after any import error).

    Checks across chunks are the database's: a row refers to one of an earlier chunk as it
    would to a stored record, but an id repeated in two chunks updates the first instead of
    being reported as a duplicate (the generator writes unique ids).

    Parameters
    ----------
    session : Session
        The transaction to write in (not committed here).
    kind : str
        The import kind.
    path : Path
        The CSV file.
    rows : int
        The rows it holds (the manifest's count).
    chunk_rows : int, optional
        Rows per chunk.
    rrn_key : bytes, optional
        The registration-number HMAC key (residents).
    progress : bool or None, optional
        Progress bars, as :func:`geo.importers.import_file`.
    label : str, optional
        The file's name in messages.

    Returns
    -------
    ImportResult
        The sums over the chunks, as one import of the whole file.

    Raises
    ------
    ImportValidationError
        With the problems of the first chunk that has any (rows of the whole file), or if
        the file does not have ``rows`` lines.
    """
    label = label or str(path)
    total = None
    seen = 0
    started = time.perf_counter()
    with (
        open(path, encoding="utf-8", newline="") as handle,
        tempfile.TemporaryDirectory(prefix="visitmap-chunks-") as tmp,
    ):
        header = handle.readline()
        chunk_path = Path(tmp) / path.name
        while lines := list(itertools.islice(handle, chunk_rows)):
            chunk_path.write_text(header + "".join(lines), encoding="utf-8", newline="")
            try:
                part = import_file(
                    session, kind, chunk_path, rrn_key=rrn_key, progress=progress, label=label
                )
            except ImportValidationError as exc:
                raise ImportValidationError(
                    [
                        dataclasses.replace(p, row=p.row + seen if p.row > 1 else p.row)
                        for p in exc.problems
                    ]
                ) from exc
            seen += len(lines)
            total = part if total is None else _add(total, part)
            LOG.info("%s: %s of %s rows imported (%.1f s so far)", label, f"{seen:,}",
                     f"{rows:,}", time.perf_counter() - started)  # fmt: skip
    if seen != rows or total is None:
        reason = f"{seen:,} lines after the header, but the manifest counts {rows:,} rows"
        raise ImportValidationError([Problem(label, 0, "-", reason)])
    return total


def _add(a: ImportResult, b: ImportResult) -> ImportResult:
    extra = {key: a.extra.get(key, 0) + b.extra.get(key, 0) for key in {**a.extra, **b.extra}}
    records = None if a.records is None else a.records + (b.records or 0)
    return dataclasses.replace(
        a,
        rows=a.rows + b.rows,
        inserted=a.inserted + b.inserted,
        updated=a.updated + b.updated,
        extra=extra,
        records=records,
    )


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
