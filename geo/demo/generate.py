"""Reproducible synthetic residents for the welfare visit map demo.

:func:`generate_demo` writes the import files described in ``docs/import_formats.md`` for
Seodaemun-gu (or all of Seoul), calibrated per 행정동 on real statistics, plus a hidden
``ground_truth.csv`` for evaluating scoring and a ``manifest.json``. The model, calibration
targets and tolerances are documented in ``docs/demo_data.md``. A demo above a million
residents is generated block by block (:mod:`geo.demo.blocks`).

Length: the public function, its validation, the one orchestration of the stages (used for
the whole region or for one block) and the block loop that writes them belong together; the
block helpers themselves live in :mod:`geo.demo.blocks`.

Example
-------
>>> import datetime
>>> summary = generate_demo("var/demo", seed=7, scale=5_000,
...                         as_of=datetime.date(2026, 4, 1))  # doctest: +SKIP
>>> summary.files[0].name  # doctest: +SKIP
'providers.csv'
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from tqdm import tqdm

from geo.demo.benefits import draw_receiving
from geo.demo.blocks import (
    BLOCK_RESIDENTS,
    ID_COUNTED_BY,
    ID_PREFIXES,
    block_streams,
    block_targets,
    plan_blocks,
    shift_table,
    unique_rrns,
)
from geo.demo.identity import draw_identities, draw_places, draw_statuses
from geo.demo.population import (
    RegionTargets,
    apportion,
    build_population,
    load_region_targets,
)
from geo.demo.services import (
    draw_needs,
    draw_support,
    provider_table,
    team_sizes,
    teams_table,
)
from geo.demo.sharing import plan_sharing
from geo.demo.tables import (
    columns_of,
    frame_table,
    ground_truth_table,
    needs_table,
    residents_table,
    sequential_ids,
    signals_table,
    support_table,
    visits_table,
    write_csv,
)
from geo.demo.visiting import Residents, simulate_visits
from geo.demo.welfare import (
    draw_crisis,
    draw_finances,
    draw_signals,
    load_standard_median_income,
    median_income,
    median_income_year,
)
from geo.settings import PROJECT_ROOT, today_in_seoul
from sharing.config import load_warning_config
from visitmap.errors import FieldError

__all__ = ["DemoError", "DemoSummary", "generate_demo", "IMPORT_ORDER", "FILE_NAMES"]

MAX_SCALE = 10_000_000
AUTO_SEODAEMUN_MAX_SCALE = 100_000
REGIONS = ("auto", "seodaemun", "seoul")
IMPORT_ORDER = ("providers", "residents", "crisis-signals", "visits", "needs", "support", "teams",
                "donors", "donations", "stock-movements", "sponsorships", "sponsorship-payments",
                "consents")  # fmt: skip
FILE_NAMES = MappingProxyType({kind: kind.replace("-", "_") + ".csv" for kind in IMPORT_ORDER})
GROUND_TRUTH_FILE = "ground_truth.csv"
#: The shared-support warnings the generator planted (geo.demo.sharing; hidden, like the
#: ground truth).
SUPPORT_TRUTH_FILE = "support_truth.csv"
MANIFEST_FILE = "manifest.json"
#: Bumped when the generator's output changes in a way that an older demo directory should
#: not be reused (2: needs are never resolved after the demo's date; 3: visits simulated
#: with the teams' capacity, team sizes follow the dong's residents; 4: shared support,
#: issue 13: minor categories, donors, stock, sponsorships, consents, planted warnings)
GENERATOR_VERSION = 4
AREA_FILES = {
    "seodaemun": "data/seodaemun_admdong_2021.geojson",
    "seoul": "data/seoul_admdong_2021.geojson",
}
FACILITY_FILE = "data/seodaemun_facilities.csv"
FIRST_AS_OF_YEAR, LAST_AS_OF_YEAR = 2012, 2099
_STAGES = ("targets", "population", "identities", "finances and crisis", "signals and visits",
           "needs and support", "writing")  # fmt: skip


class DemoError(FieldError):
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
    """Check :func:`generate_demo`'s arguments and return ``as_of`` as a date (default today)."""
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise DemoError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(scale, int | np.integer) or isinstance(scale, bool):
        raise DemoError(f"scale must be an integer, got {scale!r}")
    if not 1 <= scale <= MAX_SCALE:
        raise DemoError(f"scale must be between 1 and {MAX_SCALE:,} residents, got {scale:,}")
    if region not in REGIONS:
        raise DemoError(f"region must be one of {', '.join(REGIONS)}; got {region!r}")
    if as_of is None:
        as_of = today_in_seoul()
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
    block_residents: int = BLOCK_RESIDENTS,
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
        Number of residents (persons), 1 to 10,000,000.
    region
        ``"seodaemun"`` (the 14 행정동 of Seodaemun-gu), ``"seoul"`` (all 425 Seoul
        행정동) or ``"auto"``: Seodaemun up to 100,000 residents, Seoul above.
    as_of
        Reference date: ages, the 24-month history and the standard median income year are
        relative to it. Default: today. Must fall in 2012..2099.
    progress
        Show a tqdm progress bar on standard error.
    block_residents
        The most residents generated at a time (:mod:`geo.demo.blocks`): a larger demo is
        generated block by block (whole dongs, each block with its own random streams and
        id ranges) and appended to the same files, so memory is bounded by the block.

    Returns
    -------
    DemoSummary
        Paths and row counts.

    Raises
    ------
    DemoError
        For a seed that is not a non-negative integer, a scale that is not an integer in
        1..10,000,000, an unknown region, a ``block_residents`` that is not a positive
        integer, or an ``as_of`` that is not a date or lies outside 2012..2099.

    Notes
    -----
    The same ``seed``, ``scale``, ``region`` and ``as_of`` give byte-identical files.
    """
    as_of = _validate(seed, scale, region, as_of)
    if not isinstance(block_residents, int) or isinstance(block_residents, bool):
        raise DemoError(f"block_residents must be an integer, got {block_residents!r}")
    if block_residents < 1:
        raise DemoError(f"block_residents must be positive, got {block_residents:,}")
    resolved_region = region
    if region == "auto":
        resolved_region = "seodaemun" if scale <= AUTO_SEODAEMUN_MAX_SCALE else "seoul"
    out_dir = Path(out_dir)
    targets = load_region_targets(resolved_region)
    residents_per_dong = apportion(int(scale), targets.dongs["population"].to_numpy())
    blocks = plan_blocks(targets.dongs, residents_per_dong, block_residents)
    steps = len(_STAGES) - 1
    bar = tqdm(total=steps * len(blocks) + 1, disable=not progress, desc="demo", unit="stage")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if len(blocks) == 1:
            # one block: the whole region at once, with the streams it always had
            streams = [
                np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(10)
            ]
            tables = _generate_tables(streams, targets, residents_per_dong, as_of, bar)
            bar.set_postfix_str(_STAGES[-1])
            counts = _write_tables(out_dir, tables)
            median_year = tables["median_year"]
        else:
            counts, median_year = _generate_blocks(
                out_dir, int(seed), targets, residents_per_dong, blocks, as_of, bar
            )
        manifest = _manifest(int(seed), int(scale), resolved_region, as_of, counts, median_year)
        if len(blocks) > 1:
            manifest["blocks"] = [int(residents_per_dong[b].sum()) for b in blocks]
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
    streams: list[np.random.Generator],
    targets: RegionTargets,
    residents_per_dong: np.ndarray,
    as_of: datetime.date,
    bar: tqdm,
) -> dict:
    def stage(index: int) -> None:
        bar.set_postfix_str(_STAGES[index])
        if index:
            bar.update()

    stage(0)
    stage(1)
    population = build_population(streams[0], targets, residents_per_dong)
    stage(2)
    identity = draw_identities(streams[1], population, as_of)
    lon, lat, address = draw_places(streams[2], population, targets)
    members_per_dong = team_sizes(residents_per_dong)
    stage(3)
    median_table = load_standard_median_income()
    medians = median_income(median_table, population.household_size, as_of.year)
    finances = draw_finances(streams[3], population, medians)
    crisis = draw_crisis(streams[3], population, finances, as_of)
    stage(4)
    signals = draw_signals(streams[4], population, crisis, as_of)
    status = draw_statuses(streams[1], population, crisis)
    residents_for_visits = Residents(
        birth=identity["birth"],
        registered_on=identity["registered_on"],
        active=status == "active",
        lon=lon,
        lat=lat,
    )
    plan = simulate_visits(
        streams[5], population, crisis, finances, signals, residents_for_visits,
        members_per_dong, as_of,
    )  # fmt: skip
    stage(5)
    needs = draw_needs(streams[6], population, crisis, plan.visits, as_of)
    support = draw_support(streams[7], population, finances, needs, median_table, as_of)
    providers, slot_provider = provider_table(targets.dongs)
    providers = _with_sites(providers)
    resident_ids = sequential_ids("R-", len(population.age))
    household_ids = sequential_ids("H-", len(population.household_size))
    shared = plan_sharing(
        streams[8], support=support, needs=needs, signals=signals, visits=plan.visits,
        population=population, resident_ids=resident_ids, household_ids=household_ids,
        slot_provider=slot_provider, dongs=targets.dongs, has_rrn=identity["rrn"] != "",
        active=status == "active", in_crisis=crisis.resident_in_crisis, as_of=as_of,
        config=load_warning_config(),
    )  # fmt: skip
    support, needs, signals = shared.support, shared.needs, shared.signals
    stage(6)

    residents = residents_table(
        population, identity, status, finances, address, lon, lat, resident_ids, household_ids
    )
    # issue 14: the programmes each household receives, from a stream of its own
    residents["receiving"] = draw_receiving(
        streams[9], population, identity["birth_year"], finances, as_of.year
    )
    if shared.alias is not None:
        # one person under two ids: the re-used row takes the kept one's identity, no RRN
        kept, reused = shared.alias
        for column in ("name", "birth_year", "sex", "address", "lon", "lat", "registered_on"):
            residents[column] = residents[column].copy()
            residents[column][reused] = residents[column][kept]
        residents["rrn"] = residents["rrn"].copy()
        residents["rrn"][reused] = ""
    ground_truth = ground_truth_table(
        population, crisis, finances, plan, targets, resident_ids, household_ids, identity, as_of
    )
    if shared.alias is not None:
        ground_truth["age"] = ground_truth["age"].copy()
        ground_truth["age"][shared.alias[1]] = ground_truth["age"][shared.alias[0]]
    resident_dong = population.household_dong[population.household]
    return {
        "providers": columns_of(providers),
        "residents": residents,
        "crisis-signals": signals_table(signals, resident_ids, household_ids),
        "visits": visits_table(plan.visits, resident_ids),
        "needs": needs_table(needs, resident_ids),
        "support": support_table(support, resident_ids, slot_provider, resident_dong),
        "teams": columns_of(teams_table(targets.dongs, members_per_dong)),
        "donors": frame_table(shared.donors),
        "donations": frame_table(shared.donations),
        "stock-movements": frame_table(shared.stock),
        "sponsorships": frame_table(shared.sponsorships),
        "sponsorship-payments": frame_table(shared.payments),
        "consents": frame_table(shared.consents),
        "ground_truth": ground_truth,
        "support_truth": frame_table(shared.truth),
        "median_year": median_income_year(median_table, as_of.year),
        "households": len(population.household_size),
    }


def _generate_blocks(
    out_dir: Path,
    seed: int,
    targets: RegionTargets,
    residents_per_dong: np.ndarray,
    blocks: list[np.ndarray],
    as_of: datetime.date,
    bar: tqdm,
) -> tuple[dict[str, int], int]:
    """Generate and write a demo block by block (:mod:`geo.demo.blocks`); return the counts.

    Each block's tables are appended to the files; the providers and teams are the whole
    region's, and the tables drawn for Seodaemun's centres (donors to sponsorship payments)
    come from the first block, which holds Seodaemun.
    """
    offsets = dict.fromkeys(ID_PREFIXES, 0)
    used_rrns = np.empty(0, dtype=np.int64)
    counts: dict[str, int] = {}
    median_year = None
    whole_region = ("providers", "teams")
    first_block_only = ("donors", "donations", "stock-movements", "sponsorships",
                        "sponsorship-payments")  # fmt: skip
    for number, dong_indices in enumerate(blocks):
        bar.set_description(f"demo block {number + 1}/{len(blocks)}")
        streams = block_streams(seed, number)
        tables = _generate_tables(
            streams[:10],
            block_targets(targets, dong_indices),
            residents_per_dong[dong_indices],
            as_of,
            bar,
        )
        tables["residents"]["rrn"], used_rrns = unique_rrns(
            tables["residents"]["rrn"], used_rrns, streams[10]
        )
        median_year = tables["median_year"]
        if number == 0:
            providers, _ = provider_table(targets.dongs)
            tables["providers"] = columns_of(_with_sites(providers))
            members = team_sizes(residents_per_dong)
            tables["teams"] = columns_of(teams_table(targets.dongs, members))
        skip = (*whole_region, *first_block_only) if number else ()
        shifted = {
            kind: shift_table(table, offsets)
            for kind, table in tables.items()
            if kind not in ("median_year", "households") and kind not in skip
        }
        bar.set_postfix_str(_STAGES[-1])
        block_counts = _write_tables(out_dir, shifted, append=number > 0)
        for kind, n in block_counts.items():
            counts[kind] = counts.get(kind, 0) + n
        for prefix, kind in ID_COUNTED_BY.items():
            offsets[prefix] += tables["households"] if kind is None else block_counts[kind]
        del tables, shifted
    return counts, median_year


def _with_sites(providers):
    """Give the community centres their dong (``area``) and site (``facility_id``)."""
    sites = set(pd.read_csv(PROJECT_ROOT / FACILITY_FILE, usecols=["facility_id"])["facility_id"])
    centre = providers["provider_id"].str.startswith("P-CC-")
    code = providers["provider_id"].str.removeprefix("P-CC-")
    facility = "CC-" + code
    return providers.assign(
        area=np.where(centre, code, ""),
        facility_id=np.where(centre & facility.isin(sites), facility, ""),
    )


def _write_tables(out_dir: Path, tables: dict, *, append: bool = False) -> dict[str, int]:
    """Write the tables present in ``tables`` (all of them, unless appending a block)."""
    counts = {}
    hidden = {"ground_truth": GROUND_TRUTH_FILE, "support_truth": SUPPORT_TRUTH_FILE}
    for kind in (*IMPORT_ORDER, *hidden):
        if append and kind not in tables:
            continue
        name = hidden.get(kind) or FILE_NAMES[kind]
        decimals = 6 if kind == "residents" else 4
        counts[kind] = write_csv(out_dir / name, tables[kind], decimals, append=append)
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
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "region": region,
        "as_of": as_of.isoformat(),
        "import_order": {kind: FILE_NAMES[kind] for kind in IMPORT_ORDER},
        "counts": counts,
        "hidden": {"ground_truth": GROUND_TRUTH_FILE, "support_truth": SUPPORT_TRUTH_FILE},
        "requires": {"areas": AREA_FILES[region], "facilities": FACILITY_FILE},
        "standard_median_income_year": median_year,
        "note": "Synthetic data (가상 데이터); ground_truth.csv and support_truth.csv are for "
        "evaluation only.",
    }
