"""Benchmark: vector tiles of the residents, served by the app vs the bare ST_AsMVT query.

    .venv/bin/python bench/tiles_bench.py [--database visitmap_city] [--tiles 200]

Needs a database with residents and a score run (the city demo, see bench/score_bench.py,
then ``visitmap score``). For each zoom (8, 11, 14, 16) it picks up to ``--tiles`` tiles that
hold households (the busiest first, then a spread), and fetches each one:

- service: ``GET /tiles/residents/{z}/{x}/{y}.pbf`` from the app served by waitress in this
  process (4 threads), over HTTP on loopback, one request at a time;
- bare: the same tile's SQL (``geo.mapdata.tiles``) run by the database alone through psycopg,
  one at a time, in the same run.

It prints tiles per second, p50 and p95 latency and the largest tile of each. The per-dong
aggregates that low-zoom tiles read are built once before timing (as ``visitmap score``
does after each run).
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
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from waitress.server import create_server

from geo.db import make_engine
from geo.mapdata.filters import NO_FILTERS
from geo.mapdata.tiles import (
    AREA_ZOOM_MAX,
    RESIDENT_ID_ZOOM,
    area_tile_sql,
    resident_tile_sql,
    tile_of,
)
from geo.scope import Scope
from geo.score_runs import latest_run_id
from geo.settings import load_settings, today_in_seoul
from webmap import create_app

ZOOMS = (8, 11, 14, 16)


def pick_tiles(session: Session, z: int, count: int) -> list[tuple[int, int]]:
    """Tiles holding households: the busiest half, and a spread of the others."""
    rows = session.execute(
        text("""SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households
            TABLESAMPLE SYSTEM (20) REPEATABLE (1)""")
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
    parser.add_argument("--database", default="visitmap_city")
    parser.add_argument("--tiles", type=int, default=200)
    args = parser.parse_args()
    url = make_url(load_settings().database_url).set(database=args.database)
    url_text = url.render_as_string(False)
    engine = make_engine(url_text)
    today = today_in_seoul()
    with Session(engine) as session:
        run_id = latest_run_id(session)
        if run_id is None:
            raise SystemExit("no score run: run `visitmap score` on this database first")
        started = time.perf_counter()
        session.commit()
        print(f"run {run_id}; aggregates ready in {time.perf_counter() - started:.2f} s")
        residents = session.execute(
            text("SELECT count(*) FROM resident_scores WHERE run_id = :r"), {"r": run_id}
        ).scalar_one()
        print(f"residents scored: {residents:,}")
        tiles = {z: pick_tiles(session, z, args.tiles) for z in ZOOMS}

    app = create_app({"DATABASE_URL": url_text, "TODAY": today.isoformat(), "BASEMAP_URL": ""})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()

    for z in ZOOMS:
        print(f"z{z} ({len(tiles[z])} tiles, {len(set(tiles[z]))} distinct)")
        connection = http.client.HTTPConnection("127.0.0.1", port)
        connection.request("GET", f"/tiles/residents/{z}/{tiles[z][0][0]}/{tiles[z][0][1]}.pbf")
        connection.getresponse().read()  # warm-up
        seconds, sizes = [], []
        for x, y in tiles[z]:
            start = time.perf_counter()
            connection.request("GET", f"/tiles/residents/{z}/{x}/{y}.pbf")
            response = connection.getresponse()
            body = response.read()
            seconds.append(time.perf_counter() - start)
            assert response.status == 200, (response.status, body[:200])
            sizes.append(len(body))
        connection.close()
        summary("service", seconds, sizes)

        if z <= AREA_ZOOM_MAX:
            sql, params = area_tile_sql(Scope.everything(), NO_FILTERS, today=today)
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
    server.close()
    engine.dispose()


if __name__ == "__main__":
    main()
