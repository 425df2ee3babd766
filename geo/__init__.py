"""Spatial data layer of the welfare visit map: settings, PostGIS models, CRS handling,
importers, the demo generator and the queries the web map and scoring use.

Nothing here connects to a database at import time.
"""
