"""Reproducible synthetic residents for the welfare visit map demo.

:func:`generate_demo` writes the import files described in ``docs/import_formats.md`` for
Seodaemun-gu (or all of Seoul), calibrated per 행정동 on real statistics, plus a hidden
``ground_truth.csv`` for evaluating scoring and a ``manifest.json``. The model, calibration
targets and tolerances are documented in ``docs/demo_data.md``.

Example
-------
>>> import datetime
>>> summary = generate_demo("var/demo", seed=7, scale=5_000,
...                         as_of=datetime.date(2026, 4, 1))  # doctest: +SKIP
>>> summary.files[0].name  # doctest: +SKIP
'providers.csv'
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from tqdm import tqdm

from geo.demo_population import (
    ADULT_AGE,
    ELDERLY_AGE,
    OLDEST_OLD_AGE,
    Population,
    RegionTargets,
    apportion,
    birth_dates,
    build_population,
    draw_surnames,
    load_region_targets,
    sample_points,
    synthetic_names,
    synthetic_rrns,
    zero_pad,
)
from geo.demo_services import draw_needs, draw_support, provider_table, teams_table
from geo.demo_welfare import (
    CrisisTruth,
    Finances,
    VisitPlan,
    _days,
    draw_crisis,
    draw_finances,
    draw_signals,
    draw_visits,
    load_standard_median_income,
    median_income,
)

__all__ = ["DemoError", "DemoSummary", "generate_demo", "IMPORT_ORDER", "FILE_NAMES"]

MAX_SCALE = 1_000_000
AUTO_SEODAEMUN_MAX_SCALE = 100_000
REGIONS = ("auto", "seodaemun", "seoul")
IMPORT_ORDER = ("providers", "residents", "crisis-signals", "visits", "needs", "support", "teams")
FILE_NAMES = MappingProxyType({kind: kind.replace("-", "_") + ".csv" for kind in IMPORT_ORDER})
GROUND_TRUTH_FILE = "ground_truth.csv"
MANIFEST_FILE = "manifest.json"
AREA_FILES = {
    "seodaemun": "data/seodaemun_admdong_2021.geojson",
    "seoul": "data/seoul_admdong_2021.geojson",
}
FACILITY_FILE = "data/seodaemun_facilities.csv"
HOUSEHOLDS_PER_BUILDING = 3.5
MEAN_YEARS_AT_ADDRESS = 9.0
FIRST_AS_OF_YEAR, LAST_AS_OF_YEAR = 2012, 2099
Columns = dict[str, np.ndarray]  # an output table: column name -> values, in file order
_STAGES = (
    "targets",
    "population",
    "identities",
    "finances and crisis",
    "signals and visits",
    "needs and support",
    "writing",
)


class DemoError(ValueError):
    """Invalid arguments to :func:`generate_demo`."""


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate_demo` wrote.

    Attributes
    ----------
    out_dir
        Output directory.
    seed, scale
        Random seed and number of residents.
    region
        Resolved region, ``"seodaemun"`` or ``"seoul"``.
    as_of
        Reference date of the data.
    counts
        Rows per file kind (the import kinds plus ``"ground_truth"``).
    files
        Import files in import order (``IMPORT_ORDER``).
    ground_truth, manifest
        Paths of the hidden ground truth and the manifest.
    """

    out_dir: Path
    seed: int
    scale: int
    region: str
    as_of: datetime.date
    counts: Mapping[str, int]
    files: tuple[Path, ...]
    ground_truth: Path
    manifest: Path


def _validate(seed: object, scale: object, region: object, as_of: object) -> datetime.date:
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise DemoError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(scale, int | np.integer) or isinstance(scale, bool):
        raise DemoError(f"scale must be an integer, got {scale!r}")
    if not 1 <= scale <= MAX_SCALE:
        raise DemoError(f"scale must be between 1 and {MAX_SCALE:,} residents, got {scale:,}")
    if region not in REGIONS:
        raise DemoError(f"region must be one of {', '.join(REGIONS)}; got {region!r}")
    if as_of is None:
        as_of = datetime.date.today()
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    if not isinstance(as_of, datetime.date):
        raise DemoError(f"as_of must be a datetime.date, got {as_of!r}")
    if not FIRST_AS_OF_YEAR <= as_of.year <= LAST_AS_OF_YEAR:
        raise DemoError(
            f"as_of must fall in {FIRST_AS_OF_YEAR}..{LAST_AS_OF_YEAR}, got {as_of.isoformat()}"
        )
    return as_of


