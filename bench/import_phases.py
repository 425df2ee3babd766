"""Where the time of one residents import goes: reading, parsing, checks, COPY, upserts.

    .venv/bin/python bench/import_phases.py FILE [--fresh]

Imports FILE as `residents` into the benchmark database made by bench/import_bench.py
(``visitmap_bench``; run that first), timing each phase and the slowest SQL statements.
``--fresh`` empties residents and households first (a first import; else a re-import).
"""

from __future__ import annotations

import argparse
import functools
import time

from sqlalchemy import event, text
from sqlalchemy.engine import make_url

import geo.importers as importers
import geo.importers.base as base
import geo.importers.kinds as kinds
import geo.importers.residents as residents
from geo.db import make_engine, session_scope
from geo.settings import load_settings

PHASES = [
    (importers, "read_table"),
    (importers, "_parse"),
    (residents, "_check_residents"),
    (base, "area_ids_for_points"),
    (base, "copy_frame"),
    (residents, "upsert"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    settings = load_settings()
    url = make_url(settings.database_url).set(database="visitmap_bench")
    engine = make_engine(url.render_as_string(False))
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

    for module, name in PHASES:
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

    if args.fresh:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE residents, households RESTART IDENTITY CASCADE"))
        statements.clear()
    start = time.perf_counter()
    with session_scope(engine) as session:
        result = importers.import_file(
            session, "residents", args.file, rrn_key=settings.rrn_hmac_key, progress=False
        )
    total = time.perf_counter() - start
    print(result)
    print(f"total {total:.2f} s")
    for name, seconds in spent.items():
        print(f"  {name:<22} {seconds:6.2f} s")
    for seconds, statement in sorted(statements, reverse=True)[:3]:
        print(f"  sql {seconds:6.2f} s  {statement}")
    engine.dispose()


if __name__ == "__main__":
    main()
