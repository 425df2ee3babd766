"""What each import kind reads, checks and writes (see docs/import_formats.md).

Length: one short checker or writer per import kind, kept together so the kinds' rules can
be read side by side; the registry is in :mod:`geo.importers`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text

from geo.importers.base import (
    Batch,
    ImportSpec,
    WriteResult,
    _id,
    _kinds,
    _referencing_writer,
    _stage,
)
from geo.importers.fields import Field
from geo.importers.problems import Problem
from geo.importers.residents import RESIDENT_FIELDS, _check_residents, _write_residents
from geo.importers.sharing_kinds import SHARING_SPECS, entered_by_sql
from geo.importers.staging import (
    copy_frame,
    create_stage,
    missing_reference_problems,
    problems_from_query,
    upsert,
)
from geo.service_distances import refresh_service_distances
from geo.settings import today_in_seoul
from geo.teams import BASE_FACILITY_KIND, TeamError, check_member
from visitmap.vocab import (
    CRISIS_SIGNAL_KINDS,
    DEFAULT_MINOR_BY_DOMAIN,
    FACILITY_KINDS,
    NEED_CATEGORIES,
    NEED_STATUSES,
    PROVIDER_SECTORS,
    SUPPORT_FUNDING,
    SUPPORT_ITEM_KEYWORDS,
    SUPPORT_MINOR,
    SUPPORT_PERIODS,
    VISIT_OUTCOMES,
)

__all__ = ["SPECS", "Batch", "ImportSpec", "WriteResult"]


# --------------------------------------------------------------------------- areas

AREA_FIELDS = (
    Field("adm_cd2", pattern=r"[0-9]{10}", describe="10-digit 행정기관코드"),
    Field("dong_nm"),
    Field("sgg_cd", pattern=r"[0-9]{5}"),
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
    if inserted or updated:
        refresh_service_distances(batch.session)
    return WriteResult(inserted, updated)


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
    tomorrow = today_in_seoul() + dt.timedelta(days=1)
    late = parsed[column].map(lambda v: v is not None and not pd.isna(v) and v >= tomorrow)
    return [Problem(label, r, column, "lies in the future") for r in parsed.index[late.to_numpy()]]


_write_signals = _referencing_writer(
    stage="stage_signals",
    after_birth="observed_on",
    fields=SIGNAL_FIELDS,
    references=[
        ("resident_id", "residents", "resident"),
        ("household_id", "households", "household"),
    ],
    target="crisis_signals",
    columns=["resident_id", "household_id", "kind", "observed_on", "source_agency"],
    select_sql="""SELECT s.signal_id, r.id, h.id, s.kind, s.observed_on, s.source_agency
                  FROM stage_signals s
                  LEFT JOIN residents r ON r.external_id = s.resident_id
                  LEFT JOIN households h ON h.external_id = s.household_id
                  ORDER BY s.row_no""",
)


# --------------------------------------------------------------------------- providers

PROVIDER_FIELDS = (
    _id("provider_id"),
    Field("name", max_length=200),
    Field("sector", "choice", choices=tuple(PROVIDER_SECTORS)),
    Field("kind", required=False, max_length=100),
    Field("area", required=False, pattern=r"[0-9]{10}", describe="the adm_cd2 of the dong served"),
    _id("facility_id", required=False),
)


def _write_providers(batch: Batch, check_only: bool) -> WriteResult:
    """Stage providers, check their area (a loaded dong) and facility, then upsert them."""
    names = [f.name for f in PROVIDER_FIELDS]
    frame = batch.frame.reindex(columns=names)
    _stage(batch, "stage_providers", frame, _kinds(PROVIDER_FIELDS, *names))
    problems = missing_reference_problems(
        batch.session, "stage_providers", "area", "areas", batch.label, "area", target_key="code"
    )
    problems += missing_reference_problems(
        batch.session, "stage_providers", "facility_id", "facilities", batch.label, "facility"
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="providers",
        key=["external_id"],
        columns=["name", "sector", "kind", "area_id", "facility_id"],
        select_sql="""SELECT s.provider_id, s.name, s.sector, s.kind, a.id, f.id
                      FROM stage_providers s
                      LEFT JOIN areas a ON a.code = s.area
                      LEFT JOIN facilities f ON f.external_id = s.facility_id
                      ORDER BY s.row_no""",
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


_write_visits = _referencing_writer(
    stage="stage_visits",
    fields=VISIT_FIELDS,
    references=[("resident_id", "residents", "resident")],
    target="visits",
    columns=["resident_id", "visited_at", "visitor", "outcome", "notes"],
    select_sql="""SELECT s.visit_id, r.id, s.visited_at, s.visitor, s.outcome, s.notes
                  FROM stage_visits s JOIN residents r ON r.external_id = s.resident_id
                  ORDER BY s.row_no""",
)


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
    return (
        [Problem(label, parsed.index[i], "resolved_on", "is before identified_on") for i in early]
        + _not_in_future(parsed, "identified_on", label)
        + _not_in_future(parsed, "resolved_on", label)
    )


_write_needs = _referencing_writer(
    stage="stage_needs",
    after_birth="identified_on",
    fields=NEED_FIELDS,
    references=[("resident_id", "residents", "resident")],
    target="needs",
    columns=[
        "resident_id",
        "category",
        "status",
        "identified_on",
        "resolved_on",
        "source",
        "entered_by",
    ],
    select_sql="""SELECT s.need_id, r.id, s.category, s.status, s.identified_on,
                  s.resolved_on, s.source, 'import'
                  FROM stage_needs s JOIN residents r ON r.external_id = s.resident_id
                  ORDER BY s.row_no""",
)


# --------------------------------------------------------------------------- support

SUPPORT_FIELDS = (
    _id("support_id"),
    _id("resident_id"),
    _id("provider_id"),
    Field("category", "choice", choices=tuple(NEED_CATEGORIES)),
    Field("item", max_length=200),
    Field("amount_krw", "int", required=False, minimum=0, maximum=10**10),
    Field("quantity", "float", required=False, minimum=1e-9, maximum=1e6),
    Field("unit", required=False, max_length=50),
    Field("provided_on", "date"),
    # issue 13: all optional (a file from before it still imports)
    Field("minor_category", "choice", required=False, choices=tuple(SUPPORT_MINOR)),
    Field("recurring_period", "choice", required=False, choices=tuple(SUPPORT_PERIODS)),
    Field("funding", "choice", required=False, choices=tuple(SUPPORT_FUNDING)),
    Field("expires_on", "date", required=False),
    _id("need_id", required=False),
    Field("entered_by", required=False, max_length=200),
)


#: visitmap.vocab.minor_category_for in SQL, over the staged ``item`` and ``category``.
_MINOR_FROM_ITEM_SQL = (
    "CASE "
    + " ".join(f"WHEN s.item LIKE '%{k}%' THEN '{m}'" for k, m in SUPPORT_ITEM_KEYWORDS)
    + " "
    + " ".join(f"WHEN s.category = '{d}' THEN '{m}'" for d, m in DEFAULT_MINOR_BY_DOMAIN.items())
    + " END"
)


def _check_support(raw, parsed, bad, label) -> list[Problem]:
    neither = (parsed["amount_krw"].isna() & parsed["quantity"].isna()).to_numpy()
    blank = np.ones(len(raw), dtype=bool)
    for column in ("amount_krw", "quantity"):
        if column in raw:
            blank &= (raw[column] == "").to_numpy()
    problems = [
        Problem(label, r, "amount_krw", "give amount_krw or quantity (or both)")
        for r in parsed.index[neither & blank]
    ]
    given, expires = parsed["provided_on"], parsed["expires_on"]
    early = [
        parsed.index[i]
        for i in range(len(parsed))
        if expires.iat[i] is not None
        and not pd.isna(expires.iat[i])
        and given.iat[i] is not None
        and not pd.isna(given.iat[i])
        and expires.iat[i] < given.iat[i]
    ]
    problems += [Problem(label, r, "expires_on", "is before provided_on") for r in early]
    return problems + _not_in_future(parsed, "provided_on", label)


_SUPPORT_COLUMNS = [
    "resident_id",
    "provider_id",
    "category",
    "item",
    "amount_krw",
    "quantity",
    "unit",
    "provided_on",
    "minor_category",
    "recurring_period",
    "funding",
    "expires_on",
    "need_id",
    "entered_by",
]
_write_support_rows = _referencing_writer(
    stage="stage_support",
    after_birth="provided_on",
    fields=SUPPORT_FIELDS,
    references=[
        ("resident_id", "residents", "resident"),
        ("provider_id", "providers", "provider"),
        ("need_id", "needs", "need"),
    ],
    target="support_records",
    columns=_SUPPORT_COLUMNS,
    select_sql="",  # set per file by _write_support (who entered it names the file)
)


def _write_support(batch: Batch, check_only: bool) -> WriteResult:
    """Write support records (an empty minor category follows from the item).

    An empty ``funding`` follows from the provider's sector and ``entered_by`` defaults to
    ``import <file name>``.
    """
    select_sql = f"""SELECT s.support_id, r.id, p.id, s.category, s.item, s.amount_krw,
                  s.quantity, s.unit, s.provided_on,
                  COALESCE(s.minor_category, {_MINOR_FROM_ITEM_SQL}), s.recurring_period,
                  COALESCE(s.funding,
                           CASE WHEN p.sector = 'public' THEN 'budget' ELSE 'donation' END),
                  s.expires_on, n.id, {entered_by_sql(batch)}
                  FROM stage_support s
                  JOIN residents r ON r.external_id = s.resident_id
                  JOIN providers p ON p.external_id = s.provider_id
                  LEFT JOIN needs n ON n.external_id = s.need_id
                  ORDER BY s.row_no"""
    return _write_support_rows(batch, check_only, select_sql=select_sql, extra_check=_need_owner)


def _need_owner(batch: Batch) -> list[Problem]:
    """Return a problem for each record meeting another resident's need."""
    return problems_from_query(
        batch.session,
        """SELECT s.row_no, s.need_id FROM stage_support s
           JOIN needs n ON n.external_id = s.need_id
           JOIN residents r ON r.id = n.resident_id
           WHERE r.external_id <> s.resident_id ORDER BY s.row_no""",
        batch.label,
        "need_id",
        "need {value!r} belongs to another resident",
    )


