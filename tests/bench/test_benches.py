"""Every script in bench/ runs at its tiny size (``--tiny``), so that no bench breaks unnoticed.

Each bench runs in its own process, as a developer runs it, with this checkout first on
``PYTHONPATH``. The ones that use a database make their own scratch database on the test
server (named after the test database, so two suites on one server do not meet), and drop it;
the test drops it too if the bench did not. Tiny figures say nothing about speed: the checks
are that the bench ran and printed numbers that fit what it was asked to measure.

A new ``bench/*.py`` fails here until it has a ``--tiny`` mode and a check in ``CHECKS``
(files named ``_*.py`` are the benches' helpers, not benches).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo.db import drop_database, make_engine

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent.parent
BENCHES = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
#: The sizes of the tiny modes (bench/_scratch.py, route_plan_bench.py, solomon_bench.py).
TINY_ROWS = 200
TINY_CANDIDATES, TINY_VISITORS = 20, 2
TINY_TILES = 3
NUMBER = r"[-+]?\d[\d,]*(?:\.\d+)?"


def number(pattern: str, output: str) -> float:
    """The number captured by ``pattern`` (one group) in ``output``; fails if absent."""
    found = re.search(pattern, output, re.MULTILINE)
    assert found, f"{pattern!r} not in the output:\n{output}"
    return float(found.group(1).replace(",", ""))


def check_import_bench(out: str) -> None:
    assert number(r"^rows: (\d+);", out) == TINY_ROWS
    for kind in ("CSV", "GeoJSON"):
        assert number(rf"^{kind}: last import: .*: (\d+) inserted", out) == TINY_ROWS
        row = re.search(rf"^\| {kind} \| (\d+) \| (.+) \|$", out, re.MULTILINE)
        assert row, out
        assert int(row.group(1)) == TINY_ROWS
        ours, noop, ogr, ratio, noop_ratio = (cell.strip() for cell in row.group(2).split("|"))
        assert float(ours) > 0 and float(ogr) > 0 and float(noop) > 0
        assert float(ratio.removesuffix("x")) > 0 and float(noop_ratio.removesuffix("x")) > 0
        cpu = re.search(rf"^\| {kind} CPU \| (\d+) \| (.+) \|$", out, re.MULTILINE)
        assert cpu and int(cpu.group(1)) == TINY_ROWS, out
        cells = [cell.strip() for cell in cpu.group(2).split("|")]
        assert len(cells) == 5 or cells[0].startswith("n/a"), out
    assert number(rf"^load average after: ({NUMBER}) ", out) >= 0


def check_import_phases(out: str) -> None:
    assert number(r": (\d+) inserted", out) == TINY_ROWS
    assert number(rf"^total ({NUMBER}) s$", out) > 0
    assert "not called" not in out
    phases = re.findall(rf"^  (\w+) +({NUMBER}) s$", out, re.MULTILINE)
    assert len(phases) >= 5, out
    assert all(float(seconds) >= 0 for _, seconds in phases)


def check_route_plan_bench(out: str) -> None:
    assert number(r"^(\d+) candidates", out) == TINY_CANDIDATES
    assert number(r"(\d+) visitors on foot", out) == TINY_VISITORS

    def row(label: str) -> list[str]:
        found = re.search(rf"^{re.escape(label)}  +(.+)$", out, re.MULTILINE)
        assert found, f"{label!r} not in the output:\n{out}"
        return re.split(r"\s{2,}", found.group(1).strip())

    visits = [int(v) for v in row("visits planned")]
    assert len(visits) == 3  # PyVRP, greedy nearest, greedy priority
    assert all(0 < v <= TINY_CANDIDATES for v in visits)
    tiers = [[int(n) for n in cell.split(" / ")] for cell in row("  high / medium / low")]
    assert [sum(t) for t in tiers] == visits
    assert all(float(km) > 0 for km in row("walking km, total"))
    assert all(float(s) >= 0 for s in row("planning time (s)"))


def check_score_bench(out: str) -> None:
    assert 0 < number(r"^residents: (\d+);", out) <= TINY_ROWS
    steps = dict(re.findall(rf"^(\S.*?) +({NUMBER}) s$", out, re.MULTILINE))
    assert float(steps["whole rescore (score_residents)"]) > 0
    assert float(steps["feature query (PostGIS -> DataFrame)"]) > 0
    assert sum(1 for step in steps if step.startswith("bare:")) == 3
    assert number(rf"ratio ({NUMBER})x", out) > 0


def check_score_phases(out: str) -> None:
    assert 0 < number(r"^residents scored: (\d+)$", out) <= TINY_ROWS
    assert number(rf"^whole rescore +({NUMBER}) s$", out) > 0
    assert "not called" not in out
    steps = re.findall(rf"^(\w+) +({NUMBER}) s$", out, re.MULTILINE)
    assert len(steps) >= 5, out


def check_solomon_bench(out: str) -> None:
    row = re.search(rf"^C101 +10 +828\.94 \| +(\d+) +({NUMBER}) +({NUMBER})$", out, re.MULTILINE)
    assert row, out
    vehicles, distance, gap = int(row.group(1)), float(row.group(2)), float(row.group(3))
    assert 0 < vehicles <= 25
    assert distance > 0
    assert -0.5 < gap < 25  # C101's best-known distance is optimal; checked routes cannot beat it
    summary = re.search(r"^pyvrp +(.+)$", out, re.MULTILINE)
    failed = summary.group(1).split()[-2]
    assert failed == "0", out


def check_tiles_bench(out: str) -> None:
    assert 0 < number(r"^residents scored: (\d+)$", out) <= TINY_ROWS
    for z in (8, 11, 14, 16):
        block = re.search(rf"^z{z} \((\d+) tiles.*?\n(.*?)\n(.*?)$", out, re.MULTILINE)
        assert block, out
        assert int(block.group(1)) == TINY_TILES
        largest = {}
        for line in block.group(2, 3):
            fields = re.fullmatch(
                rf" +(service|bare) +({NUMBER}) tiles/s +p50 +({NUMBER}) ms +p95 +({NUMBER}) ms"
                rf" +largest +({NUMBER}) KB",
                line,
            )
            assert fields, line
            assert all(float(v) > 0 for v in fields.group(2, 3, 4, 5)), line
            largest[fields.group(1)] = float(fields.group(5))
        # the service and the bare query serve the same tiles
        assert largest["service"] == largest["bare"], block.group(0)


def check_map_render_bench(out: str) -> None:
    assert 0 < number(r"^residents scored: (\d+)$", out) <= TINY_ROWS
    assert "CPU throttled 4x, zoom 16" in out
    rows = dict(
        (label.split(" ")[0], [float(v) for v in values.split(" | ")])
        for label, values in re.findall(r"^\| (svg \(.+?\)|canvas) \| (.+) \|$", out, re.MULTILINE)
    )
    assert "canvas" in rows, out
    assert "svg" in rows or "svg: not measured" in out, out
    for nodes, symbols, page_s, zoom_s in rows.values():
        assert nodes > 0 and page_s > 0 and zoom_s > 0
        assert 0 <= symbols <= TINY_ROWS
    assert rows["canvas"][0] < 2000  # the goal of issue 12 (counts, not times)
    # issue 15: the page's HTML over HTTP, 1 and 8 clients, and its first load
    assert number(rf"^first GET / of the server: ({NUMBER}) ms$", out) > 0
    html, assets = (
        number(rf"^first load: HTML ({NUMBER}) B", out),
        number(rf"^first load: .* assets ({NUMBER}) B =", out),
    )
    assert html > 10_000 and assets > 100_000  # the page and at least Leaflet's script
    assert number(rf"^first load: .* = ({NUMBER}) B$", out) == html + assets
    latency = re.findall(
        rf"^\| (\d+) \| (\d+) \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \|$",
        out,
        re.MULTILINE,
    )
    assert [(int(c), int(n)) for c, n, *_ in latency] == [(1, 3), (8, 24)], out
    for *_, p50, p95, p99, rate in latency:
        assert 0 < float(p50) <= float(p95) <= float(p99) and float(rate) > 0


def check_high_tier_early_bench(out: str) -> None:
    rows = re.findall(
        r"^synthetic rule (off|on) +candidates (\d+) \(high (\d+)\) visits (\d+) "
        r"high/medium/low \[(\d+), (\d+), (\d+)\] high ending by 12:00 (\d+)/(\d+)$",
        out,
        re.MULTILINE,
    )
    assert [row[0] for row in rows] == ["off", "on"], out
    for _, candidates, high, visits, *by_tier, early, planned_high in rows:
        assert int(candidates) == TINY_CANDIDATES and int(visits) == sum(map(int, by_tier))
        assert int(by_tier[0]) == int(planned_high) <= int(high) and int(early) <= int(planned_high)


def check_support_warnings_bench(out: str) -> None:
    # detect (issue 13): every planted kind of the hand-made scenario found, nothing else
    assert number(r"^tiny scenario: (\d+) planted", out) == 10
    rows = re.findall(
        rf"^(\w+) +(\d+) +(\d+) +(\d+) +(\d+) +({NUMBER}) +({NUMBER})$", out, re.MULTILINE
    )
    assert len(rows) == 9, out
    for kind, truth, found, matched, exact, precision, recall in rows:
        assert int(truth) == int(found) == int(matched) == int(exact) >= 1, kind
        assert float(precision) == float(recall) == 1.0, kind
    assert number(r"^synthetic: ([\d,]+) support records", out) == 2000
    assert number(rf"^compute all \(linkage \+ rules\): ({NUMBER}) s$", out) > 0


def check_hotspots_bench(out: str) -> None:
    # issue 14 (helper H): 2,000 synthetic residents, every phase timed, no hot cell elsewhere
    assert number(r"^residents: (\d+);", out) == 2000
    assert number(r"; cells: (\d+);", out) > 0
    assert number(rf"gi\* ({NUMBER}) s", out) > 0
    assert number(r"in the planted disc: (\d+)", out) == number(r"^hot cells: (\d+);", out)


def check_tile_peer_bench(out: str) -> None:
    rows = number(r"flat table for tipg and pgbench: ([\d,]+) residents", out)
    assert 0 < rows <= TINY_ROWS
    for z in (12, 14, 16):
        block = out.split(f"z{z}: ")[1].split("\nz")[0]
        assert block.startswith(f"{TINY_TILES} busiest tiles"), block
        for who in ("service", "tipg 1.6.1"):
            for clients in (1, 8):
                tps = number(rf"^  {who}, {clients} client\(s\) +({NUMBER}) tiles/s", block)
                requests = number(rf"^  {who}, {clients} client\(s\) .*\((\d+) requests\)", block)
                assert tps > 0 and requests == TINY_TILES * clients
        for clients in (1, 8):
            assert number(rf"pgbench, flat query, {clients} client\(s\): +({NUMBER})", block) > 0
            if z == 12:  # the service serves per-dong counts up to z13
                assert "per-dong counts at this zoom" in block
            else:
                layer = number(rf"{clients} client\(s\): .*layer query alone: +({NUMBER})", block)
                assert layer > 0
    assert number(r"^  service cached, 8 clients +(" + NUMBER + r") tiles/s", out) > 0
    assert (
        number(r"^  framework floor: a static file, 8 clients +(" + NUMBER + r") tiles/s", out) > 0
    )
    for z in (14, 16):
        assert number(rf"^  z{z}, 8 clients: service/tipg ({NUMBER})x", out) > 0
    assert number(r"^  cached tile: (" + NUMBER + r") tiles/s", out) > 0


CHECKS: dict[str, tuple[bool, Callable[[str], None]]] = {
    # bench name: (uses a scratch database, check of its output)
    "high_tier_early_bench": (False, check_high_tier_early_bench),
    "import_bench": (True, check_import_bench),
    "import_phases": (True, check_import_phases),
    "map_render_bench": (True, check_map_render_bench),
    "route_plan_bench": (False, check_route_plan_bench),
    "score_bench": (True, check_score_bench),
    "score_phases": (True, check_score_phases),
    "solomon_bench": (False, check_solomon_bench),
    "support_warnings_bench": (False, check_support_warnings_bench),
    "hotspots_bench": (False, check_hotspots_bench),  # issue 14 (helper H)
    "tiles_bench": (True, check_tiles_bench),
    "tile_peer_bench": (True, check_tile_peer_bench),  # issue 15
}


def databases(engine, name: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT datname FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalars()
        )


@pytest.fixture(scope="module")
def admin(database_url):
    engine = make_engine(
        make_url(database_url).set(database="postgres").render_as_string(False),
        isolation_level="AUTOCOMMIT",
    )
    yield engine
    engine.dispose()


def test_every_bench_is_checked():
    assert BENCHES, "no bench found"
    assert sorted(CHECKS) == [p.stem for p in BENCHES], (
        "each bench/*.py needs a --tiny mode and a check in CHECKS (tests/bench/test_benches.py)"
    )


@pytest.mark.parametrize("bench", BENCHES, ids=lambda p: p.stem)
def test_bench_runs_at_tiny_size(bench, request, database_url, tmp_path):
    assert bench.stem in CHECKS, f"{bench.name}: give it a --tiny mode and a check in CHECKS"
    uses_database, check = CHECKS[bench.stem]
    args = [sys.executable, str(bench), "--tiny"]
    env = os.environ | {
        # this checkout's packages, not those of the checkout the venv was installed from
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "VISITMAP_DATABASE_URL": database_url,  # the benches use its server only
        "VISITMAP_VAR_DIR": str(tmp_path),  # the app's secret and pseudonym keys (tiles_bench)
    }
    name = None
    if uses_database:
        request.getfixturevalue("engine")  # skip or fail as the suite does without a database
        admin = request.getfixturevalue("admin")
        name = f"{make_url(database_url).database}_bench_{bench.stem}"
        args += ["--database", name]
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    finally:
        if name is not None:
            left = databases(admin, name)
            with admin.connect() as conn:
                drop_database(conn, name)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-4000:]}"
    check(done.stdout)
    if name is not None:
        assert left == [], f"--tiny left its scratch database {name} behind"
