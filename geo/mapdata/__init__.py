"""The map's read models.

Filters (:mod:`~geo.mapdata.filters`), the per-run aggregates built when a run is stored
(:mod:`~geo.mapdata.aggregates`), the queries behind the pages and the JSON API
(:mod:`~geo.mapdata.queries`) and the vector tiles (:mod:`~geo.mapdata.tiles`).
"""
