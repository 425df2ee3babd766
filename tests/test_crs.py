"""Coordinate transforms for the Korean CRSs, checked against independently known coordinates.

Nothing here compares pyproj with itself, except the explicit round trips. The expected
eastings/northings come from:

- the definitions of the projections (a projection's natural origin maps to its false origin);
- the classic Transverse Mercator power series of Snyder (1987), *Map Projections - A Working
  Manual*, USGS Professional Paper 1395, eqs. 8-9, 8-10 and 3-21 (implemented below from scratch);
- a second, independent series (Krueger's n-series, as given by Karney 2011, *J. Geodesy* 85,
  eqs. 35 and 7-9, to order n^4), used to measure the truncation error of Snyder's series and
  as the sub-millimetre reference for the inverse checks;
- the published worked example of EPSG Guidance Note 7-2 (Transverse Mercator, OSGB 1936 /
  British National Grid), which anchors both series to a number that did not come from pyproj.

Projection parameters are those of the EPSG dataset:

=========  ==============================================  =====  ==================  ======
CRS        name                                            lat0   lon0                k0
=========  ==============================================  =====  ==================  ======
EPSG:5179  Korea 2000 / Unified CS (GRS80)                 38 N   127.5 E             0.9996
EPSG:5186  Korea 2000 / Central Belt 2010 (GRS80)          38 N   127 E               1
EPSG:5181  Korea 2000 / Central Belt (GRS80)               38 N   127 E               1
EPSG:5174  Korean 1985 / Modified Central Belt (Bessel)    38 N   127 deg 00' 10.405" E  1
=========  ==============================================  =====  ==================  ======

with false eastings/northings 1 000 000/2 000 000, 200 000/600 000, 200 000/500 000 and
200 000/500 000 metres.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np
import pytest
import shapely
from pyproj import CRS

from geo.importers.reading import read_table
from visitmap.crs import (
    KOREA_BOUNDS,
    METRIC_CRS,
    CRSError,
    crs_label,
    in_korea,
    parse_crs,
    same_crs,
    transform_xy,
)

# --------------------------------------------------------------------------------------------
# Ellipsoids (EPSG:7019 GRS 1980, EPSG:7004 Bessel 1841, EPSG:7030 WGS 84): (a, 1/f)
GRS80 = (6378137.0, 298.257222101)
BESSEL_1841 = (6377397.155, 299.1528128)
WGS84_ELLIPSOID = (6378137.0, 298.257223563)

METRE_TOLERANCE = 0.01  # 1 cm, forward transforms
DEGREE_TOLERANCE = 1e-9  # ~0.1 mm, inverse transforms
READER_TOLERANCE = 1e-7  # ~1 cm, geometry coming back through read_table


@dataclass(frozen=True)
class TransverseMercator:
    """One Transverse Mercator CRS: its parameters and the geographic CRS it projects."""

    code: str
    geographic: str  # the lon/lat CRS on the same datum (what the projection itself consumes)
    a: float
    inv_f: float
    lat0: float
    lon0: float
    k0: float
    false_easting: float
    false_northing: float


KOREAN_TM = {
    # Korea 2000 (KGD2002) is ITRF-based; EPSG's "KGD2002 to WGS 84 (1)" is a null
    # transformation, so these are projected directly from EPSG:4326 lon/lat.
    "EPSG:5179": TransverseMercator(
        "EPSG:5179", "EPSG:4326", *GRS80, 38.0, 127.5, 0.9996, 1_000_000.0, 2_000_000.0
    ),
    "EPSG:5186": TransverseMercator(
        "EPSG:5186", "EPSG:4326", *GRS80, 38.0, 127.0, 1.0, 200_000.0, 600_000.0
    ),
    "EPSG:5181": TransverseMercator(
        "EPSG:5181", "EPSG:4326", *GRS80, 38.0, 127.0, 1.0, 200_000.0, 500_000.0
    ),
    # Korean 1985 is a Bessel 1841 datum: the projection consumes EPSG:4162 lon/lat.
    # lon0 = 127 deg 00' 10.405" = 127 + 10.405 / 3600.
    "EPSG:5174": TransverseMercator(
        "EPSG:5174",
        "EPSG:4162",
        *BESSEL_1841,
        38.0,
        127.0 + 10.405 / 3600.0,
        1.0,
        200_000.0,
        500_000.0,
    ),
}

#: Places in South Korea (lon, lat degrees), rounded map-read positions.
PLACES = {
    "seodaemun_office": (126.9368, 37.5791),
    "seoul_city_hall": (126.9780, 37.5665),
    "jeju": (126.53, 33.50),
    "busan": (129.07, 35.18),
}
# |lon - lon0| for these: at most 1.57 deg for EPSG:5179 (lon0 127.5) and 2.07 deg (Busan) for
# the central belts (lon0 127). test_snyder_series_truncation_is_below_a_millimetre shows that
# Snyder's series is good to < 0.1 mm there (its A^7/A^8 terms are ~1e-4 m at 3 deg).

TM_CASES = [
    pytest.param(code, place, id=f"{code}-{place}") for code in KOREAN_TM for place in PLACES
]


# --------------------------------------------------------------------------------------------
# Independent implementations


def _meridian_distance(phi: float, a: float, e2: float) -> float:
    """Snyder eq. 3-21: distance along the meridian from the equator to latitude ``phi``."""
    e4, e6 = e2 * e2, e2**3
    return a * (
        (1 - e2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * phi
        - (3 * e2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * math.sin(2 * phi)
        + (15 * e4 / 256 + 45 * e6 / 1024) * math.sin(4 * phi)
        - (35 * e6 / 3072) * math.sin(6 * phi)
    )


def _snyder_tm(lon: float, lat: float, p: TransverseMercator) -> tuple[float, float]:
    """Ellipsoidal Transverse Mercator, Snyder (1987) eqs. 8-9 and 8-10 (forward)."""
    f = 1 / p.inv_f
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    phi = math.radians(lat)
    n = p.a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    t = math.tan(phi) ** 2
    c = ep2 * math.cos(phi) ** 2
    big_a = math.radians(lon - p.lon0) * math.cos(phi)
    m = _meridian_distance(phi, p.a, e2)
    m0 = _meridian_distance(math.radians(p.lat0), p.a, e2)
    x = (
        p.k0
        * n
        * (
            big_a
            + (1 - t + c) * big_a**3 / 6
            + (5 - 18 * t + t * t + 72 * c - 58 * ep2) * big_a**5 / 120
        )
    )
    y = p.k0 * (
        m
        - m0
        + n
        * math.tan(phi)
        * (
            big_a**2 / 2
            + (5 - t + 9 * c + 4 * c * c) * big_a**4 / 24
            + (61 - 58 * t + t * t + 600 * c - 330 * ep2) * big_a**6 / 720
        )
    )
    return p.false_easting + x, p.false_northing + y


def _kruger_tm(lon: float, lat: float, p: TransverseMercator) -> tuple[float, float]:
    """Transverse Mercator by Krueger's series in n = f/(2-f) to order n^4 (Karney 2011).

    Truncation error is far below a millimetre within thousands of kilometres of the
    central meridian, so this is the sub-millimetre reference.
    """
    f = 1 / p.inv_f
    n = f / (2 - f)
    e = math.sqrt(f * (2 - f))
    rect = p.a / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    alpha = (
        n / 2 - 2 * n**2 / 3 + 5 * n**3 / 16 + 41 * n**4 / 180,
        13 * n**2 / 48 - 3 * n**3 / 5 + 557 * n**4 / 1440,
        61 * n**3 / 240 - 103 * n**4 / 140,
        49561 * n**4 / 161280,
    )

    def unscaled(lon_deg: float, lat_deg: float) -> tuple[float, float]:
        phi = math.radians(lat_deg)
        lam = math.radians(lon_deg - p.lon0)
        tau = math.sinh(math.atanh(math.sin(phi)) - e * math.atanh(e * math.sin(phi)))
        xi = math.atan2(tau, math.cos(lam))
        eta = math.atanh(math.sin(lam) / math.sqrt(1 + tau * tau))
        x = eta + sum(
            al * math.cos(2 * j * xi) * math.sinh(2 * j * eta)
            for j, al in enumerate(alpha, start=1)
        )
        y = xi + sum(
            al * math.sin(2 * j * xi) * math.cosh(2 * j * eta)
            for j, al in enumerate(alpha, start=1)
        )
        return p.k0 * rect * x, p.k0 * rect * y

    x, y = unscaled(lon, lat)
    _, y0 = unscaled(p.lon0, p.lat0)
    return p.false_easting + x, p.false_northing + y - y0


def _to_ecef(lon: float, lat: float, a: float, inv_f: float) -> np.ndarray:
    """Geodetic (h = 0) to Earth-centred Cartesian coordinates."""
    f = 1 / inv_f
    e2 = f * (2 - f)
    phi, lam = math.radians(lat), math.radians(lon)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    return np.array(
        [
            n * math.cos(phi) * math.cos(lam),
            n * math.cos(phi) * math.sin(lam),
            n * (1 - e2) * math.sin(phi),
        ]
    )


def _from_ecef(xyz: np.ndarray, a: float, inv_f: float) -> tuple[float, float]:
    """Earth-centred Cartesian to geodetic lon/lat (fixed-point iteration on latitude)."""
    f = 1 / inv_f
    e2 = f * (2 - f)
    x, y, z = xyz
    p = math.hypot(x, y)
    phi = math.atan2(z, p * (1 - e2))
    for _ in range(10):
        n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
        h = p / math.cos(phi) - n
        phi = math.atan2(z, p * (1 - e2 * n / (n + h)))
    return math.degrees(math.atan2(y, x)), math.degrees(phi)


#: EPSG:1305 "Tokyo to WGS 84 (5)", area of use South Korea: geocentric translations
#: (dX, dY, dZ) in metres, stated accuracy 4 m. Korean 1985 is the Tokyo-datum network of
#: Korea on the Bessel 1841 ellipsoid, so this independent 3-parameter shift approximates
#: EPSG's 7-parameter "Korean 1985 to WGS 84 (1)" (EPSG:5191) to a few metres.
TOKYO_TO_WGS84_KOREA = np.array([-147.0, 506.0, 687.0])


def _korean1985_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    xyz = _to_ecef(lon, lat, *BESSEL_1841) + TOKYO_TO_WGS84_KOREA
    return _from_ecef(xyz, *WGS84_ELLIPSOID)


def _wgs84_to_korean1985(lon: float, lat: float) -> tuple[float, float]:
    xyz = _to_ecef(lon, lat, *WGS84_ELLIPSOID) - TOKYO_TO_WGS84_KOREA
    return _from_ecef(xyz, *BESSEL_1841)


def _ground_metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Approximate ground distance (equirectangular; fine for offsets of a few hundred m)."""
    mid = math.radians((lat1 + lat2) / 2)
    return math.hypot((lon2 - lon1) * 111_320.0 * math.cos(mid), (lat2 - lat1) * 110_950.0)


