"""Output tables of the demo generator, and a fast CSV writer.

A table maps column names to arrays, in file order; the import files follow the columns of
``docs/import_formats.md``.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from geo.demo.identity import zero_pad
from geo.demo.population import ELDERLY_AGE, Population, RegionTargets
from geo.demo.welfare import CrisisTruth, Finances, VisitPlan

Columns = dict  # an output table: column name -> values (an array or a LazyColumn), in file order


class LazyColumn:
    """A column made chunk by chunk when written (ids and time stamps of millions of rows).

    ``make(start, stop)`` returns the values of rows ``start:stop``.
    """

    def __init__(self, length: int, make):
        self.length = length
        self.make = make

    def __len__(self) -> int:
        """Return the number of rows."""
        return self.length

    def __getitem__(self, rows: slice) -> np.ndarray:
        """Return the values of a slice of rows (step 1)."""
        start, stop, _ = rows.indices(self.length)
        return np.asarray(self.make(start, stop))


def columns_of(frame: pd.DataFrame) -> Columns:
    """Return a data frame's columns as a table (column name -> numpy array)."""
    return {name: frame[name].to_numpy() for name in frame.columns}


def sequential_ids(prefix: str, count: int, width: int = 7) -> np.ndarray:
    """Return ``prefix`` + 1-based sequence numbers zero-padded to ``width`` digits."""
    return np.char.add(prefix, zero_pad(np.arange(1, count + 1), width))


def _dates(values: np.ndarray) -> np.ndarray:
    """Format dates as ISO dates; NaT becomes an empty string."""
    values = np.asarray(values, dtype="datetime64[D]")
    text = np.datetime_as_string(values, unit="D")
    return np.where(np.isnat(values), "", text)


def _bools(values: np.ndarray) -> np.ndarray:
    return np.where(values, "true", "false")