# --------------------------------------------------------------------------- teams

#: One entry of a team's ``members`` cell: ``member_id:name`` or ``member_id:name:role`` (the
#: member id without ``:``; name and role without ``|`` or ``:``). Each entry is then checked
#: with :func:`geo.teams.check_member`, the rule ``/api/teams/<id>/members`` uses too.
MEMBER_ENTRY = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}:[^|:]*[^|:\s][^|:]*(:[^|:]*[^|:\s][^|:]*)?"

TEAM_FIELDS = (
    _id("team_id"),
    Field("name", max_length=200),
    _id("base_facility_id", required=False),
    Field("adm_cd2s", pattern=r"[0-9]{10}(\|[0-9]{10})*", describe="|-separated area codes"),
    Field(
        "members",
        required=False,
        pattern=rf"{MEMBER_ENTRY}(\|{MEMBER_ENTRY})*",
        max_length=10_000,
        describe="|-separated member_id:name[:role] entries",
    ),
)


def _team_members(batch: Batch) -> tuple[pd.DataFrame, list[Problem]]:
    """Return the ``members`` cells as rows, and the problems of their entries.

    Rows are ``(row_no, team_id, member_id, name, role)``. An entry that fails
    :func:`geo.teams.check_member`, or names a member id listed before in the file, is a
    problem instead of a row.
    """
    rows, first_row, problems = [], {}, []
    for row_no, team_id, cell in zip(
        batch.row_numbers, batch.frame["team_id"], batch.frame["members"], strict=True
    ):
        if cell is None or cell is pd.NA or cell == "" or (isinstance(cell, float)):
            continue
        for entry in cell.split("|"):
            member_id, name, *role = (part.strip() for part in entry.split(":"))
            try:
                check_member(member_id, name, role[0] if role else None)
            except TeamError as exc:
                problems.append(Problem(batch.label, int(row_no), "members", str(exc)))
                continue
            if member_id in first_row:
                problems.append(
                    Problem(
                        batch.label,
                        int(row_no),
                        "members",
                        f"member {member_id!r} is listed twice (first on row "
                        f"{first_row[member_id]})",
                    )
                )
                continue
            first_row[member_id] = int(row_no)
            rows.append((int(row_no), team_id, member_id, name, role[0] if role else None))
    frame = pd.DataFrame(rows, columns=["row_no", "team_id", "member_id", "name", "role"])
    return frame, problems