def _xy(x, y) -> tuple[float, float]:
    return float(np.asarray(x).item()), float(np.asarray(y).item())


# --------------------------------------------------------------------------------------------
# The independent series themselves


@pytest.mark.parametrize("series", [_snyder_tm, _kruger_tm], ids=["snyder", "kruger"])
def test_series_reproduce_epsg_guidance_note_worked_example(series):
    """EPSG Guidance Note 7-2, Transverse Mercator example (OSGB 1936 / British National Grid).

    Airy 1830 (a = 6377563.396, 1/f = 299.3249646), lat0 49 N, lon0 2 W, FE 400000,
    FN -100000 and, as printed in the example, k0 = 0.9996013. The point 50 deg 30' N,
    0 deg 30' E is published as E = 577274.99 m, N = 69740.50 m (rounded to the centimetre,
    hence the 6 mm tolerance).
    """
    osgb = TransverseMercator(
        "EPSG:27700",
        "EPSG:4277",
        6377563.396,
        299.3249646,
        49.0,
        -2.0,
        0.9996013,
        400_000.0,
        -100_000.0,
    )
    easting, northing = series(0.5, 50.5, osgb)
    assert easting == pytest.approx(577274.99, abs=0.006)
    assert northing == pytest.approx(69740.50, abs=0.006)


