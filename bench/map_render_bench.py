"""Benchmark: the map page's HTML over HTTP, its first load, and its rendering in Chromium.

    .venv/bin/python bench/map_render_bench.py [--database visitmap] [--repeat 3]
    .venv/bin/python bench/map_render_bench.py --html-only [--requests 100]  # no browser
    .venv/bin/python bench/map_render_bench.py --tiny   # 200 residents, one run each

The page's HTML (issue 15, point 7): ``GET /`` with 1 and 8 concurrent clients (``--clients``),
each sending ``--requests`` requests one after the other on its own connection, after one
request that warms the server; p50, p95 and p99 of the time to the last byte. First load: the
HTML plus every script, stylesheet and icon its tags reference (``src`` and ``href`` on the
app's own server), in bytes as sent (the app does not compress).

Needs a database with residents and a published score run (the demo: ``make demo``). The app
is served by waitress (8 threads, as ``visitmap serve``) in a process of its own; headless
Chromium (Playwright, Debian's ``chromium``) opens the map at a tablet's size (820 x 1180) with
the CPU slowed 4x (``Emulation.setCPUThrottlingRate``), signed in with an API token of a
leader of all dongs (``bench.map``, made if missing; the token is revoked afterwards).
Rendering (issue 12), for each renderer:

- page settled: from navigation start to the last activity (a tile's response, a change of
  the page's DOM, a long task) before 1 s with none and no tile pending, at the page's own
  first view;
- zoom settled: the same, from a ``setView`` at zoom 16 on the densest dong (active residents
  per km²) to its last activity;
- the DOM nodes in the map pane (``.leaflet-map-pane *``) at zoom 16, and the symbols drawn.

"canvas" is the page as it is; "svg" is the page with the map script of ``--before`` (a git
revision; default the commit before residents went on canvas) and its Leaflet.VectorGrid,
read with ``git show`` and served in place of ``mvt.js`` and ``map.js``: the same page, data
and server, one SVG node per resident. Without git or that revision the svg row is left out.
Times are medians over ``--repeat`` fresh browser contexts. ``--tiny`` makes a scratch
database (``--database``, default ``visitmap_bench_tiny``) with the demo at 200 residents,
runs once each, and drops it: a check that the bench still runs.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import multiprocessing
import re
import socket
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.orm import Session
from waitress.server import create_server

from geo.accounts import revoke_token
from geo.db import make_engine, session_scope
from geo.score_runs import published_run_id
from geo.settings import today_in_seoul
from webmap import create_app

from _scratch import TINY_AS_OF, bench_database, leader_token

ROOT = Path(__file__).resolve().parent.parent
BENCH_USER = "bench.map"
#: the map script before residents went on canvas, and the library it drew them with
BEFORE = "5a9eaca~1"
VECTORGRID = "webmap/static/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js"
VIEWPORT = (820, 1180)
THROTTLE = 4
ZOOM = 16
QUIET_MS = 1000
CHROMIUM = "/usr/bin/chromium"

#: records the page's last activity: tile responses, DOM changes, long tasks; tiles in flight
WATCH = """
(() => {
  window.__vm = { last: 0, pending: 0 };
  const touch = (t) => { window.__vm.last = Math.max(window.__vm.last, t); };
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const tile = String(input && input.url || input).includes("/tiles/");
    if (tile) window.__vm.pending++;
    return realFetch(input, init).finally(() => {
      if (tile) { window.__vm.pending--; touch(performance.now()); }
    });
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) touch(e.startTime + e.duration);
  }).observe({ type: "longtask", buffered: true });
  const watch = () => new MutationObserver(() => touch(performance.now())).observe(
    document.documentElement, { subtree: true, childList: true, attributes: true });
  if (document.documentElement) watch(); else addEventListener("DOMContentLoaded", watch);
})();
"""
QUIET = f"""() => window.visitmap !== undefined && window.__vm.pending === 0
    && performance.now() - window.__vm.last >= {QUIET_MS}"""
NODES = "document.querySelectorAll('.leaflet-map-pane *').length"
SYMBOLS = """() => { const l = visitmap.residents && visitmap.residents();
    return l ? l.stats().residents : document.querySelectorAll('path.vm-resident').length; }"""


def git_show(revision: str, path: str) -> str | None:
    """The file at ``path`` in git ``revision`` of this checkout, or None."""
    try:
        done = subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, check=False
        )
    except OSError:
        return None
    return done.stdout.decode() if done.returncode == 0 else None


def densest_dong(session: Session) -> tuple[str, str, float, float, float]:
    """(code, name, lat, lon, residents per km²) of the dong densest in active residents."""
    row = session.execute(
        text("""SELECT a.code, a.name, ST_Y(a.label_point) AS lat, ST_X(a.label_point) AS lon,
                count(*) / (ST_Area(a.geom::geography) / 1e6) AS density
            FROM areas a JOIN households h ON h.area_id = a.id
            JOIN residents r ON r.household_id = h.id
            WHERE r.status = 'active' GROUP BY a.id ORDER BY density DESC LIMIT 1""")
    ).one()
    return row.code, row.name, row.lat, row.lon, float(row.density)


#: what the page's first load fetches: scripts, stylesheets and icons its tags name
ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""")