def generate_demo(
    out_dir: str | Path,
    *,
    seed: int = 0,
    scale: int = 20_000,
    region: str = "auto",
    as_of: datetime.date | None = None,
    progress: bool = False,
) -> DemoSummary:
    """Generate a calibrated synthetic demo data set and write it as import files.

    Parameters
    ----------
    out_dir
        Directory to write into (created if needed; existing files of the same names are
        overwritten).
    seed
        Random seed (non-negative integer).
    scale
        Number of residents (persons), 1 to 1,000,000.
    region
        ``"seodaemun"`` (the 14 행정동 of Seodaemun-gu), ``"seoul"`` (all 425 Seoul
        행정동) or ``"auto"``: Seodaemun up to 100,000 residents, Seoul above.
    as_of
        Reference date: ages, the 24-month history and the standard median income year are
        relative to it. Default: today. Must fall in 2012..2099.
    progress
        Show a tqdm progress bar on standard error.

    Returns
    -------
    DemoSummary
        Paths and row counts.

    Raises
    ------
    DemoError
        For a scale outside 1..1,000,000, an unknown region, a negative seed or an
        out-of-range ``as_of``.

    Notes
    -----
    The same ``seed``, ``scale``, ``region`` and ``as_of`` give byte-identical files.
    """
    as_of = _validate(seed, scale, region, as_of)
    resolved_region = region
    if region == "auto":
        resolved_region = "seodaemun" if scale <= AUTO_SEODAEMUN_MAX_SCALE else "seoul"
    out_dir = Path(out_dir)
    streams = [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(8)]
    bar = tqdm(total=len(_STAGES), disable=not progress, desc="demo", unit="stage")
    try:
        tables = _generate_tables(streams, int(scale), resolved_region, as_of, bar)
        bar.set_postfix_str(_STAGES[-1])
        out_dir.mkdir(parents=True, exist_ok=True)
        counts = _write_tables(out_dir, tables)
        manifest = _manifest(
            int(seed), int(scale), resolved_region, as_of, counts, tables["median_year"]
        )
        (out_dir / MANIFEST_FILE).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        bar.update()
    finally:
        bar.close()
    return DemoSummary(
        out_dir=out_dir,
        seed=int(seed),
        scale=int(scale),
        region=resolved_region,
        as_of=as_of,
        counts=MappingProxyType(counts),
        files=tuple(out_dir / FILE_NAMES[kind] for kind in IMPORT_ORDER),
        ground_truth=out_dir / GROUND_TRUTH_FILE,
        manifest=out_dir / MANIFEST_FILE,
    )


def _generate_tables(
    streams: list[np.random.Generator], scale: int, region: str, as_of: datetime.date, bar: tqdm
) -> dict:
    def stage(index: int) -> None:
        bar.set_postfix_str(_STAGES[index])
        if index:
            bar.update()

    stage(0)
    targets = load_region_targets(region)
    residents_per_dong = apportion(scale, targets.dongs["population"].to_numpy())
    stage(1)
    population = build_population(streams[0], targets, residents_per_dong)
    stage(2)
    identity = _identities(streams[1], population, as_of)
    lon, lat, address = _places(streams[2], population, targets)
    stage(3)
    median_table = load_standard_median_income()
    medians = median_income(median_table, population.household_size, as_of.year)
    finances = draw_finances(streams[3], population, medians)
    crisis = draw_crisis(streams[3], population, finances, as_of)
    stage(4)
    signals = draw_signals(streams[4], population, crisis, as_of)
    plan = draw_visits(streams[5], population, crisis, signals, as_of)
    stage(5)
    needs = draw_needs(streams[6], population, crisis, plan.visits, as_of)
    support = draw_support(streams[7], population, finances, needs, median_table, as_of)
    providers, slot_provider = provider_table(targets.dongs)
    stage(6)

    resident_ids = _ids("R-", len(population.age))
    household_ids = _ids("H-", len(population.household_size))
    status = _statuses(streams[1], population, crisis)
    residents = _residents_frame(
        population, identity, status, finances, address, lon, lat, resident_ids, household_ids
    )
    ground_truth = _ground_truth_frame(
        population, crisis, finances, plan, targets, resident_ids, household_ids, identity, as_of
    )
    resident_dong = population.household_dong[population.household]
    return {
        "providers": _columns(providers),
        "residents": residents,
        "crisis-signals": _signals_frame(signals, resident_ids, household_ids),
        "visits": _visits_frame(plan.visits, resident_ids),
        "needs": _needs_frame(needs, resident_ids),
        "support": _support_frame(support, resident_ids, slot_provider, resident_dong),
        "teams": _columns(teams_table(targets.dongs)),
        "ground_truth": ground_truth,
        "median_year": int(
            median_table["year"].to_numpy()[
                np.argmin(np.abs(median_table["year"].to_numpy() - as_of.year))
            ]
        ),
    }