@pytest.mark.parametrize(("code", "place"), TM_CASES)
def test_snyder_series_truncation_is_below_a_millimetre(code, place):
    """Snyder's A^5/A^6-truncated series against the Krueger series at every test point.

    Guards the expected values of the forward tests: if the points were too far from the
    central meridian for Snyder's series, this would fail first.
    """
    p = KOREAN_TM[code]
    lon, lat = PLACES[place]
    snyder = _snyder_tm(lon, lat, p)
    kruger = _kruger_tm(lon, lat, p)
    assert abs(snyder[0] - kruger[0]) < 0.001
    assert abs(snyder[1] - kruger[1]) < 0.001


# --------------------------------------------------------------------------------------------
# Origins: exact by definition


@pytest.mark.parametrize("code", list(KOREAN_TM))
def test_natural_origin_maps_to_false_origin(code):
    """(lon0, lat0) in the CRS's own geographic CRS lands on (FE, FN) exactly."""
    p = KOREAN_TM[code]
    easting, northing = _xy(*transform_xy(p.lon0, p.lat0, p.geographic, code))
    assert easting == pytest.approx(p.false_easting, abs=1e-6)
    assert northing == pytest.approx(p.false_northing, abs=1e-6)


@pytest.mark.parametrize("code", list(KOREAN_TM))
def test_false_origin_maps_back_to_natural_origin(code):
    p = KOREAN_TM[code]
    lon, lat = _xy(*transform_xy(p.false_easting, p.false_northing, code, p.geographic))
    assert lon == pytest.approx(p.lon0, abs=DEGREE_TOLERANCE)
    assert lat == pytest.approx(p.lat0, abs=DEGREE_TOLERANCE)


