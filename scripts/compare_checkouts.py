"""Time a rescore and the map's main requests with the code of one checkout.

Issue 11's before/after figures (docs/benchmarks.md) came from this script:

    .venv/bin/python scripts/compare_checkouts.py ROOT DATABASE SCALE

ROOT is a checkout: this one, or ``git worktree add --detach /tmp/old 558aa6e`` for the code
before the restructure (its older names are imported when the new ones are missing). DATABASE
is made and dropped on the server of ``VISITMAP_DATABASE_URL``; it gets the Seodaemun demo at
SCALE (seed 7, as of 2026-11-01) and three committed weighted score runs, then the requests go
through Flask's test client with a leader's API token. Prints medians.
"""

import datetime as dt
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

AS_OF = dt.date(2026, 11, 1)
REQUESTS = [("/api/areas", 40), ("/", 10)]
TILE_ZOOMS = (11, 13, 15)
CENTRE = (126.9368, 37.5791)


def load(root: str) -> dict:
    """Import what the comparison needs from the checkout at ``root``."""
    sys.path.insert(0, root)
    code = {}
    for module, names in {
        "sqlalchemy": ["text"],
        "sqlalchemy.engine": ["make_url"],
        "geo.accounts": ["create_token", "create_user"],
        "geo.db": ["make_engine", "session_scope"],
        "geo.migrate": ["upgrade"],
        "geo.scope": ["Scope"],
        "geo.settings": ["load_settings"],
        "scoring.config": ["default_config"],
        "geo.demo": ["generate_demo"],
        "geo.demo_load": ["load_demo_files"],
        "webmap": ["create_app"],
    }.items():
        imported = importlib.import_module(module)
        code |= {name: getattr(imported, name) for name in names}
    try:  # after issue 11
        code["score_residents"] = importlib.import_module(
            "visitmap.usecases.scoring_runs"
        ).score_residents
        code["tile_of"] = importlib.import_module("geo.mapdata.tiles").tile_of
        code["aggregates"] = None  # built with each run
    except ImportError:  # before: per-day counts built by `visitmap score` after the run
        code["score_residents"] = importlib.import_module("geo.score_runs").score_residents
        code["tile_of"] = importlib.import_module("geo.map_tiles").tile_of
        code["aggregates"] = importlib.import_module("geo.map_data").ensure_run_aggregates
    return code


def main() -> None:
    root, name, scale = sys.argv[1], sys.argv[2], int(sys.argv[3])
    c = load(root)
    server = c["make_url"](c["load_settings"]().database_url)

    def admin(sql: str) -> None:
        engine = c["make_engine"](
            server.set(database="postgres").render_as_string(False), isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as conn:
            conn.execute(c["text"](sql))
        engine.dispose()

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(False)
    try:
        engine = c["make_engine"](url)
        c["upgrade"](engine)
        with tempfile.TemporaryDirectory() as folder:
            c["generate_demo"](Path(folder), seed=7, scale=scale, region="seodaemun", as_of=AS_OF)
            with c["session_scope"](engine) as session:
                c["load_demo_files"](session, Path(folder), rrn_key=b"k" * 32, progress=False)
        measure(c, engine, url)
        engine.dispose()
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(c: dict, engine, url: str) -> None:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with c["session_scope"](engine) as session:
            result = c["score_residents"](
                session,
                c["Scope"].everything(),
                method="weighted",
                config=c["default_config"](),
                as_of=AS_OF,
                created_by="compare",
            )
            if c["aggregates"] is not None:
                c["aggregates"](session, result.stored.run_id, counted_on=AS_OF)
        times.append(time.perf_counter() - start)
    shown = ", ".join(f"{t:.2f}" for t in times)
    print(f"rescore + map aggregates, committed: median {statistics.median(times):.2f} s ({shown})")
    with c["session_scope"](engine) as session:
        c["create_user"](
            session,
            "compare.leader",
            display_name="compare",
            password="compare-pass-2026",
            roles=["leader"],
            all_areas=True,
        )
        token, _ = c["create_token"](session, "compare.leader", "compare")
    app = c["create_app"](
        {"TESTING": True, "DATABASE_URL": url, "TODAY": AS_OF.isoformat(), "BASEMAP_URL": "",
         "SECRET_KEY": "c" * 40}
    )  # fmt: skip
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    tiles = [
        (f"/tiles/residents/{z}/{x}/{y}.pbf", 40)
        for z in TILE_ZOOMS
        for x, y in [c["tile_of"](*CENTRE, z)]
    ]
    for path, count in REQUESTS + tiles:
        seconds = []
        for _ in range(count):
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            seconds.append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
        median = statistics.median(seconds) * 1000
        print(f"{path:<36} median {median:7.1f} ms {len(response.data):>9} bytes")


if __name__ == "__main__":
    main()
