"""The map page's cache (webmap.page_cache, issue 15): a kept page is the page the app makes
without the cache, and a publication, a recorded visit or an import of facilities or dongs, in
this process or another, makes it again with what they changed."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from sqlalchemy import text

from geo.db import session_scope
from geo.mapdata.queries import MAP_SIMPLIFY_M, area_outlines, map_data
from geo.scope import Scope
from scoring.config import default_config
from tests.webmap.conftest import AS_OF, app_for, scored_scratch_demo
from visitmap.usecases.scoring_runs import score_residents
from webmap.page_cache import CONTROLS_MARK, HEAD_MARK

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def runs_db(engine, database_url, tmp_path_factory):
    """A scored demo of its own (the cases publish and visit): run ``published``, ``draft``."""
    with scored_scratch_demo(database_url, tmp_path_factory, "pagecache") as demo:
        with session_scope(demo["engine"]) as session:
            draft = score_residents(
                session, Scope.everything(), method="rules", config=default_config(),
                as_of=AS_OF, created_by="analyst-lee",
            ).stored.run_id  # fmt: skip
        yield demo | {"published": demo["run_id"], "draft": draft}


@pytest.fixture(scope="module")
def apps(runs_db):
    """Two apps on the database, as two server processes are, and one without the cache."""
    with (
        app_for(runs_db["url"]) as app,
        app_for(runs_db["url"]) as other,
        app_for(runs_db["url"], PAGE_CACHE_ENTRIES=0) as plain,
    ):
        yield app, other, plain


def normal(response) -> str:
    """The page without what differs between two responses: nonce, CSRF token, folium's ids."""
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    page = re.sub(r'nonce="[^"]+"', 'nonce=""', page)
    page = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', page)
    return re.sub(r"_[0-9a-f]{32}(?![0-9a-f])", "_ID", page)


def labels(page: str) -> list[str]:
    """The choropleth's tooltips: each dong's name and high-tier residents per 1,000."""
    return [json.loads(f'"{label}"') for label in re.findall(r'"label": "([^"]*)"', page)]


def run_of(page: str) -> int:
    return int(re.search(r'"run_id": (\d+)', page).group(1))


def test_a_kept_page_is_the_page_and_a_publication_elsewhere_makes_it_again(apps, runs_db):
    app, other, plain = apps
    published, draft = runs_db["published"], runs_db["draft"]
    leader, uncached = app.test_client(), plain.test_client()  # (no `with`: two apps)
    first = normal(leader.get("/"))
    cache = app.extensions["visitmap_page_cache"]
    hits = cache.hits
    assert normal(leader.get("/")) == first and cache.hits == hits + 1
    assert first == normal(uncached.get("/"))  # the same page as without the cache
    assert HEAD_MARK not in first and CONTROLS_MARK not in first
    assert run_of(first) == published and len(labels(first)) == 14
    kept = len(cache)
    analyst = app.test_client(role="analyst")  # small counts hidden: its own page
    assert normal(analyst.get("/")) == normal(plain.test_client(role="analyst").get("/"))
    assert len(cache) == kept + 1
    dong = app.test_client(role="dong")  # one dong's leader: its own page too
    assert len(labels(normal(dong.get("/")))) == 1

    elsewhere = other.test_client()  # another process publishes the draft
    assert elsewhere.post(f"/api/score-runs/{draft}/publish").status_code == 200
    try:
        after = normal(leader.get("/"))
        assert run_of(after) == draft
        assert after == normal(uncached.get("/"))
        assert labels(after) != labels(first)  # the draft's counts, not the kept ones
        assert len(cache) == 1  # the pages of the run before are gone
    finally:
        admin = other.test_client(role="admin")
        assert admin.post(f"/api/score-runs/{published}/publish").status_code == 200
    assert run_of(normal(leader.get("/"))) == published


