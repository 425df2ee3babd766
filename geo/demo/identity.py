"""Identities and homes of the demo residents (see ``docs/demo_data.md``).

Names, resident registration numbers, birth and registration dates, statuses, locations and
fictional addresses.

Resident registration numbers (RRNs) are synthetic and deliberately fail the pre-2020 checksum;
see :func:`synthetic_rrns`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geo.demo.population import ADULT_AGE, OLDEST_OLD_AGE, Population, RegionTargets, as_days

if TYPE_CHECKING:
    from geo.demo.welfare import CrisisTruth

RRN_WEIGHTS = np.array([2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])
RRN_RANDOM_SINCE = np.datetime64("2020-10-05")  # numbers issued from here on carry no checksum
BOUNDARY_MARGIN_DEG = 1e-5  # points keep about 1 m from dong boundaries
HOUSEHOLDS_PER_BUILDING = 3.5
MEAN_YEARS_AT_ADDRESS = 9.0
_EPOCH_YEAR = 1970


def sample_points(
    rng: np.random.Generator, polygon: shapely.Geometry, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw uniform random points inside ``polygon``, rounded to 6 decimals.

    Points are drawn in the bounding box, rounded, and kept if they lie inside the polygon
    shrunk by about 1 m (so the rounded point is inside the original polygon and not on a
    shared boundary). Vectorised with :func:`shapely.contains_xy`.

    Returns
    -------
    lon, lat : numpy.ndarray
        Degrees (EPSG:4326).
    """
    inner = shapely.buffer(polygon, -BOUNDARY_MARGIN_DEG)
    if shapely.is_empty(inner):
        inner = polygon
    shapely.prepare(inner)
    min_x, min_y, max_x, max_y = shapely.bounds(inner)
    box_area = (max_x - min_x) * (max_y - min_y)
    fill = max(shapely.area(inner) / box_area, 0.05) if box_area > 0 else 1.0
    lons, lats, found = [], [], 0
    while found < count:
        draws = int((count - found) / fill * 1.2) + 16
        lon = np.round(rng.uniform(min_x, max_x, draws), 6)
        lat = np.round(rng.uniform(min_y, max_y, draws), 6)
        inside = shapely.contains_xy(inner, lon, lat)
        lons.append(lon[inside])
        lats.append(lat[inside])
        found += int(inside.sum())
    return np.concatenate(lons)[:count], np.concatenate(lats)[:count]


# Approximate surname frequencies (2015 census, top 30, renormalised).
SURNAMES = np.array(list("김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허노남"))
SURNAME_WEIGHTS = np.array([
    21.5, 14.7, 8.4, 4.7, 4.3, 2.4, 2.1, 2.1, 2.0, 1.7, 1.5, 1.5, 1.5, 1.5, 1.4,
    1.4, 1.4, 1.3, 1.1, 1.1, 1.1, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.7, 0.6, 0.6,
])  # fmt: skip
_GIVEN_SYLLABLES = {
    # (is_male, born_before_1975): (first syllables, second syllables)
    (True, True): ("영성상동정재종병광기진용철", "수호식철호석환진규길현근"),
    (True, False): ("민준서도현지승재우태건시하", "준호민우현진혁빈원성윤규"),
    (False, True): ("영순정미옥경명혜춘은숙금", "자숙희순옥미경란애정례임"),
    (False, False): ("서지민수은혜예하유소채다", "연영은민진윤원아빈현주린"),
}


def synthetic_names(
    rng: np.random.Generator, is_male: np.ndarray, birth_year: np.ndarray, surname: np.ndarray
) -> np.ndarray:
    """Make synthetic Korean names: the surname + two syllables typical of sex and cohort."""
    given = np.empty(len(is_male), dtype="<U2")
    for (male, older), (firsts, seconds) in _GIVEN_SYLLABLES.items():
        group = np.flatnonzero((is_male == male) & ((birth_year < 1975) == older))
        first = np.array(list(firsts))[rng.integers(len(firsts), size=len(group))]
        second = np.array(list(seconds))[rng.integers(len(seconds), size=len(group))]
        given[group] = np.char.add(first, second)
    return np.char.add(surname.astype("<U1"), given)


