"""Visit teams: members in the teams import file, and the team functions behind the CLI and
the API (checks first, nothing written on bad input)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geo.demo.services import FALLBACK_BASE_FACILITY
from geo.importers import ImportValidationError, import_file
from geo.teams import (
    TeamConflict,
    TeamError,
    TeamNotFound,
    add_member,
    assign_areas,
    check_base_facility,
    create_team,
    get_team,
    list_teams,
    set_member_active,
)
from tests.conftest import count

pytestmark = pytest.mark.db

HEADER = "team_id,name,base_facility_id,adm_cd2s,members\n"
#: a facility of the Seodaemun reference data that is not a community centre
SENIOR_CENTRE = "SC-SDM-001-1"
TEAM_ROW = "T1,가좌 방문팀,CC-1141069000,1141069000,{members}\n"


def _write(tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _members(db) -> list[tuple]:
    return [
        tuple(r)
        for r in db.execute(
            text("""SELECT m.external_id, t.external_id, m.name, m.role, m.active
                    FROM visit_team_members m JOIN visit_teams t ON t.id = m.team_id
                    ORDER BY 1""")
        )
    ]


def test_members_imported_replaced_and_idempotent(db, tmp_path):
    first = _write(tmp_path, "t1.csv", TEAM_ROW.format(members="M1:김이음:복지통장|M2:박나눔"))
    result = import_file(db, "teams", first)
    assert (result.inserted, result.updated) == (1, 0)
    assert _members(db) == [
        ("M1", "T1", "김이음", "복지통장", True),
        ("M2", "T1", "박나눔", None, True),
    ]
    again = import_file(db, "teams", first)
    assert (again.inserted, again.updated) == (0, 0)

    # M2 left the list: deactivated, not deleted; M3 new; the team counts as updated
    second = _write(tmp_path, "t2.csv", TEAM_ROW.format(members="M1:김이음:복지통장|M3:최돌봄"))
    result = import_file(db, "teams", second)
    assert (result.inserted, result.updated) == (0, 1)
    assert _members(db) == [
        ("M1", "T1", "김이음", "복지통장", True),
        ("M2", "T1", "박나눔", None, False),
        ("M3", "T1", "최돌봄", None, True),
    ]
    # an empty members cell keeps the team's members
    third = _write(tmp_path, "t3.csv", TEAM_ROW.format(members=""))
    assert import_file(db, "teams", third).updated == 0
    assert len(_members(db)) == 3


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ("M1:김이음|M1:박나눔", "member 'M1' is listed twice (first on row 2)"),
        ("M1", "does not match"),
        ("M1:김이음|", "does not match"),
        ("M 1:김이음", "does not match"),
    ],
)
def test_bad_members_cell_names_file_row_field_and_writes_nothing(db, tmp_path, members, reason):
    path = _write(tmp_path, "bad.csv", TEAM_ROW.format(members=members))
    with pytest.raises(ImportValidationError) as caught:
        import_file(db, "teams", path, label="bad.csv")
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 1
    assert messages[0].startswith("bad.csv:2:members: ")
    assert reason in messages[0]
    assert count(db, "visit_teams") == 0
    assert count(db, "visit_team_members") == 0


def test_create_team_assign_areas_and_members(db):
    team = create_team(
        db, team_id="T-new", name="신촌 방문팀", base_facility_id="CC-1141058500",
        area_codes=["1141058500"],
    )  # fmt: skip
    assert team["base_facility_id"] == "CC-1141058500"
    assert [a["code"] for a in team["areas"]] == ["1141058500"]
    assign_areas(db, "T-new", ["1141061500"])
    assert [a["code"] for a in get_team(db, "T-new")["areas"]] == ["1141058500", "1141061500"]
    assign_areas(db, "T-new", ["1141061500"], replace=True)
    assert [a["code"] for a in get_team(db, "T-new")["areas"]] == ["1141061500"]
    add_member(db, "T-new", member_id="V1", name="김방문", role="복지통장")
    add_member(db, "T-new", member_id="V2", name="이방문")
    set_member_active(db, "V2", False)
    members = get_team(db, "T-new")["members"]
    assert [(m["member_id"], m["active"]) for m in members] == [("V1", True), ("V2", False)]
    (listed,) = [t for t in list_teams(db) if t["team_id"] == "T-new"]
    assert (listed["active_members"], listed["members"]) == (1, 2)


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"team_id": "bad id"}, "team_id", "must be an id"),
        ({"name": "  "}, "name", "non-empty"),
        ({"base_facility_id": "CC-nowhere"}, "base_facility_id", "unknown facility"),
        ({"base_facility_id": SENIOR_CENTRE}, "base_facility_id", "not a community centre"),
        ({"name": "팀\x07"}, "name", "control characters"),
        ({"area_codes": ["123"]}, "area_codes", "not a 10-digit dong code"),
        ({"area_codes": ["9999999999"]}, "area_codes", "unknown area '9999999999'"),
        ({"area_codes": ["1141058500", "1141058500"]}, "area_codes", "given twice"),
        ({"area_codes": "1141058500"}, "area_codes", "must be a list"),
    ],
)
def test_create_team_rejects_bad_input_and_writes_nothing(db, kwargs, field, reason):
    arguments = {"team_id": "T-x", "name": "팀", "area_codes": []} | kwargs
    with pytest.raises(TeamError) as caught:
        create_team(db, **arguments)
    assert caught.value.field == field
    assert reason in str(caught.value)
    assert count(db, "visit_teams") == 0


def test_conflicts_and_unknown_ids(db):
    create_team(db, team_id="T-x", name="팀")
    with pytest.raises(TeamConflict):
        create_team(db, team_id="T-x", name="또 팀")
    add_member(db, "T-x", member_id="V1", name="김방문")
    with pytest.raises(TeamConflict):
        add_member(db, "T-x", member_id="V1", name="김방문")
    with pytest.raises(TeamNotFound):
        add_member(db, "T-none", member_id="V2", name="김방문")
    with pytest.raises(TeamNotFound):
        assign_areas(db, "T-none", ["1141058500"])
    with pytest.raises(TeamNotFound):
        set_member_active(db, "V-none", True)
    assert get_team(db, "T-none") is None


def test_a_teams_base_is_a_community_centre_in_the_import_and_the_demo(db, tmp_path):
    path = _write(tmp_path, "sc.csv", f"T1,가좌 방문팀,{SENIOR_CENTRE},1141069000,M1:김이음\n")
    with pytest.raises(ImportValidationError) as caught:
        import_file(db, "teams", path, label="sc.csv")
    (problem,) = [str(p) for p in caught.value.problems]
    assert problem.startswith("sc.csv:2:base_facility_id: ") and "not a community centre" in problem
    assert count(db, "visit_teams") == 0
    # the demo's stand-in base (a dong whose centre has no point) is a community centre too
    for facility in FALLBACK_BASE_FACILITY.values():
        assert check_base_facility(db, facility) > 0


@pytest.mark.parametrize(
    ("member_id", "name", "role", "field", "reason"),
    [
        ("M:1", "김이음", None, "member_id", "no ':'"),
        ("M 1", "김이음", None, "member_id", "must be an id"),
        ("M1", "김:이음", None, "name", "':' or '|'"),
        ("M1", "김|이음", None, "name", "':' or '|'"),
        ("M1", "김이음", "복지:통장", "role", "':' or '|'"),
        ("M1", "김\x01이음", None, "name", "control characters"),
        ("M1", "김" * 201, None, "name", "at most 200"),
    ],
)
def test_one_member_rule_for_the_api_and_the_import(
    db, tmp_path, member_id, name, role, field, reason
):
    create_team(db, team_id="T1", name="팀", base_facility_id="CC-1141069000")
    with pytest.raises(TeamError) as caught:
        add_member(db, "T1", member_id=member_id, name=name, role=role)
    assert caught.value.field == field and reason in str(caught.value)
    parts = (member_id, name, role or "")
    if any(":" in part or "|" in part for part in parts):
        return  # the members cell cannot even express these (':' and '|' are its separators)
    entry = f"{member_id}:{name}" + (f":{role}" if role else "")
    path = _write(tmp_path, "m.csv", TEAM_ROW.format(members=entry))
    with pytest.raises(ImportValidationError) as caught:
        import_file(db, "teams", path, label="m.csv")
    (problem,) = [str(p) for p in caught.value.problems]
    assert problem.startswith("m.csv:2:members: ")
    assert reason in problem or "does not match" in problem
    assert count(db, "visit_team_members") == 0


def test_a_member_never_moves_to_another_team(db, tmp_path):
    first = _write(tmp_path, "t1.csv", TEAM_ROW.format(members="M1:김이음"))
    import_file(db, "teams", first)
    other = _write(tmp_path, "t2.csv", "T2,신촌 방문팀,CC-1141058500,1141058500,M1:김이음\n")
    with pytest.raises(ImportValidationError) as caught:
        import_file(db, "teams", other, label="t2.csv")
    (problem,) = [str(p) for p in caught.value.problems]
    assert problem.startswith("t2.csv:2:members: ") and "belongs to team 'T1'" in problem
    create_team(db, team_id="T2", name="신촌 방문팀", base_facility_id="CC-1141058500")
    with pytest.raises(TeamConflict, match="team T1"):
        add_member(db, "T2", member_id="M1", name="김이음")
    assert _members(db) == [("M1", "T1", "김이음", None, True)]