def test_origins_are_where_the_epsg_definitions_put_them():
    """Spot values from the definitions, written out rather than derived from KOREAN_TM."""
    assert _xy(*transform_xy(127.5, 38.0, "EPSG:4326", "EPSG:5179")) == pytest.approx(
        (1_000_000.0, 2_000_000.0), abs=METRE_TOLERANCE
    )
    assert _xy(*transform_xy(127.0, 38.0, "EPSG:4326", "EPSG:5186")) == pytest.approx(
        (200_000.0, 600_000.0), abs=METRE_TOLERANCE
    )
    assert _xy(*transform_xy(127.0, 38.0, "EPSG:4326", "EPSG:5181")) == pytest.approx(
        (200_000.0, 500_000.0), abs=METRE_TOLERANCE
    )
    assert _xy(*transform_xy(127.0028902777778, 38.0, "EPSG:4162", "EPSG:5174")) == (
        pytest.approx((200_000.0, 500_000.0), abs=METRE_TOLERANCE)
    )


# --------------------------------------------------------------------------------------------
# Points away from the origin


@pytest.mark.parametrize(("code", "place"), TM_CASES)
def test_forward_transform_matches_snyder_series(code, place):
    """pyproj (through transform_xy) against Snyder's series, to 1 cm.

    For the Korea 2000 systems the input is EPSG:4326: agreement to 1 cm with a series on
    GRS80 with no datum step also proves that no datum shift is applied there.
    """
    p = KOREAN_TM[code]
    lon, lat = PLACES[place]
    expected = _snyder_tm(lon, lat, p)
    actual = _xy(*transform_xy(lon, lat, p.geographic, code))
    assert actual[0] == pytest.approx(expected[0], abs=METRE_TOLERANCE)
    assert actual[1] == pytest.approx(expected[1], abs=METRE_TOLERANCE)


@pytest.mark.parametrize(("code", "place"), TM_CASES)
def test_inverse_transform_recovers_lon_lat(code, place):
    """Easting/northing from the Krueger series back to the known lon/lat within 1e-9 deg."""
    p = KOREAN_TM[code]
    lon, lat = PLACES[place]
    easting, northing = _kruger_tm(lon, lat, p)
    target = {} if p.geographic == "EPSG:4326" else {"target": p.geographic}
    back = _xy(*transform_xy(easting, northing, code, **target))
    assert back[0] == pytest.approx(lon, abs=DEGREE_TOLERANCE)
    assert back[1] == pytest.approx(lat, abs=DEGREE_TOLERANCE)


def test_transform_xy_handles_arrays():
    """All places at once give the same numbers as the series, element by element."""
    p = KOREAN_TM["EPSG:5179"]
    lons, lats = (np.array(v) for v in zip(*PLACES.values(), strict=True))
    eastings, northings = transform_xy(lons, lats, "EPSG:4326", "EPSG:5179")
    expected = np.array([_snyder_tm(lon, lat, p) for lon, lat in PLACES.values()])
    np.testing.assert_allclose(eastings, expected[:, 0], rtol=0, atol=METRE_TOLERANCE)
    np.testing.assert_allclose(northings, expected[:, 1], rtol=0, atol=METRE_TOLERANCE)


