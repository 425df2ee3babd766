"""An in-process cache of the map page's per-run parts (issue 15, point 7).

The map page (:mod:`webmap.map_page`) draws on the server the dongs' outlines with their
counts (the choropleth), the facilities and the heat cells: they depend on the score run, the
aggregates a recorded visit adjusts, the caller's scope, the day (overdue is judged on it),
whether small counts are hidden, the language and the base map, never on who asks within
those. Folium's rendering of them is the page's cost (about 0.2 s for Seoul's 425 dongs), so it
is made once per such key and kept as HTML with two marks where each request puts its own
parts (the ``<head>`` tags and the controls, which name the caller and their runs).

The dongs' simplified outlines, the slowest query, are kept apart, per published run: a visit
does not move them, so a page made again after a visit reads only the counts.

It stays right without a timeout, as the tile cache does (:mod:`webmap.tile_cache`): every
request reads in one query (:func:`page_state`) the published run, the newest ``tile_changes``
id and a signature of the dongs and of the facilities tables (their row count and the sum of
a hash of each row's ``xmin``, which any insert or update changes), and the state is part of
every key. A newly published run or an import of dongs clears everything; a recorded visit
(it logs a tile change) or an import of facilities clears the pages, which are made again on
their next view, and keeps the outlines. A page made while another request saw a newer state
is not kept.

The cache holds at most ``PAGE_CACHE_ENTRIES`` pages (app config, default 32; 0 turns it
off), least recently used first out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.score_runs import PUBLISHED_RUN_SQL

#: Where each request's ``<head>`` tags and controls go in a kept page.
HEAD_MARK = "<!--visitmap:head-->"
CONTROLS_MARK = "<!--visitmap:controls-->"
#: Pages kept when the app's config does not say (``PAGE_CACHE_ENTRIES``).
DEFAULT_ENTRIES = 32
#: A table's signature: its rows and their ``xmin`` (a new or updated row has a new one).
_SIGNATURE = "(SELECT count(*) || ':' || coalesce(sum(hashtext(xmin::text)), 0) FROM {})"
#: The state a kept page depends on, in one round trip (:func:`page_state`).
STATE_SQL = (
    f"SELECT {PUBLISHED_RUN_SQL}, (SELECT max(id) FROM tile_changes), "
    f"{_SIGNATURE.format('areas')}, {_SIGNATURE.format('facilities')}"
)

#: (published run, newest tile change, dongs' signature, facilities' signature)
State = tuple[int | None, int, str, str]


def page_state(session: Session) -> State:
    """Return what kept pages depend on, in one query.

    The published run (None when none), the newest tile change (0 when none) and the
    signatures of the dongs and of the facilities tables.
    """
    published, change, areas, facilities = session.execute(text(STATE_SQL)).one()
    return published, int(change or 0), areas, facilities


@dataclass(frozen=True)
class CachedPage:
    """A rendered map page with its marks, and what its controls need from building it.

    Attributes
    ----------
    html : str
        The page with :data:`HEAD_MARK` and :data:`CONTROLS_MARK` in it.
    map_name : str
        Folium's JavaScript name of the map.
    layer_names : dict
        Toggle name -> folium's JavaScript name of the layer.
    area_options : Markup
        The dong filter's options, one per dong drawn, by name (escaped HTML: a loop over
        Seoul's 425 dongs in the template took more time than the rest of the page).
    bins : list of float
        The choropleth's class edges.
    """

    html: str
    map_name: str
    layer_names: dict[str, str]
    area_options: Markup
    bins: list[float]

    def page(self, head: str, controls: str) -> str:
        """Return the page with a request's ``<head>`` tags and controls in place."""
        before, after = self.html.split(HEAD_MARK, 1)
        after, end = after.split(CONTROLS_MARK, 1)
        return "".join((before, head, after, controls, end))


class PageCache:
    """A bounded LRU cache of map pages and the outlines of dongs (module docstring).

    Parameters
    ----------
    max_entries : int
        The pages it keeps at most (0: none, and no outlines either).
    """

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._pages: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._outlines: dict | None = None
        self._state: State | None = None
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        """Whether it keeps anything."""
        return self.max_entries > 0

    def __len__(self) -> int:
        """Return the number of pages kept."""
        return len(self._pages)

    def sync(self, state: State) -> None:
        """Bring the cache in step with the database's ``state`` (:func:`page_state`).

        A new published run or a new signature of the dongs drops the outlines too.
        """
        with self._lock:
            if self._state == state:
                return
            if self._state is None or self._state[0::2] != state[0::2]:
                self._outlines = None
            self._pages.clear()
            self._state = state

    def get(self, key: tuple) -> CachedPage | None:
        """Return the page kept under ``key``, or None."""
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple, entry: CachedPage, state: State) -> None:
        """Keep ``entry`` under ``key`` if the cache is still at ``state`` (the request's)."""
        if not self.enabled:
            return
        with self._lock:
            if state != self._state:
                return  # made before a publication or a visit it may not show
            self._pages[key] = entry
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)

    def outlines(self, state: State) -> dict | None:
        """Return the outlines kept for the published run and dongs of ``state``, or None."""
        with self._lock:
            if self._state is None or state[0::2] != self._state[0::2]:
                return None
            return self._outlines

    def keep_outlines(self, outlines: dict, state: State) -> None:
        """Keep the dongs' outlines if the published run and dongs are those of ``state``."""
        if not self.enabled:
            return
        with self._lock:
            if self._state is not None and state[0::2] == self._state[0::2]:
                self._outlines = outlines


def page_cache() -> PageCache:
    """Return the app's page cache, made on first use (``PAGE_CACHE_ENTRIES``)."""
    cache = current_app.extensions.get("visitmap_page_cache")
    if cache is None:
        entries = int(current_app.config.get("PAGE_CACHE_ENTRIES", DEFAULT_ENTRIES))
        cache = current_app.extensions.setdefault("visitmap_page_cache", PageCache(entries))
    return cache
