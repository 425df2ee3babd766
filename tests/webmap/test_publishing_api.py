"""Publishing over the web: who may publish, who may look at a draft (``?run=``), and that the
map page, /api/areas and the tiles follow the published run (docs/publishing.md)."""

from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import text

from geo.accounts import create_user
from geo.db import make_engine, session_scope
from geo.mapdata.tiles import tile_of
from geo.migrate import upgrade
from geo.scope import Scope
from scoring.config import default_config
from tests.conftest import load_reference_data, scratch_databases
from tests.webmap.conftest import AS_OF, app_for, build_scored_demo
from visitmap.usecases.scoring_runs import score_residents

pytestmark = pytest.mark.db

Z15 = tile_of(126.9368, 37.5791, 15)


@pytest.fixture(scope="module")
def runs_db(engine, database_url, tmp_path_factory):
    """A scored demo of its own (the cases publish): run ``published``, then a ``draft``."""
    with scratch_databases(database_url) as create:
        url = create("publishing")
        db_engine = make_engine(url)
        upgrade(db_engine)
        load_reference_data(db_engine)
        demo = build_scored_demo(db_engine, url, tmp_path_factory)
        with session_scope(db_engine) as session:
            draft = score_residents(
                session, Scope.everything(), method="rules", config=default_config(),
                as_of=AS_OF, created_by="analyst-lee",
            ).stored.run_id  # fmt: skip
        yield demo | {"published": demo["run_id"], "draft": draft}
        db_engine.dispose()


@pytest.fixture(scope="module")
def app(runs_db):
    with app_for(runs_db["url"]) as app:
        yield app


def _page_run(response) -> int | None:
    found = re.search(r'id="visitmap-config">(.*?)</script>', response.get_data(as_text=True), re.S)
    return json.loads(found.group(1))["run_id"]


def test_a_draft_is_seen_by_leaders_and_analysts_only_and_publishing_switches_the_map(app, runs_db):
    published, draft = runs_db["published"], runs_db["draft"]
    tile = f"/tiles/residents/15/{Z15[0]}/{Z15[1]}.pbf"
    with app.test_client(role="leader") as leader:
        runs = {r["id"]: r for r in leader.get("/api/score-runs").get_json()["runs"]}
        assert runs[draft]["published_at"] is None and not runs[draft]["is_published"]
        assert runs[published]["is_current"] and runs[published]["published_by"] == "test"
        # by default everything is of the published run
        assert _page_run(leader.get("/")) == published
        assert leader.get("/api/areas").get_json()["run_id"] == published
        # ?run= shows the draft: page, areas, tiles
        page = leader.get(f"/?run={draft}")
        assert page.status_code == 200 and _page_run(page) == draft
        areas = leader.get(f"/api/areas?run={draft}").get_json()
        assert areas["run_id"] == draft and areas["areas"]
        assert leader.get(f"{tile}?run={draft}").data
        assert leader.get("/?run=999999").status_code == 404
        assert leader.get("/?run=x").status_code == 400
    with app.test_client(role="analyst") as analyst:
        assert analyst.get(f"/api/areas?run={draft}").get_json()["run_id"] == draft
        assert analyst.post(f"/api/score-runs/{draft}/publish").status_code == 403
    for role in ("visitor", "agency"):
        with app.test_client(role=role) as other:
            assert other.get(f"/api/areas?run={draft}").status_code == 403
            assert other.get(f"/?run={draft}").status_code == 403
            assert other.get(f"{tile}?run={draft}").status_code == 403
            assert other.get(f"/api/areas?run={published}").status_code == 200
            assert other.post(f"/api/score-runs/{draft}/publish").status_code == 403
    with app.test_client(role=None) as nobody:
        assert nobody.post(f"/api/score-runs/{draft}/publish").status_code == 401

    with app.test_client(role="leader") as leader:
        assert leader.post("/api/score-runs/999999/publish").status_code == 404
        response = leader.post(f"/api/score-runs/{draft}/publish")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["changed"] and body["previous_run_id"] == published
        assert body["caught_up"] == 0  # no visit was recorded since the draft
        assert body["published_by"] == "t.leader" and body["run_id"] == draft
        assert _page_run(leader.get("/")) == draft
        assert leader.get("/api/areas").get_json()["run_id"] == draft
        again = leader.post(f"/api/score-runs/{draft}/publish").get_json()
        assert not again["changed"] and again["published_at"] == body["published_at"]
    with app.test_client(role="visitor") as visitor:
        assert visitor.get(f"/api/areas?run={draft}").status_code == 200  # now the published
        assert visitor.get(f"/api/areas?run={published}").status_code == 403
    with app.test_client(role="admin") as admin:  # an admin puts the earlier run back
        back = admin.post(f"/api/score-runs/{published}/publish").get_json()
        assert back["changed"] and back["published_by"] == "t.admin"
    with session_scope(runs_db["engine"]) as session:
        stamps = session.execute(
            text("SELECT id, published_by FROM score_runs ORDER BY published_at DESC LIMIT 2")
        ).all()
    # (the demo's earlier runs, published by "test" before it, come after these two)
    assert [tuple(s) for s in stamps] == [(published, "t.admin"), (draft, "t.leader")]


def test_publishing_from_a_signed_in_page_needs_the_csrf_token(app, runs_db):
    username = f"pub{time.time_ns() % 10**12}"
    with session_scope(runs_db["engine"]) as session:
        create_user(
            session, username, display_name="검사", roles=["leader"], all_areas=True,
            password="correct-horse-battery",
        )  # fmt: skip
    with app.test_client(role=None) as client:
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        signed_in = client.post(
            "/login",
            data={"username": username, "password": "correct-horse-battery", "csrf_token": token},
        )
        assert signed_in.status_code == 302
        refused = client.post(f"/api/score-runs/{runs_db['draft']}/publish")
        assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"
        # the map page's token (the sign-out form carries it), as a script on it sends it
        page = client.get("/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        allowed = client.post(
            f"/api/score-runs/{runs_db['draft']}/publish", headers={"X-CSRFToken": token}
        )
        assert allowed.status_code == 200, allowed.get_json()
        assert allowed.get_json()["published_by"] == username