def residents_table(
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
    """Build the ``residents`` import file, one row per resident.

    Parameters
    ----------
    population
        The residents and households.
    identity
        From :func:`geo.demo.identity.draw_identities`.
    status
        Each resident's status, from :func:`geo.demo.identity.draw_statuses`.
    finances
        The households' income and assets.
    address, lon, lat
        Each resident's address and point (degrees), from
        :func:`geo.demo.identity.draw_places`; the coordinates are rounded to 6 decimals.
    resident_ids, household_ids
        External ids, one per resident and one per household.
    """
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


def ground_truth_table(
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
    """Build the hidden ``ground_truth.csv``, one row per resident.

    The columns (``docs/demo_data.md``, "Ground truth") are each resident's dong, crisis
    truth (in crisis, kind, onset), age, income ratio, flags (recipient, head, lone
    middle-aged man, blind spot, lone elderly), and the household's crisis probability and
    frailty. ``identity`` and ``as_of`` are not read.
    """
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


def signals_table(
    signals: pd.DataFrame, resident_ids: np.ndarray, household_ids: np.ndarray
) -> Columns:
    """Build the ``crisis_signals`` import file; each signal names a resident or a household.

    ``signals`` is :func:`geo.demo.welfare.draw_signals`'s frame, whose ``resident`` and
    ``household`` are indices (-1: none) into ``resident_ids`` and ``household_ids``.
    """
    resident = signals["resident"].to_numpy()
    household = signals["household"].to_numpy()
    return {
        "signal_id": sequential_ids("SG-", len(signals)),
        "resident_id": np.where(resident >= 0, resident_ids[np.maximum(resident, 0)], ""),
        "household_id": np.where(household >= 0, household_ids[np.maximum(household, 0)], ""),
        "kind": signals["kind"].to_numpy(),
        "observed_on": _dates(signals["observed_on"].to_numpy()),
        "source_agency": signals["source_agency"].to_numpy(),
    }


def visits_table(visits: pd.DataFrame, resident_ids: np.ndarray) -> Columns:
    """Build the ``visits`` import file; ``visited_at`` is Korean time (``+09:00``).

    The time stamps are built once per distinct day and minute and shared (millions of
    visits fall on a few tens of thousands of them).
    """
    days = visits["visited_on"].to_numpy().astype("datetime64[D]").astype(np.int64)
    key = days * 1440 + visits["minute_of_day"].to_numpy()
    unique, inverse = np.unique(key, return_inverse=True)
    minute = unique % 1440
    clock = np.char.add(
        np.char.add(zero_pad(minute // 60, 2), ":"),
        zero_pad(minute % 60, 2),
    )
    stamps = np.char.add(
        np.char.add(_dates((unique // 1440).astype("datetime64[D]")).astype(str), "T"),
        np.char.add(clock, ":00+09:00"),
    )
    resident = visits["resident"].to_numpy()
    inverse = inverse.ravel()
    return {
        "visit_id": LazyColumn(
            len(visits),
            lambda start, stop: np.char.add("V-", zero_pad(np.arange(start + 1, stop + 1), 7)),
        ),
        "resident_id": LazyColumn(len(visits), lambda a, b: resident_ids[resident[a:b]]),
        "visited_at": LazyColumn(len(visits), lambda a, b: stamps[inverse[a:b]]),
        "visitor": _shared_labels(visits["visitor"]),
        "outcome": _shared_labels(visits["outcome"]),
        "notes": _shared_labels(visits["notes"]),
    }


def _shared_labels(column: pd.Series) -> np.ndarray:
    """Return a column's values as an object array; a categorical one shares its labels.

    (``to_numpy`` on a categorical with string categories makes one string per row.)
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = np.array(column.cat.categories.tolist(), dtype=object)
        return categories[column.cat.codes.to_numpy()]
    return column.to_numpy()


def needs_table(needs: pd.DataFrame, resident_ids: np.ndarray) -> Columns:
    """Build the ``needs`` import file; ``resolved_on`` is empty for unresolved needs."""
    return {
        "need_id": sequential_ids("N-", len(needs)),
        "resident_id": resident_ids[needs["resident"].to_numpy()],
        "category": needs["category"].to_numpy(),
        "status": needs["status"].to_numpy(),
        "identified_on": _dates(needs["identified_on"].to_numpy()),
        "resolved_on": _dates(needs["resolved_on"].to_numpy()),
        "source": needs["source"].to_numpy(),
    }


def support_table(
    support: pd.DataFrame,
    resident_ids: np.ndarray,
    slot_provider: np.ndarray,
    resident_dong: np.ndarray,
) -> Columns:
    """Build the ``support`` import file; absent amounts and quantities are empty cells.

    Parameters
    ----------
    support
        From :func:`geo.demo.services.draw_support`: ``slot`` indexes the provider slots,
        ``amount_krw`` and ``quantity`` are -1 when absent.
    resident_ids
        External id of each resident.
    slot_provider
        Provider id of each slot for each dong, from
        :func:`geo.demo.services.provider_table`.
    resident_dong
        Dong index of each resident.
    """
    resident = support["resident"].to_numpy()
    amount = support["amount_krw"].to_numpy()
    quantity = support["quantity"].to_numpy()
    return {
        "support_id": sequential_ids("SP-", len(support)),
        "resident_id": resident_ids[resident],
        "provider_id": slot_provider[resident_dong[resident], support["slot"].to_numpy()],
        "category": support["category"].to_numpy(),
        "item": support["item"].to_numpy(),
        "amount_krw": np.where(amount >= 0, amount.astype(str), ""),
        "quantity": np.where(quantity > 0, quantity.astype(str), ""),
        "unit": support["unit"].to_numpy(),
        "provided_on": _dates(support["provided_on"].to_numpy()),
        **_support_sharing_columns(support, len(support)),
    }


def _support_sharing_columns(support: pd.DataFrame, n: int) -> Columns:
    """Issue 13's columns of a support file, when the frame has them (geo.demo.sharing)."""
    if "minor" not in support:
        return {}
    need = support["need"].to_numpy().astype(np.int64)
    return {
        "minor_category": support["minor"].to_numpy(),
        "recurring_period": support["recurring_period"].to_numpy(),
        "funding": support["funding"].to_numpy(),
        "expires_on": _dates(support["expires_on"].to_numpy()),
        "need_id": np.where(need >= 0, np.char.add("N-", zero_pad(need + 1, 7)), ""),
    }


def frame_table(frame: pd.DataFrame) -> Columns:
    """Return a frame as a table, its date columns as ISO dates (empty when missing)."""
    out = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        if np.issubdtype(values.dtype, np.datetime64) or (
            values.dtype == object and len(values) and isinstance(values[0], np.datetime64)
        ):
            values = _dates(values.astype("datetime64[D]"))
        out[name] = values
    return out


def write_csv(
    path: Path, columns: Columns, decimals: int, chunk_rows: int = 100_000, *, append: bool = False
) -> int:
    """Write a table as CSV (UTF-8, LF line ends, minimal quoting).

    Rows are converted and written in chunks to bound memory.

    Parameters
    ----------
    path
        The file written (replaced if it exists).
    columns
        The table; the header is its column names.
    decimals
        Decimal places of every float column (fixed, e.g. ``37.500000``).
    chunk_rows
        Rows converted and written at a time.
    append
        Add the rows to the end of an existing file, without a header (a block of
        :mod:`geo.demo.blocks`).

    Returns
    -------
    int
        The number of rows written (without the header).
    """
    arrays = [
        values if isinstance(values, LazyColumn) else np.asarray(values)
        for values in columns.values()
    ]
    n_rows = len(arrays[0]) if arrays else 0
    float_format = f"{{:.{decimals}f}}".format
    with open(path, "a" if append else "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if not append:
            writer.writerow(list(columns))
        for start in range(0, n_rows, chunk_rows):
            cells = []
            for values in arrays:
                chunk = values[start : start + chunk_rows]
                floats = chunk.dtype.kind == "f"
                cells.append(list(map(float_format, chunk.tolist())) if floats else chunk.tolist())
            writer.writerows(zip(*cells, strict=True))
    return n_rows
