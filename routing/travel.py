"""Travel distances and times between visit locations.

Coordinates come in WGS84 lon/lat (EPSG:4326) and are projected to Korea 2000 / Unified CS
(EPSG:5179) before any distance is measured, so distances are in metres on a conformal
projection (scale error well under 0.1 % inside Korea) and never computed on raw degrees.

There is no road network here: the travelled distance is the straight line times a detour
factor (1.3 on foot and 1.4 by car by default; typical ratios of network to straight-line
distance in Korean residential grids), and the time is that distance at an average speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.plan_settings import PlanningError
from visitmap.crs import METRIC_CRS, WGS84, in_korea, transform_xy


@dataclass(frozen=True)
class TravelMatrix:
    """Travel between every pair of locations (row = from, column = to).

    Attributes
    ----------
    metres : numpy.ndarray of int64
        Travelled distance (metres, rounded).
    seconds : numpy.ndarray of int64
        Travel time (seconds, rounded up).
    """

    metres: np.ndarray
    seconds: np.ndarray


def project_lonlat(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat (degrees) to EPSG:5179 eastings/northings (metres).

    Raises
    ------
    PlanningError
        When a point is not a finite coordinate inside South Korea.
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & in_korea(lon, lat))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise PlanningError(
            f"point {first} ({lon[first]}, {lat[first]}) is not a lon/lat inside South Korea"
        )
    return transform_xy(lon, lat, WGS84, METRIC_CRS)


def travel_matrix(
    x: np.ndarray, y: np.ndarray, *, speed_kmh: float, detour_factor: float
) -> TravelMatrix:
    """Travel distances and times between projected points.

    Parameters
    ----------
    x, y : numpy.ndarray
        Eastings and northings in a metric CRS (metres).
    speed_kmh : float
        Average travel speed (km/h).
    detour_factor : float
        Travelled distance over straight-line distance (>= 1).

    Returns
    -------
    TravelMatrix
        Square matrices; the diagonal is zero.
    """
    if speed_kmh <= 0 or detour_factor < 1:
        raise PlanningError("speed_kmh must be positive and detour_factor at least 1")
    straight = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    travelled = straight * detour_factor
    metres = np.rint(travelled).astype(np.int64)
    seconds = np.ceil(travelled / (speed_kmh / 3.6) - 1e-6).astype(np.int64)
    np.fill_diagonal(metres, 0)
    np.fill_diagonal(seconds, 0)
    return TravelMatrix(metres=metres, seconds=np.maximum(seconds, 0))
