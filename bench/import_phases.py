"""Where the time of one residents import goes: reading, parsing, checks, COPY, upserts.

    .venv/bin/python bench/import_phases.py FILE [--fresh] [--database visitmap_bench]
    .venv/bin/python bench/import_phases.py --tiny    # 200 generated rows: does it still run?

Imports FILE as `residents` into the benchmark database made by bench/import_bench.py
(``visitmap_bench``; run that first), timing each phase and the slowest SQL statements.
``--fresh`` empties residents and households first (a first import, which takes the "first
load" path; else a re-import, the "staged" path). Prints the path, each phase's seconds and
the slowest SQL statements.
``--tiny`` needs no FILE: it makes the database itself (areas and facilities), generates 200
residents, imports them fresh and drops the database afterwards.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

import geo.importers as importers
import geo.importers.base as base
import geo.importers.first_load as first_load
import geo.importers.kinds as kinds
import geo.importers.residents as residents
from geo.db import make_engine, session_scope
from geo.settings import load_settings

from _scratch import (
    TINY_DATABASE,
    create_database,
    database_url,
    drop_database,
    generate_residents,
    load_areas_and_facilities,
)

#: Phases of every import (module, function), then those of each path.
PHASES = [
    (importers, "read_table"),
    (importers, "_parse"),
    (residents, "_check_residents"),
    (residents, "household_distances"),  # computed for new or moved households only
]
PATHS = {
    # tables empty: COPY straight into households and residents (geo/importers/first_load.py)
    "first load": [
        (first_load, "_copy"),
        (residents, "first_load"),
        (first_load, "area_ids_for_points"),
    ],
    # rows stored: staging table, comparison, writes of what changed
    "staged": [
        (residents, "sync"),
        (base, "area_ids_for_points"),
        (base, "copy_frame"),
    ],
}


TINY_ROWS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--database", help="default visitmap_bench (--tiny: visitmap_bench_tiny)")
    parser.add_argument("--tiny", action="store_true", help=f"{TINY_ROWS} generated rows")
    args = parser.parse_args()
    if args.tiny == (args.file is not None):
        parser.error("give FILE or --tiny")
    if not args.tiny:
        run(database_url(args.database or "visitmap_bench"), Path(args.file), fresh=args.fresh)
        return
    try:
        url = create_database(args.database or TINY_DATABASE)
        load_areas_and_facilities(url)
        with tempfile.TemporaryDirectory(prefix="visitmap-bench-") as workdir:
            run(url, generate_residents(Path(workdir), TINY_ROWS), fresh=True)
    finally:
        drop_database(args.database or TINY_DATABASE)


def run(url: str, path: Path, *, fresh: bool) -> None:
    settings = load_settings()
    engine = make_engine(url)
    spent: dict[str, float] = {}

    def timed(module, name):
        inner = getattr(module, name)

        @functools.wraps(inner)
        def wrapper(*a, **kw):
            start = time.perf_counter()
            try:
                return inner(*a, **kw)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

        setattr(module, name, wrapper)

    for module, name in PHASES + [phase for phases in PATHS.values() for phase in phases]:
        timed(module, name)
    spec = kinds.SPECS["residents"]
    kinds.SPECS["residents"] = kinds.ImportSpec(
        spec.kind,
        spec.fields,
        spec.id_column,
        spec.geometry,
        residents._write_residents,
        check=residents._check_residents,
        table=spec.table,
    )
    statements: list[tuple[float, str]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        took = time.perf_counter() - conn.info["started"]
        statements.append((took, " ".join(statement.split())[:70]))

    if fresh:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE residents, households RESTART IDENTITY CASCADE"))
        statements.clear()
    start = time.perf_counter()
    with session_scope(engine) as session:
        result = importers.import_file(
            session, "residents", path, rrn_key=settings.rrn_hmac_key, progress=False
        )
    total = time.perf_counter() - start
    print(result)
    print(f"total {total:.2f} s")
    path = next((p for p, phases in PATHS.items() if phases[0][1] in spent), "none")
    print(f"path: {path}")
    for name, seconds in spent.items():
        print(f"  {name:<22} {seconds:6.2f} s")
    expected = PHASES + PATHS.get(path, [])
    for name in [name for _, name in expected if name not in spent] + ([path] * (path == "none")):
        print(f"  {name:<22} not called (a phase renamed or gone? update PHASES)")
    for seconds, statement in sorted(statements, reverse=True)[:10]:
        print(f"  sql {seconds:6.2f} s  {statement}")
    engine.dispose()


if __name__ == "__main__":
    main()
