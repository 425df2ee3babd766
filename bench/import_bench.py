"""Benchmark: import N residents from CSV and from GeoJSON, beside GDAL's ogr2ogr loading the
same file into the same database.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--repeat 3] [--database NAME]
    .venv/bin/python bench/import_bench.py --tiny    # 200 rows, once: does it still run?

Uses a scratch database (``--database``, default ``visitmap_bench``) on the server of
VISITMAP_DATABASE_URL (default: the project cluster), created afresh; ``--tiny`` drops it
afterwards. Our import includes everything a user's import does:
reading, validating every cell, the HMAC of registration numbers, point-in-area assignment,
writing households and residents with their indexes and foreign keys, then ANALYZE; a first
load into emptied tables, and a re-import of the same file (which must change nothing).
ogr2ogr loads the same file as a plain point table (COPY, GiST index), without validation.
Each repeat runs ours, ogr2ogr and our re-import one after the other; prints the medians of
wall-clock time and of CPU time (this process or ogr2ogr, plus the local cluster's processes:
on a machine shared with other work, CPU time moves less than wall time), and the load
average before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo.db import make_engine, project_pgpassfile_for, session_scope
from geo.importers import import_file
from geo.settings import load_settings

from _scratch import (
    create_database,
    drop_database,
    generate_residents,
    load_areas_and_facilities,
)

BENCH_DB = "visitmap_bench"
ROOT = Path(__file__).resolve().parent.parent
TINY_ROWS = 200


def ogr_dsn(url: str) -> str:
    u = make_url(url)
    parts = [f"host={u.host or '127.0.0.1'}", f"port={u.port or 5432}", f"dbname={u.database}"]
    if u.username:
        parts.append(f"user={u.username}")
    if u.password:
        parts.append(f"password={u.password}")
    return "PG:" + " ".join(parts)


def server_cpu() -> float | None:
    """CPU seconds used so far by the database cluster's processes, or None if unreadable.

    The postmaster (from ``postmaster.pid`` of ``VISITMAP_PGDATA``, default the project's
    ``var/pg/data``): its own time, that of its ended backends (reaped children) and that of
    its live children. Works for the local project cluster only.
    """
    pgdata = Path(os.environ.get("VISITMAP_PGDATA", ROOT / "var" / "pg" / "data"))
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        total = sum(_ticks(postmaster, reaped=True))
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a process that ended meanwhile
            if int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


def _ticks(pid: int, *, reaped: bool) -> list[int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return [int(f) for f in fields[11 : 15 if reaped else 13]]  # utime stime [cutime cstime]


def client_cpu(child: bool) -> float:
    """CPU seconds of this process (all threads), or of its ended child processes."""
    if child:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    return time.process_time()


@contextmanager
def measured(runs: list, *, child: bool = False):
    """Append (wall seconds, client + server CPU seconds or None) of the block to ``runs``."""
    server, client, start = server_cpu(), client_cpu(child), time.perf_counter()
    yield
    wall = time.perf_counter() - start
    server_after = server_cpu()
    cpu = None
    if server is not None and server_after is not None:
        cpu = client_cpu(child) - client + server_after - server
    runs.append((wall, cpu))


def import_residents(engine, path: Path, key: bytes):
    with session_scope(engine) as session:
        return import_file(session, "residents", path, rrn_key=key, progress=False)


def run_ogr(url: str, path: Path, table: str) -> None:
    args = [
        "ogr2ogr",
        "-f",
        "PostgreSQL",
        ogr_dsn(url),
        str(path),
        "-nln",
        table,
        "-overwrite",
        "-lco",
        "SPATIAL_INDEX=GIST",
        "-lco",
        "GEOMETRY_NAME=geom",
    ]
    if path.suffix == ".csv":
        args += [
            "-oo",
            "X_POSSIBLE_NAMES=lon",
            "-oo",
            "Y_POSSIBLE_NAMES=lat",
            "-oo",
            "KEEP_GEOM_COLUMNS=NO",
            "-a_srs",
            "EPSG:4326",
        ]
    env = dict(os.environ, PG_USE_COPY="YES")
    passfile = project_pgpassfile_for(url)  # libpq in ogr2ogr reads the project's password
    if passfile is not None and "PGPASSFILE" not in env:
        env["PGPASSFILE"] = str(passfile)
    subprocess.run(args, check=True, env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--database", default=BENCH_DB, help="scratch database (made afresh)")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help=f"--rows {TINY_ROWS} --repeat 1, and drop the database afterwards",
    )
    args = parser.parse_args()
    if args.tiny:
        args.rows, args.repeat = TINY_ROWS, 1
    if shutil.which("ogr2ogr") is None:
        raise SystemExit("ogr2ogr not found: apt-get install gdal-bin")
    try:
        run(args)
    finally:
        if args.tiny:
            drop_database(args.database)


def run(args: argparse.Namespace) -> None:
    settings = load_settings()
    url = create_database(args.database)
    # facilities too: the residents import computes each household's service distances
    load_areas_and_facilities(url)
    engine = make_engine(url)

    workdir = Path(tempfile.mkdtemp(prefix="visitmap-bench-"))
    t0 = time.perf_counter()
    csv_path = generate_residents(workdir, args.rows)
    print(f"generated {args.rows} residents in {time.perf_counter() - t0:.1f} s")
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    geo_path = workdir / "residents.geojson"
    points = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float)),
        crs="EPSG:4326",
    )
    points.to_file(geo_path, driver="GeoJSON")
    rows = len(frame)
    print(
        f"rows: {rows}; CSV {csv_path.stat().st_size / 1e6:.1f} MB, "
        f"GeoJSON {geo_path.stat().st_size / 1e6:.1f} MB"
    )

    results = {}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    key = settings.rrn_hmac_key
    for label, path in (("CSV", csv_path), ("GeoJSON", geo_path)):
        ours, ogr, again = [], [], []
        for _ in range(args.repeat):  # interleaved, so a change of load hits both sides
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE residents, households RESTART IDENTITY CASCADE"))
            with measured(ours):
                summary = str(import_residents(engine, path, key))
            with measured(ogr, child=True):
                run_ogr(url, path, "ogr_" + label.lower())
            with measured(again):
                result = import_residents(engine, path, key)
            assert result.inserted == 0 and result.updated == 0, result
        results[label] = (ours, again, ogr)
        print(f"{label}: last import: {summary}")
        for name, runs in (("first load", ours), ("re-import", again), ("ogr2ogr", ogr)):
            print(f"{label}: {name} runs (s): {' '.join(f'{wall:.2f}' for wall, _ in runs)}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    print()
    print("Wall-clock seconds (median):")
    print()
    print(
        "| file | rows | visitmap first load (s) | visitmap re-import (s) | ogr2ogr (s) "
        "| first load / ogr2ogr | re-import / ogr2ogr |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, runs in results.items():
        ours, noop, ogr = (statistics.median(wall for wall, _ in r) for r in runs)
        print(
            f"| {label} | {rows} | {ours:.2f} | {noop:.2f} | {ogr:.2f} "
            f"| {ours / ogr:.2f}x | {noop / ogr:.2f}x |"
        )
    print()
    print("CPU seconds, client and database server together (median; less moved by other load):")
    print()
    print(
        "| file | rows | first load CPU (s) | re-import CPU (s) | ogr2ogr CPU (s) "
        "| first load / ogr2ogr | re-import / ogr2ogr |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, runs in results.items():
        if any(cpu is None for r in runs for _, cpu in r):
            print(f"| {label} CPU | {rows} | n/a (the server's processes are not readable) |")
            continue
        ours, noop, ogr = (statistics.median(cpu for _, cpu in r) for r in runs)
        print(
            f"| {label} CPU | {rows} | {ours:.2f} | {noop:.2f} | {ogr:.2f} "
            f"| {ours / ogr:.2f}x | {noop / ogr:.2f}x |"
        )
    engine.dispose()
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
