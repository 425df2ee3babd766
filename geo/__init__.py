"""The PostGIS data layer of the welfare visit map: everything that speaks SQL.

Settings and the engine, the schema and its migrations, the importers, the stores (score
runs, visits, teams, route plans, accounts, the access audit), the feature table, the map's
read models (:mod:`geo.mapdata`) and the demo data generator (:mod:`geo.demo`). Coordinate
reference systems are :mod:`visitmap.crs`.

Nothing here connects to a database at import time.
"""