def fetch(base: str, path: str, token: str, connection=None) -> tuple[bytes, float]:
    """GET ``path`` with the token; returns the body and the seconds to its last byte."""
    parts = urlsplit(base)
    conn = connection or http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    start = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise SystemExit(f"GET {path}: HTTP {response.status}")
    if connection is None:
        conn.close()
    return body, elapsed


def first_load(base: str, token: str) -> tuple[int, int, int, float]:
    """The page's HTML bytes, the assets' bytes, their number (each fetched once) and the
    seconds of this first ``GET /`` of the server (nothing kept yet)."""
    page, first = fetch(base, "/", token)
    assets = []
    for url in ASSET.findall(page.decode()):
        parts = urlsplit(url)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != base:
            continue  # another server's (a base map's): not the app's first load
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path not in assets:
            assets.append(path)
    return len(page), sum(len(fetch(base, path, token)[0]) for path in assets), len(assets), first


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (share from 0 to 1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def page_latency(base: str, token: str, clients: int, requests: int) -> list[float]:
    """Seconds per ``GET /`` of ``clients`` concurrent clients, ``requests`` each."""

    def client(_):
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        try:
            return [fetch(base, "/", token, conn)[1] for _ in range(requests)]
        finally:
            conn.close()

    with ThreadPoolExecutor(clients) as pool:
        return [t for times in pool.map(client, range(clients)) for t in times]


def measure_html(base: str, token: str, clients: list[int], requests: int) -> None:
    """Print the page's first load and its HTML latency table."""
    html_bytes, asset_bytes, assets, first = first_load(base, token)  # also warms the server
    print(f"first GET / of the server: {1000 * first:.1f} ms")
    print(f"first load: HTML {html_bytes:,} B + {assets} assets {asset_bytes:,} B "
          f"= {html_bytes + asset_bytes:,} B")  # fmt: skip
    print("| clients | requests | p50 (ms) | p95 (ms) | p99 (ms) | pages/s |")
    print("|---|---|---|---|---|---|")
    for n in clients:
        start = time.perf_counter()
        times = page_latency(base, token, n, requests)
        wall = time.perf_counter() - start
        p50, p95, p99 = (1000 * percentile(times, q) for q in (0.5, 0.95, 0.99))
        print(f"| {n} | {len(times)} | {p50:.1f} | {p95:.1f} | {p99:.1f} | "
              f"{len(times) / wall:.1f} |", flush=True)  # fmt: skip


def serve(url_text: str, today: str, port: int, threads: int) -> None:
    """Serve the app with waitress on ``port`` until terminated (the bench's server process)."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # 8 clients queue: known
    app = create_app({"DATABASE_URL": url_text, "TODAY": today, "BASEMAP_URL": ""})
    create_server(app, host="127.0.0.1", port=port, threads=threads).run()


def wait_for(port: int, server, timeout: float = 60) -> None:
    """Wait until the server process listens on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.is_alive():
            raise SystemExit("the server process ended before it listened")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not listen on {port} within {timeout:.0f} s")


def _serve(body: str):
    """A Playwright route handler answering ``body`` as a script."""

    def handler(route, request) -> None:
        route.fulfill(status=200, content_type="text/javascript", body=body)

    return handler


def one_run(browser, base: str, token: str, centre, scripts: dict | None) -> dict:
    """Open the map once in a fresh context; returns settle times (s), nodes and symbols."""
    context = browser.new_context(
        viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]},
        extra_http_headers={"Authorization": f"Bearer {token}"},
    )
    try:
        context.add_init_script(WATCH)
        page = context.new_page()
        for name, body in (scripts or {}).items():
            page.route(f"**/static/{name}", _serve(body))
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
        page.goto(base + "/", wait_until="domcontentloaded")
        page.wait_for_function(QUIET, polling=250, timeout=120_000)
        page_settled = page.evaluate("window.__vm.last") / 1000
        lat, lon = centre
        start = page.evaluate(
            f"""() => {{ const t = performance.now(); window.__vm.last = t;
                visitmap.map.setView([{lat}, {lon}], {ZOOM}, {{animate: false}}); return t; }}"""
        )
        page.wait_for_function(QUIET, polling=250, timeout=120_000)
        zoom_settled = (page.evaluate("window.__vm.last") - start) / 1000
        assert page.evaluate("visitmap.map.getZoom()") == ZOOM
        return {
            "page": page_settled,
            "zoom": zoom_settled,
            "nodes": page.evaluate(NODES),
            "symbols": page.evaluate(SYMBOLS),
        }
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="default visitmap (--tiny: visitmap_bench_tiny)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", default=BEFORE, help=f"git revision of the SVG page ({BEFORE})")
    parser.add_argument("--tiny", action="store_true", help="200 residents, --repeat 1")
    parser.add_argument("--requests", type=int, default=50, help="GET / per client (50)")
    parser.add_argument("--clients", default="1,8", help="concurrent clients, e.g. 1,8")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (8, as serve)")
    parser.add_argument("--html-only", action="store_true", help="no browser: HTML and bytes")
    args = parser.parse_args()
    today = TINY_AS_OF if args.tiny else today_in_seoul()
    with bench_database(args.database, tiny=args.tiny, score=True, default="visitmap") as url:
        measure(
            url,
            1 if args.tiny else args.repeat,
            args.before,
            today=today,
            requests=3 if args.tiny else args.requests,
            clients=[int(n) for n in args.clients.split(",")],
            threads=args.threads,
            browser=not args.html_only,
        )


