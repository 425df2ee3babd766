"""Benchmark: vector tiles of the residents, served by the app vs the bare ST_AsMVT query.

    .venv/bin/python bench/tiles_bench.py [--database visitmap_city] [--tiles 200]
    .venv/bin/python bench/tiles_bench.py --tiny   # 200 residents, 3 tiles per zoom

Needs a database with residents and a score run (the city demo, see bench/score_bench.py,
then ``visitmap score``). For each zoom (8, 11, 14, 16) it picks up to ``--tiles`` tiles that
hold households (the busiest first, then a spread), and fetches each one:

- service: ``GET /tiles/residents/{z}/{x}/{y}.pbf`` from the app served by waitress in this
  process (4 threads), over HTTP on loopback, one request at a time, signed in with an API
  token of a leader of all dongs (``bench.tiles``, made if missing; the token is revoked
  afterwards);
- bare: the same tile's SQL (``geo.mapdata.tiles``; from zoom 14 the published run's tile layer,
  ``geo.mapdata.tile_points``, issue 15) run by the database alone through psycopg, one at a
  time, in the same run. bench/tile_peer_bench.py compares the service with tipg and pgbench.

It prints tiles per second, p50 and p95 latency and the largest tile of each. The per-dong
aggregates that low-zoom tiles read are built with each score run
(``geo.mapdata.aggregates.build_run_aggregates``). ``--tiny`` makes a scratch database
(``--database``, default ``visitmap_bench_tiny``) with the demo at 200 residents and one
score run, fetches 3 tiles per zoom, and drops the database: a check that the bench still
runs.
"""

from __future__ import annotations

import argparse
import http.client
import math
import socket
import statistics
import threading
import time

from sqlalchemy import text
from sqlalchemy.orm import Session
from waitress.server import create_server

from geo.accounts import revoke_token
from geo.db import make_engine, session_scope
from geo.mapdata.filters import NO_FILTERS
from geo.mapdata.tile_points import has_tile_points, point_tile_sql
from geo.mapdata.tiles import (
    AREA_ZOOM_MAX,
    BUFFER,
    EXTENT,
    RESIDENT_ID_ZOOM,
    area_tile_sql,
    resident_tile_sql,
    tile_of,
)
from geo.scope import Scope
from geo.score_runs import latest_run_id, published_run_id
from geo.settings import today_in_seoul
from webmap import create_app

from _scratch import TINY_AS_OF, bench_database, leader_token

ZOOMS = (8, 11, 14, 16)
BENCH_USER = "bench.tiles"
TINY_TILES = 3


def pick_tiles(session: Session, z: int, count: int) -> list[tuple[int, int]]:
    """Tiles holding households: the busiest half, and a spread of the others."""
    rows = session.execute(
        text("""SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households
            TABLESAMPLE SYSTEM (20) REPEATABLE (1)""")
    ).all()
    if not rows:  # a few pages only (a small database): the sample may miss them all
        rows = session.execute(
            text("SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households")
        ).all()
    weight: dict[tuple[int, int], int] = {}
    for row in rows:
        key = tile_of(row.lon, row.lat, z)
        weight[key] = weight.get(key, 0) + 1
    ranked = sorted(weight, key=lambda k: -weight[k])
    busiest = ranked[: count // 2]
    rest = ranked[count // 2 :]
    step = max(1, len(rest) // max(1, count - len(busiest)))
    chosen = busiest + rest[::step][: count - len(busiest)]
    while len(chosen) < count:  # few tiles at low zoom: repeat them
        chosen += chosen[: count - len(chosen)]
    return chosen


def summary(label: str, seconds: list[float], sizes: list[int]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]
    result = {
        "tiles_per_s": len(ms) / (sum(ms) / 1000),
        "p50_ms": statistics.median(ms),
        "p95_ms": p95,
        "max_kb": max(sizes) / 1024,
    }
    print(
        f"  {label:<8} {result['tiles_per_s']:8.1f} tiles/s  p50 {result['p50_ms']:7.2f} ms"
        f"  p95 {result['p95_ms']:7.2f} ms  largest {result['max_kb']:7.1f} KB",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="default visitmap_city (--tiny: visitmap_bench_tiny)")
    parser.add_argument("--tiles", type=int, default=200)
    parser.add_argument("--tiny", action="store_true", help=f"200 residents, --tiles {TINY_TILES}")
    args = parser.parse_args()
    today = TINY_AS_OF if args.tiny else today_in_seoul()
    with bench_database(args.database, tiny=args.tiny, score=True) as url:
        measure(url, TINY_TILES if args.tiny else args.tiles, today=today)


def measure(url_text: str, count: int, *, today) -> None:
    engine = make_engine(url_text)
    with Session(engine) as session:
        run_id = latest_run_id(session)
        if run_id is None:
            raise SystemExit("no score run: run `visitmap score` on this database first")
        print(f"run {run_id}")
        residents = session.execute(
            text("SELECT count(*) FROM resident_scores WHERE run_id = :r"), {"r": run_id}
        ).scalar_one()
        print(f"residents scored: {residents:,}")
        tiles = {z: pick_tiles(session, z, count) for z in ZOOMS}
        layer = run_id == published_run_id(session) and has_tile_points(session, run_id)

    token, token_id = leader_token(engine, BENCH_USER, "tiles benchmark")
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app({"DATABASE_URL": url_text, "TODAY": today.isoformat(), "BASEMAP_URL": ""})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        for z in ZOOMS:
            print(f"z{z} ({len(tiles[z])} tiles, {len(set(tiles[z]))} distinct)")
            connection = http.client.HTTPConnection("127.0.0.1", port)
            first = f"/tiles/residents/{z}/{tiles[z][0][0]}/{tiles[z][0][1]}.pbf"
            connection.request("GET", first, headers=headers)
            connection.getresponse().read()  # warm-up
            seconds, sizes = [], []
            for x, y in tiles[z]:
                start = time.perf_counter()
                connection.request("GET", f"/tiles/residents/{z}/{x}/{y}.pbf", headers=headers)
                response = connection.getresponse()
                body = response.read()
                seconds.append(time.perf_counter() - start)
                assert response.status == 200, (response.status, body[:200])
                sizes.append(len(body))
            connection.close()
            summary("service", seconds, sizes)

            if z <= AREA_ZOOM_MAX:
                sql, params = area_tile_sql(Scope.everything(), NO_FILTERS, today=today)
            elif layer:  # the published run's tile layer (issue 15), as the service reads it
                sql, params = point_tile_sql(
                    Scope.everything(), NO_FILTERS, today=today, with_ids=z >= RESIDENT_ID_ZOOM,
                    extent=EXTENT, buffer=BUFFER,
                )  # fmt: skip
            else:
                sql, params = resident_tile_sql(
                    Scope.everything(), NO_FILTERS, today=today, with_ids=z >= RESIDENT_ID_ZOOM
                )
            seconds, sizes = [], []
            with Session(engine) as session:
                statement = text(sql)
                session.execute(statement, params | {"z": z, "x": 0, "y": 0, "run_id": run_id})
                for x, y in tiles[z]:
                    start = time.perf_counter()
                    tile = session.execute(
                        statement, params | {"z": z, "x": x, "y": y, "run_id": run_id}
                    ).scalar_one()
                    seconds.append(time.perf_counter() - start)
                    sizes.append(len(tile or b""))
            summary("bare", seconds, sizes)
    finally:  # the all-dongs token never outlives the bench
        server.close()
        with session_scope(engine) as session:
            revoke_token(session, token_id)
        engine.dispose()


if __name__ == "__main__":
    main()
