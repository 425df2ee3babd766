"""An in-process cache of the published run's vector tiles, with ETags (issue 15).

A tile is kept under its run, zoom, column, row, the caller's scope, the filters, the day (overdue
is judged on it) and whether small counts are hidden (an analyst's view), so that a tile made for
one caller never reaches another whose scope differs. Only what the tile layer answers
(geo.mapdata.tile_points.layer_answers) is cached, and only for the published run: the other
tiles read tables a visit does not log (crisis signals, eligibility, a visitor's plans).

It stays right without a timeout:

- a newly published run clears it (every request reads the published run and the newest
  ``tile_changes`` id in one query, :func:`cache_state`);
- a recorded visit logs its resident's point in ``tile_changes``
  (geo.mapdata.tile_points.refresh_tile_point); the next request of any process drops the
  cached resident tiles holding that point (with the tile's buffer) and every per-dong tile
  (zoom 13 and below: the dong's counts moved).

The cache is bounded in bytes (``VISITMAP_TILE_CACHE_MB``, default 256; 0 turns it off), least
recently used first out. The ETag is a hash of the tile; a request whose ``If-None-Match``
names it is answered 304 without a body. Tiles are sent ``private, no-cache``: the browser
keeps them but asks again (a 304 when nothing changed), so a visit shows on the next look.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.score_runs import PUBLISHED_RUN_SQL

#: Half the side of the Web Mercator square, metres.
HALF_WORLD = 20037508.342789244

#: The published run and the newest tile change, in one round trip.
STATE_SQL = f"SELECT {PUBLISHED_RUN_SQL}, (SELECT max(id) FROM tile_changes)"


@dataclass(frozen=True)
class CachedTile:
    """A tile's body, its number of features' residents (for the audit) and its ETag."""

    body: bytes
    count: int
    etag: str


def etag_of(body: bytes) -> str:
    """Return the (strong, quoted) ETag of a tile body."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def cache_state(session: Session) -> tuple[int | None, int]:
    """Return the published run's id and the newest ``tile_changes`` id (0 when none)."""
    run_id, change = session.execute(text(STATE_SQL)).one()
    return run_id, int(change or 0)


def tiles_holding(x: float, y: float, *, zooms, margin: float) -> set[tuple[int, int, int]]:
    """Return the tiles (z, x, y) whose area, widened by ``margin`` of a tile, holds a point.

    Parameters
    ----------
    x, y : float
        The point in EPSG:3857 metres.
    zooms : iterable of int
        The zooms to look at.
    margin : float
        The tile's buffer as a share of its side (BUFFER / EXTENT).

    Returns
    -------
    set of tuple
        The tiles.
    """
    held = set()
    for z in zooms:
        n = 2**z
        side = 2 * HALF_WORLD / n
        column = (x + HALF_WORLD) / side
        row = (HALF_WORLD - y) / side
        for tx in range(math.floor(column - margin), math.floor(column + margin) + 1):
            for ty in range(math.floor(row - margin), math.floor(row + margin) + 1):
                if 0 <= tx < n and 0 <= ty < n:
                    held.add((z, tx, ty))
    return held


class TileCache:
    """A bounded LRU cache of tiles, kept in step with publications and visits (module doc).

    Parameters
    ----------
    max_bytes : int
        The bodies' total size it keeps at most.
    resident_zoom_min : int
        The first zoom whose tiles hold residents (below it tiles hold per-dong counts).
    max_zoom : int
        The deepest zoom.
    margin : float
        The tiles' buffer as a share of their side.
    """

    def __init__(self, max_bytes: int, *, resident_zoom_min: int, max_zoom: int, margin: float):
        self.max_bytes = max_bytes
        self.resident_zoom_min = resident_zoom_min
        self.max_zoom = max_zoom
        self.margin = margin
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, CachedTile] = OrderedDict()
        self._by_tile: dict[tuple[int, int, int], set[tuple]] = {}
        self._bytes = 0
        self._run_id: int | None = None
        self._change = 0
        self.hits = 0
        self.misses = 0
        #: The published run whose tile layer was seen to exist (publishing another drops it).
        self.layer_run: int | None = None

    @property
    def enabled(self) -> bool:
        """Whether it keeps anything."""
        return self.max_bytes > 0

    def __len__(self) -> int:
        """Return the number of tiles kept."""
        return len(self._entries)

    def clear(self) -> None:
        """Drop every tile."""
        with self._lock:
            self._entries.clear()
            self._by_tile.clear()
            self._bytes = 0

    def sync(self, session: Session, run_id: int | None, change: int) -> None:
        """Bring the cache in step with the published run and the tile changes.

        Parameters
        ----------
        session : Session
            To read the changes since the last sync.
        run_id : int or None
            The published run now (:func:`cache_state`).
        change : int
            The newest tile change now.
        """
        if run_id == self._run_id and change == self._change:
            return
        if run_id != self._run_id:
            self.clear()
            self.layer_run = None
        elif change > self._change:
            rows = session.execute(
                text("""SELECT ST_X(geom), ST_Y(geom) FROM tile_changes
                WHERE id > :seen AND id <= :now"""),
                {"seen": self._change, "now": change},
            ).all()
            self._drop_points(rows)
        with self._lock:
            self._run_id, self._change = run_id, change

    def _drop_points(self, points) -> None:
        """Drop the resident tiles holding ``points`` (EPSG:3857) and every per-dong tile."""
        zooms = range(self.resident_zoom_min, self.max_zoom + 1)
        doomed = set()
        for x, y in points:
            doomed |= tiles_holding(x, y, zooms=zooms, margin=self.margin)
        with self._lock:
            low = [tile for tile in self._by_tile if tile[0] < self.resident_zoom_min]
            for tile in list(doomed) + low:
                for key in self._by_tile.pop(tile, ()):
                    entry = self._entries.pop(key, None)
                    if entry is not None:
                        self._bytes -= len(entry.body)

    def get(self, key: tuple) -> CachedTile | None:
        """Return the tile kept under ``key`` (its first items are run, z, x, y), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple, body: bytes, count: int, change: int) -> CachedTile:
        """Keep a tile under ``key`` (run, z, x, y, ...) and return it with its ETag.

        ``change`` is the newest tile change the request saw before it read the tile: when
        another request has seen a newer one since, the tile may predate that visit and is
        not kept.
        """
        entry = CachedTile(body, count, etag_of(body))
        if not self.enabled or len(body) > self.max_bytes:
            return entry
        tile = key[1:4]
        with self._lock:
            if key[0] != self._run_id or change != self._change:
                return entry  # made before a publication or a visit it may not show
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._by_tile.setdefault(tile, set()).add(key)
            self._bytes += len(body)
            while self._bytes > self.max_bytes and self._entries:
                gone_key, gone = self._entries.popitem(last=False)
                self._bytes -= len(gone.body)
                keys = self._by_tile.get(gone_key[1:4])
                if keys is not None:
                    keys.discard(gone_key)
                    if not keys:
                        del self._by_tile[gone_key[1:4]]
        return entry
