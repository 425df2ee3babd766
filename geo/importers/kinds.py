"""What each import kind reads, checks and writes (see docs/import_formats.md)."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.importers.fields import Field
from geo.importers.problems import Problem
from geo.importers.staging import (
    area_ids_for_points,
    copy_frame,
    create_stage,
    missing_reference_problems,
    point_area_problems,
    problems_from_query,
    upsert,
)
from geo.vocab import (
    CRISIS_SIGNAL_KINDS,
    FACILITY_KINDS,
    NEED_CATEGORIES,
    NEED_STATUSES,
    PROVIDER_SECTORS,
    RESIDENT_STATUSES,
    VISIT_OUTCOMES,
)

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}"


def _id(name: str, required: bool = True) -> Field:
    return Field(
        name,
        "text",
        required=required,
        pattern=ID_PATTERN,
        describe="an id: letters, digits, _ . : -",
    )


@dataclass
class Batch:
    """Parsed rows of one file, ready for the database."""

    session: Session
    label: str
    frame: pd.DataFrame  # typed values of the good rows
    row_numbers: np.ndarray
    geometry: np.ndarray | None
    rrn_key: bytes
    coord_column: str = "lon"
    progress: object = None

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        return shapely.get_x(self.geometry), shapely.get_y(self.geometry)


@dataclass
class WriteResult:
    inserted: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)
    records: int | None = None  # records considered, when not one per row (area-stats)


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    fields: tuple[Field, ...]
    id_column: str | None
    geometry: str | None
    write: Callable[[Batch, bool], WriteResult]
    check: Callable[[pd.DataFrame, pd.DataFrame, np.ndarray, str], list[Problem]] | None = None
    table: str = ""
    wide_numeric: bool = False

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


def _stage(
    batch: Batch, name: str, frame: pd.DataFrame, kinds: dict[str, str], with_point: bool = False
) -> list[Problem]:
    """COPY ``frame`` into staging table ``name``; with points, also their lon, lat and area.

    Returns the problems of points that lie in none of the loaded areas.
    """
    columns = dict(kinds)
    problems: list[Problem] = []
    if with_point:
        lon, lat = batch.coords()
        area_ids = area_ids_for_points(batch.session, lon, lat)
        problems = point_area_problems(area_ids, batch.row_numbers, batch.label, batch.coord_column)
        columns.update(lon="float", lat="float", area_id="int")
        area = pd.array(
            np.zeros(len(frame), dtype=int) if area_ids is None else area_ids, dtype="Int64"
        )
        area[area < 0] = pd.NA
        frame = frame.assign(lon=lon, lat=lat, area_id=area)
    create_stage(batch.session, name, columns)
    copy_frame(batch.session, name, frame[list(columns)], batch.row_numbers, batch.progress)
    return problems


def _kinds(fields: tuple[Field, ...], *names: str) -> dict[str, str]:
    by_name = {f.name: f.kind for f in fields}
    return {n: by_name[n] for n in names}


# --------------------------------------------------------------------------- areas

AREA_FIELDS = (
    Field("adm_cd2", pattern=r"\d{10}", describe="10-digit 행정기관코드"),
    Field("dong_nm"),
    Field("sgg_cd", pattern=r"\d{5}"),
    Field("sgg_nm"),
    Field("adm_nm", required=False),
)


def _write_areas(batch: Batch, check_only: bool) -> WriteResult:
    frame = batch.frame.assign(
        geom_wkb=shapely.to_wkb(shapely.force_2d(batch.geometry), hex=True, output_dimension=2)
    )
    _stage(
        batch,
        "stage_areas",
        frame,
        {**_kinds(AREA_FIELDS, *[f.name for f in AREA_FIELDS]), "geom_wkb": "text"},
    )
    if check_only:
        return WriteResult()
    inserted, updated = upsert(
        batch.session,
        target="areas",
        key=["code"],
        columns=["name", "full_name", "district_code", "district_name", "geom"],
        select_sql="""SELECT adm_cd2, dong_nm, adm_nm, sgg_cd, sgg_nm,
                      ST_Multi(ST_GeomFromWKB(decode(geom_wkb, 'hex'), 4326))
                      FROM stage_areas ORDER BY row_no""",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- area statistics


def _write_area_stats(batch: Batch, check_only: bool) -> WriteResult:
    long = batch.frame.melt(id_vars=["adm_cd2", "_row"], var_name="indicator", value_name="value")
    long = long.sort_values(["_row", "indicator"], kind="stable").reset_index(drop=True)
    stage_rows = np.arange(1, len(long) + 1)
    create_stage(
        batch.session,
        "stage_area_stats",
        {"source_row": "int", "adm_cd2": "text", "indicator": "text", "value": "float"},
    )
    long = long.rename(columns={"_row": "source_row"})
    copy_frame(
        batch.session,
        "stage_area_stats",
        long[["source_row", "adm_cd2", "indicator", "value"]],
        stage_rows,
    )
    problems = problems_from_query(
        batch.session,
        """SELECT DISTINCT s.source_row, s.adm_cd2 FROM stage_area_stats s
           LEFT JOIN areas a ON a.code = s.adm_cd2 WHERE a.id IS NULL ORDER BY 1""",
        batch.label,
        "adm_cd2",
        "unknown area {value!r} (import the areas first)",
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="area_statistics",
        key=["area_id", "indicator"],
        columns=["value"],
        select_sql="""SELECT a.id, s.indicator, s.value FROM stage_area_stats s
                      JOIN areas a ON a.code = s.adm_cd2 ORDER BY s.row_no""",
    )
    return WriteResult(inserted, updated, records=len(long))


# --------------------------------------------------------------------------- facilities

FACILITY_FIELDS = (
    _id("facility_id"),
    Field("kind", "choice", choices=tuple(FACILITY_KINDS)),
    Field("name"),
    Field("address", required=False),
)


def _write_facilities(batch: Batch, check_only: bool) -> WriteResult:
    problems = _stage(
        batch,
        "stage_facilities",
        batch.frame,
        _kinds(FACILITY_FIELDS, "facility_id", "kind", "name", "address"),
        with_point=True,
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="facilities",
        key=["external_id"],
        columns=["kind", "name", "address", "area_id", "geom"],
        select_sql="""SELECT facility_id, kind, name, address, area_id,
                      ST_SetSRID(ST_MakePoint(lon, lat), 4326)
                      FROM stage_facilities ORDER BY row_no""",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- residents

HOUSEHOLD_COLUMNS = ("household_size", "monthly_income_krw", "assets_krw", "address")
RESIDENT_FIELDS = (
    _id("resident_id"),
    _id("household_id"),
    Field("name", required=False, max_length=100),
    Field(
        "rrn",
        required=False,
        pattern=r"\d{6}-?\d{7}",
        describe="resident registration number YYMMDD-NNNNNNN",
    ),
    Field("birth_year", "int", minimum=1900),  # upper bound checked at import time
    Field("sex", "choice", choices=("M", "F")),
    Field("lives_alone", "bool"),
    Field("disability", "bool"),
    Field("registered_on", "date"),
    Field("status", "choice", required=False, choices=tuple(RESIDENT_STATUSES)),
    Field("household_size", "int", minimum=1, maximum=20),
    Field("monthly_income_krw", "int", minimum=0, maximum=10**12),
    Field("assets_krw", "int", required=False, minimum=0, maximum=10**14),
    Field("address", required=False, max_length=300),
)
RRN_CENTURY = {
    "1": 1900,
    "2": 1900,
    "5": 1900,
    "6": 1900,
    "3": 2000,
    "4": 2000,
    "7": 2000,
    "8": 2000,
    "9": 1800,
    "0": 1800,
}


def rrn_hmac(rrn: str, key: bytes) -> str:
    """Keyed HMAC-SHA256 of a registration number (hyphen removed), as 64 hex digits.

    The database stores the 32 bytes (``decode(hex, 'hex')``); the clear number never leaves
    the importing process.
    """
    return hmac.digest(key, rrn.replace("-", "").encode("ascii"), "sha256").hex()


def _rrn_consistency(
    rrn: pd.Series, parsed: pd.DataFrame, bad: np.ndarray, label: str
) -> list[Problem]:
    """Registration numbers against birth_year and sex, vectorised; never prints the number."""
    rows = parsed.index
    check = (rrn != "").to_numpy() & ~bad
    digits = rrn.where(check, "0001011000000")  # a placeholder for rows not checked
    century = digits.str[6].map(RRN_CENTURY).astype(int)
    year = century + digits.str[0:2].astype(int)
    born = pd.to_datetime(
        year.astype(str) + digits.str[2:6], format="%Y%m%d", errors="coerce"
    ).to_numpy()
    no_date = check & pd.isna(born)
    birth_year = parsed["birth_year"].astype("float64").to_numpy()
    wrong_year = check & ~no_date & ~np.isnan(birth_year) & (year.to_numpy() != birth_year)
    sex_digit = np.where(digits.str[6].astype(int).to_numpy() % 2 == 1, "M", "F")
    sex = parsed["sex"].astype(object).to_numpy()
    wrong_sex = check & ~no_date & pd.notna(sex) & (sex_digit != sex)
    return (
        [
            Problem(label, int(r), "rrn", "the birth date in the number is not a calendar date")
            for r in rows[no_date]
        ]
        + [
            Problem(label, int(r), "rrn", "the number's birth year differs from birth_year")
            for r in rows[wrong_year]
        ]
        + [
            Problem(label, int(r), "rrn", "the number's sex digit differs from sex")
            for r in rows[wrong_sex]
        ]
    )


def _check_residents(
    raw: pd.DataFrame, parsed: pd.DataFrame, bad: np.ndarray, label: str
) -> list[Problem]:
    problems = []
    rows = parsed.index
    # registration number against birth year and sex (the number itself is never printed)
    rrn = raw["rrn"].str.replace("-", "", regex=False) if "rrn" in raw else None
    if rrn is not None:
        problems += _rrn_consistency(rrn, parsed, bad, label)
        hashed = rrn[rrn != ""]
        dup = hashed.duplicated(keep="first")
        firsts = hashed[~dup.to_numpy()]
        first_row = dict(zip(firsts.to_numpy(), firsts.index, strict=True)) if dup.any() else {}
        for k in hashed.index[dup.to_numpy()]:
            problems.append(
                Problem(
                    label,
                    int(k),
                    "rrn",
                    f"the same registration number is already on row {first_row[hashed.loc[k]]}",
                )
            )
    this_year = dt.date.today().year
    late = (parsed["birth_year"].fillna(0) > this_year).to_numpy()
    problems += [
        Problem(label, int(r), "birth_year", f"must be at most {this_year}") for r in rows[late]
    ]
    # rows of one household must agree on the household's columns and location
    household = parsed["household_id"]
    x_name = "lon" if "lon" in raw else "x" if "x" in raw else "wkt" if "wkt" in raw else "geometry"
    y_name = {"lon": "lat", "x": "y"}.get(x_name, x_name)
    coord_columns = {"_x": x_name, "_y": y_name}
    for column in HOUSEHOLD_COLUMNS + ("_x", "_y"):
        values = parsed[column].astype(object).where(parsed[column].notna(), "<empty>")
        first = values.groupby(household, sort=False).transform("first")
        first_pos = (
            pd.Series(np.arange(len(parsed)), index=parsed.index)
            .groupby(household, sort=False)
            .transform("first")
        )
        # rows with a bad cell are reported for that cell only
        differs = (values != first).to_numpy() & household.notna().to_numpy() & ~bad
        shown = coord_columns.get(column, column)
        for i in np.flatnonzero(differs):
            problems.append(
                Problem(
                    label,
                    rows[i],
                    shown,
                    f"household {household.iat[i]!r} has "
                    f"a different {shown} on row {rows[first_pos.iat[i]]}",
                )
            )
    return _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _write_residents(batch: Batch, check_only: bool) -> WriteResult:
    frame = batch.frame.copy()
    rrn = frame.pop("rrn") if "rrn" in frame else pd.Series(None, index=frame.index, dtype=object)
    frame["rrn_hmac"] = rrn.map(
        lambda v: rrn_hmac(v, batch.rrn_key) if isinstance(v, str) and v else None
    )
    del rrn
    if "status" not in frame or frame["status"].isna().any():
        frame["status"] = frame.get("status", pd.Series(None, index=frame.index)).fillna("active")
    kinds = _kinds(
        RESIDENT_FIELDS,
        "resident_id",
        "household_id",
        "name",
        "birth_year",
        "sex",
        "lives_alone",
        "disability",
        "registered_on",
        "status",
        *HOUSEHOLD_COLUMNS,
    )
    kinds["rrn_hmac"] = "text"
    session = batch.session
    problems = _stage(batch, "stage_residents", frame, kinds, with_point=True)
    problems += problems_from_query(
        session,
        """SELECT s.row_no, r.external_id FROM stage_residents s
           JOIN residents r ON r.rrn_hmac = decode(s.rrn_hmac, 'hex')
             AND r.external_id <> s.resident_id
           ORDER BY s.row_no""",
        batch.label,
        "rrn",
        "this registration number belongs to resident {value!r} already",
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    h_ins, h_upd = upsert(
        session,
        target="households",
        key=["external_id"],
        columns=["area_id", "size", "monthly_income_krw", "assets_krw", "address", "geom"],
        select_sql="""SELECT DISTINCT ON (household_id) household_id, area_id, household_size,
                      monthly_income_krw, assets_krw, address,
                      ST_SetSRID(ST_MakePoint(lon, lat), 4326)
                      FROM stage_residents ORDER BY household_id, row_no""",
    )
    r_ins, r_upd = upsert(
        session,
        target="residents",
        key=["external_id"],
        columns=[
            "household_id",
            "name",
            "rrn_hmac",
            "birth_year",
            "sex",
            "lives_alone",
            "has_disability",
            "registered_on",
            "status",
        ],
        select_sql="""SELECT s.resident_id, h.id, s.name, decode(s.rrn_hmac, 'hex'),
                      s.birth_year, s.sex, s.lives_alone, s.disability, s.registered_on, s.status
                      FROM stage_residents s JOIN households h ON h.external_id = s.household_id
                      ORDER BY s.row_no""",
    )
    return WriteResult(
        r_ins, r_upd, extra={"households inserted": h_ins, "households updated": h_upd}
    )


# --------------------------------------------------------------------------- crisis signals

SIGNAL_FIELDS = (
    _id("signal_id"),
    _id("resident_id", required=False),
    _id("household_id", required=False),
    Field("kind", "choice", choices=tuple(CRISIS_SIGNAL_KINDS)),
    Field("observed_on", "date"),
    Field("source_agency", max_length=200),
)


def _check_signals(raw, parsed, bad, label) -> list[Problem]:
    both = parsed["resident_id"].notna() & parsed["household_id"].notna()
    neither = parsed["resident_id"].isna() & parsed["household_id"].isna()
    problems = [
        Problem(label, r, "resident_id", "give resident_id or household_id, not both")
        for r in parsed.index[both.to_numpy()]
    ]
    problems += [
        Problem(label, r, "resident_id", "give resident_id or household_id")
        for r in parsed.index[neither.to_numpy() & ~bad]
    ]
    return problems + _not_in_future(parsed, "observed_on", label)


def _not_in_future(parsed: pd.DataFrame, column: str, label: str) -> list[Problem]:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    late = parsed[column].map(lambda v: v is not None and not pd.isna(v) and v >= tomorrow)
    return [Problem(label, r, column, "lies in the future") for r in parsed.index[late.to_numpy()]]


def _write_signals(batch: Batch, check_only: bool) -> WriteResult:
    _stage(
        batch, "stage_signals", batch.frame, _kinds(SIGNAL_FIELDS, *[f.name for f in SIGNAL_FIELDS])
    )
    problems = missing_reference_problems(
        batch.session, "stage_signals", "resident_id", "residents", batch.label, "resident"
    )
    problems += missing_reference_problems(
        batch.session, "stage_signals", "household_id", "households", batch.label, "household"
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="crisis_signals",
        key=["external_id"],
        columns=["resident_id", "household_id", "kind", "observed_on", "source_agency"],
        select_sql="""SELECT s.signal_id, r.id, h.id, s.kind, s.observed_on, s.source_agency
                      FROM stage_signals s
                      LEFT JOIN residents r ON r.external_id = s.resident_id
                      LEFT JOIN households h ON h.external_id = s.household_id
                      ORDER BY s.row_no""",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- providers

PROVIDER_FIELDS = (
    _id("provider_id"),
    Field("name", max_length=200),
    Field("sector", "choice", choices=tuple(PROVIDER_SECTORS)),
    Field("kind", required=False, max_length=100),
)


def _write_providers(batch: Batch, check_only: bool) -> WriteResult:
    _stage(
        batch,
        "stage_providers",
        batch.frame,
        _kinds(PROVIDER_FIELDS, *[f.name for f in PROVIDER_FIELDS]),
    )
    if check_only:
        return WriteResult()
    inserted, updated = upsert(
        batch.session,
        target="providers",
        key=["external_id"],
        columns=["name", "sector", "kind"],
        select_sql="SELECT provider_id, name, sector, kind FROM stage_providers ORDER BY row_no",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- visits

VISIT_FIELDS = (
    _id("visit_id"),
    _id("resident_id"),
    Field("visited_at", "datetime"),
    Field("visitor", max_length=200),
    Field("outcome", "choice", choices=tuple(VISIT_OUTCOMES)),
    Field("notes", required=False, max_length=4000),
)


def _check_visits(raw, parsed, bad, label) -> list[Problem]:
    # the same rule as for dates: a visit on a later Korean calendar day than today is refused
    tomorrow_kst = pd.Timestamp.now(tz="Asia/Seoul").normalize() + pd.Timedelta(days=1)
    late = parsed["visited_at"].notna() & (parsed["visited_at"] >= tomorrow_kst)
    return [
        Problem(label, r, "visited_at", "lies in the future") for r in parsed.index[late.to_numpy()]
    ]


def _write_visits(batch: Batch, check_only: bool) -> WriteResult:
    _stage(
        batch, "stage_visits", batch.frame, _kinds(VISIT_FIELDS, *[f.name for f in VISIT_FIELDS])
    )
    problems = missing_reference_problems(
        batch.session, "stage_visits", "resident_id", "residents", batch.label, "resident"
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="visits",
        key=["external_id"],
        columns=["resident_id", "visited_at", "visitor", "outcome", "notes"],
        select_sql="""SELECT s.visit_id, r.id, s.visited_at, s.visitor, s.outcome, s.notes
                      FROM stage_visits s JOIN residents r ON r.external_id = s.resident_id
                      ORDER BY s.row_no""",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- needs

NEED_FIELDS = (
    _id("need_id"),
    _id("resident_id"),
    Field("category", "choice", choices=tuple(NEED_CATEGORIES)),
    Field("status", "choice", choices=tuple(NEED_STATUSES)),
    Field("identified_on", "date"),
    Field("resolved_on", "date", required=False),
    Field("source", required=False, max_length=200),
)


def _check_needs(raw, parsed, bad, label) -> list[Problem]:
    ident, resolved = parsed["identified_on"], parsed["resolved_on"]
    early = [
        i
        for i in range(len(parsed))
        if resolved.iat[i] is not None
        and not pd.isna(resolved.iat[i])
        and ident.iat[i] is not None
        and not pd.isna(ident.iat[i])
        and resolved.iat[i] < ident.iat[i]
    ]
    return [
        Problem(label, parsed.index[i], "resolved_on", "is before identified_on") for i in early
    ] + _not_in_future(parsed, "identified_on", label)


def _write_needs(batch: Batch, check_only: bool) -> WriteResult:
    _stage(batch, "stage_needs", batch.frame, _kinds(NEED_FIELDS, *[f.name for f in NEED_FIELDS]))
    problems = missing_reference_problems(
        batch.session, "stage_needs", "resident_id", "residents", batch.label, "resident"
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="needs",
        key=["external_id"],
        columns=["resident_id", "category", "status", "identified_on", "resolved_on", "source"],
        select_sql="""SELECT s.need_id, r.id, s.category, s.status, s.identified_on,
                      s.resolved_on, s.source
                      FROM stage_needs s JOIN residents r ON r.external_id = s.resident_id
                      ORDER BY s.row_no""",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- support

SUPPORT_FIELDS = (
    _id("support_id"),
    _id("resident_id"),
    _id("provider_id"),
    Field("category", "choice", choices=tuple(NEED_CATEGORIES)),
    Field("item", max_length=200),
    Field("amount_krw", "int", required=False, minimum=0, maximum=10**12),
    Field("quantity", "float", required=False, minimum=1e-9),
    Field("unit", required=False, max_length=50),
    Field("provided_on", "date"),
)


def _check_support(raw, parsed, bad, label) -> list[Problem]:
    neither = (parsed["amount_krw"].isna() & parsed["quantity"].isna()).to_numpy()
    blank = np.ones(len(raw), dtype=bool)
    for column in ("amount_krw", "quantity"):
        if column in raw:
            blank &= (raw[column] == "").to_numpy()
    return [
        Problem(label, r, "amount_krw", "give amount_krw or quantity (or both)")
        for r in parsed.index[neither & blank]
    ] + _not_in_future(parsed, "provided_on", label)


def _write_support(batch: Batch, check_only: bool) -> WriteResult:
    _stage(
        batch,
        "stage_support",
        batch.frame,
        _kinds(SUPPORT_FIELDS, *[f.name for f in SUPPORT_FIELDS]),
    )
    problems = missing_reference_problems(
        batch.session, "stage_support", "resident_id", "residents", batch.label, "resident"
    )
    problems += missing_reference_problems(
        batch.session, "stage_support", "provider_id", "providers", batch.label, "provider"
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="support_records",
        key=["external_id"],
        columns=[
            "resident_id",
            "provider_id",
            "category",
            "item",
            "amount_krw",
            "quantity",
            "unit",
            "provided_on",
        ],
        select_sql="""SELECT s.support_id, r.id, p.id, s.category, s.item, s.amount_krw,
                      s.quantity, s.unit, s.provided_on
                      FROM stage_support s
                      JOIN residents r ON r.external_id = s.resident_id
                      JOIN providers p ON p.external_id = s.provider_id
                      ORDER BY s.row_no""",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- teams

TEAM_FIELDS = (
    _id("team_id"),
    Field("name", max_length=200),
    _id("base_facility_id", required=False),
    Field("adm_cd2s", pattern=r"\d{10}(\|\d{10})*", describe="|-separated area codes"),
)


def _write_teams(batch: Batch, check_only: bool) -> WriteResult:
    session = batch.session
    _stage(batch, "stage_teams", batch.frame, _kinds(TEAM_FIELDS, *[f.name for f in TEAM_FIELDS]))
    problems = missing_reference_problems(
        session, "stage_teams", "base_facility_id", "facilities", batch.label, "facility"
    )
    problems += problems_from_query(
        session,
        """SELECT s.row_no, c.code FROM stage_teams s
           CROSS JOIN LATERAL unnest(string_to_array(s.adm_cd2s, '|')) AS c(code)
           LEFT JOIN areas a ON a.code = c.code WHERE a.id IS NULL ORDER BY s.row_no""",
        batch.label,
        "adm_cd2s",
        "unknown area {value!r}",
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    wanted_areas = {
        team: sorted(set(codes.split("|")))
        for team, codes in zip(batch.frame["team_id"], batch.frame["adm_cd2s"], strict=True)
    }
    areas_before = dict(
        session.execute(
            text("""
        SELECT t.external_id, array_remove(array_agg(a.code ORDER BY a.code), NULL)
        FROM visit_teams t JOIN stage_teams s ON s.team_id = t.external_id
        LEFT JOIN team_areas ta ON ta.team_id = t.id LEFT JOIN areas a ON a.id = ta.area_id
        GROUP BY t.external_id""")
        ).all()
    )
    inserted_ids, updated_ids = upsert(
        session,
        target="visit_teams",
        key=["external_id"],
        columns=["name", "base_facility_id"],
        select_sql="""SELECT s.team_id, s.name, f.id FROM stage_teams s
                      LEFT JOIN facilities f ON f.external_id = s.base_facility_id
                      ORDER BY s.row_no""",
        return_keys=True,
    )
    # the file's list of areas replaces each team's areas
    session.execute(
        text("""DELETE FROM team_areas ta USING visit_teams t, stage_teams s
                            WHERE ta.team_id = t.id AND t.external_id = s.team_id""")
    )
    session.execute(
        text("""
        INSERT INTO team_areas (team_id, area_id)
        SELECT DISTINCT t.id, a.id FROM stage_teams s
        JOIN visit_teams t ON t.external_id = s.team_id
        CROSS JOIN LATERAL unnest(string_to_array(s.adm_cd2s, '|')) AS c(code)
        JOIN areas a ON a.code = c.code""")
    )
    areas_changed = {t for t, codes in areas_before.items() if list(codes) != wanted_areas[t]}
    return WriteResult(len(inserted_ids), len(set(updated_ids) | areas_changed))


SPECS: dict[str, ImportSpec] = {
    spec.kind: spec
    for spec in (
        ImportSpec("areas", AREA_FIELDS, "adm_cd2", "polygon", _write_areas, table="areas"),
        ImportSpec(
            "area-stats",
            (Field("adm_cd2", pattern=r"\d{10}"),),
            "adm_cd2",
            None,
            _write_area_stats,
            table="area_statistics",
            wide_numeric=True,
        ),
        ImportSpec(
            "facilities",
            FACILITY_FIELDS,
            "facility_id",
            "point",
            _write_facilities,
            table="facilities",
        ),
        ImportSpec(
            "residents",
            RESIDENT_FIELDS,
            "resident_id",
            "point",
            _write_residents,
            check=_check_residents,
            table="residents",
        ),
        ImportSpec(
            "crisis-signals",
            SIGNAL_FIELDS,
            "signal_id",
            None,
            _write_signals,
            check=_check_signals,
            table="crisis_signals",
        ),
        ImportSpec(
            "providers", PROVIDER_FIELDS, "provider_id", None, _write_providers, table="providers"
        ),
        ImportSpec(
            "visits",
            VISIT_FIELDS,
            "visit_id",
            None,
            _write_visits,
            check=_check_visits,
            table="visits",
        ),
        ImportSpec(
            "needs", NEED_FIELDS, "need_id", None, _write_needs, check=_check_needs, table="needs"
        ),
        ImportSpec(
            "support",
            SUPPORT_FIELDS,
            "support_id",
            None,
            _write_support,
            check=_check_support,
            table="support_records",
        ),
        ImportSpec("teams", TEAM_FIELDS, "team_id", None, _write_teams, table="visit_teams"),
    )
}
