"""Benchmark: resident tiles from the service vs tipg and pgbench, same tiles, one run (issue 15).

    .venv/bin/python bench/tile_peer_bench.py [--database visitmap_city] [--tiles 50]
    .venv/bin/python bench/tile_peer_bench.py --tiny   # 200 residents, 3 tiles per zoom

Needs a database with a published score run (the city demo: ``visitmap demo load --scale
1000000 --region seoul``, ``visitmap score --publish``). In one run, for the same busiest
``--tiles`` tiles at z12, z14 and z16 (by residents of the published run), it measures:

- **service**: ``GET /tiles/residents/{z}/{x}/{y}.pbf`` from the app under waitress (8 threads,
  as ``visitmap serve``), its own process, signed in with a leader's API token, tile cache
  off (``VISITMAP_TILE_CACHE_MB=0``): every tile is made by the database;
- **tipg**: tipg (its own virtual environment, ``--tipg-venv``, made with ``python3 -m venv DIR``
  and ``DIR/bin/pip install tipg==1.6.1 uvicorn`` when missing) under uvicorn (one worker, its
  default), serving the same residents as a flat table ``peer_bench.residents_flat`` (one row
  per resident: id, tier, overdue, point in EPSG:3857, GiST index) with the properties tier and
  overdue, its feature limit raised so that no tile is cut;
- **pgbench**: the flat table's tile query alone (``ST_AsMVT`` of the tile's residents, what
  tipg asks) through pgbench over the same tiles: the database's ceiling for that layer; and,
  for the record, the service's own layer query alone (not a peer);

each with 1 and 8 concurrent clients (HTTP keep-alive, each client every tile once per pass in
its own order; pgbench ``-c 1`` / ``-c 8 -j 2`` for ``--seconds``). Then the **cached** service
(cache on): the busiest z14 tile fetched again and again by 8 clients (and by ``ab`` when
installed). It prints tiles/s, p50 and p99 latency, and the goals of issue 15. ``--tiny``: a
scratch database with 200 residents, 3 tiles per zoom, short runs, then dropped.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo.accounts import revoke_token
from geo.db import make_engine, project_pgpassfile_for, session_scope
from geo.mapdata.filters import NO_FILTERS
from geo.mapdata.tile_points import build_tile_points, has_tile_points, point_tile_sql
from geo.mapdata.tiles import AREA_ZOOM_MAX, BUFFER, EXTENT, RESIDENT_ID_ZOOM
from geo.scope import Scope
from geo.score_runs import published_run_id
from geo.settings import today_in_seoul

from _scratch import TINY_AS_OF, bench_database, leader_token

ROOT = Path(__file__).resolve().parent.parent
ZOOMS = (12, 14, 16)
CLIENTS = (1, 8)
BENCH_USER = "bench.tiles"
TINY_TILES = 3
TIPG_VERSION = "1.6.1"
HALF = 20037508.342789244
#: The service as ``visitmap serve --workers W`` runs it (waitress, 8 threads per process, the
#: port bound once and W forked processes), without serve's switch to an unprivileged user.
LAUNCH = """
import socket, sys
from waitress import create_server
from visitmap.cli import _run_workers
from webmap import create_app
app = create_app()
listener = socket.create_server(("127.0.0.1", int(sys.argv[1])), backlog=1024)
_run_workers(int(sys.argv[2]), lambda: create_server(app, sockets=[listener], threads=8).run())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, path: str, headers: dict, seconds: float = 60) -> None:
    """Wait until ``GET path`` on ``port`` answers 200."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200:
                return
            raise SystemExit(f"{path} on port {port} answered {response.status}")
        except (ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise SystemExit(f"nothing answers on port {port}") from None
            time.sleep(0.3)


def flat_table(engine, run_id: int, today) -> int:
    """(Re)write ``peer_bench.residents_flat`` from the published run; return its rows."""
    with session_scope(engine) as session:
        session.execute(text("CREATE SCHEMA IF NOT EXISTS peer_bench"))
        session.execute(text("DROP TABLE IF EXISTS peer_bench.residents_flat"))
        session.execute(
            text("""CREATE TABLE peer_bench.residents_flat AS
            SELECT r.external_id AS id, s.tier, s.next_due_on < :today AS overdue,
                   ST_Transform(h.geom, 3857)::geometry(Point, 3857) AS geom
            FROM resident_scores s JOIN residents r ON r.id = s.resident_id
            JOIN households h ON h.id = r.household_id
            WHERE s.run_id = :run AND r.status = 'active'
            ORDER BY ST_GeoHash(h.geom, 9)"""),
            {"run": run_id, "today": today},
        )
        session.execute(text("CREATE INDEX ON peer_bench.residents_flat USING gist (geom)"))
        session.execute(text("ANALYZE peer_bench.residents_flat"))
        return session.execute(text("SELECT count(*) FROM peer_bench.residents_flat")).scalar()


def busiest(engine, run_id: int, z: int, count: int) -> list[tuple[int, int]]:
    """The ``count`` z-tiles holding the most residents of the run's tile layer."""
    side = 2 * HALF / 2**z
    with engine.connect() as connection:
        rows = connection.execute(
            text("""SELECT floor((ST_X(geom) + :half) / :side)::int AS x,
                floor((:half - ST_Y(geom)) / :side)::int AS y
            FROM run_tile_points WHERE run_id = :run
            GROUP BY 1, 2 ORDER BY sum(n_low + n_medium + n_high) DESC, 1, 2 LIMIT :n"""),
            {"half": HALF, "side": side, "run": run_id, "n": count},
        ).all()
    return [(int(r.x), int(r.y)) for r in rows]