def test_korea_2000_geographic_coincides_with_wgs84():
    """EPSG:4737 (Korea 2000) -> EPSG:4326 is the null transformation KGD2002 to WGS 84 (1).

    If pyproj chose a non-null transformation (a Helmert shift of even a centimetre), the
    lon/lat would move by > 1e-7 deg.
    """
    lons, lats = (np.array(v) for v in zip(*PLACES.values(), strict=True))
    out_lon, out_lat = transform_xy(lons, lats, "EPSG:4737", "EPSG:4326")
    np.testing.assert_allclose(out_lon, lons, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out_lat, lats, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Korean 1985: the datum shift


@pytest.mark.parametrize("place", list(PLACES))
def test_projection_only_round_trip_korean_1985_is_exact(place):
    """EPSG:4162 -> 5174 -> 4162 involves no datum step, so it must close to 1e-9 deg."""
    lon, lat = PLACES[place]
    easting, northing = transform_xy(lon, lat, "EPSG:4162", "EPSG:5174")
    back = _xy(*transform_xy(easting, northing, "EPSG:5174", "EPSG:4162"))
    assert back == pytest.approx((lon, lat), abs=DEGREE_TOLERANCE)


@pytest.mark.parametrize("place", list(PLACES))
def test_wgs84_to_5174_round_trip(place):
    """EPSG:4326 -> 5174 -> 4326 comes back to the start.

    Not to 1e-9 deg: the Korean 1985 <-> WGS 84 step is a 2D ("geog2D domain") Helmert
    transformation. Forward, a point with h = 0 on Bessel ends up ~94 m above the WGS 84
    ellipsoid (computed with _to_ecef/_from_ecef and the EPSG:1305 shift); that height is
    dropped, and the inverse starts from h = 0 on WGS 84. The two ellipsoid normals differ by
    ~10" there, so the round trip misses by ~94 m * 5e-5 rad ~ 5 mm ~ 4e-8 deg. A tolerance of
    1e-7 deg (~1 cm) covers that and still catches any real error (a wrong transformation
    choice or a missing inverse step is hundreds of metres).
    """
    lon, lat = PLACES[place]
    easting, northing = transform_xy(lon, lat, "EPSG:4326", "EPSG:5174")
    back = _xy(*transform_xy(easting, northing, "EPSG:5174"))
    assert back == pytest.approx((lon, lat), abs=1e-7)


@pytest.mark.parametrize("place", list(PLACES))
def test_korean_1985_shift_agrees_with_independent_three_parameter_shift(place):
    """Projecting one lon/lat as EPSG:4326 vs as EPSG:4162 differs by the datum shift.

    Expected offset: convert the WGS 84 lon/lat to Korean 1985 with the published 3-parameter
    shift EPSG:1305 (computed here from scratch), project both with Snyder's series on Bessel
    1841, subtract. EPSG:1305 is stated to 4 m and is a different (3- vs 7-parameter) model,
    so allow 10 m.
    """
    lon, lat = PLACES[place]
    p = KOREAN_TM["EPSG:5174"]
    as_wgs84 = np.array(_xy(*transform_xy(lon, lat, "EPSG:4326", "EPSG:5174")))
    as_k1985 = np.array(_xy(*transform_xy(lon, lat, "EPSG:4162", "EPSG:5174")))
    expected = np.array(_snyder_tm(*_wgs84_to_korean1985(lon, lat), p)) - np.array(
        _snyder_tm(lon, lat, p)
    )
    assert np.hypot(*(as_wgs84 - as_k1985 - expected)) < 10.0


def test_korean_1985_shift_magnitude_in_seoul():
    """The Tokyo/Bessel datum offset in Seoul, in EPSG:5174 metres.

    Justification of the range: the Tokyo-datum family in central Korea sits about 10" south
    and 7.5-8" east of WGS 84 (the 3-parameter EPSG:1305 shift computed here gives -10.0" and
    +7.6" at Seoul City Hall), i.e. ~308 m of northing and ~187 m of easting: ~360 m in
    total, with the northing component alone ~300-320 m. 345-375 m allows for the 4 m
    accuracy of EPSG:1305 and the 3- vs 7-parameter model difference with a wide margin, while
    a missing shift (0 m), a doubled one (~720 m) or one applied with the wrong sign (same
    length, opposite direction, caught by the sign checks) fails.
    """
    lon, lat = PLACES["seoul_city_hall"]
    as_wgs84 = np.array(_xy(*transform_xy(lon, lat, "EPSG:4326", "EPSG:5174")))
    as_k1985 = np.array(_xy(*transform_xy(lon, lat, "EPSG:4162", "EPSG:5174")))
    d_east, d_north = as_wgs84 - as_k1985
    assert 345.0 <= math.hypot(d_east, d_north) <= 375.0
    # WGS 84 lon/lat expressed in Korean 1985 lie further south and further east
    assert 290.0 <= -d_north <= 330.0
    assert 165.0 <= d_east <= 210.0


# --------------------------------------------------------------------------------------------
# in_korea


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        pytest.param(126.9780, 37.5665, id="seoul"),
        pytest.param(126.53, 33.50, id="jeju"),
        pytest.param(126.27, 33.12, id="marado"),
        pytest.param(129.07, 35.18, id="busan"),
        pytest.param(130.90, 37.48, id="ulleungdo"),
        pytest.param(131.87, 37.24, id="dokdo"),
        pytest.param(124.71, 37.97, id="baengnyeongdo"),
    ],
)
def test_in_korea_inside(lon, lat):
    assert bool(in_korea(lon, lat))


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        pytest.param(139.6917, 35.6895, id="tokyo"),
        pytest.param(116.4074, 39.9042, id="beijing"),
        pytest.param(125.75, 39.03, id="pyongyang"),
        pytest.param(129.75, 41.80, id="chongjin"),
        pytest.param(0.0, 0.0, id="null-island"),
        pytest.param(37.57, 126.98, id="swapped-lat-lon"),
        pytest.param(126.98, 32.5, id="south-of-jeju"),
        pytest.param(122.12, 37.51, id="weihai-china-west"),
        pytest.param(133.05, 35.47, id="matsue-japan-east"),
    ],
)
def test_in_korea_outside(lon, lat):
    assert not bool(in_korea(lon, lat))