def _member_moves(batch: Batch, members: pd.DataFrame) -> list[Problem]:
    """Return a problem for each listed member who belongs to another team already.

    A member id stays with its team (visits and plans name it), as with ``add_member`` (HTTP
    409); to move a person, give them a new id and leave the old one out of the old team's
    cell (deactivated).
    """
    if not len(members):
        return []
    current = dict(
        batch.session.execute(
            text("""SELECT m.external_id, t.external_id FROM visit_team_members m
                    JOIN visit_teams t ON t.id = m.team_id
                    WHERE m.external_id = ANY(:ids)"""),
            {"ids": members["member_id"].tolist()},
        ).all()
    )
    return [
        Problem(
            batch.label,
            int(row.row_no),
            "members",
            f"member {row.member_id!r} belongs to team {current[row.member_id]!r}: a member "
            "cannot move to another team (give the person a new member id)",
        )
        for row in members.itertuples(index=False)
        if row.member_id in current and current[row.member_id] != row.team_id
    ]


def _write_team_members(batch: Batch, members: pd.DataFrame) -> set[str]:
    """Upsert the listed members and deactivate the other members of the teams listed.

    The listed members are written active; the other active members of every team whose
    ``members`` cell lists someone are deactivated (never deleted). Return the external ids
    of the teams whose members changed.
    """
    session = batch.session
    create_stage(
        session,
        "stage_team_members",
        {"team_id": "text", "member_id": "text", "name": "text", "role": "text"},
    )
    copy_frame(
        session,
        "stage_team_members",
        members[["team_id", "member_id", "name", "role"]],
        members["row_no"].to_numpy(),
    )
    inserted, updated = upsert(
        session,
        target="visit_team_members",
        key=["external_id"],
        columns=["team_id", "name", "role", "active"],
        select_sql="""SELECT s.member_id, t.id, s.name, s.role, true FROM stage_team_members s
                      JOIN visit_teams t ON t.external_id = s.team_id ORDER BY s.row_no""",
        return_keys=True,
    )
    deactivated = session.execute(
        text("""UPDATE visit_team_members m SET active = false FROM visit_teams t
                WHERE m.team_id = t.id AND m.active
                  AND t.external_id IN (SELECT team_id FROM stage_team_members)
                  AND m.external_id NOT IN (SELECT member_id FROM stage_team_members)
                RETURNING t.external_id""")
    ).scalars()
    team_of = dict(zip(members["member_id"], members["team_id"], strict=True))
    return {team_of[m] for m in [*inserted, *updated]} | set(deactivated)


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
    problems += problems_from_query(
        session,
        f"""SELECT s.row_no, f.external_id || ' (' || f.kind || ')' FROM stage_teams s
           JOIN facilities f ON f.external_id = s.base_facility_id
           WHERE f.kind <> '{BASE_FACILITY_KIND}' ORDER BY s.row_no""",
        batch.label,
        "base_facility_id",
        "facility {value} is not a community centre (a team's base is its dong community centre)",
    )
    members, member_problems = _team_members(batch)
    problems += member_problems
    problems += _member_moves(batch, members)
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
    # a team whose members cell is empty keeps its members; a listed team has exactly these
    # active members (others are deactivated, never deleted: visits and plans name them)
    members_changed = _write_team_members(batch, members) if len(members) else set()
    updated = (set(updated_ids) | areas_changed | members_changed) - set(inserted_ids)
    return WriteResult(len(inserted_ids), len(updated))


SPECS: dict[str, ImportSpec] = {
    spec.kind: spec
    for spec in (
        ImportSpec("areas", AREA_FIELDS, "adm_cd2", "polygon", _write_areas, table="areas"),
        ImportSpec(
            "area-stats",
            (Field("adm_cd2", pattern=r"[0-9]{10}"),),
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
        *SHARING_SPECS,
    )
}
