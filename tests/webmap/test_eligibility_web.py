"""Eligibility pre-screening on the shared scored demo: store, page, API, scope, audit, CLI."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from eligibility.catalogue import load_catalogue
from eligibility.screen import screen
from geo.db import make_engine, session_scope
from geo.eligibility import refresh_eligibility, screening_inputs
from geo.features import read_median_income
from tests.webmap.conftest import AS_OF, TEST_ACCOUNTS, sql_rows

pytestmark = pytest.mark.db


_sql = sql_rows


@pytest.fixture(scope="module")
def screened(map_database):
    """The shared demo screened once (a full replace: repeating it changes nothing)."""
    engine = make_engine(map_database["url"])
    try:
        with session_scope(engine) as session:
            first = refresh_eligibility(session, as_of=AS_OF)
        before = _sql(map_database["url"], "SELECT * FROM eligibility_results ORDER BY 1, 2")
        with session_scope(engine) as session:
            second = refresh_eligibility(session, as_of=AS_OF)
        after = _sql(map_database["url"], "SELECT * FROM eligibility_results ORDER BY 1, 2")
    finally:
        engine.dispose()
    assert first == second and before == after
    return first


def test_stored_rows_are_the_screening_of_every_household(map_database, screened):
    engine = make_engine(map_database["url"])
    try:
        with session_scope(engine) as session:
            inputs = screening_inputs(session, as_of=AS_OF)
    finally:
        engine.dispose()
    expected = screen(inputs, load_catalogue(), read_median_income())
    expected = expected[expected["likely_eligible"] | expected["receiving"]]
    stored = pd.DataFrame(
        _sql(
            map_database["url"],
            "SELECT household_id, programme, likely_eligible, receiving, reason_ko "
            "FROM eligibility_results",
        ),
        columns=["household_id", "programme", "likely_eligible", "receiving", "reason_ko"],
    )
    assert len(stored) == len(expected) == screened.rows > 0
    key = ["household_id", "programme"]
    merged = stored.merge(expected, on=key, suffixes=("", "_expected"))
    assert len(merged) == len(stored)
    assert (merged["reason_ko"] == merged["reason_ko_expected"]).all()
    assert screened.unreached_households > 0
    # the demo's imported receiving flags reach the stored rows
    receiving = _sql(
        map_database["url"],
        """SELECT count(*) FROM eligibility_results e JOIN households h ON h.id = e.household_id
           WHERE e.receiving AND e.programme = ANY(h.receiving_programmes)""",
    )[0][0]
    assert receiving > 0


def test_people_api_lists_the_unreached_with_their_rule(map_app, screened):
    with map_app.test_client() as client:
        body = client.get("/api/eligibility/people?programme=basic_pension&limit=50").get_json()
    assert body["people"], body
    person = body["people"][0]
    assert person["programme"] == "basic_pension"
    assert "기초연금" in person["reason"] and "≤" in person["reason"]
    with map_app.test_client() as client:
        english = client.get("/api/eligibility/people?programme=basic_pension&lang=en").get_json()
    assert "basic pension line" in english["people"][0]["reason"]


def test_unknown_programme_is_a_400_naming_the_field(map_app, screened):
    with map_app.test_client() as client:
        response = client.get("/api/eligibility/people?programme=caviar")
    assert response.status_code == 400
    assert "programme" in response.get_data(as_text=True)


def test_a_dong_leader_sees_only_their_dong_and_404_elsewhere(map_app, map_database, screened):
    with map_app.test_client(role="dong") as client:
        summary = client.get("/api/eligibility").get_json()
        people = client.get("/api/eligibility/people?limit=2000").get_json()["people"]
    codes = {row["area_code"] for row in summary["areas"]}
    assert len(codes) == 1
    assert people and {p["area_code"] for p in people} == codes
    (dong,) = codes
    outside = _sql(
        map_database["url"],
        """SELECT r.external_id FROM residents r JOIN households h ON h.id = r.household_id
           JOIN areas a ON a.id = h.area_id WHERE a.code <> :d ORDER BY r.id LIMIT 1""",
        d=dong,
    )[0][0]
    with map_app.test_client(role="dong") as client:
        assert client.get(f"/api/residents/{outside}/eligibility").status_code == 404
        mine = people[0]["resident_id"]
        body = client.get(f"/api/residents/{mine}/eligibility").get_json()
    assert len(body["programmes"]) == len(load_catalogue().codes)
    assert any(p["likely_eligible"] and not p["receiving"] for p in body["programmes"])
    rules = {p["rule"] for p in body["programmes"]}
    assert rules <= {"within_line", "income_line", "asset_limit", "requirement", "excluded_by"}
    audited = _sql(
        map_database["url"],
        """SELECT a.endpoint FROM access_audit a JOIN residents r ON r.id = ANY(a.resident_ids)
           WHERE a.username = :u AND r.external_id = :rid""",
        u=TEST_ACCOUNTS["dong"][0],
        rid=mine,
    )
    assert {"eligibility.resident_api", "eligibility.people_api"} <= {row[0] for row in audited}


def test_agency_staff_may_not_read_the_screening(map_app, screened):
    with map_app.test_client(role="agency") as client:
        assert client.get("/api/eligibility/people").status_code == 403


def test_the_page_in_korean_and_english(map_app, screened):
    with map_app.test_client() as client:
        summary = client.get("/api/eligibility").get_json()
        dong = summary["areas"][0]["area_code"]
        korean = client.get(f"/eligibility?area={dong}").get_data(as_text=True)
        english = client.get(f"/eligibility?area={dong}&lang=en").get_data(as_text=True)
    assert "수급 가능성 있으나 미수급" in korean and "생계급여" in korean
    assert 'id="eligibility-people"' in korean and "data-resident=" in korean
    assert "Likely eligible, not receiving" in english and "Livelihood benefit" in english


def test_cli_prints_csv_of_one_dong(map_database, screened, monkeypatch):
    from visitmap.cli import main

    monkeypatch.setenv("VISITMAP_DATABASE_URL", map_database["url"])
    dong = _sql(
        map_database["url"], "SELECT min(code) FROM areas a JOIN households h ON h.area_id = a.id"
    )[0][0]
    result = CliRunner().invoke(main, ["eligibility", "screen", "--area", dong, "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("area_code,area_name,resident_id")
    assert len(lines) > 1 and all(line.startswith(dong) for line in lines[1:])
    bad = CliRunner().invoke(main, ["eligibility", "screen", "--programme", "caviar"])
    assert bad.exit_code != 0 and "programme" in bad.output


def test_the_map_filter_keeps_only_households_likely_eligible_not_receiving(
    map_app, map_database, screened
):
    bbox = "126.88,37.54,126.98,37.61"
    with map_app.test_client() as client:
        page = client.get(f"/api/residents?bbox={bbox}&limit=5000&unreached=true").get_json()
        other = client.get(f"/api/residents?bbox={bbox}&limit=5000&unreached=false").get_json()
    shown = {f["id"] for f in page["features"]}
    rest = {f["id"] for f in other["features"]}
    assert shown and rest and not shown & rest
    unreached = {
        r[0]
        for r in _sql(
            map_database["url"],
            """SELECT r.external_id FROM residents r JOIN eligibility_results e
               ON e.household_id = r.household_id WHERE e.likely_eligible AND NOT e.receiving""",
        )
    }
    assert shown <= unreached and not rest & unreached
