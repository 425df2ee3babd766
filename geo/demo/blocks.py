"""Block mode of the demo generator: a city of millions, generated a block of dongs at a time.

A demo above the block size (:data:`BLOCK_RESIDENTS`, one million residents) is generated as
blocks of whole 행정동, each with at most that many residents, its own random streams
(``numpy.random.SeedSequence([seed, block])``) and its own id ranges: every table of a block
is made by the one-block generator on the block's dongs alone, its ids (``R-``, ``H-``,
``SG-``, ``V-``, ``N-``, ``SP-``) shifted past the blocks before it, and appended to the
same files. Peak memory is that of one block, not of the whole city.

The first block holds Seodaemun's dongs, so that the donors, donations, stock, sponsorships
and their payments (all drawn for Seodaemun's centres) come from it alone; the providers and
teams are made once for the whole region.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from geo.demo.identity import rrn_check_digit, zero_pad
from geo.demo.population import SEODAEMUN_SGG_CD, RegionTargets
from geo.demo.tables import Columns, LazyColumn

#: Residents per block; a demo of at most this many is generated in one piece, as before.
BLOCK_RESIDENTS = 1_000_000
#: Id prefixes numbered per file, shifted block by block.
ID_PREFIXES = ("R", "H", "SG", "V", "N", "SP")
#: The tables whose rows each prefix counts (the offset of the next block grows by them).
ID_COUNTED_BY = {"R": "residents", "H": None, "SG": "crisis-signals", "V": "visits",
                 "N": "needs", "SP": "support"}  # fmt: skip
_ONE_ID = re.compile(r"(R|H|SG|V|N|SP)-(\d{7,})")
_SOME_ID = re.compile(r"\b(R|H|SG|V|N|SP)-(\d{7,})\b")


def plan_blocks(dongs, residents_per_dong: np.ndarray, block_residents: int) -> list[np.ndarray]:
    """Split the region's dongs into blocks of at most ``block_residents`` residents.

    Seodaemun's dongs come first (they start the first block), then the others in
    ``adm_cd2`` order; a block is closed when the next dong would take it over the limit.

    Parameters
    ----------
    dongs : pandas.DataFrame
        ``RegionTargets.dongs`` (``sgg_cd``).
    residents_per_dong : numpy.ndarray
        Residents of each dong (:func:`geo.demo.population.apportion`).
    block_residents : int
        The most residents of a block.

    Returns
    -------
    list of numpy.ndarray
        Dong indices of each block, in block order; dongs with no residents are left out.

    Raises
    ------
    ValueError
        If one dong alone has more residents than ``block_residents``.
    """
    counts = np.asarray(residents_per_dong, dtype=np.int64)
    in_gu = (dongs["sgg_cd"] == SEODAEMUN_SGG_CD).to_numpy()
    order = np.concatenate([np.flatnonzero(in_gu), np.flatnonzero(~in_gu)])
    blocks, current, total = [], [], 0
    for index in order:
        n = int(counts[index])
        if n == 0:
            continue
        if n > block_residents:
            raise ValueError(
                f"block_residents: dong {dongs['adm_cd2'].iat[index]} alone has {n:,} residents, "
                f"more than a block of {block_residents:,}"
            )
        if current and total + n > block_residents:
            blocks.append(np.array(current, dtype=np.int64))
            current, total = [], 0
        current.append(index)
        total += n
    if current:
        blocks.append(np.array(current, dtype=np.int64))
    return blocks


def block_targets(targets: RegionTargets, dong_indices: np.ndarray) -> RegionTargets:
    """Return the targets of some dongs only (the generator then sees just those)."""
    return dataclasses.replace(
        targets,
        dongs=targets.dongs.iloc[dong_indices].reset_index(drop=True),
        age_sex_probabilities=targets.age_sex_probabilities[dong_indices],
        multi_person_size_probabilities=targets.multi_person_size_probabilities[dong_indices],
        polygons=targets.polygons[dong_indices],
    )


def block_streams(seed: int, block: int, count: int = 11) -> list[np.random.Generator]:
    """Return the random streams of one block (independent of every other block's).

    The first ten are the generator's stages; the eleventh redraws registration numbers that
    an earlier block used (:func:`unique_rrns`).
    """
    sequence = np.random.SeedSequence([int(seed), int(block)])
    return [np.random.default_rng(child) for child in sequence.spawn(count)]


def _shift_text(text: str, offsets: dict[str, int]) -> str:
    return _SOME_ID.sub(lambda m: f"{m[1]}-{int(m[2]) + offsets[m[1]]:07d}", text)


def shift_ids(values, offsets: dict[str, int]):
    """Shift the ids in a column by the block's offsets (``{"R": 1000000, ...}``).

    A column whose values are all ids of one prefix (or empty) is shifted as an array; a
    column with several ids in a value (``support_truth.csv``: ``R-…;R-…``) value by value;
    any other column is returned as it is. A :class:`LazyColumn` stays lazy.
    """
    if isinstance(values, LazyColumn):
        if not len(values) or _kind(values[0:1], offsets) is None:
            return values
        return LazyColumn(len(values), lambda a, b: shift_ids(values[a:b], offsets))
    array = np.asarray(values)
    kind = _kind(array, offsets)
    if kind is None:
        return values
    if kind == "text":
        return np.array([_shift_text(str(v), offsets) for v in array], dtype=object)
    text = array.astype(str)
    filled = text != ""
    parts = np.char.partition(text[filled], "-")
    if not (parts[:, 0] == kind).all() or not np.char.isdigit(parts[:, 2]).all():
        return np.array([_shift_text(str(v), offsets) for v in array], dtype=object)
    numbers = parts[:, 2].astype(np.int64) + offsets[kind]
    shifted = np.char.add(kind + "-", zero_pad(numbers, 7))
    out = np.full(len(text), "", dtype=shifted.dtype if len(shifted) else "<U1")
    out[filled] = shifted
    return out


def _kind(array: np.ndarray, offsets: dict[str, int]) -> str | None:
    """Return the id prefix of a column (by its first filled value), "text", or None."""
    if array.dtype.kind not in "UO" or not len(array):
        return None
    first = next((v for v in array[:1000] if isinstance(v, str) and v), None)
    if first is None:
        return None
    match = _ONE_ID.fullmatch(first)
    if match:
        return match[1]
    return "text" if _SOME_ID.search(first) else None


def shift_table(table: Columns, offsets: dict[str, int]) -> Columns:
    """Shift every id column of a table (:func:`shift_ids`)."""
    if not any(offsets.values()):
        return table
    return {name: shift_ids(values, offsets) for name, values in table.items()}


def unique_rrns(
    rrn: np.ndarray, used: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Redraw the registration numbers an earlier block used; return them and all used so far.

    Blocks draw their numbers independently (each unique within itself), so a few thousand
    of ten million collide with an earlier block's. A colliding number keeps its birth date
    and sex digit and gets new random digits and a new wrong check digit
    (:func:`geo.demo.identity.synthetic_rrns`), until it is unique.

    Parameters
    ----------
    rrn : numpy.ndarray
        The block's numbers, ``YYMMDD-GNNNNNN`` or ``""``.
    used : numpy.ndarray
        Sorted int64 numbers of the earlier blocks.
    rng : numpy.random.Generator
        The block's stream for redraws.

    Returns
    -------
    rrn : numpy.ndarray
        The block's numbers, unique across blocks.
    used : numpy.ndarray
        Sorted numbers of this block and the earlier ones.
    """
    rrn = np.asarray(rrn).astype(str)
    filled = np.flatnonzero(rrn != "")
    number = np.char.replace(rrn[filled], "-", "").astype(np.int64)
    clash = np.isin(number, used)
    while clash.any():
        rows = np.flatnonzero(clash)
        digits = (number[rows, None] // 10 ** np.arange(12, -1, -1)) % 10  # 13 digits
        digits[:, 7:12] = rng.integers(0, 10, size=(len(rows), 5))
        wrong = (rrn_check_digit(digits[:, :12]) + rng.integers(1, 10, len(rows))) % 10
        number[rows] = digits[:, :12] @ (10 ** np.arange(12, 0, -1)) + wrong
        _, first = np.unique(number, return_index=True)
        clash = np.isin(number, used)
        clash[np.setdiff1d(np.arange(len(number)), first)] = True
    front, back = np.divmod(number, 10**7)
    out = rrn.astype(object)
    out[filled] = np.char.add(np.char.add(zero_pad(front, 6), "-"), zero_pad(back, 7))
    return out, np.union1d(used, number)
