"""``visitmap audit search|prune`` against a scratch database (the group invoked directly;
visitmap/cli.py registers it)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from geo.db import make_engine, session_scope
from tests.audit_data import audit_database, insert_audit
from visitmap.audit_cli import audit

pytestmark = pytest.mark.db

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def audit_db(scratch_database):
    url = audit_database(scratch_database, "audit_cli")
    engine = make_engine(url)
    with session_scope(engine) as session:
        ids = dict(session.execute(text("SELECT external_id, id FROM residents")).all())
        insert_audit(
            session,
            at="2026-11-02 09:15+09",
            username='=HYPERLINK("http://x")',
            resident_ids=[ids["R-A1"]],
            path="/api/residents/R-A1",
        )
        insert_audit(
            session,
            at="2026-11-03 14:00+09",
            username="lee",
            endpoint="routes.plan_csv",
            resident_ids=[ids["R-A1"], ids["R-A2"]],
            detail={"plan": 3},
        )
        insert_audit(session, at=NOW - dt.timedelta(days=900), username="old")
        insert_audit(session, at=NOW - dt.timedelta(days=10), username="recent")
    yield {"url": url, "engine": engine, "ids": ids}
    engine.dispose()


def run(audit_db, *args):
    return CliRunner().invoke(audit, list(args), env={"VISITMAP_DATABASE_URL": audit_db["url"]})


def test_search_csv_has_a_header_and_formula_safe_cells(audit_db):
    result = run(audit_db, "search", "--resident", "R-A1", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["username"] for r in rows] == ["lee", '\'=HYPERLINK("http://x")']
    assert rows[0]["resident_ids"] == "R-A1 R-A2"
    assert rows[0]["at"] == "2026-11-03T14:00:00+09:00"
    assert rows[0]["endpoint"] == "routes.plan_csv"
    assert rows[0]["detail"] == '{"plan": 3}'
    assert rows[1]["path"] == "/api/residents/R-A1"
    assert rows[1]["address"] == "10.0.0.7"


def test_search_table_filters_by_user_and_dates(audit_db):
    result = run(audit_db, "search", "--user", "lee")
    assert result.exit_code == 0, result.output
    assert "lee (leader)" in result.output and "routes.plan_csv" in result.output
    assert "residents 2: R-A1 R-A2" in result.output
    assert result.output.strip().endswith("1 row(s)")
    dated = run(audit_db, "search", "--since", "2026-11-03", "--until", "2026-11-03")
    assert dated.exit_code == 0
    assert "lee" in dated.output and "HYPERLINK" not in dated.output
    assert run(audit_db, "search", "--user", "nobody").output == "no audit rows match\n"


def test_search_names_a_bad_option(audit_db):
    result = run(audit_db, "search", "--since", "3 Nov")
    assert result.exit_code == 1
    assert "--since: must be a date (YYYY-MM-DD)" in result.output
    unknown = run(audit_db, "search", "--resident", "R-ZZ")
    assert unknown.exit_code == 1
    assert "--resident: no resident has the id 'R-ZZ'" in unknown.output


def test_prune_refuses_anything_younger_than_the_retention(audit_db):
    result = run(audit_db, "prune", "--older-than-days", "729")
    assert result.exit_code == 1
    assert "729 days is younger than the retention of 730 days" in result.output
    longer = run(audit_db, "prune", "--older-than-days", "800", "--retention-days", "1000")
    assert longer.exit_code == 1
    low = run(audit_db, "prune", "--older-than-days", "800", "--retention-days", "100")
    assert low.exit_code == 1 and "--retention-days" in low.output
    with audit_db["engine"].connect() as conn:
        old = "SELECT count(*) FROM access_audit WHERE username = 'old'"
        assert conn.execute(text(old)).scalar_one() == 1


def test_prune_deletes_rows_past_the_retention(audit_db):
    result = run(audit_db, "prune", "--older-than-days", "800")
    assert result.exit_code == 0, result.output
    assert result.output == "deleted 1 audit row(s) older than 800 days\n"
    with audit_db["engine"].connect() as conn:
        names = conn.execute(text("SELECT username FROM access_audit ORDER BY at")).scalars()
        assert "old" not in list(names)
