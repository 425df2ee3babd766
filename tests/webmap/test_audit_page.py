"""``/audit``, ``/audit.csv`` and ``/api/audit`` on the app, as a district-wide leader."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text

from geo.db import make_engine, session_scope
from tests.audit_data import audit_database, insert_audit
from tests.webmap.conftest import app_for

pytestmark = pytest.mark.db

XSS_USER = "<script>alert(1)</script>"
XSS_PATH = "/api/residents/R-A1?q=<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def audit_app(scratch_database):
    url = audit_database(scratch_database, "audit_web")
    engine = make_engine(url)
    with session_scope(engine) as session:
        ids = dict(session.execute(text("SELECT external_id, id FROM residents")).all())
        insert_audit(session, at="2026-11-01 10:00+09", username="kim", resident_ids=[ids["R-A1"]])
        insert_audit(
            session,
            at="2026-11-02 10:00+09",
            username=XSS_USER,
            resident_ids=[ids["R-A1"], ids["R-A2"]],
            path=XSS_PATH,
            detail={"note": "<b>x</b>"},
        )
        # 55 tile rows on 20 November: more than a page
        for minute in range(55):
            insert_audit(
                session,
                at=f"2026-11-20 09:{minute:02d}+09",
                username="visitor1",
                endpoint="tiles.residents",
                resident_ids=[ids["R-A3"]],
                detail={"z": 15, "x": 27940, "y": minute},
            )
    engine.dispose()
    with app_for(url) as app:  # a district-wide leader's token by default
        yield app


@pytest.fixture
def client(audit_app):
    with audit_app.test_client() as client:
        yield client


def _ids(html: str) -> int:
    return html.count("data-audit-id=")


def test_page_lists_rows_newest_first_in_korean(client):
    response = client.get("/audit?user=kim")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "개인정보 접근 기록" in html and "사용자" in html and "시작일" in html
    assert _ids(html) == 1
    assert "2026-11-01 10:00:00" in html and "api.resident" in html
    assert 'href="/audit?resident=R-A1">R-A1</a>' in html
    english = client.get("/audit?user=kim&lang=en").get_data(as_text=True)
    assert "Access audit" in english and "Client address" in english


def test_page_shows_values_as_text_only(client):
    html = client.get("/audit?resident=R-A2").get_data(as_text=True)
    assert _ids(html) == 1
    assert XSS_USER not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<b>x</b>" not in html


def test_page_filters_by_dates_and_pages(client):
    first = client.get("/audit?since=2026-11-20&until=2026-11-20").get_data(as_text=True)
    assert _ids(first) == 50
    assert "2026-11-20 09:54:00" in first and "2026-11-20 09:04:00" not in first
    assert 'rel="next" href="/audit?since=2026-11-20&amp;until=2026-11-20&amp;page=2"' in first
    assert 'rel="prev"' not in first
    second = client.get("/audit?since=2026-11-20&until=2026-11-20&page=2").get_data(as_text=True)
    assert _ids(second) == 5 and "2026-11-20 09:00:00" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "2쪽" in second


def test_page_names_a_bad_field_in_korean(client):
    response = client.get("/audit?since=2026-13-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-parameter="since"' in html
    assert "시작일: 날짜를 YYYY-MM-DD 형식으로 입력하세요." in html
    assert _ids(html) == 0
    unknown = client.get("/audit?resident=R-NONE").get_data(as_text=True)
    assert "주민 ID: 이 ID의 주민이 없습니다." in unknown


def test_csv_download_with_the_pages_filters(client):
    page = client.get("/audit?user=kim").get_data(as_text=True)
    assert 'href="/audit.csv?user=kim"' in page
    response = client.get("/audit.csv?resident=R-A1")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["username"] for r in rows] == [XSS_USER, "kim"]
    assert rows[0]["resident_ids"] == "R-A1 R-A2"
    assert rows[1]["at"] == "2026-11-01T10:00:00+09:00"


def test_api_returns_rows_and_pages(client):
    body = client.get("/api/audit?endpoint=tiles.residents&limit=20").get_json()
    assert len(body["rows"]) == 20 and body["next_offset"] == 20
    row = body["rows"][0]
    assert row["at"] == "2026-11-20T09:54:00+09:00"
    assert row["resident_ids"] == ["R-A3"] and row["resident_count"] == 1
    assert row["detail"] == {"z": 15, "x": 27940, "y": 54}
    assert "resident_db_ids" not in row
    last = client.get("/api/audit?endpoint=tiles.residents&limit=20&offset=40").get_json()
    assert len(last["rows"]) == 15 and last["next_offset"] is None
    by_resident = client.get("/api/audit?resident=R-A2").get_json()
    assert [r["username"] for r in by_resident["rows"]] == [XSS_USER]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("since=soon", "since"),
        ("until=2026-01-01&since=2026-02-01", "until"),
        ("resident=R-NONE", "resident"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("user=kim&limit=x", "limit"),
        ("user=k%00im", "user"),
        ("resident=R-A1%00", "resident"),
        ("endpoint=%00", "endpoint"),
        ("since=2026-01-01%00", "since"),
    ],
)
def test_api_bad_parameters_are_json_400(client, query, parameter):
    response = client.get(f"/api/audit?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_parameter"
    assert body["parameter"] == parameter
    assert body["message"].startswith(f"{parameter}: ")
