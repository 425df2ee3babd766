"""The support overview (종합현황판) over HTTP: page, JSON API, access per role, audit.

Warnings are inserted into ``support_warnings`` of the scored demo (as geo.support_warnings
stores them) and removed afterwards.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def planted(map_database, map_app):
    """A duplicate (red) for the agency test account's most supported resident, and an open
    need (yellow) for a resident of another provider only."""
    engine = map_database["engine"]
    with Session(engine) as session:
        # a clean slate: other tests' writes on this shared database store warnings too
        # (every recorded support refreshes its person's warnings)
        session.execute(text("DELETE FROM support_warnings"))
        agency = session.execute(
            text("""SELECT p.id FROM providers p JOIN users u ON u.provider_id = p.id
                WHERE u.username = 't.agency'""")
        ).scalar_one()
        red = session.execute(
            text("""SELECT s.resident_id, r.external_id, h.area_id, a.code,
                    array_agg(s.id ORDER BY s.id) AS recs
                FROM support_records s JOIN residents r ON r.id = s.resident_id
                JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
                WHERE s.provider_id = :p GROUP BY 1, 2, 3, 4 ORDER BY count(*) DESC, 1 LIMIT 1"""),
            {"p": agency},
        ).one()
        other = session.execute(
            text("""SELECT r.id, r.external_id, h.area_id FROM residents r
                JOIN households h ON h.id = r.household_id
                WHERE r.id NOT IN (SELECT resident_id FROM support_records)
                ORDER BY r.id LIMIT 1""")  # no record at all: its open need lists none
        ).one()
        session.execute(
            text("""INSERT INTO support_warnings (level, kind, resident_id, area_id,
                provider_ids, record_ids, minor_category, since) VALUES
                ('red', 'duplicate', :r, :a, :p, :recs, 'side_dishes', '2026-10-28'),
                ('yellow', 'open_need', :o, :oa, '{}', '{}', NULL, '2026-09-01')"""),
            {
                "r": red.resident_id,
                "a": red.area_id,
                "p": [agency],
                "recs": red.recs[:2],
                "o": other.id,
                "oa": other.area_id,
            },
        )
        session.commit()
    yield {
        "red": red.external_id,
        "dong": red.code,
        "other": other.external_id,
        "records": len(red.recs[:2]),
    }
    with Session(engine) as session:
        session.execute(text("DELETE FROM support_warnings"))
        session.commit()


def test_summary_counts_the_stored_warnings(map_app, planted):
    with map_app.test_client() as client:
        body = client.get("/api/support/summary").get_json()
        assert body["totals"]["red"] == 1 and body["totals"]["yellow"] == 1
        areas = {a["code"]: a for a in body["areas"]}
        assert areas[planted["dong"]]["red"] == 1
        assert body["totals"]["blue"] > 0  # the demo's other supported residents
        red_only = client.get("/api/support/summary?level=red").get_json()
        assert red_only["totals"] == {"red": 1, "yellow": 0, "blue": 0}


def test_bad_filters_name_the_parameter(map_app, planted):
    with map_app.test_client() as client:
        for query, field in (
            ("level=pink", "level"),
            ("kind=nope", "kind"),
            ("area=0000000000", "area"),
            ("provider=P-none", "provider"),
        ):
            response = client.get(f"/api/support/warnings?{query}")
            assert response.status_code == 400, query
            assert field in response.get_data(as_text=True)
        page = client.get("/support?level=pink")
        assert page.status_code == 400
        assert 'data-parameter="level"' in page.get_data(as_text=True)


def test_warnings_drill_down_per_role(map_app, planted):
    with map_app.test_client() as client:
        body = client.get("/api/support/warnings?level=red").get_json()
        assert body["total"] == 1
        warning = body["warnings"][0]
        assert warning["resident_id"] == planted["red"] and warning["name"]
        assert len(warning["records"]) == planted["records"]
        assert {r["shape"] for r in warning["records"]} == {"full"}
    with map_app.test_client(role="agency") as client:
        body = client.get("/api/support/warnings").get_json()
        # the agency sees its own resident's warning (without the name), not the other one
        assert [w["resident_id"] for w in body["warnings"]] == [planted["red"]]
        assert body["warnings"][0]["name"] is None


def test_resident_support_by_role(map_app, planted):
    with map_app.test_client() as client:
        body = client.get(f"/api/residents/{planted['red']}/support").get_json()
        assert [w["kind"] for w in body["warnings"]] == ["duplicate"]
        assert body["records"] and all(r["shape"] == "full" for r in body["records"])
    with map_app.test_client(role="agency") as client:
        assert client.get(f"/api/residents/{planted['red']}/support").status_code == 200
        # a resident the agency never supported: 404, like one that does not exist
        assert client.get(f"/api/residents/{planted['other']}/support").status_code == 404
        assert client.get("/api/residents/R-none/support").status_code == 404


@pytest.mark.parametrize("role", ["visitor", "analyst", None])
def test_others_may_not_use_it(map_app, planted, role):
    with map_app.test_client(role=role) as client:
        expected = 401 if role is None else 403
        assert client.get("/api/support/summary").status_code == expected
        assert client.get(f"/api/residents/{planted['red']}/support").status_code == expected


def test_page_shows_counts_and_the_drill_down(map_app, planted):
    with map_app.test_client() as client:
        html = client.get("/support").get_data(as_text=True)
        assert "종합현황판" in html or "지원 현황" in html or "Support overview" in html
        assert f'data-area="{planted["dong"]}"' in html
        assert f'data-resident="{planted["red"]}"' in html
        assert html.count('class="sd-full"') == planted["records"]


def test_answers_naming_residents_are_audited(map_app, map_database, planted):
    with map_app.test_client() as client:
        client.get(f"/api/residents/{planted['red']}/support")
    with Session(map_database["engine"]) as session:
        ids = session.execute(
            text("""SELECT resident_ids FROM access_audit
                WHERE endpoint = 'support_dashboard.resident_support' ORDER BY id DESC LIMIT 1""")
        ).scalar_one()
        rid = session.execute(
            text("SELECT id FROM residents WHERE external_id = :e"), {"e": planted["red"]}
        ).scalar_one()
    assert rid in ids