def draw_surnames(rng: np.random.Generator, count: int) -> np.ndarray:
    """Draw ``count`` surnames with approximate national frequencies."""
    return rng.choice(SURNAMES, size=count, p=SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum())


def rrn_check_digit(first_twelve_digits: np.ndarray) -> np.ndarray:
    """Return the pre-2020 RRN check digit ``(11 - sum(d_i w_i) % 11) % 10`` of 12 digits."""
    return (11 - (first_twelve_digits @ RRN_WEIGHTS) % 11) % 10


def synthetic_rrns(
    rng: np.random.Generator, birth_date: np.ndarray, is_male: np.ndarray
) -> np.ndarray:
    """Make synthetic resident registration numbers ``YYMMDD-GNNNNNN`` failing the checksum.

    ``G`` is 1/2 (born 1900-1999, male/female) or 3/4 (2000-2099). Five random digits follow,
    then a check digit deliberately different from the valid one, so the number cannot be a
    pre-October-2020 real number. People born on or after 2020-10-05 get an empty string:
    numbers issued since then have no check digit, so no such guarantee is possible.
    Numbers are unique (the importer rejects duplicates).

    Parameters
    ----------
    birth_date
        ``datetime64[D]`` birth dates.
    is_male
        True for men.
    """
    count = len(birth_date)
    year = birth_date.astype("datetime64[Y]").astype(np.int64) + _EPOCH_YEAR
    month = birth_date.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (birth_date - birth_date.astype("datetime64[M]")).astype(np.int64) + 1
    century_digit = np.where(year >= 2000, 3, 1) + np.where(is_male, 0, 1)
    digits = np.empty((count, 12), dtype=np.int64)
    for position, value in enumerate(
        [(year % 100) // 10, year % 10, month // 10, month % 10, day // 10, day % 10, century_digit]
    ):
        digits[:, position] = value
    numbered = birth_date < RRN_RANDOM_SINCE
    number = np.zeros(count, dtype=np.int64)
    redraw = np.ones(count, dtype=bool)
    while redraw.any():  # numbers must be unique: redraw the random digits of later copies
        rows = np.flatnonzero(redraw)
        digits[rows, 7:12] = rng.integers(0, 10, size=(len(rows), 5))
        wrong_check = (rrn_check_digit(digits[rows]) + rng.integers(1, 10, len(rows))) % 10
        number[rows] = digits[rows] @ (10 ** np.arange(12, 0, -1)) + wrong_check
        _, first = np.unique(np.where(numbered, number, -1 - np.arange(count)), return_index=True)
        redraw = np.ones(count, dtype=bool)
        redraw[first] = False
    front, back = np.divmod(number, 10**7)
    rrn = np.char.add(np.char.add(zero_pad(front, 6), "-"), back.astype("<U7"))
    return np.where(birth_date >= RRN_RANDOM_SINCE, "", rrn)


def zero_pad(values: np.ndarray, width: int) -> np.ndarray:
    """Format non-negative integers as zero-padded strings of at least ``width`` digits."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:  # numpy's zfill fails on empty arrays
        return np.empty(0, dtype=f"<U{width}")
    digits = max(width, len(str(int(values.max()))))  # not astype(str): 21 characters each
    return np.char.zfill(values.astype(f"<U{digits}"), width)


def birth_dates(rng: np.random.Generator, age: np.ndarray, as_of: datetime.date) -> np.ndarray:
    """Draw birth dates (``datetime64[D]``) consistent with ``age`` (in years) on ``as_of``.

    A uniformly random day in the year-long window ``(as_of - age - 1 years, as_of - age
    years]``; always at least one day before ``as_of``.
    """
    reference = np.datetime64(as_of, "D")
    days_back = np.floor((age + rng.random(len(age))) * 365.2425).astype(np.int64)
    return reference - np.maximum(days_back, 1).astype("timedelta64[D]")


def draw_identities(rng: np.random.Generator, population: Population, as_of: datetime.date) -> dict:
    """Draw the birth dates, names, RRNs and registration dates of all residents.

    Returns
    -------
    dict
        ``birth_year`` (int), ``name``, ``rrn`` (``""`` when not issued a checked number) and
        ``registered_on`` (``datetime64[D]``): the household's move-in date, ``as_of`` minus an
        exponential stay (mean 9 years, at most 60), or the birth date if later; ``birth``
        (``datetime64[D]``).
    """
    birth = birth_dates(rng, population.age, as_of)
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    surname = draw_surnames(rng, len(birth))
    head_surname = surname[population.household_head][population.household]
    surname = np.where(population.age < ADULT_AGE, head_surname, surname)
    years_at_address = np.minimum(
        rng.exponential(MEAN_YEARS_AT_ADDRESS * 365.25, len(population.household_size)),
        60 * 365.25,
    )
    moved_in = np.datetime64(as_of, "D") - as_days(np.floor(years_at_address))
    registered_on = np.maximum(moved_in[population.household], birth)
    return {
        "birth_year": birth_year,
        "name": synthetic_names(rng, population.is_male, birth_year, surname),
        "rrn": synthetic_rrns(rng, birth, population.is_male),
        "registered_on": registered_on,
        "birth": birth,
    }


def draw_statuses(
    rng: np.random.Generator, population: Population, crisis: CrisisTruth
) -> np.ndarray:
    """Draw each resident's status, mostly ``active``.

    Some are ``deceased`` (likelier from 80), ``moved`` (adults only) or ``unreachable``
    (likelier in an isolation crisis and among lone middle-aged men).
    """
    age = population.age
    isolated = crisis.resident_in_crisis & (
        crisis.household_kind[population.household] == "isolation"
    )
    deceased = 0.002 + 0.01 * (age >= OLDEST_OLD_AGE)
    moved = 0.012 * (age >= ADULT_AGE)
    unreachable = 0.004 + 0.04 * isolated + 0.01 * crisis.lone_middle_aged_man
    draw = rng.random(len(age))
    return np.select(
        [draw < deceased, draw < deceased + moved, draw < deceased + moved + unreachable],
        ["deceased", "moved", "unreachable"],
        "active",
    )


def draw_places(
    rng: np.random.Generator, population: Population, targets: RegionTargets
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw household points (inside the dong) and fictional addresses, per person.

    Households share synthetic buildings (about 3.5 households each); a building is a
    uniform random point in the dong polygon with an address on a fictional road
    ``가상로N길``; households in shared buildings get a unit number.
    """
    n_households = len(population.household_size)
    lon = np.empty(n_households)
    lat = np.empty(n_households)
    building_key = np.empty(n_households, dtype=np.int64)
    street = np.empty(n_households, dtype=np.int64)
    number = np.empty(n_households, dtype=np.int64)
    dongs = targets.dongs
    for dong_index in range(len(dongs)):
        households = np.flatnonzero(population.household_dong == dong_index)
        if len(households) == 0:
            continue
        n_buildings = max(1, int(round(len(households) / HOUSEHOLDS_PER_BUILDING)))
        building_lon, building_lat = sample_points(rng, targets.polygons[dong_index], n_buildings)
        building = rng.integers(0, n_buildings, len(households))
        lon[households] = building_lon[building]
        lat[households] = building_lat[building]
        building_key[households] = dong_index * 10_000_000 + building
        street[households] = 1 + building // 40
        number[households] = 1 + 3 * (building % 40) + rng.integers(0, 3, n_buildings)[building]
    frame = pd.DataFrame({"building": building_key})
    rank = frame.groupby("building").cumcount().to_numpy()
    shared = frame.groupby("building")["building"].transform("size").to_numpy() > 1
    unit = np.where(
        shared, " " + pd.Series(100 * (1 + rank // 4) + 1 + rank % 4).astype(str) + "호", ""
    )
    dong_of = population.household_dong
    address = (
        "서울특별시 "
        + dongs["sgg_nm"].to_numpy()[dong_of]
        + " "
        + dongs["dong_nm"].to_numpy()[dong_of]
        + " 가상로"
        + street.astype(str)
        + "길 "
        + number.astype(str)
        + unit
    )
    person_household = population.household
    return lon[person_household], lat[person_household], address[person_household]
