"""A whole district's day (issue 15): every team planned at once, every due high-tier resident
placed or its drop explained; the command, the use case and the page, against a real PostGIS.

Its own database (the tests store plans): a 2,500-resident demo scored three times
(tests.webmap.conftest.build_scored_demo).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.route_plans import latest_plan_id, load_plan
from geo.scope import Scope
from tests.webmap.conftest import (
    AS_OF,
    app_for,
    chromium,
    login,
    scored_scratch_demo,
    served,
    sql_rows,
)
from visitmap.cli import main
from visitmap.usecases.district_day import (
    NO_PLAN,
    NO_TEAM,
    NOT_IN_PLAN,
    district_teams,
    plan_district_day,
    stored_outcomes,
)

pytestmark = pytest.mark.db

DAY = AS_OF + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def district_db(engine, database_url, tmp_path_factory):
    with scored_scratch_demo(database_url, tmp_path_factory, "visitmap_test_district") as db:
        yield db


@pytest.fixture(scope="module")
def district_app(district_db):
    with app_for(district_db["url"]) as app:
        yield app


def _rows(db, sql, **params):
    return sql_rows(db["url"], sql, **params)


def _due_high(db, day):
    return {
        row[0]
        for row in _rows(
            db,
            """SELECT r.external_id FROM resident_scores s JOIN residents r ON r.id = s.resident_id
            WHERE s.run_id = (SELECT id FROM score_runs WHERE published_at IS NOT NULL
                              ORDER BY published_at DESC, id DESC LIMIT 1)
              AND s.tier = 2 AND s.next_due_on <= :day AND r.status = 'active'""",
            day=day,
        )
    }


def _placed_high(db, day):
    """High-tier residents in the stops of each team's newest plan for ``day``."""
    return {
        row[0]
        for row in _rows(
            db,
            """SELECT r.external_id FROM route_plans p
            JOIN route_plan_stops ps ON ps.plan_id = p.id
            JOIN residents r ON r.id = ps.resident_id
            WHERE p.plan_date = :day AND ps.tier = 2 AND p.version = (
                SELECT max(q.version) FROM route_plans q
                WHERE q.team_id = p.team_id AND q.plan_date = p.plan_date)""",
            day=day,
        )
    }


def test_all_teams_plans_every_team_and_accounts_for_the_high_tier(district_db, monkeypatch):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", district_db["url"])
    runner = CliRunner()
    result = runner.invoke(
        main, ["routes", "plan", "--all-teams", "--date", DAY.isoformat(), "--solver-seconds", "4"]
    )
    assert result.exit_code == 0, result.output
    teams = _rows(district_db, "SELECT external_id FROM visit_teams ORDER BY external_id")
    assert len(teams) >= 2
    for (team_id,) in teams:
        assert re.search(rf"^{team_id} .*: plan \d+ v1, \d+ visits of \d+ due", result.output, re.M)
    planned = _rows(
        district_db, "SELECT count(DISTINCT team_id) FROM route_plans WHERE plan_date = :d", d=DAY
    )
    assert planned[0][0] == len(teams)
    due = _due_high(district_db, DAY)
    assert due, "the demo has high-tier residents due: the check can fail"
    found = re.search(
        r"^high tier due: (\d+), placed (\d+), not placed (\d+)$", result.output, re.M
    )
    assert found, result.output
    n, placed, left = map(int, found.groups())
    assert n == len(due) and placed + left == n
    assert placed == len(_placed_high(district_db, DAY) & due)
    if left:  # each reason counted
        counts = re.findall(r"^  (\d+) .+ \(.+\)$", result.output, re.M)
        assert sum(int(c) for c in counts) == left
    per_team = float(re.search(r"([\d.]+) s solver per team", result.output).group(1))
    assert per_team == max(0.5, min(3.0, 4 / len(teams)))


def test_team_or_all_teams_not_both_nor_neither(district_db, monkeypatch):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", district_db["url"])
    runner = CliRunner()
    day = ["--date", DAY.isoformat()]
    both = runner.invoke(main, ["routes", "plan", "--all-teams", "--team", "T-x", *day])
    neither = runner.invoke(main, ["routes", "plan", *day])
    alone = runner.invoke(main, ["routes", "plan", "--team", "T-x", "--solver-seconds", "3", *day])
    for bad in (both, neither, alone):
        assert bad.exit_code == 2
    assert "--team T or --all-teams" in both.output and "--solver-seconds" in alone.output


def test_a_dong_without_a_team_is_the_reason_its_high_tier_is_not_placed(district_db):
    with Session(district_db["engine"]) as session, session.begin():
        # the dong with the most due high-tier residents loses its team (rolled back after)
        code = session.execute(
            text("""SELECT a.code FROM resident_scores s JOIN residents r ON r.id = s.resident_id
            JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
            JOIN team_areas ta ON ta.area_id = a.id
            WHERE s.run_id = :run AND s.tier = 2 AND s.next_due_on <= :day
            GROUP BY a.code ORDER BY count(*) DESC, a.code LIMIT 1"""),
            {"run": district_db["run_id"], "day": DAY},
        ).scalar_one()
        session.execute(
            text("DELETE FROM team_areas WHERE area_id = (SELECT id FROM areas WHERE code = :c)"),
            {"c": code},
        )
        result = plan_district_day(
            session, Scope.everything(), DAY, created_by="test", solver_seconds=2
        )
        orphans = [o for o in result.high_tier if o.area_code == code]
        assert orphans and all(not o.placed for o in orphans)
        assert {(o.reason_ko, o.reason_en, o.team_id) for o in orphans} == {(*NO_TEAM, None)}
        assert all(o.area_code != code for o in result.high_tier if o.placed)
        session.rollback()