def _columns(frame: pd.DataFrame) -> Columns:
    return {name: frame[name].to_numpy() for name in frame.columns}


def _ids(prefix: str, count: int, width: int = 7) -> np.ndarray:
    """``prefix`` + 1-based zero-padded sequence numbers."""
    return np.char.add(prefix, zero_pad(np.arange(1, count + 1), width))


def _dates(values: np.ndarray) -> np.ndarray:
    """ISO dates; NaT becomes an empty string."""
    values = np.asarray(values, dtype="datetime64[D]")
    text = np.datetime_as_string(values, unit="D")
    return np.where(np.isnat(values), "", text)


def _bools(values: np.ndarray) -> np.ndarray:
    return np.where(values, "true", "false")


def _identities(rng: np.random.Generator, population: Population, as_of: datetime.date) -> dict:
    """Birth dates, names, RRNs and registration dates."""
    birth = birth_dates(rng, population.age, as_of)
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    surname = draw_surnames(rng, len(birth))
    head_surname = surname[population.household_head][population.household]
    surname = np.where(population.age < ADULT_AGE, head_surname, surname)
    years_at_address = np.minimum(
        rng.exponential(MEAN_YEARS_AT_ADDRESS * 365.25, len(population.household_size)),
        60 * 365.25,
    )
    moved_in = np.datetime64(as_of, "D") - _days(np.floor(years_at_address))
    registered_on = np.maximum(moved_in[population.household], birth)
    return {
        "birth_year": birth_year,
        "name": synthetic_names(rng, population.is_male, birth_year, surname),
        "rrn": synthetic_rrns(rng, birth, population.is_male),
        "registered_on": registered_on,
    }


def _statuses(rng: np.random.Generator, population: Population, crisis: CrisisTruth) -> np.ndarray:
    """Mostly ``active``; some ``deceased`` (old age), ``moved`` and ``unreachable``."""
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