def test_in_korea_is_vectorised_and_rejects_non_finite():
    lons = np.array([126.978, 139.6917, np.inf, np.nan, 131.87])
    lats = np.array([37.5665, 35.6895, 37.0, 37.0, 37.24])
    assert in_korea(lons, lats).tolist() == [True, False, False, False, True]


def test_korea_bounds_cover_the_territory():
    """Bounds reach Baengnyeongdo (west), Marado (south), Dokdo (east), Goseong (north)."""
    min_lon, min_lat, max_lon, max_lat = KOREA_BOUNDS
    assert min_lon < 124.6 and max_lon > 131.87
    assert min_lat < 33.11 and 38.62 < max_lat < 39.0  # Pyongyang (39.03) must stay out


# --------------------------------------------------------------------------------------------
# parse_crs and friends


@pytest.mark.parametrize(
    "spelling",
    ["EPSG:5179", "epsg:5179", "5179", 5179, " 5179 "],
    ids=["EPSG:5179", "epsg:5179", "str-5179", "int-5179", "padded"],
)
def test_parse_crs_spellings(spelling):
    crs = parse_crs(spelling)
    assert crs.to_epsg() == 5179
    assert crs.name.endswith("/ Unified CS")  # "KGD2002 / Unified CS" (ex "Korea 2000 / ...")
    assert crs == CRS.from_epsg(5179)
    assert crs_label(crs) == "EPSG:5179"


@pytest.mark.parametrize("garbage", ["not-a-crs", "EPSG:99999999", "WGS85", "51 79", 5179.5])
def test_parse_crs_rejects_garbage_naming_the_input(garbage):
    with pytest.raises(CRSError, match=re.escape(repr(garbage))):
        parse_crs(garbage)


def test_crs_error_is_a_value_error():
    assert issubclass(CRSError, ValueError)


def test_same_crs_and_labels():
    assert same_crs(parse_crs("EPSG:5179"), parse_crs(5179))
    assert same_crs(parse_crs(CRS.from_epsg(5186).to_wkt()), parse_crs("EPSG:5186"))
    assert not same_crs(parse_crs("EPSG:5186"), parse_crs("EPSG:5181"))  # differ only in FN
    assert crs_label(parse_crs("5174")) == "EPSG:5174"


