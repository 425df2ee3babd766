"""Column types of import files and their vectorised parsers.

Every parser takes a column of stripped strings (``""`` = missing) and returns the parsed
values and a boolean mask of cells that are present but invalid, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

TRUE_WORDS = {"true", "t", "1", "y", "yes"}
FALSE_WORDS = {"false", "f", "0", "n", "no"}
KST = "+09:00"


@dataclass(frozen=True)
class Field:
    """A column of an import file.

    Attributes
    ----------
    name
        Column name in the file.
    kind
        ``text``, ``int``, ``float``, ``bool``, ``date``, ``datetime``, ``choice``.
    required
        The column must be present and every cell filled.
    choices
        Allowed codes for ``choice``.
    minimum, maximum
        Inclusive numeric range for ``int`` and ``float``.
    pattern
        Regular expression a ``text`` value must match in full.
    max_length
        Maximum length of a ``text`` value in characters.
    describe
        The expected form in words, shown after the pattern in messages.
    """

    name: str
    kind: str = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    max_length: int | None = 2000
    describe: str = ""


@dataclass(frozen=True)
class Parsed:
    """One parsed column: typed values, the bad cells and why they are bad.

    Attributes
    ----------
    values
        The typed values; missing and bad cells are missing (None or NA).
    bad
        Boolean mask of the cells that are present but invalid (with :func:`parse_field`,
        also the missing cells of a required column).
    reason
        One reason for every bad cell, or a reason per cell (meaningful where ``bad``).
    """

    values: pd.Series
    bad: np.ndarray
    reason: str | pd.Series


#: Dates before this are refused everywhere (no record of the map is older).
EARLIEST_DATE = pd.Timestamp("1900-01-01")
ASCII_DIGITS = "write it with ASCII digits 0-9 (not full-width or other scripts' digits)"


def non_ascii(text: pd.Series) -> np.ndarray:
    """Mark the cells holding a character outside ASCII (full-width, Arabic-Indic digits...)."""
    return ~text.str.isascii().to_numpy(dtype=bool)


def _numbers(field: Field, text: pd.Series, *, integer: bool) -> Parsed:
    present = (text != "").to_numpy()
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    reasons = pd.Series("not a whole number" if integer else "not a number", index=text.index)
    reasons = reasons.astype(object)
    bad = present & np.isnan(values)
    infinite = present & np.isinf(values)
    reasons[infinite] = "must be a finite number"
    bad |= infinite
    foreign = present & non_ascii(text)
    reasons[foreign] = f"not a number: {ASCII_DIGITS}"
    bad |= foreign
    if integer:
        frac = ~bad & present & (np.nan_to_num(values, posinf=0, neginf=0) % 1 != 0)
        bad |= frac
    ok = present & ~bad
    if field.minimum is not None:
        low = ok & (values < field.minimum)
        reasons[low] = f"must be at least {field.minimum:g}"
        bad |= low
    if field.maximum is not None:
        high = ok & (values > field.maximum)
        reasons[high] = f"must be at most {field.maximum:g}"
        bad |= high
    values = np.where(present & ~bad, values, np.nan)
    if integer:
        series = pd.Series(values, index=text.index).round().astype("Int64")
    else:
        series = pd.Series(values, index=text.index, dtype="Float64")
    return Parsed(series, bad, reasons)


def _bool(field: Field, text: pd.Series) -> Parsed:
    lower = text.str.lower()
    is_true = lower.isin(TRUE_WORDS).to_numpy()
    is_false = lower.isin(FALSE_WORDS).to_numpy()
    present = (text != "").to_numpy()
    values = pd.Series(pd.array(np.where(is_true, True, False), dtype="boolean"), index=text.index)
    values[~(is_true | is_false)] = pd.NA
    return Parsed(values, present & ~(is_true | is_false), "not a yes/no value (true/false)")


def _date(field: Field, text: pd.Series) -> Parsed:
    # GeoJSON/GeoPackage DATE fields may arrive as 2021-03-04T00:00:00
    text = text.str.replace(r"^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?$", r"\1", regex=True)
    present = (text != "").to_numpy()
    foreign = present & non_ascii(text)
    parsed = pd.to_datetime(text.where(present & ~foreign), format="%Y-%m-%d", errors="coerce")
    bad = present & parsed.isna().to_numpy()
    reasons = pd.Series("not a date (YYYY-MM-DD)", index=text.index, dtype=object)
    reasons[foreign] = f"not a date (YYYY-MM-DD): {ASCII_DIGITS}"
    early = ~bad & present & (parsed < EARLIEST_DATE).to_numpy(dtype=bool)
    reasons[early] = f"must be on or after {EARLIEST_DATE.date()}"
    bad |= early
    return Parsed(parsed.dt.date.where(~bad & present, None), bad, reasons)


def _datetime(field: Field, text: pd.Series) -> Parsed:
    present = (text != "").to_numpy()
    foreign = present & non_ascii(text)
    # Without an offset the time is Korean time.
    has_offset = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).to_numpy(dtype=bool)
    with_tz = text.where(has_offset | ~present, text + KST)
    parsed = pd.to_datetime(
        with_tz.where(present & ~foreign), format="ISO8601", errors="coerce", utc=True
    )
    bad = present & parsed.isna().to_numpy()
    reasons = pd.Series(
        "not an ISO 8601 date-time (e.g. 2026-05-01T10:30)", index=text.index, dtype=object
    )
    reasons[foreign] = f"not an ISO 8601 date-time: {ASCII_DIGITS}"
    early = ~bad & present & (parsed < EARLIEST_DATE.tz_localize("Asia/Seoul")).to_numpy(bool)
    reasons[early] = f"must be on or after {EARLIEST_DATE.date()}"
    bad |= early
    return Parsed(parsed.where(~bad), bad, reasons)


def _choice(field: Field, text: pd.Series) -> Parsed:
    present = (text != "").to_numpy()
    bad = present & ~text.isin(field.choices).to_numpy()
    allowed = ", ".join(field.choices)
    return Parsed(text.where(present, None), bad, f"must be one of: {allowed}")


def _text(field: Field, text: pd.Series) -> Parsed:
    present = (text != "").to_numpy()
    reasons = pd.Series("", index=text.index, dtype=object)
    bad = np.zeros(len(text), dtype=bool)
    if field.pattern:
        mismatch = present & ~text.str.fullmatch(field.pattern).to_numpy(dtype=bool)
        expected = f" ({field.describe})" if field.describe else ""
        reasons[mismatch] = f"does not match the pattern {field.pattern}{expected}"
        foreign = mismatch & non_ascii(text)
        reasons[foreign] = f"does not match the pattern {field.pattern}{expected}: {ASCII_DIGITS}"
        bad |= mismatch
    if field.max_length:
        too_long = present & (text.str.len().to_numpy() > field.max_length)
        reasons[too_long] = f"longer than {field.max_length} characters"
        bad |= too_long
    return Parsed(text.where(present, None), bad, reasons)


PARSERS: Mapping[str, Callable[[Field, pd.Series], Parsed]] = {
    "text": _text,
    "int": lambda f, t: _numbers(f, t, integer=True),
    "float": lambda f, t: _numbers(f, t, integer=False),
    "bool": _bool,
    "date": _date,
    "datetime": _datetime,
    "choice": _choice,
}


def parse_field(field: Field, text: pd.Series) -> Parsed:
    """Parse one column; missing required cells are reported as bad too."""
    parsed = PARSERS[field.kind](field, text)
    if not field.required:
        return parsed
    missing = (text == "").to_numpy()
    reasons = parsed.reason
    if isinstance(reasons, str):
        reasons = pd.Series(reasons, index=text.index, dtype=object)
    else:
        reasons = reasons.copy()
    reasons[missing] = "required value is missing"
    return Parsed(parsed.values, parsed.bad | missing, reasons)
