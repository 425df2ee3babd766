"""Each household's straight-line distance to services, kept on the household.

Distances change only when a household moves or the facilities change, so they are computed
at import (GEOS STRtree nearest neighbour in EPSG:5179, the same function the pure feature
table uses) instead of in every score run: at city scale the KNN searches in PostGIS took
37 s of a 52 s feature query. The residents importer fills them for the households it writes;
the facilities importer refreshes every household.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyarrow as pa
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import copy_arrow, read_query_frame
from scoring.features import SENIOR_OR_WELFARE_KINDS, nearest_facility_m

#: household column -> facility kinds it measures the distance to
SERVICE_DISTANCE_COLUMNS = {
    "nearest_community_centre_m": ("community_centre",),
    "nearest_senior_or_welfare_m": SENIOR_OR_WELFARE_KINDS,
}


def read_facility_points(session: Session) -> gpd.GeoDataFrame:
    """Facilities as a GeoDataFrame (kind, geometry in EPSG:4326)."""
    frame = read_query_frame(
        session,
        "SELECT kind, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM facilities",
        text_columns=("kind",),
    )
    lon = frame["lon"].to_numpy(dtype=float)  # an empty result has untyped columns
    lat = frame["lat"].to_numpy(dtype=float)
    return gpd.GeoDataFrame(
        {"kind": frame["kind"].astype(str)}, geometry=shapely.points(lon, lat), crs="EPSG:4326"
    )


def service_distances(facilities: gpd.GeoDataFrame, lon, lat) -> dict[str, np.ndarray]:
    """Distances in metres from each lon/lat point to the nearest facility of each kind."""
    points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return {
        column: nearest_facility_m(points, facilities, kinds)
        for column, kinds in SERVICE_DISTANCE_COLUMNS.items()
    }


def refresh_service_distances(session: Session) -> int:
    """Recompute every household's service distances; returns how many households changed."""
    homes = read_query_frame(
        session, "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households"
    )
    if homes.empty:
        return 0
    distances = service_distances(read_facility_points(session), homes["lon"], homes["lat"])
    columns = list(SERVICE_DISTANCE_COLUMNS)
    session.execute(text("DROP TABLE IF EXISTS stage_distances"))
    session.execute(
        text(
            "CREATE TEMP TABLE stage_distances (id integer, "
            + ", ".join(f"{c} double precision" for c in columns)
            + ") ON COMMIT DROP"
        )
    )
    copy_arrow(
        session,
        "stage_distances",
        pa.table(
            {
                "id": pa.array(homes["id"].to_numpy()),
                **{c: pa.array(distances[c], from_pandas=True) for c in columns},
            }
        ),
    )
    sets = ", ".join(f"{c} = d.{c}" for c in columns)
    old = ", ".join(f"h.{c}" for c in columns)
    new = ", ".join(f"d.{c}" for c in columns)
    result = session.execute(
        text(
            f"UPDATE households h SET {sets} FROM stage_distances d "
            f"WHERE h.id = d.id AND ({old}) IS DISTINCT FROM ({new})"
        )
    )
    return result.rowcount