def test_metric_crs_is_the_unified_cs_in_metres():
    crs = parse_crs(METRIC_CRS)
    assert crs.to_epsg() == 5179
    assert crs.is_projected
    assert all(axis.unit_name == "metre" for axis in crs.axis_info)


# --------------------------------------------------------------------------------------------
# Through the reader


def _write_xy_csv(path, rows):
    lines = ["name,x,y"] + [f"{name},{x!r},{y!r}" for name, x, y in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _assert_lonlat(geometry, expected, tolerance=READER_TOLERANCE):
    assert geometry is not None
    assert len(geometry) == len(expected)
    for geom, (lon, lat) in zip(geometry, expected, strict=True):
        assert geom is not None and geom.geom_type == "Point"
        assert geom.x == pytest.approx(lon, abs=tolerance)
        assert geom.y == pytest.approx(lat, abs=tolerance)


@pytest.mark.parametrize("code", ["EPSG:5179", "EPSG:5186", "EPSG:5181"])
def test_read_csv_projected_xy(tmp_path, code):
    """x,y from Snyder's series for the known lon/lat come back as that lon/lat (1e-7 deg)."""
    p = KOREAN_TM[code]
    rows = [(name, *_snyder_tm(lon, lat, p)) for name, (lon, lat) in PLACES.items()]
    path = tmp_path / "points.csv"
    _write_xy_csv(path, rows)
    table, problems = read_table(path, geometry="point", crs=code)
    assert problems == []
    assert table.row_numbers.tolist() == [2, 3, 4, 5]
    _assert_lonlat(table.geometry, list(PLACES.values()))


def test_read_csv_korean_1985_applies_the_datum_shift(tmp_path):
    """5174 x,y of known Korean 1985 lon/lat come back as WGS 84 lon/lat.

    x,y: Snyder's series on Bessel 1841 at the places read as EPSG:4162 lon/lat. Expected:
    those lon/lat moved to WGS 84 by the independent EPSG:1305 shift (to 10 m; the shift
    itself is ~360-410 m, so returning the Korean 1985 lon/lat unshifted fails).
    """
    p = KOREAN_TM["EPSG:5174"]
    rows = [(name, *_snyder_tm(lon, lat, p)) for name, (lon, lat) in PLACES.items()]
    path = tmp_path / "k1985.csv"
    _write_xy_csv(path, rows)
    table, problems = read_table(path, geometry="point", crs="EPSG:5174")
    assert problems == []
    for geom, (lon, lat) in zip(table.geometry, PLACES.values(), strict=True):
        exp_lon, exp_lat = _korean1985_to_wgs84(lon, lat)
        assert _ground_metres(geom.x, geom.y, exp_lon, exp_lat) < 10.0
        assert _ground_metres(geom.x, geom.y, lon, lat) > 300.0


def test_read_csv_5174_round_trip(tmp_path):
    """WGS 84 lon/lat -> 5174 (transform_xy) -> CSV -> read_table: back within 1e-7 deg."""
    lons, lats = (np.array(v) for v in zip(*PLACES.values(), strict=True))
    xs, ys = transform_xy(lons, lats, "EPSG:4326", "EPSG:5174")
    path = tmp_path / "k1985.csv"
    _write_xy_csv(
        path, [(name, float(x), float(y)) for name, x, y in zip(PLACES, xs, ys, strict=True)]
    )
    table, problems = read_table(path, geometry="point", crs="EPSG:5174")
    assert problems == []
    _assert_lonlat(table.geometry, list(PLACES.values()))


def _legacy_geojson(path, code_urn, places):
    p = KOREAN_TM["EPSG:5179"]
    features = [
        {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Point", "coordinates": list(_snyder_tm(*places[name], p))},
        }
        for name in places
    ]
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": code_urn}},
        "features": features,
    }
    path.write_text(json.dumps(collection), encoding="utf-8")