def measure(
    url_text: str,
    repeat: int,
    before: str,
    *,
    today,
    requests: int,
    clients: list[int],
    threads: int,
    browser: bool,
) -> None:
    """Print the page's HTML latency and first load, then (``browser``) its rendering."""
    from playwright.sync_api import sync_playwright

    engine = make_engine(url_text)
    with Session(engine) as session:
        run_id = published_run_id(session)
        if run_id is None:
            raise SystemExit("no published score run: run `visitmap score --publish` first")
        residents = session.execute(  # the map's counts: also in a copy without residents
            text("SELECT coalesce(sum(residents), 0) FROM run_area_due_counts WHERE run_id = :r"),
            {"r": run_id},
        ).scalar_one()
        dongs = session.execute(text("SELECT count(*) FROM areas")).scalar_one()
        code, name, lat, lon, density = densest_dong(session) if browser else ("", "", 0, 0, 0)
    print(f"run {run_id}")
    print(f"residents scored: {residents:,}")
    print(f"dongs: {dongs:,}")
    if browser:
        print(f"densest dong: {name} ({code}) at {lat:.5f}, {lon:.5f}; "
              f"{density:,.0f} residents/km²")  # fmt: skip
        print(f"viewport {VIEWPORT[0]}x{VIEWPORT[1]}, CPU throttled {THROTTLE}x, zoom {ZOOM}, "
              f"median of {repeat}")  # fmt: skip

    variants: list[tuple[str, dict | None]] = []
    old_js, vectorgrid = git_show(before, "webmap/static/map.js"), git_show(before, VECTORGRID)
    if old_js and vectorgrid and "vectorGrid" in old_js:
        variants.append((f"svg ({before})", {"mvt.js": vectorgrid, "map.js": old_js}))
    else:
        print(f"svg: not measured (no git revision {before} with the SVG map script)")
    variants.append(("canvas", None))

    token, token_id = leader_token(engine, BENCH_USER, "map render benchmark")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # the server in a process of its own, as `visitmap serve` runs: the clients here do not
    # share its interpreter lock
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(url_text, today.isoformat(), port, threads), daemon=True
    )
    server.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(port, server)
        print(f"HTML: waitress with {threads} threads in a process of its own")
        measure_html(base, token, clients, requests)
        if not browser:
            return
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            try:
                print("| renderer | DOM nodes in map pane | symbols drawn | page settled (s) "
                      "| zoom 16 settled (s) |")  # fmt: skip
                print("|---|---|---|---|---|")
                for label, scripts in variants:
                    runs = [
                        one_run(browser, base, token, (lat, lon), scripts) for _ in range(repeat)
                    ]
                    print(
                        f"| {label} | {statistics.median(r['nodes'] for r in runs):.0f} "
                        f"| {statistics.median(r['symbols'] for r in runs):.0f} "
                        f"| {statistics.median(r['page'] for r in runs):.2f} "
                        f"| {statistics.median(r['zoom'] for r in runs):.2f} |",
                        flush=True,
                    )
            finally:
                browser.close()
    finally:  # the all-dongs token never outlives the bench
        server.terminate()
        server.join()
        with session_scope(engine) as session:
            revoke_token(session, token_id)
        engine.dispose()


if __name__ == "__main__":
    main()
