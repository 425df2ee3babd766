"""The residents import kind: one row per resident, with the household's columns.

Registration numbers are checked and stored only as a keyed HMAC.
"""

from __future__ import annotations

import hmac

import numpy as np
import pandas as pd
from sqlalchemy import text

from eligibility.catalogue import load_catalogue
from geo.db import read_query_frame
from geo.importers.base import Batch, WriteResult, _id, _kinds, _stage
from geo.importers.fields import Field
from geo.importers.first_load import first_load
from geo.importers.problems import Problem
from geo.importers.staging import problems_from_query, sync
from geo.service_distances import (
    SERVICE_DISTANCE_COLUMNS,
    read_facility_points,
    service_distances,
)
from geo.settings import today_in_seoul
from visitmap.vocab import RESIDENT_STATUSES

HOUSEHOLD_COLUMNS = (
    "household_size",
    "monthly_income_krw",
    "assets_krw",
    "address",
    "receiving",
)
RESIDENT_FIELDS = (
    _id("resident_id"),
    _id("household_id"),
    Field("name", required=False, max_length=100),
    Field(
        "rrn",
        required=False,
        pattern=r"[0-9]{6}-?[0-9]{7}",
        describe="resident registration number YYMMDD-NNNNNNN",
    ),
    Field("birth_year", "int", minimum=1900, maximum=2100),  # this year: checked at import
    Field("sex", "choice", choices=("M", "F")),
    Field("lives_alone", "bool"),
    Field("disability", "bool"),
    Field("registered_on", "date"),
    Field("status", "choice", required=False, choices=tuple(RESIDENT_STATUSES)),
    Field("household_size", "int", minimum=1, maximum=20),
    Field("monthly_income_krw", "int", minimum=0, maximum=10**10),
    Field("assets_krw", "int", required=False, minimum=0, maximum=10**13),
    Field("address", required=False, max_length=300),
    # programmes of the eligibility catalogue the household receives, "livelihood;medical"
    Field("receiving", required=False, max_length=300),
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
    """Return the keyed HMAC-SHA256 of a registration number (hyphen removed), 64 hex digits.

    The database stores the 32 bytes (``decode(hex, 'hex')``); the clear number never leaves
    the importing process.
    """
    return hmac.digest(key, rrn.replace("-", "").encode("ascii"), "sha256").hex()


def _rrn_consistency(
    rrn: pd.Series, parsed: pd.DataFrame, bad: np.ndarray, label: str
) -> list[Problem]:
    """Check registration numbers against birth_year and sex; messages never show a number."""
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
    this_year = today_in_seoul().year
    late = (parsed["birth_year"].fillna(0) > this_year).to_numpy()
    problems += [
        Problem(label, int(r), "birth_year", f"must be at most {this_year}") for r in rows[late]
    ]
    problems += _registration_problems(parsed, label)
    problems += _receiving_problems(parsed, label)
    # rows of one household must agree on the household's columns and location
    household = parsed["household_id"]
    x_name = "lon" if "lon" in raw else "x" if "x" in raw else "wkt" if "wkt" in raw else "geometry"
    y_name = {"lon": "lat", "x": "y"}.get(x_name, x_name)
    coord_columns = {"_x": x_name, "_y": y_name}
    # each row's household, once: codes in order of first appearance (-1: no household)
    codes, firsts = pd.factorize(household)
    in_household = codes >= 0
    _, first_of_code = np.unique(codes[in_household], return_index=True)
    first_pos = np.arange(len(parsed))
    first_pos[in_household] = np.flatnonzero(in_household)[first_of_code][codes[in_household]]
    for column in HOUSEHOLD_COLUMNS + ("_x", "_y"):
        values = parsed[column].astype(object).where(parsed[column].notna(), "<empty>")
        if column == "receiving":  # the same programmes in any order and case agree
            values = joined_receiving(parsed[column])
        values = values.to_numpy(dtype=object)
        # rows with a bad cell are reported for that cell only
        differs = (values != values[first_pos]) & in_household & ~bad
        shown = coord_columns.get(column, column)
        for i in np.flatnonzero(differs):
            problems.append(
                Problem(
                    label,
                    rows[i],
                    shown,
                    f"household {household.iat[i]!r} has "
                    f"a different {shown} on row {rows[first_pos[i]]}",
                )
            )
    return _dedupe(problems)


def receiving_codes(value) -> list[str]:
    """Split a ``receiving`` cell ("livelihood; medical") into sorted, unique codes."""
    if not isinstance(value, str):
        return []
    return sorted({part.strip().lower() for part in value.split(";") if part.strip()})


def joined_receiving(cells: pd.Series) -> pd.Series:
    """Return each ``receiving`` cell as its sorted codes joined by ``;`` (missing: ``""``).

    Splits each distinct cell once: a file holds a few distinct combinations of programmes.
    """
    values = cells.astype(object).where(cells.notna(), None)
    joined = {v: ";".join(receiving_codes(v)) for v in pd.unique(values.to_numpy())}
    return pd.Series([joined[v] for v in values.to_numpy()], index=cells.index, dtype=object)


def _receiving_problems(parsed: pd.DataFrame, label: str) -> list[Problem]:
    """Check that every code of ``receiving`` is a programme of the eligibility catalogue."""
    known = load_catalogue().codes
    cells = parsed["receiving"].dropna()
    unknown = {}
    for value in pd.unique(cells.to_numpy(dtype=object)):
        found = [code for code in receiving_codes(value) if code not in known]
        if found:
            unknown[value] = found[0]
    return [
        Problem(
            label,
            int(row),
            "receiving",
            f"unknown programme {unknown[value]!r} (known: {', '.join(known)})",
        )
        for row, value in cells.items()
        if value in unknown
    ]


def _registration_problems(parsed: pd.DataFrame, label: str) -> list[Problem]:
    """Check that ``registered_on`` lies neither after today (Seoul) nor before birth_year."""
    registered = pd.to_datetime(parsed["registered_on"], errors="coerce")
    known = registered.notna().to_numpy()
    today = pd.Timestamp(today_in_seoul())
    late = known & (registered > today).to_numpy(dtype=bool)
    born = parsed["birth_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    years = registered.dt.year.to_numpy(dtype=float, na_value=np.nan)
    early = known & ~late & ~np.isnan(born) & (years < born)
    rows = parsed.index
    return [
        Problem(label, int(r), "registered_on", f"lies in the future (today is {today.date()})")
        for r in rows[late]
    ] + [
        Problem(label, int(rows[i]), "registered_on", f"lies before the birth year {int(born[i])}")
        for i in np.flatnonzero(early)
    ]


def _dedupe(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def household_distances(
    session, household_ids, lon: np.ndarray, lat: np.ndarray
) -> dict[str, np.ndarray]:
    """Return the service distances of each household at its lon/lat point.

    A stored household at the same point keeps its stored distances (the facilities
    importer refreshes every household when facilities change); the others are computed.
    """
    ids = np.asarray(household_ids, dtype=object)
    columns = ", ".join(SERVICE_DISTANCE_COLUMNS)
    out = {column: np.full(len(ids), np.nan) for column in SERVICE_DISTANCE_COLUMNS}
    todo = np.ones(len(ids), dtype=bool)
    if session.execute(text("SELECT EXISTS (SELECT FROM households)")).scalar_one():
        known = read_query_frame(
            session,
            f"SELECT external_id, ST_X(geom) AS x, ST_Y(geom) AS y, {columns} "
            "FROM households WHERE external_id = ANY(%(ids)s)",
            {"ids": list(ids)},
            text_columns=("external_id",),
        )
        at = pd.Index(ids).get_indexer(known["external_id"])
        x, y = known["x"].to_numpy(dtype=float), known["y"].to_numpy(dtype=float)
        same = (x == lon[at]) & (y == lat[at])
        for column in SERVICE_DISTANCE_COLUMNS:
            out[column][at[same]] = known[column].to_numpy(dtype=float)[same]
        todo[at[same]] = False
    if todo.any():
        fresh = service_distances(read_facility_points(session), lon[todo], lat[todo])
        for column, values in fresh.items():
            out[column][todo] = values
    return out


def _write_residents(batch: Batch, check_only: bool) -> WriteResult:
    frame = batch.frame.copy()
    rrn = frame.pop("rrn") if "rrn" in frame else pd.Series(None, index=frame.index, dtype=object)
    key = batch.rrn_key
    frame["rrn_hmac"] = [
        hmac.digest(key, v.replace("-", "").encode("ascii"), "sha256").hex()
        if isinstance(v, str) and v
        else None
        for v in rrn.to_numpy(dtype=object)
    ]
    del rrn
    frame["receiving"] = joined_receiving(frame["receiving"])
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
    # once per household (its first row): members share the point
    lon, lat = batch.coords()
    household, firsts = pd.factorize(frame["household_id"])
    first_row = np.zeros(len(firsts), dtype=np.int64)
    first_row[household[::-1]] = np.arange(len(household))[::-1]
    distances = household_distances(session, firsts, lon[first_row], lat[first_row])
    for column, values in distances.items():
        frame[column] = values[household]
        kinds[column] = "float"
    if not check_only:
        done = first_load(batch, frame, first_row, SERVICE_DISTANCE_COLUMNS)
        if done is not None:
            return done
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
    h_ins, h_upd = sync(
        session,
        target="households",
        key="external_id",
        rows=len(firsts),
        columns=[
            "area_id",
            "size",
            "monthly_income_krw",
            "assets_krw",
            "address",
            "geom",
            *SERVICE_DISTANCE_COLUMNS,
            "receiving_programmes",
        ],
        select_sql=f"""SELECT DISTINCT ON (household_id) household_id, area_id, household_size,
                      monthly_income_krw, assets_krw, address,
                      ST_SetSRID(ST_MakePoint(lon, lat), 4326),
                      {", ".join(SERVICE_DISTANCE_COLUMNS)},
                      COALESCE(string_to_array(NULLIF(receiving, ''), ';'), '{{}}')::text[]
                      FROM stage_residents ORDER BY household_id, row_no""",
    )
    r_ins, r_upd = sync(
        session,
        target="residents",
        key="external_id",
        rows=len(frame),
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
                      FROM stage_residents s JOIN households h ON h.external_id = s.household_id""",
    )
    return WriteResult(
        r_ins, r_upd, extra={"households inserted": h_ins, "households updated": h_upd}
    )