def test_read_geojson_with_legacy_crs_member(tmp_path):
    """A pre-RFC 7946 "crs" member naming EPSG:5179 is honoured without --crs."""
    places = {k: PLACES[k] for k in ("seodaemun_office", "busan")}
    path = tmp_path / "points.geojson"
    _legacy_geojson(path, "urn:ogc:def:crs:EPSG::5179", places)
    table, problems = read_table(path, geometry="point")
    assert problems == []
    assert table.row_numbers.tolist() == [1, 2]
    assert table.frame["name"].tolist() == list(places)
    _assert_lonlat(table.geometry, list(places.values()))
    # the same CRS given explicitly is no contradiction
    table, problems = read_table(path, geometry="point", crs="EPSG:5179")
    assert problems == []
    _assert_lonlat(table.geometry, list(places.values()))


def test_read_geojson_contradicting_crs_is_a_problem(tmp_path):
    path = tmp_path / "points.geojson"
    _legacy_geojson(path, "urn:ogc:def:crs:EPSG::5179", {"jeju": PLACES["jeju"]})
    table, problems = read_table(path, geometry="point", crs="EPSG:5186")
    assert table is None
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.row, problem.column) == ("points.geojson", 0, "--crs")
    assert "EPSG:5186" in problem.reason and "EPSG:5179" in problem.reason


def test_read_csv_lon_lat_with_projected_crs_is_a_problem(tmp_path):
    path = tmp_path / "lonlat.csv"
    path.write_text("name,lon,lat\ncity hall,126.9780,37.5665\n", encoding="utf-8")
    table, problems = read_table(path, geometry="point", crs="EPSG:5179")
    assert len(problems) == 1
    assert problems[0].column == "lon"
    assert "EPSG:5179" in problems[0].reason and "degrees" in problems[0].reason
    assert table is None  # a file-level problem: nothing to import


def test_read_csv_xy_without_crs_is_a_problem(tmp_path):
    path = tmp_path / "xy.csv"
    _write_xy_csv(path, [("city hall", *_snyder_tm(126.978, 37.5665, KOREAN_TM["EPSG:5179"]))])
    table, problems = read_table(path, geometry="point")
    assert len(problems) == 1
    assert problems[0].row == 0
    assert problems[0].column == "x"
    assert "--crs" in problems[0].reason
    assert table is None  # a file-level problem: nothing to import


def test_read_csv_point_outside_korea_names_row_and_column(tmp_path):
    """First record (CSV row 2) is Tokyo in 5179 coordinates; the second (row 3) is Seoul.

    Tokyo is 12 deg from the 5179 central meridian, where Snyder's series is off by metres,
    which does not matter: it only has to land outside Korea.
    """
    p = KOREAN_TM["EPSG:5179"]
    path = tmp_path / "xy.csv"
    _write_xy_csv(
        path,
        [("tokyo", *_snyder_tm(139.6917, 35.6895, p)), ("seoul", *_snyder_tm(126.978, 37.5665, p))],
    )
    table, problems = read_table(path, geometry="point", crs="EPSG:5179")
    assert [(q.row, q.column) for q in problems] == [(2, "x")]
    assert "outside South Korea" in problems[0].reason
    assert "EPSG:5179" in problems[0].reason
    assert table.geometry[0] is None
    _assert_lonlat(table.geometry[1:], [(126.978, 37.5665)])


def test_read_csv_swapped_lon_lat_is_outside_korea(tmp_path):
    path = tmp_path / "lonlat.csv"
    path.write_text("name,lon,lat\nok,126.978,37.5665\nswapped,37.5665,126.978\n", encoding="utf-8")
    table, problems = read_table(path, geometry="point")
    assert [(q.row, q.column) for q in problems] == [(3, "lon")]
    assert shapely.get_coordinates(table.geometry[0]).tolist() == [[126.978, 37.5665]]
    assert table.geometry[1] is None


def test_read_plain_geojson_with_crs_option_uses_the_option(tmp_path):
    """A GeoJSON without a ``crs`` member declares nothing; ``--crs`` then applies."""
    path = tmp_path / "plain.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Point","coordinates":[1000000.0,2000000.0]}}]}',
        encoding="utf-8",
    )
    table, problems = read_table(path, geometry="point", crs="EPSG:5179")
    assert problems == []
    # the false origin of EPSG:5179 is its natural origin (127.5 E, 38 N)
    assert table.geometry[0].x == pytest.approx(127.5, abs=1e-9)
    assert table.geometry[0].y == pytest.approx(38.0, abs=1e-9)
