"""Hot spots and the blind-spot list on the shared scored demo: store, reasons, scope, audit."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import make_engine, session_scope
from geo.eligibility import refresh_eligibility
from geo.score_runs import published_run_id
from tests.webmap.conftest import AS_OF, TEST_ACCOUNTS, sql_rows
from visitmap.usecases.blind_spots import blind_spot_frame, refresh_blind_spots
from visitmap.usecases.hotspots import refresh_hotspots

pytestmark = pytest.mark.db


_sql = sql_rows


@pytest.fixture(scope="module")
def listed(map_database):
    """The shared demo screened, its hot spots analysed and the list computed (twice)."""
    engine = make_engine(map_database["url"])
    try:
        with session_scope(engine) as session:
            refresh_eligibility(session, as_of=AS_OF)
            spots = refresh_hotspots(session)
            first = refresh_blind_spots(session, as_of=AS_OF)
        before = _sql(map_database["url"], "SELECT * FROM blind_spots ORDER BY 1")
        with session_scope(engine) as session:
            refresh_blind_spots(session, as_of=AS_OF)
        assert _sql(map_database["url"], "SELECT * FROM blind_spots ORDER BY 1") == before
    finally:
        engine.dispose()
    return spots, first


def test_hot_spots_are_stored_for_the_published_run(map_database, listed):
    spots, _ = listed
    assert spots.cells["h3_9"] > 20 and spots.cells["dong"] > 1
    rows = _sql(
        map_database["url"],
        "SELECT unit, cluster, q_value, z FROM hotspot_cells WHERE run_id = :r",
        r=spots.run_id,
    )
    for unit, cluster, q, z in rows:
        if cluster != "none":
            assert q <= 0.05 and (z > 0) == (cluster == "hot"), (unit, cluster, q, z)


def test_every_reason_on_the_list_holds_in_the_data(map_database, listed):
    _, done = listed
    assert done.people > 0 and done.by_reason["eligible_unreached"] > 0
    assert done.by_reason["no_contact"] > 0
    url = map_database["url"]
    # likely eligible and not receiving: the household's reference person, with its programmes
    wrong = _sql(
        url,
        """SELECT b.resident_id FROM blind_spots b JOIN residents r ON r.id = b.resident_id
           WHERE 'eligible_unreached' = ANY(b.reasons) AND NOT EXISTS (
               SELECT 1 FROM eligibility_results e WHERE e.household_id = r.household_id
                 AND e.likely_eligible AND NOT e.receiving
                 AND e.programme IN (SELECT jsonb_array_elements_text(b.detail->'programmes')))""",
    )
    assert wrong == []
    # nobody in touch: no met visit, support or need in the 12 months before the day
    touched = _sql(
        url,
        """SELECT b.resident_id FROM blind_spots b WHERE 'no_contact' = ANY(b.reasons) AND (
             EXISTS (SELECT 1 FROM visits v WHERE v.resident_id = b.resident_id
                     AND v.outcome IN ('met', 'crisis_confirmed')
                     AND v.visited_at >= CAST(:day AS date) - interval '12 months')
             OR EXISTS (SELECT 1 FROM support_records s WHERE s.resident_id = b.resident_id
                     AND s.provided_on >= CAST(:day AS date) - interval '12 months'))""",
        day=AS_OF,
    )
    assert touched == []
    # a hot-spot reason only for high or medium tier residents, in a hot cell of the run
    hot = _sql(
        url,
        """SELECT b.tier, hc.cluster FROM blind_spots b
           LEFT JOIN hotspot_cells hc ON hc.run_id = b.run_id AND hc.unit = 'h3_9'
                AND hc.cell = b.detail->'hotspot'->>'cell'
           WHERE 'hotspot' = ANY(b.reasons)""",
    )
    assert all(tier >= 1 and cluster == "hot" for tier, cluster in hot)


def test_a_household_moved_far_from_every_service_is_far_from_help(map_database, listed):
    engine = make_engine(map_database["url"])
    try:
        with Session(engine) as session:
            run = published_run_id(session)
            resident, household = session.execute(
                text("""SELECT r.id, r.household_id FROM resident_scores s
                        JOIN residents r ON r.id = s.resident_id AND r.status = 'active'
                        WHERE s.run_id = :r AND s.tier >= 1 ORDER BY r.id LIMIT 1"""),
                {"r": run},
            ).one()
            session.execute(
                text("""UPDATE households SET nearest_community_centre_m = 1200,
                        nearest_senior_or_welfare_m = 800 WHERE id = :h"""),
                {"h": household},
            )
            rows, _ = blind_spot_frame(session, run, as_of=AS_OF)
            session.rollback()  # nothing is kept
    finally:
        engine.dispose()
    row = rows.set_index("resident_id").loc[resident]
    assert "far_from_help" in row["reasons"]
    assert row["detail"]["walk_minutes"] == pytest.approx(800 * 1.3 / (4000 / 60), abs=0.05)


def test_a_dong_leader_sees_their_dong_only_and_it_is_audited(map_app, map_database, listed):
    with map_app.test_client(role="dong") as client:
        areas = client.get("/api/blindspots/areas").get_json()["areas"]
        people = client.get("/api/blindspots?limit=5000").get_json()["people"]
        cells = client.get("/api/hotspots").get_json()
    assert len(areas) == 1
    (dong,) = {a["code"] for a in areas}
    assert people and {p["area_code"] for p in people} == {dong}
    assert all(f["properties"]["area_code"] == dong for f in cells["features"])
    assert all(p["reason_texts"] and len(p["reason_texts"]) == len(p["reasons"]) for p in people)
    shown = _sql(
        map_database["url"],
        """SELECT count(*) FROM access_audit a JOIN residents r ON r.id = ANY(a.resident_ids)
           WHERE a.username = :u AND a.endpoint = 'blind_spots.people_api'
             AND r.external_id = :rid""",
        u=TEST_ACCOUNTS["dong"][0],
        rid=people[0]["resident_id"],
    )[0][0]
    assert shown >= 1


def test_bad_filters_are_400_and_agency_staff_are_refused(map_app, listed):
    with map_app.test_client() as client:
        assert client.get("/api/blindspots?reason=lonely").status_code == 400
        assert client.get("/api/hotspots?unit=hexagon").status_code == 400
    with map_app.test_client(role="agency") as client:
        assert client.get("/api/blindspots").status_code == 403


def test_the_page_says_the_reasons_in_korean_and_english(map_app, listed):
    with map_app.test_client() as client:
        dong = client.get("/api/blindspots/areas").get_json()["areas"][0]["code"]
        korean = client.get(f"/blindspots?area={dong}").get_data(as_text=True)
        english = client.get(f"/blindspots?area={dong}&lang=en").get_data(as_text=True)
    assert "복지사각지대" in korean and 'id="blindspot-people"' in korean
    assert "Blind spots" in english and "data-resident=" in english


def test_cli_lists_the_stored_people_as_csv(map_database, listed, monkeypatch):
    from visitmap.cli import main

    monkeypatch.setenv("VISITMAP_DATABASE_URL", map_database["url"])
    result = CliRunner().invoke(
        main, ["blindspots", "list", "--reason", "no_contact", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "resident_id,area_code,area_name,tier,reasons,detail"
    assert len(lines) > 1 and all("no_contact" in line for line in lines[1:])
    spots = CliRunner().invoke(main, ["blindspots", "hotspots", "--unit", "dong", "--all"])
    assert spots.exit_code == 0 and "cluster" in spots.output


def test_a_contact_drops_the_no_contact_reason_at_once(map_database, listed):
    from geo.blind_spots import contact_made

    engine = make_engine(map_database["url"])
    try:
        with Session(engine) as session:
            only, more = (
                session.execute(
                    text(f"""SELECT resident_id FROM blind_spots
                            WHERE 'no_contact' = ANY(reasons) AND cardinality(reasons) {op}
                            ORDER BY resident_id LIMIT 1""")
                ).scalar_one()
                for op in ("= 1", "> 1")
            )
            contact_made(session, [only, more])
            left = dict(
                session.execute(
                    text(
                        "SELECT resident_id, reasons FROM blind_spots WHERE resident_id = ANY(:i)"
                    ),
                    {"i": [only, more]},
                ).all()
            )
            session.rollback()
    finally:
        engine.dispose()
    assert only not in left
    assert "no_contact" not in left[more] and left[more]