def test_the_accounting_from_stored_plans_is_the_planners(district_db):
    everyone = Scope.everything()
    with Session(district_db["engine"]) as session, session.begin():
        result = plan_district_day(session, everyone, DAY, created_by="test", solver_seconds=2)
        plans = {
            team_id: load_plan(session, everyone, latest_plan_id(session, team_id, DAY))
            for team_id, _ in district_teams(session, everyone)
        }
        again = stored_outcomes(session, everyone, DAY, plans)
        assert result.high_tier and again == result.high_tier
        # a team without a plan for the day: its due high-tier residents say so
        placed = next(o for o in result.high_tier if o.placed)
        without = stored_outcomes(session, everyone, DAY, plans | {placed.team_id: None})
        mine = [o for o in without if o.team_id == placed.team_id]
        assert mine and all(not o.placed for o in mine)
        assert {(o.reason_ko, o.reason_en) for o in mine} == {NO_PLAN}
        # due, but in none of its team's plan (due since the plan was made)
        plan = plans[placed.team_id]
        cut = plan | {
            "routes": [
                r | {"stops": [s for s in r["stops"] if s["resident_id"] != placed.resident_id]}
                for r in plan["routes"]
            ]
        }
        missing = stored_outcomes(session, everyone, DAY, plans | {placed.team_id: cut})
        (gone,) = [o for o in missing if o.resident_id == placed.resident_id]
        assert not gone.placed and (gone.reason_ko, gone.reason_en) == NOT_IN_PLAN
        session.rollback()


def test_the_page_plans_then_redirects_and_a_reload_plans_nothing(district_app, district_db):
    day = DAY + dt.timedelta(days=2)
    count = "SELECT count(*) FROM route_plans WHERE plan_date = :d"
    with district_app.test_client() as client:
        before = client.get(f"/routes/district?date={day}&lang=en")
        assert "district-summary" not in before.get_data(as_text=True)  # nothing planned yet
        posted = client.post("/routes/district?lang=en", data={"date": day.isoformat()})
        assert posted.status_code == 303
        assert posted.headers["Location"].endswith(f"/routes/district?date={day}&lang=en")
        planned = _rows(district_db, count, d=day)[0][0]
        assert planned == _rows(district_db, "SELECT count(*) FROM visit_teams")[0][0]
        html = ""
        for _ in range(2):  # the page after the redirect, then a reload
            page = client.get(posted.headers["Location"])
            assert page.status_code == 200
            html = page.get_data(as_text=True)
        assert _rows(district_db, count, d=day)[0][0] == planned  # a reload plans nothing
    due = _due_high(district_db, day)
    assert due, "the demo has high-tier residents due: the check can fail"
    summary = re.search(r"High tier due: (\d+); placed: (\d+); not placed: (\d+)", html)
    assert summary, html
    n, placed, left = map(int, summary.groups())
    assert n == len(due) and placed == len(_placed_high(district_db, day) & due)
    assert placed + left == n
    named = set(re.findall(r'data-resident="([^"]+)"', html))
    assert named <= due and len(re.findall(r'data-resident="', html)) == left
    audited = _rows(
        district_db,
        """SELECT coalesce((SELECT array_agg(r.external_id) FROM residents r
                            WHERE r.id = ANY(a.resident_ids)), '{}')
        FROM access_audit a WHERE a.endpoint = 'district_day.district_page'
        ORDER BY a.id DESC LIMIT 1""",
    )
    assert placed and set(audited[0][0]) == named  # the page's residents, not the placed ones


def test_the_page_plans_the_leaders_teams_only(district_app, district_db):
    with district_app.test_client(role="dong") as client:
        page = client.get(f"/routes/district?date={DAY}")
        assert page.status_code == 200
        teams = re.findall(r'data-team="([^"]+)"', page.get_data(as_text=True))
        assert len(teams) == 1  # the dong leader's one team
    with district_app.test_client(role="visitor") as client:
        assert client.get(f"/routes/district?date={DAY}").status_code == 403
    with district_app.test_client() as client:
        assert client.get("/routes/district?date=2026-13-01").status_code == 400


def test_planning_the_district_from_the_page(district_app, district_db):
    total = _rows(district_db, "SELECT count(*) FROM visit_teams")[0][0]
    with served(district_app) as base, chromium() as browser:
        page = browser.new_page()
        try:
            login(page, base)
            page.goto(f"{base}/routes")
            page.click("#district-link")
            page.wait_for_url(lambda url: "/routes/district" in url)
            page.fill('input[name="date"]', (DAY + dt.timedelta(days=1)).isoformat())
            page.click('form[method="get"] button[type="submit"]')
            page.click("#plan-district")
            page.wait_for_selector("#district-summary", timeout=120_000)
            rows = page.locator("#district-teams tbody tr")
            assert rows.count() == total
            assert "계획됨" in page.inner_text("#district-summary")
            links = page.locator("#district-teams a")
            assert links.count() == total  # each team's plan opens on the route page
        finally:
            page.close()