def load(port: int, paths: list[str], clients: int, headers: dict, passes: int) -> dict:
    """Fetch every path ``passes`` times from each of ``clients`` concurrent clients."""
    seconds: list[float] = []
    sizes: list[int] = []
    lock = threading.Lock()
    failures: list[str] = []

    def client(k: int) -> None:
        order = paths[k % len(paths) :] + paths[: k % len(paths)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, got = [], []
        for _ in range(passes):
            for path in order:
                start = time.perf_counter()
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                mine.append(time.perf_counter() - start)
                got.append(len(body))
                if response.status not in (200, 204):
                    failures.append(f"{path}: {response.status} {body[:120]!r}")
        connection.close()
        with lock:
            seconds.extend(mine)
            sizes.extend(got)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit("failed requests: " + "; ".join(failures[:3]))
    ms = sorted(s * 1000 for s in seconds)
    return {
        "tiles_per_s": len(ms) / elapsed,
        "p50": statistics.median(ms),
        "p99": ms[min(len(ms) - 1, math.ceil(0.99 * len(ms)) - 1)],
        "kb": statistics.mean(sizes) / 1024,
        "n": len(ms),
    }


def flat_query(z: int, x: str, y: str) -> str:
    """The flat table's tile query (what tipg asks, with tier and overdue)."""
    envelope = f"ST_TileEnvelope({z}, {x}, {y})"
    return (
        f"SELECT ST_AsMVT(t, 'residents', {EXTENT}, 'geom') FROM (SELECT tier, overdue, "
        f"ST_AsMVTGeom(geom, {envelope}, {EXTENT}, {BUFFER}) AS geom "
        f"FROM peer_bench.residents_flat WHERE geom && ST_TileEnvelope({z}, {x}, {y}, "
        f"margin => {BUFFER / EXTENT})) t;"
    )


def pgbench(url, script: str, clients: int, seconds: int) -> float:
    """Run a pgbench script; return its transactions per second (without connecting)."""
    parts = make_url(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    env = os.environ | {"PGPASSWORD": parts.password or ""} if parts.password else os.environ
    command = [
        "pgbench", "-n", "-h", parts.host or "127.0.0.1", "-p", str(parts.port or 5432),
        "-U", parts.username or "postgres", "-f", handle.name, "-c", str(clients),
        "-j", str(min(clients, 2)), "-T", str(seconds), parts.database,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    os.unlink(handle.name)
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"pgbench failed: {done.stderr[-500:]}{done.stdout[-500:]}")
    return float(found.group(1))


def tile_script(tiles: list[tuple[int, int]], body) -> str:
    """A pgbench script that asks one of ``tiles`` at random with ``body(x, y)``."""
    xs = ",".join(str(x) for x, _ in tiles)
    ys = ",".join(str(y) for _, y in tiles)
    return (
        f"\\set i random(1, {len(tiles)})\n"
        + body(f"(ARRAY[{xs}])[:i]", f"(ARRAY[{ys}])[:i]").replace("\n", " ")
        + "\n"
    )


def tipg_python(venv: Path) -> Path:
    """The tipg environment's python, made with the two documented commands if missing."""
    python = venv / "bin" / "python"
    if not (venv / "bin" / "uvicorn").exists():
        print(f"installing tipg {TIPG_VERSION} into {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"tipg=={TIPG_VERSION}", "uvicorn"],
            check=True,
        )
    return python


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = open(log, "w")  # noqa: SIM115  (the process writes it until stopped)
    return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)


def row(label: str, result: dict) -> None:
    print(
        f"  {label:<34} {result['tiles_per_s']:9.1f} tiles/s  p50 {result['p50']:8.1f} ms"
        f"  p99 {result['p99']:8.1f} ms  mean {result['kb']:7.1f} KB  ({result['n']} requests)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="default visitmap_city (--tiny: visitmap_bench_tiny)")
    parser.add_argument("--tiles", type=int, default=50, help="busiest tiles per zoom")
    parser.add_argument("--passes", type=int, default=2, help="passes per client")
    parser.add_argument("--seconds", type=int, default=10, help="each pgbench run")
    parser.add_argument("--tipg-venv", type=Path, default=ROOT / "var" / "tipg-venv")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes of the service and of tipg alike"
    )
    parser.add_argument(
        "--zooms", default="12,14,16", help="zooms to measure, comma-separated (default 12,14,16)"
    )
    parser.add_argument("--tiny", action="store_true", help=f"200 residents, {TINY_TILES} tiles")
    args = parser.parse_args()
    today = TINY_AS_OF if args.tiny else today_in_seoul()
    with bench_database(args.database, tiny=args.tiny, score=True) as url:
        measure(
            url,
            count=TINY_TILES if args.tiny else args.tiles,
            passes=1 if args.tiny else args.passes,
            seconds=2 if args.tiny else args.seconds,
            venv=args.tipg_venv,
            today=today,
            workers=args.workers,
            zooms=tuple(int(z) for z in args.zooms.split(",")),
        )


def measure(
    url: str,
    *,
    count: int,
    passes: int,
    seconds: int,
    venv: Path,
    today,
    workers: int,
    zooms: tuple[int, ...] = ZOOMS,
) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        run_id = published_run_id(session)
        if run_id is None:
            raise SystemExit("no published run: `visitmap score --publish` first")
        if not has_tile_points(session, run_id):
            build_tile_points(session, run_id)
    started = time.perf_counter()
    rows = flat_table(engine, run_id, today)
    print(f"run {run_id}; flat table for tipg and pgbench: {rows:,} residents "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
    tiles = {z: busiest(engine, run_id, z, count) for z in sorted(set(zooms) | {14})}
    token, token_id = leader_token(engine, BENCH_USER, "tile peer benchmark")
    auth = {"Authorization": f"Bearer {token}"}
    python = tipg_python(venv)
    parts = make_url(url)
    dsn = parts.set(drivername="postgresql").render_as_string(hide_password=False)
    passfile = project_pgpassfile_for(url)  # for tipg (asyncpg) and pgbench (libpq)
    if passfile is not None:
        os.environ.setdefault("PGPASSFILE", str(passfile))
    logs = Path(tempfile.mkdtemp(prefix="tile-peer-"))
    base_env = os.environ | {"VISITMAP_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    servers = {}
    ports = {name: free_port() for name in ("service", "cached", "tipg")}
    try:
        for name, cache_mb in (("service", "0"), ("cached", "256")):
            servers[name] = start(
                [sys.executable, "-c", LAUNCH, str(ports[name]), str(workers)],
                base_env | {"VISITMAP_TILE_CACHE_MB": cache_mb},
                logs / f"{name}.log",
            )
        servers["tipg"] = start(
            [str(python), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1",
             "--port", str(ports["tipg"]), "--log-level", "warning", "--workers", str(workers)],
            os.environ | {
                "DATABASE_URL": dsn,
                "TIPG_DB_SCHEMAS": '["peer_bench"]',
                "TIPG_MAX_FEATURES_PER_TILE": "10000000",
                "TIPG_DEFAULT_MINZOOM": "0",
            },
            logs / "tipg.log",
        )  # fmt: skip
        x0, y0 = tiles[14][0]
        tipg_path = "/collections/peer_bench.residents_flat/tiles/WebMercatorQuad/{z}/{x}/{y}"
        for name, path, headers in (
            ("service", f"/tiles/residents/14/{x0}/{y0}.pbf", auth),
            ("cached", f"/tiles/residents/14/{x0}/{y0}.pbf", auth),
            ("tipg", tipg_path.format(z=14, x=x0, y=y0) + "?properties=tier", {}),
        ):
            try:
                wait_for(ports[name], path, headers)
            except SystemExit:
                print((logs / f"{name}.log").read_text()[-3000:], file=sys.stderr)
                raise
        print(f"service: {workers} process(es) x 8 threads (waitress); "
              f"tipg: {workers} uvicorn worker(s)")  # fmt: skip
        load_now = os.getloadavg()[0]
        print(f"load before measuring: {load_now:.2f} (1-minute average), "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        results = {}
        for z in zooms:
            ours = [f"/tiles/residents/{z}/{x}/{y}.pbf" for x, y in tiles[z]]
            theirs = [
                tipg_path.format(z=z, x=x, y=y) + "?properties=tier,overdue" for x, y in tiles[z]
            ]
            print(f"z{z}: {len(tiles[z])} busiest tiles", flush=True)
            load(ports["service"], ours[:2], 1, auth, 1)  # warm-up
            load(ports["tipg"], theirs[:2], 1, {}, 1)
            flat_tps = {}
            for clients in CLIENTS:
                service = load(ports["service"], ours, clients, auth, passes)
                tipg = load(ports["tipg"], theirs, clients, {}, passes)
                row(f"service, {clients} client(s)", service)
                row(f"tipg {TIPG_VERSION}, {clients} client(s)", tipg)
                flat_tps[clients] = pgbench(
                    url, tile_script(tiles[z], lambda x, y, z=z: flat_query(z, x, y)), clients,
                    seconds,
                )  # fmt: skip
                if z <= AREA_ZOOM_MAX:
                    print(
                        f"  pgbench, flat query, {clients} client(s): {flat_tps[clients]:9.1f} "
                        "tiles/s; (the service serves per-dong counts at this zoom)"
                    )
                    results[(z, clients)] = (service, tipg, flat_tps[clients])
                    continue
                sql, params = point_tile_sql(
                    Scope.everything(), NO_FILTERS, today=today, with_ids=z >= RESIDENT_ID_ZOOM,
                    extent=EXTENT, buffer=BUFFER,
                )  # fmt: skip
                layer_sql = (
                    sql.replace(":run_id", str(run_id))
                    .replace(":today", f"DATE '{today.isoformat()}'")
                    .replace(":z", str(z))
                )
                layer_tps = pgbench(
                    url,
                    tile_script(
                        tiles[z],
                        lambda x, y, s=layer_sql: s.replace(":x", x).replace(":y", y) + ";",
                    ),
                    clients,
                    seconds,
                )
                print(
                    f"  pgbench, flat query, {clients} client(s): {flat_tps[clients]:9.1f} "
                    f"tiles/s; the service's layer query alone: {layer_tps:9.1f} tiles/s"
                )
                results[(z, clients)] = (service, tipg, flat_tps[clients])
        print("cached (cache on, after one fetch):", flush=True)
        hot = f"/tiles/residents/14/{x0}/{y0}.pbf"
        load(ports["cached"], [hot], 1, auth, 1)
        cached_rounds = 20 if count <= TINY_TILES else 500
        cached = load(ports["cached"], [hot], 8, auth, cached_rounds)
        row("service cached, 8 clients", cached)
        floor = load(ports["cached"], ["/static/favicon.svg"], 8, {}, cached_rounds)
        row("framework floor: a static file, 8 clients", floor)
        ab = shutil.which("ab")
        ab_tps = None
        if ab:
            done = subprocess.run(
                [ab, "-q", "-k", "-c", "8", "-n", str(8 * cached_rounds), "-H",
                 f"Authorization: Bearer {token}", f"http://127.0.0.1:{ports['cached']}{hot}"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            found = re.search(r"Requests per second:\s+([\d.]+)", done.stdout)
            if found:
                ab_tps = float(found.group(1))
                print(f"  service cached, 8 clients (ab -k): {ab_tps:9.1f} tiles/s")
        print(f"load after: {os.getloadavg()[0]:.2f}")
        print("goals (issue 15):")
        for z in [z for z in (14, 16) if (z, 8) in results]:
            service, tipg, flat = results[(z, 8)]
            ratio = service["tiles_per_s"] / tipg["tiles_per_s"]
            print(
                f"  z{z}, 8 clients: service/tipg {ratio:.2f}x (goal >= 2), "
                f"p99 {service['p99']:.1f} ms (goal < 150), "
                f"service/pgbench flat {service['tiles_per_s'] / flat:.2f}x (goal >= 0.5)"
            )
        best = max(cached["tiles_per_s"], ab_tps or 0)
        print(f"  cached tile: {best:.1f} tiles/s (goal >= 2000)")
    finally:
        for process in servers.values():
            process.terminate()
        for process in servers.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        with session_scope(engine) as session:
            revoke_token(session, token_id)
            session.execute(text("DROP SCHEMA IF EXISTS peer_bench CASCADE"))
        engine.dispose()
        shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    main()