def test_a_visit_recorded_elsewhere_makes_the_page_again(apps, runs_db):
    app, other, plain = apps

    def tier(rid):
        with session_scope(runs_db["engine"]) as session:
            return session.execute(
                text("""SELECT s.tier FROM resident_scores s JOIN residents r
                    ON r.id = s.resident_id WHERE s.run_id = :run AND r.external_id = :id"""),
                {"run": runs_db["published"], "id": rid},
            ).scalar_one()

    with session_scope(runs_db["engine"]) as session:
        # the lowest-scored overdue high-tier resident: a visit that met them may lower its tier
        rid = session.execute(
            text("""SELECT r.external_id FROM residents r
                JOIN resident_scores s ON s.resident_id = r.id AND s.run_id = :run
                WHERE s.tier = 2 AND s.next_due_on < :day AND r.external_id <> :xss
                ORDER BY s.score, r.id LIMIT 1"""),
            {"run": runs_db["published"], "day": AS_OF, "xss": runs_db["xss_id"]},
        ).scalar_one()
    leader, uncached = app.test_client(), plain.test_client()
    before = normal(leader.get("/"))
    assert normal(leader.get("/")) == before  # kept
    cache = app.extensions["visitmap_page_cache"]
    misses = cache.misses
    response = other.test_client().post(
        "/api/visits",
        json={
            "resident": rid,
            "outcome": "met",
            "visitor_name": "정",
            "next_visit_on": "2027-03-01",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.get_json()
    after = normal(leader.get("/"))
    assert cache.misses == misses + 1  # made again, not the kept page
    assert after == normal(uncached.get("/"))
    assert run_of(after) == runs_db["published"]
    if tier(rid) != 2:  # its dong has one high-tier resident fewer: the page says so
        assert labels(after) != labels(before)


def test_an_import_of_facilities_or_dongs_makes_the_page_again(apps, runs_db):
    app, _other, plain = apps
    leader, uncached = app.test_client(), plain.test_client()
    before = normal(leader.get("/"))
    with session_scope(runs_db["engine"]) as session:  # what an import of each writes
        facility, old_facility = session.execute(
            text("SELECT id, name FROM facilities ORDER BY id LIMIT 1")
        ).one()
        area, old_area = session.execute(text("SELECT id, name FROM areas ORDER BY id")).first()
        session.execute(
            text("UPDATE facilities SET name = '새 경로당' WHERE id = :id"), {"id": facility}
        )
    try:
        after = normal(leader.get("/"))
        assert "새 경로당" in after and "새 경로당" not in before
        assert after == normal(uncached.get("/"))
        with session_scope(runs_db["engine"]) as session:
            session.execute(text("UPDATE areas SET name = '새동' WHERE id = :id"), {"id": area})
        renamed = normal(leader.get("/"))
        assert '<option value="' in renamed and ">새동</option>" in renamed
        assert any(label.startswith("새동 ") for label in labels(renamed))
        assert renamed == normal(uncached.get("/"))
    finally:
        with session_scope(runs_db["engine"]) as session:
            session.execute(
                text("UPDATE facilities SET name = :name WHERE id = :id"),
                {"name": old_facility, "id": facility},
            )
            session.execute(
                text("UPDATE areas SET name = :name WHERE id = :id"), {"name": old_area, "id": area}
            )
    assert normal(leader.get("/")) == normal(uncached.get("/"))


def test_kept_outlines_are_the_outlines_the_page_made_and_a_new_dong_is_made_again(runs_db):
    with session_scope(runs_db["engine"]) as session:
        run = runs_db["published"]
        made = map_data(session, Scope.everything(), run_id=run, today=AS_OF)
        outlines = area_outlines(session, simplify_m=MAP_SIMPLIFY_M)
        kept = map_data(session, Scope.everything(), run_id=run, today=AS_OF, outlines=outlines)
        assert [a["geometry"] for a in kept.areas] == [a["geometry"] for a in made.areas]
        assert kept.heat == made.heat and kept.facilities == made.facilities
        for area in kept.areas:
            west, south, east, north = area["bounds"]
            assert west < east and south < north
            assert area["geojson"] == json.loads(area["geometry"])
        # outlines made before a dong was imported: every outline is made again
        missing = {code: o for code, o in outlines.items() if code != made.areas[0]["code"]}
        again = map_data(session, Scope.everything(), run_id=run, today=AS_OF, outlines=missing)
        assert again.areas == made.areas
