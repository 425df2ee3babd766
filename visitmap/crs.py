"""Coordinate reference systems: parsing, transformation to lon/lat, and the Korea bounds check.

All transformations use pyproj with ``always_xy=True`` (x = easting or longitude first).
Korean projected systems in common use:

- EPSG:5179 Korea 2000 / Unified CS (UTM-K, used by road-name address data)
- EPSG:5186 Korea 2000 / Central Belt 2010
- EPSG:5181 Korea 2000 / Central Belt (used by Daum/Kakao maps)
- EPSG:5174 Korean 1985 / Modified Central Belt (Bessel ellipsoid; old cadastral data)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from visitmap.errors import FieldError

WGS84 = "EPSG:4326"
#: Projected CRS used for metric work (distances in metres) over the whole country.
METRIC_CRS = "EPSG:5179"
#: Bounding box of South Korea (lon/lat degrees), Jeju, Ulleungdo and Dokdo included.
KOREA_BOUNDS = (124.0, 33.0, 132.0, 38.7)


class CRSError(FieldError):
    """A coordinate reference system could not be understood or does not fit the data."""


def parse_crs(value: str | int | CRS) -> CRS:
    """Parse ``"EPSG:5179"``, ``"epsg:5179"``, ``"5179"`` or ``5179`` into a :class:`CRS`."""
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except PyprojCRSError as exc:
        raise CRSError(f"unknown CRS {value!r}") from exc


def crs_label(crs: CRS) -> str:
    """Return ``EPSG:NNNN`` where the CRS has an EPSG code, else its name."""
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def same_crs(a: CRS, b: CRS) -> bool:
    """Return True when two CRS definitions describe the same system.

    They do when they are equal, or when both resolve to the same EPSG code.
    """
    return a == b or (a.to_epsg() is not None and a.to_epsg() == b.to_epsg())


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(
        CRS.from_user_input(source), CRS.from_user_input(target), always_xy=True
    )


def transform_xy(x, y, source: CRS | str, target: CRS | str = WGS84):
    """Transform coordinate arrays from ``source`` to ``target`` (default lon/lat).

    Parameters
    ----------
    x, y
        Eastings/northings in metres or longitudes/latitudes in degrees, as the CRS says.

    Returns
    -------
    tuple of numpy.ndarray
        The transformed ``(x, y)``; ``inf`` where the transformation fails.
    """
    source_text = parse_crs(source).to_wkt()
    target_text = parse_crs(target).to_wkt()
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if source_text == target_text:
        return x.copy(), y.copy()
    return _transformer(source_text, target_text).transform(x, y)


def in_korea(lon, lat) -> np.ndarray:
    """Return a boolean mask of the lon/lat points inside :data:`KOREA_BOUNDS` (edges included)."""
    min_lon, min_lat, max_lon, max_lat = KOREA_BOUNDS
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    return (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)