def _places(
    rng: np.random.Generator, population: Population, targets: RegionTargets
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Household points (inside the dong) and fictional addresses, per person.

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


def _residents_frame(
    population: Population,
    identity: dict,
    status: np.ndarray,
    finances: Finances,
    address: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    resident_ids: np.ndarray,
    household_ids: np.ndarray,
) -> Columns:
    household = population.household
    size = population.household_size[household]
    return {
        "resident_id": resident_ids,
        "household_id": household_ids[household],
        "name": identity["name"],
        "rrn": identity["rrn"],
        "birth_year": identity["birth_year"],
        "sex": np.where(population.is_male, "M", "F"),
        "lives_alone": _bools(size == 1),
        "disability": _bools(population.disability),
        "registered_on": _dates(identity["registered_on"]),
        "status": status,
        "household_size": size,
        "monthly_income_krw": finances.income_krw[household],
        "assets_krw": finances.assets_krw[household],
        "address": address,
        "lon": np.round(lon, 6),
        "lat": np.round(lat, 6),
    }


def _ground_truth_frame(
    population: Population,
    crisis: CrisisTruth,
    finances: Finances,
    plan: VisitPlan,
    targets: RegionTargets,
    resident_ids: np.ndarray,
    household_ids: np.ndarray,
    identity: dict,
    as_of: datetime.date,
) -> Columns:
    household = population.household
    dong = population.household_dong[household]
    return {
        "resident_id": resident_ids,
        "household_id": household_ids[household],
        "adm_cd2": targets.dongs["adm_cd2"].to_numpy()[dong],
        "in_crisis": crisis.resident_in_crisis.astype(np.int8),
        "crisis_kind": crisis.kind_of_residents(population),
        "crisis_onset": _dates(
            np.where(
                crisis.resident_in_crisis, crisis.household_onset[household], np.datetime64("NaT")
            )
        ),
        "is_blsa": population.household_blsa[household].astype(np.int8),
        "is_head": population.is_head.astype(np.int8),
        "age": population.age,
        "lone_middle_aged_man": crisis.lone_middle_aged_man.astype(np.int8),
        "blind_spot": plan.blind_spot.astype(np.int8),
        "income_ratio": np.round(finances.income_ratio[household], 4),
        "household_crisis_probability": np.round(crisis.household_probability[household], 4),
        "frailty": np.round(crisis.household_frailty[household], 4),
        "lone_elderly": (
            (population.household_size[household] == 1) & (population.age >= ELDERLY_AGE)
        ).astype(np.int8),
    }


def _signals_frame(
    signals: pd.DataFrame, resident_ids: np.ndarray, household_ids: np.ndarray
) -> Columns:
    resident = signals["resident"].to_numpy()
    household = signals["household"].to_numpy()
    return {
        "signal_id": _ids("SG-", len(signals)),
        "resident_id": np.where(resident >= 0, resident_ids[np.maximum(resident, 0)], ""),
        "household_id": np.where(household >= 0, household_ids[np.maximum(household, 0)], ""),
        "kind": signals["kind"].to_numpy(),
        "observed_on": _dates(signals["observed_on"].to_numpy()),
        "source_agency": signals["source_agency"].to_numpy(),
    }


def _visits_frame(visits: pd.DataFrame, resident_ids: np.ndarray) -> Columns:
    minute = visits["minute_of_day"].to_numpy()
    clock = np.char.add(
        np.char.add(zero_pad(minute // 60, 2), ":"),
        zero_pad(minute % 60, 2),
    )
    visited_at = np.char.add(
        np.char.add(_dates(visits["visited_on"].to_numpy()).astype(str), "T"),
        np.char.add(clock, ":00+09:00"),
    )
    return {
        "visit_id": _ids("V-", len(visits)),
        "resident_id": resident_ids[visits["resident"].to_numpy()],
        "visited_at": visited_at,
        "visitor": visits["visitor"].to_numpy(),
        "outcome": visits["outcome"].to_numpy(),
        "notes": visits["notes"].to_numpy(),
    }


def _needs_frame(needs: pd.DataFrame, resident_ids: np.ndarray) -> Columns:
    return {
        "need_id": _ids("N-", len(needs)),
        "resident_id": resident_ids[needs["resident"].to_numpy()],
        "category": needs["category"].to_numpy(),
        "status": needs["status"].to_numpy(),
        "identified_on": _dates(needs["identified_on"].to_numpy()),
        "resolved_on": _dates(needs["resolved_on"].to_numpy()),
        "source": needs["source"].to_numpy(),
    }


def _support_frame(
    support: pd.DataFrame,
    resident_ids: np.ndarray,
    slot_provider: np.ndarray,
    resident_dong: np.ndarray,
) -> Columns:
    resident = support["resident"].to_numpy()
    amount = support["amount_krw"].to_numpy()
    quantity = support["quantity"].to_numpy()
    return {
        "support_id": _ids("SP-", len(support)),
        "resident_id": resident_ids[resident],
        "provider_id": slot_provider[resident_dong[resident], support["slot"].to_numpy()],
        "category": support["category"].to_numpy(),
        "item": support["item"].to_numpy(),
        "amount_krw": np.where(amount >= 0, amount.astype(str), ""),
        "quantity": np.where(quantity > 0, quantity.astype(str), ""),
        "unit": support["unit"].to_numpy(),
        "provided_on": _dates(support["provided_on"].to_numpy()),
    }


def _write_csv(path: Path, columns: Columns, decimals: int, chunk_rows: int = 100_000) -> int:
    """Write columns as CSV (UTF-8, ``\\n``, minimal quoting); floats with fixed decimals.

    Rows are converted and written in chunks to bound memory. Returns the number of rows.
    """
    arrays = [np.asarray(values) for values in columns.values()]
    n_rows = len(arrays[0]) if arrays else 0
    float_format = f"{{:.{decimals}f}}".format
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(columns))
        for start in range(0, n_rows, chunk_rows):
            cells = []
            for values in arrays:
                chunk = values[start : start + chunk_rows].tolist()
                cells.append(list(map(float_format, chunk)) if values.dtype.kind == "f" else chunk)
            writer.writerows(zip(*cells, strict=True))
    return n_rows


def _write_tables(out_dir: Path, tables: dict) -> dict[str, int]:
    counts = {}
    for kind in (*IMPORT_ORDER, "ground_truth"):
        name = GROUND_TRUTH_FILE if kind == "ground_truth" else FILE_NAMES[kind]
        decimals = 6 if kind == "residents" else 4
        counts[kind] = _write_csv(out_dir / name, tables[kind], decimals)
    return counts


def _manifest(
    seed: int,
    scale: int,
    region: str,
    as_of: datetime.date,
    counts: dict[str, int],
    median_year: int,
) -> dict:
    return {
        "generator": "geo.demo",
        "seed": seed,
        "scale": scale,
        "region": region,
        "as_of": as_of.isoformat(),
        "import_order": {kind: FILE_NAMES[kind] for kind in IMPORT_ORDER},
        "counts": counts,
        "hidden": {"ground_truth": GROUND_TRUTH_FILE},
        "requires": {"areas": AREA_FILES[region], "facilities": FACILITY_FILE},
        "standard_median_income_year": median_year,
        "note": "Synthetic data (가상 데이터); ground_truth.csv is for evaluation only.",
    }
