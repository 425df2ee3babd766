"""Loading the demo: real reference data and generated residents, in one transaction.

The reference data come from ``data/``, the residents from the generator's files; all go
through the real importers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geo.db import session_scope
from geo.importers import ImportResult, import_file
from geo.settings import PROJECT_ROOT
from geo.visit_scores import refresh_unreachable

DATA_DIR = PROJECT_ROOT / "data"

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
        )


def load_demo_files(
    session: Session,
    demo_dir: Path,
    *,
    rrn_key: bytes,
    progress: bool | None = None,
    report: Callable[[ImportResult], None] | None = None,
    unreachable_after: int = 3,
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
        result = import_file(
            session, kind, path, rrn_key=rrn_key, progress=progress, label=_short(path)
        )
        results.append(result)
        if report is not None:
            report(result)
    refresh_unreachable(session, after=unreachable_after)
    return results


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
